"""Pools that approved plans are about to trade (pure).

Several cycles often share the pool a dislocation opened; each one alone simulates fine on the
latest block, but once the first lands the others trade on moved prices and revert, and a revert
costs gas. So an approved plan *reserves* its pools until its deadline block: a later candidate
computed on the same (or an older) state of a reserved pool is rejected (``pool_reserved``),
while one computed on the state after the trade (a newer version) passes.

Versions are :mod:`mevbot.market.versions` chain positions; a plan's trade lands in a later block
than its candidate's, so anything computed after it carries a version above
``end_of_block(candidate.block_number)``. Reservations are per replica (a shared store would make
them global across replicas).

Validations run concurrently (:mod:`services.validator.pipeline`) but are decided as if one at a
time in arrival order: each carries its arrival ``ticket``, and a reservation is seen only by the
candidates that arrived after the one that made it (an earlier candidate still being validated
was, in arrival order, decided before it).
"""

from __future__ import annotations

from collections.abc import Sequence

from mevbot.market.versions import end_of_block
from mevbot.messages import Candidate, ExecutionPlan


def reserved_version(c: Candidate) -> int:
    """The version up to which an approved plan of ``c`` reserves its pools."""
    return end_of_block(c.block_number)


def pool_versions(c: Candidate) -> dict[str, int]:
    """The state version ``c`` saw of each of its pools (its block's end when it carries none)."""
    own = reserved_version(c)
    versions = {pv.pool: pv.version for pv in c.state_versions}
    return {hop.pool: versions.get(hop.pool, own) for hop in c.hops}


class Reservations:
    def __init__(self) -> None:
        # pool -> [(version, deadline block, plan id, ticket)]: every unexpired reservation
        self._by_pool: dict[str, list[tuple[int, int, str, int]]] = {}

    def __len__(self) -> int:
        return len(self._by_pool)

    def conflict(self, c: Candidate, head_block: int, ticket: int | None = None) -> str | None:
        """Why ``c`` would race an approved plan, or None. With ``ticket`` (``c``'s arrival), only
        the reservations of candidates that arrived before it count."""
        versions = pool_versions(c)
        for pool, seen in versions.items():
            entries = self._by_pool.get(pool)
            if not entries:
                continue
            live = [e for e in entries if head_block <= e[1]]
            if len(live) != len(entries):
                if live:
                    self._by_pool[pool] = live
                else:
                    del self._by_pool[pool]
            for version, deadline, plan_id, by_ticket in live:
                if (ticket is None or by_ticket < ticket) and seen <= version:
                    return f"pool {pool} is traded by approved plan {plan_id} until block {deadline}"
        return None

    def reserve(self, c: Candidate, plans: Sequence[ExecutionPlan], ticket: int = 0) -> None:
        version = reserved_version(c)
        for plan in plans:
            for hop in plan.hops:
                self._by_pool.setdefault(hop.pool, []).append((version, plan.deadline_block, plan.plan_id, ticket))

    def expire(self, head_block: int) -> None:
        kept = {p: [e for e in entries if e[1] >= head_block] for p, entries in self._by_pool.items()}
        self._by_pool = {p: entries for p, entries in kept.items() if entries}


def claim_keys(c: Candidate, plans: Sequence[ExecutionPlan]) -> list[str]:
    """Keys that make the reservation global across replicas (Redis ``SET NX``): one per pool and
    the pool state the candidate saw, so only candidates on the *same* state collide."""
    seen = pool_versions(c)
    fallback = reserved_version(c)
    pools = sorted({hop.pool for plan in plans for hop in plan.hops})
    return [f"reserve:{pool}:{seen.get(pool, fallback)}" for pool in pools]
