"""Deterministic split of the cycles over the live detector replicas (rendezvous hashing).

Every replica follows every state event but evaluates only the cycles it owns. Owner of a cycle =
the live replica with the highest ``hash(replica_id, cycle_id)`` (highest random weight). All
replicas that see the same membership compute the same owner for every cycle, so the shares
cover all cycles with no overlap; a join or a leave moves only the cycles whose owner changes
(about 1/n of them), never reshuffles the rest.

Membership comes from ``DetectorHeartbeat`` messages: a replica is live while its last heartbeat
is younger than ``ttl_ns``. A replica always counts itself as live.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def weight(replica_id: str, key: str) -> int:
    """Rendezvous weight of ``replica_id`` for ``key`` (64-bit, deterministic across processes)."""
    return int.from_bytes(
        hashlib.blake2b(f"{replica_id}|{key}".encode(), digest_size=8).digest(), "big"
    )


def owner_of(key: str, replicas: Iterable[str]) -> str:
    """The replica that owns ``key``; ties (never seen with 64-bit weights) go to the smaller id."""
    best_id = None
    best_weight = -1
    for replica in sorted(replicas):
        w = weight(replica, key)
        if w > best_weight:
            best_id, best_weight = replica, w
    if best_id is None:
        raise ValueError("no replicas")
    return best_id


class Membership:
    """The live replica set, from heartbeats (pure: the caller passes the clock)."""

    def __init__(self, self_id: str, ttl_ns: int) -> None:
        self.self_id = self_id
        self.ttl_ns = ttl_ns
        self._last_seen_ns: dict[str, int] = {}

    def observe(self, replica_id: str, now_ns: int) -> bool:
        """Record a heartbeat; True when the live set changed (a replica joined)."""
        is_new = replica_id != self.self_id and replica_id not in self._last_seen_ns
        if replica_id != self.self_id:
            self._last_seen_ns[replica_id] = now_ns
        return is_new

    def leave(self, replica_id: str) -> bool:
        """A replica announced it is stopping; True when it was live."""
        return self._last_seen_ns.pop(replica_id, None) is not None

    def expire(self, now_ns: int) -> bool:
        """Drop replicas silent for longer than the TTL; True when the live set changed."""
        dead = [r for r, seen in self._last_seen_ns.items() if now_ns - seen > self.ttl_ns]
        for replica in dead:
            del self._last_seen_ns[replica]
        return bool(dead)

    def members(self) -> tuple[str, ...]:
        return tuple(sorted({self.self_id, *self._last_seen_ns}))


class ShardFilter:
    """Which cycles this replica evaluates, cached per membership."""

    def __init__(self, self_id: str) -> None:
        self.self_id = self_id
        self.members: tuple[str, ...] = (self_id,)
        self._owned: dict[str, bool] = {}

    def set_members(self, members: Iterable[str]) -> bool:
        """Adopt a new live set; True when it differs (the ownership cache is then rebuilt lazily)."""
        new = tuple(sorted(set(members) | {self.self_id}))
        if new == self.members:
            return False
        self.members = new
        self._owned.clear()
        return True

    def owns(self, cycle_id: str) -> bool:
        owned = self._owned.get(cycle_id)
        if owned is None:
            owned = self._owned[cycle_id] = (
                len(self.members) == 1 or owner_of(cycle_id, self.members) == self.self_id
            )
        return owned
