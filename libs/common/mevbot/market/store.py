"""The pool-state store: exact state of every pool, kept current from ingest's stream.

Shared by the detector (which evaluates on it) and the validator (which reads it). Pure: the
caller feeds decoded messages in stream order and reads the results.

Rules (money safety first: never act on state that might be wrong)
-------------------------------------------------------------------
* A pool exists once its ``PoolSnapshot`` arrived. Events of a pool not known yet (or stale) are
  buffered (bounded) and replayed on top of the next snapshot when they are newer than it.
* Events are applied exactly through :mod:`mevbot.amm`, in chain order; an event at or before the
  pool's last applied position (a redelivery, or already inside the snapshot) is ignored.
* A pool becomes **stale** when an event cannot be applied (the AMM refuses it), when a V3 Swap
  reports an in-range liquidity that the tick map does not give (a missed Mint/Burn), when a reorg
  goes deeper than the undo journal, or when a block ends with fewer events than ingest published
  (then every pool is stale: the missing event could be anyone's). A stale pool is left out of
  every cycle until a fresh snapshot (``reason="resync"``) arrives; :meth:`take_resync_requests`
  lists the pools to ask ingest for.
* Reversals (``EventMeta.removed``) roll the pool back to the block before the removed log, but
  only when the store applied that very block (same block hash): a late duplicate reversal never
  undoes the replacement chain.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Iterable
from typing import Any

from mevbot import messages as m
from mevbot.amm.base import DEFAULT_JOURNAL_DEPTH, PoolState
from mevbot.errors import AmmError, StateError
from mevbot.market.build import apply_pool_event, pool_from_snapshot
from mevbot.market.graph import TokenGraph
from mevbot.market.versions import end_of_block, position

#: How many blocks of per-block event counts are kept for gap detection.
_COUNT_WINDOW_BLOCKS = 256
_POS_LIMIT = 1 << 20


class PoolStatus(str, enum.Enum):
    READY = "ready"
    STALE = "stale"


class PoolEntry:
    """One pool: identity, exact state, status and deterministic version."""

    __slots__ = ("history", "info", "last_position", "stale_reason", "state", "status", "tick_map", "version")

    def __init__(self, info: m.PoolInfo, state: PoolState, version: int, block_hash: str) -> None:
        self.info = info
        self.state = state
        self.tick_map = hasattr(state, "_sorted")  # V3-style state whose Swap events can be cross-checked
        self.status = PoolStatus.READY
        self.version = version
        self.last_position = version
        self.stale_reason = ""
        # (block_number, block_hash, version at the end of that block), oldest first
        self.history: list[tuple[int, str, int]] = [(state.block_number, block_hash, version)]

    @property
    def ready(self) -> bool:
        return self.status is PoolStatus.READY


class MarketStore:
    """Pool registry by address with exact, versioned state (see the module docstring)."""

    def __init__(self, *, journal_depth: int = DEFAULT_JOURNAL_DEPTH, max_buffered_per_pool: int = 4096,
                 check_v3_liquidity: bool = True) -> None:
        self.journal_depth = journal_depth
        self.max_buffered_per_pool = max_buffered_per_pool
        self.check_v3_liquidity = check_v3_liquidity
        self.entries: dict[str, PoolEntry] = {}
        self.graph = TokenGraph()
        self.block_number = 0  # newest block any message referred to
        self.last_head: m.BlockHead | None = None
        self._pending: dict[str, deque] = {}  # pool -> events waiting for a snapshot
        self._block_counts: dict[tuple[int, str], int] = {}
        self._resync: dict[str, str] = {}  # pool -> reason, not yet handed out
        self.rejected: dict[str, str] = {}  # pool -> why its snapshot could not be used
        self.gaps = 0  # blocks that ended with missing events

    # --- reading ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, pool: str) -> bool:
        return pool in self.entries

    def ready_pool(self, pool: str) -> PoolState | None:
        """The pool's state when it can be acted on, else None (unknown or stale)."""
        entry = self.entries.get(pool)
        if entry is None or entry.status is not PoolStatus.READY:
            return None
        return entry.state

    def entry(self, pool: str) -> PoolEntry | None:
        return self.entries.get(pool)

    def version(self, pool: str) -> int:
        """Deterministic state version (see :mod:`mevbot.market.versions`); KeyError if unknown."""
        return self.entries[pool].version

    def is_ready(self, pool: str) -> bool:
        entry = self.entries.get(pool)
        return entry is not None and entry.status is PoolStatus.READY

    def stale_pools(self) -> list[str]:
        return [a for a, e in self.entries.items() if e.status is PoolStatus.STALE]

    def orphan_pools(self) -> list[str]:
        """Pools with buffered events but no snapshot (e.g. the snapshot left the stream)."""
        entries = self.entries
        return [a for a, queue in self._pending.items() if queue and a not in entries]

    def take_resync_requests(self) -> dict[str, str]:
        """Pools that became stale since the last call (pool -> reason)."""
        out, self._resync = self._resync, {}
        return out

    # --- snapshots ----------------------------------------------------------------------------

    def add_snapshot(self, snapshot: m.PoolSnapshot) -> tuple[PoolEntry | None, bool]:
        """Install a snapshot; returns ``(entry, is_new_pool)``; entry None when it was refused.

        A snapshot older than the state already held for a ready pool is ignored (returns the
        existing entry, False): the store is ahead of it.
        """
        info = snapshot.pool
        address = info.address.lower()
        self._see_block(snapshot.block_number)
        entry = self.entries.get(address)
        if entry is not None and entry.ready and snapshot.block_number <= entry.state.block_number:
            return entry, False
        try:
            state = pool_from_snapshot(snapshot)
        except (StateError, AmmError) as exc:
            self.rejected[address] = str(exc)
            return None, False
        state.journal_depth = self.journal_depth
        version = end_of_block(snapshot.block_number)
        new_entry = PoolEntry(info, state, version, snapshot.block_hash)
        self.entries[address] = new_entry
        self.rejected.pop(address, None)
        self._resync.pop(address, None)
        is_new = self.graph.add_pool(address, state.token0, state.token1)
        pending = self._pending.pop(address, None)
        if pending:
            for event in pending:
                if event.meta.block_number > snapshot.block_number:
                    self.apply_event(event)
        return new_entry, is_new

    # --- events -------------------------------------------------------------------------------

    def apply_event(self, event: Any) -> str | None:
        """Apply one pool event; returns the pool address when its state changed, else None."""
        meta = event.meta
        if meta.removed:
            return self._revert(event)
        key = (meta.block_number, meta.block_hash)
        counts = self._block_counts
        counts[key] = counts.get(key, 0) + 1
        if meta.block_number > self.block_number:
            self._see_block(meta.block_number)
        address = event.pool
        entry = self.entries.get(address)
        if entry is None or entry.status is PoolStatus.STALE:
            self._buffer(address, event)
            return None
        tx_index, log_index = meta.tx_index, meta.log_index
        if tx_index < _POS_LIMIT and log_index < _POS_LIMIT:
            pos = (meta.block_number << 40) | (tx_index << 20) | log_index
        else:
            pos = position(meta.block_number, tx_index, log_index)  # raises with the values
        if pos <= entry.last_position:
            return None  # redelivered, or already part of the snapshot
        state = entry.state
        check = entry.tick_map and self.check_v3_liquidity and type(event) is m.V3Swap
        if check:
            old_tick, old_liquidity = state.tick, state.liquidity
        try:
            changed = apply_pool_event(state, event)
        except (AmmError, StateError) as exc:
            self._mark_stale(entry, f"{type(event).__name__} at {meta.block_number}/{meta.log_index}: {exc}")
            return None
        entry.last_position = pos
        if not changed:
            return None
        if check and not _liquidity_consistent(state, old_tick, old_liquidity):
            self._mark_stale(entry, f"V3 Swap at block {meta.block_number} reports liquidity {event.liquidity} "
                                    f"that the tick map does not give (missed Mint/Burn?)")
            return None
        entry.version = pos
        history = entry.history
        if history[-1][0] == meta.block_number and history[-1][1] == meta.block_hash:
            history[-1] = (meta.block_number, meta.block_hash, pos)
        else:
            history.append((meta.block_number, meta.block_hash, pos))
            if len(history) > self.journal_depth + 1:
                del history[0]
        return address

    def apply_events(self, events: Iterable[Any]) -> set[str]:
        changed = set()
        for event in events:
            pool = self.apply_event(event)
            if pool is not None:
                changed.add(pool)
        return changed

    def _revert(self, event: Any) -> str | None:
        meta = event.meta
        block = meta.block_number
        self._block_counts.pop((block, meta.block_hash), None)
        address = event.pool
        pending = self._pending.get(address)
        if pending:
            kept = [e for e in pending if not (e.meta.block_number == block and e.meta.block_hash == meta.block_hash)]
            self._pending[address] = deque(kept)
        entry = self.entries.get(address)
        if entry is None or entry.status is PoolStatus.STALE:
            return None
        history = entry.history
        if not any(b == block and h == meta.block_hash for b, h, _ in history[1:]):
            if history[0][0] >= block:
                # the snapshot itself included the removed block: only a new snapshot can help
                self._mark_stale(entry, f"reorg removed block {block}, inside the snapshot")
            return None  # never applied (or already rolled back): nothing to undo
        try:
            entry.state.rollback_to(block - 1)
        except StateError as exc:
            self._mark_stale(entry, str(exc))
            return None
        while history[-1][0] >= block:
            history.pop()
        entry.version = history[-1][2]
        entry.last_position = entry.version
        return address

    def _buffer(self, address: str, event: Any) -> None:
        queue = self._pending.get(address)
        if queue is None:
            queue = self._pending[address] = deque(maxlen=self.max_buffered_per_pool)
        queue.append(event)

    # --- blocks -------------------------------------------------------------------------------

    def end_block(self, head: m.BlockHead) -> int:
        """A block's end marker; returns how many of its events never arrived (0 = complete).

        Missing events make every pool stale: the store cannot know whose event was lost.
        """
        self.last_head = head
        self._see_block(head.block_number)
        received = self._block_counts.pop((head.block_number, head.block_hash), 0)
        missing = head.event_count - received
        if missing > 0:
            self.gaps += 1
            reason = f"block {head.block_number}: {received} of {head.event_count} events arrived"
            for entry in self.entries.values():
                if entry.status is PoolStatus.READY:
                    self._mark_stale(entry, reason)
            return missing
        return 0

    def _see_block(self, block_number: int) -> None:
        if block_number > self.block_number:
            self.block_number = block_number
            counts = self._block_counts
            if len(counts) > _COUNT_WINDOW_BLOCKS:
                floor = block_number - _COUNT_WINDOW_BLOCKS
                for key in [k for k in counts if k[0] < floor]:
                    del counts[key]

    def mark_stale(self, pool: str, reason: str) -> None:
        entry = self.entries.get(pool)
        if entry is not None:
            self._mark_stale(entry, reason)

    def _mark_stale(self, entry: PoolEntry, reason: str) -> None:
        if entry.status is not PoolStatus.STALE:
            entry.status = PoolStatus.STALE
            entry.stale_reason = reason
            self._resync[entry.info.address.lower()] = reason


def _liquidity_consistent(pool: Any, old_tick: int, old_liquidity: int) -> bool:
    """In-range liquidity must equal the old one plus the liquidityNet of the ticks crossed.

    Liquidity at tick T is the sum of liquidityNet over initialized ticks <= T; a swap from
    ``old_tick`` to ``pool.tick`` crosses exactly the ticks in between. O(log n + ticks crossed).
    """
    new_tick = pool.tick
    if new_tick == old_tick:
        return pool.liquidity == old_liquidity
    lo, hi = (old_tick, new_tick) if new_tick > old_tick else (new_tick, old_tick)
    delta = pool.liquidity_net_between(lo, hi)
    expected = old_liquidity + delta if new_tick > old_tick else old_liquidity - delta
    return expected == pool.liquidity
