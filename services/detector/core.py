"""The detector's pure core: state in, candidates out. No NATS, no asyncio, no clock of its own.

The adapter feeds every message of the chain stream in order (``on_snapshot``, ``on_event``,
``on_block_head``) and calls :meth:`DetectorCore.flush` when it is time to evaluate: at a block's
end marker, or when the inbox drained. Between flushes, events only mark cycles dirty, so a burst
of events costs one evaluation per touched cycle, not one per event (coalescing).

Messages replayed from history (``live=False``) rebuild state but dirty nothing: a detector that
joins late must not re-announce opportunities of the past.

Candidates carry ``candidate_id = hash(cycle_id, state versions)``; versions are deterministic
chain positions (:mod:`mevbot.market.versions`), so the same unchanged opportunity has the same id
in every replica and after a restart, and is emitted at most once per replica.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from operator import itemgetter

from mevbot import messages as m
from mevbot.errors import AmmError
from mevbot.market import MarketStore, NativePricer
from mevbot.market.store import PoolStatus

from services.detector.cycles import Cycle, CycleIndex
from services.detector.evaluate import (
    DEFAULT_MAX_INPUT,
    POLISH_SAMPLES,
    SCREEN_TOLERANCE,
    EvaluationStats,
    Opportunity,
    evaluate_cycle,
    marginal_rate_bound,
)
from services.detector.sharding import ShardFilter


def candidate_id_of(cycle_id: str, versions: Sequence[tuple[str, int]]) -> str:
    text = cycle_id + "|" + ";".join(f"{pool}@{version}" for pool, version in versions)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


_blake2b = hashlib.blake2b
_READY = PoolStatus.READY
_by_product = itemgetter(0)


def _cycle_candidate_id(cycle: Cycle, versions: Sequence[int]) -> str:
    """:func:`candidate_id_of` of ``cycle`` on ``versions`` (one per pool, in the cycle's order),
    from the text pieces the cycle precomputed: the same text, so the same id."""
    text = cycle.id_prefix + ";".join([tag + str(v) for tag, v in zip(cycle.version_tags, versions)])
    return _blake2b(text.encode(), digest_size=16).hexdigest()


class DetectorCore:
    """Pool state + cycle index + evaluation + dedupe + this replica's share."""

    def __init__(
        self,
        *,
        chain_id: int,
        detector_id: str,
        base_tokens: Sequence[str],
        native_token: str,
        max_hops: int = 3,
        min_profit_wei: int = 0,
        max_input: int = DEFAULT_MAX_INPUT,
        store: MarketStore | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
        sizing: str = "fast",
    ) -> None:
        if sizing not in POLISH_SAMPLES:
            raise ValueError(f"sizing must be one of {', '.join(POLISH_SAMPLES)}, got {sizing!r}")
        self.sizing = sizing
        self.chain_id = chain_id
        self.detector_id = detector_id
        self.min_profit_wei = min_profit_wei
        self.max_input = max_input
        self.clock_ns = clock_ns
        self.store = store if store is not None else MarketStore()
        self.index = CycleIndex(base_tokens, max_hops=max_hops)
        self.pricer = NativePricer(self.store, native_token)
        self.shard = ShardFilter(detector_id)
        self.stats = EvaluationStats()
        # cycle id -> receive stamp of the oldest event that dirtied it since the last flush
        self.dirty: dict[str, int] = {}
        self._last_emitted: dict[str, str] = {}  # cycle id -> candidate id
        # hop key -> (pool state, its state_version, screen rate or None when it failed): _screen_rate
        self._rates: dict[str, tuple] = {}
        self.duplicates_suppressed = 0
        self.emitted = 0
        self.last_error = ""  # the adapter logs it (the core has no logger)

    # --- inputs -------------------------------------------------------------------------------

    def on_snapshot(self, snapshot: m.PoolSnapshot, live: bool = True) -> None:
        entry, is_new = self.store.add_snapshot(snapshot)
        if entry is None:
            return
        info = entry.info
        if is_new:
            cycles = self.index.add_pool(info.address.lower(), entry.state.token0, entry.state.token1)
            if live:
                stamp = snapshot.received_ns
                for cycle in cycles:
                    self.dirty.setdefault(cycle.cycle_id, stamp)
        elif live:
            self._touch(info.address.lower(), snapshot.received_ns)

    def on_event(self, event: m.PoolEvent, live: bool = True) -> None:
        pool = self.store.apply_event(event)
        if pool is not None and live:
            self._touch(pool, event.received_ns)

    def on_block_head(self, head: m.BlockHead) -> int:
        """Returns how many of the block's events are missing (0 = complete)."""
        return self.store.end_block(head)

    def _touch(self, pool: str, stamp_ns: int) -> None:
        dirty = self.dirty
        for cycle_id in self.index.cycles_through(pool):
            if cycle_id not in dirty:
                dirty[cycle_id] = stamp_ns

    def set_members(self, members: Sequence[str]) -> bool:
        """New live replica set; True when this replica's share changed."""
        return self.shard.set_members(members)

    # --- evaluation -----------------------------------------------------------------------------

    def flush(self) -> list[m.Candidate]:
        """Evaluate every dirty cycle this replica owns, once; return the new candidates."""
        return [c for c in self.flush_iter() if c is not None]

    def flush_iter(self, pause_every_s: float | None = None) -> Iterator[m.Candidate | None]:
        """Like :meth:`flush`, yielding each candidate as soon as it is sized.

        With ``pause_every_s``, also yields ``None`` whenever that long passed without a yield, so
        an event loop can run its other tasks (heartbeats) and apply the events that arrived during
        a long evaluation.

        All dirty owned cycles are screened first (marginal-rate product, microseconds each); the
        survivors are sized exactly in descending order of that product, so the largest
        dislocations come out first and a caller that publishes each one at once does not make
        them wait for the long tail. Each cycle is sized on the pools' state at that moment: the
        versions are read in the same synchronous step as the amounts, and a cycle already emitted
        on those exact versions is skipped before sizing.

        Events applied while the flush was suspended (the caller yields to its event loop between
        candidates): a cycle still waiting for its turn in the batch is sized on the new state when
        it comes (one sizing, stamped with its older event, and no longer dirty); the other cycles
        they dirtied (sized already, or not dirty when the batch started) form the next batch,
        screened and ranked when this one ends (first come, first served between batches, and
        coalesced: ranked among the waiting ones at once, a stream of newer dislocations starved
        the older small ones and sized a cycle again at every event: p99.9 13 -> 18-27 ms on the
        Arbitrum benchmark). The flush goes on until nothing is dirty. Without suspensions
        (:meth:`flush`) nothing changes between sizings and this is one screening, one ranking.
        """
        clock = time.perf_counter
        last_yield = clock()
        size = self._size
        while self.dirty:
            # one batch: everything dirty now, screened and ranked; events applied while it runs
            # dirty the next batch (coalesced: a cycle once per batch however many events touched
            # it), except the cycles still waiting in this one
            dirty, self.dirty = self.dirty, {}
            pending = self.dirty  # this batch's events applied while it is suspended
            ranked = self._screen(dirty)
            ranked.sort(key=_by_product, reverse=True)
            for _, cycle, stamp_ns in ranked:
                if pause_every_s is not None and clock() - last_yield > pause_every_s:
                    last_yield = clock()
                    yield None
                if pending and cycle.cycle_id in pending:
                    # an event applied while this flush was suspended moved one of its pools: the
                    # sizing below is on the current state, which holds it (stamped with the older
                    # event, the honest latency), so it is no longer dirty
                    del pending[cycle.cycle_id]
                try:
                    candidate = size(cycle, stamp_ns)
                except Exception as exc:  # noqa: BLE001 - one bad cycle must not stop the others
                    self.stats.errors += 1
                    self.last_error = f"cycle {cycle.cycle_id}: {type(exc).__name__}: {exc}"
                    continue
                if candidate is not None:
                    last_yield = clock()
                    yield candidate

    def _screen(self, dirty: dict[str, int]) -> list[tuple[float, Cycle, int]]:
        """(product, cycle, stamp) of the dirty cycles this replica owns whose pools are all ready
        and whose marginal-rate product passes the screen (counted in ``stats``)."""
        owns = self.shard.owns
        cycles = self.index.cycles
        ranked: list[tuple[float, Cycle, int]] = []
        stats = self.stats
        # one rate per (pool, direction) per screening: a hub pool sits in thousands of cycles
        rates: dict[str, float] = {}
        known_rates = self._rates
        entries = self.store.entries
        screen_rate = self._screen_rate
        threshold = 1.0 - SCREEN_TOLERANCE
        evaluated = screened_out = 0
        owned = self.shard._owned
        for cycle_id, stamp_ns in dirty.items():
            own = owned.get(cycle_id)
            if own is None:
                own = owns(cycle_id)
            if not own:
                continue
            cycle = cycles[cycle_id]
            product = 1.0
            for key, pool, zero_for_one in cycle.screen_hops:
                rate = rates.get(key)
                if rate is None:
                    # _screen_rate with its common case inlined: the pool is unchanged since its rate was computed
                    entry = entries.get(pool)
                    known = known_rates.get(key)
                    if (known is not None and entry is not None and entry.status is _READY
                            and known[0] is entry.state and known[1] == entry.state.state_version
                            and known[2] is not None):
                        rate = known[2]
                    else:
                        rate = screen_rate(key, pool, zero_for_one)
                    rates[key] = rate
                if rate < 0.0:
                    product = -1.0
                    break
                product *= rate
            if product < 0.0:
                continue  # a pool not ready (or its rate failed): never act on it
            evaluated += 1
            if product <= threshold:
                screened_out += 1
                continue
            # every pool was ready just above, in this same synchronous step
            ranked.append((product, cycle, stamp_ns))
        stats.evaluated += evaluated
        stats.screened_out += screened_out
        return ranked

    def _screen_rate(self, key: str, pool: str, zero_for_one: bool) -> float:
        """The screen's marginal rate of one (pool, direction), -1.0 when it must not be acted on.

        Remembered across flushes with the pool's state object and its ``state_version`` (which
        the AMM library bumps at every mutation, rollbacks included: the key it documents for
        caches), so only the pools an event moved are priced again. Not the store's chain-position
        version: a reorg's replacement log can sit at the position of the removed one. A failed
        rate is remembered too and counted in ``stats.errors`` at each flush that needs it, as when
        it was computed every flush.
        """
        entry = self.store.entries.get(pool)
        if entry is None or entry.status is not _READY:
            return -1.0  # never act on an incomplete or stale pool
        state = entry.state
        version = state.state_version
        known = self._rates.get(key)
        if known is not None and known[0] is state and known[1] == version:
            rate = known[2]
        else:
            try:
                rate = marginal_rate_bound(state, zero_for_one)
            except (AmmError, ZeroDivisionError, OverflowError):
                rate = None
            self._rates[key] = (state, version, rate)
        if rate is None:
            self.stats.errors += 1
            return -1.0
        return rate

    def _size(self, cycle: Cycle, event_received_ns: int) -> m.Candidate | None:
        entries = self.store.entries
        pools = []
        kinds = []
        versions = []
        for address in cycle.pools:
            # the flush yields to the event loop between candidates, and events (or a resync
            # snapshot) applied meanwhile change the states: size on the current, ready states and
            # read the versions in the same synchronous step, so they match the amounts
            entry = entries.get(address)
            if entry is None or entry.status is not _READY:
                return None
            pools.append(entry.state)
            kinds.append(entry.info.kind)
            versions.append(entry.version)
        candidate_id = _cycle_candidate_id(cycle, versions)
        if self._last_emitted.get(cycle.cycle_id) == candidate_id:
            # already emitted on these exact states: same result, no need to size it again
            self.duplicates_suppressed += 1
            return None
        opportunity = evaluate_cycle(cycle, pools, kinds, self.stats, self.max_input, screen=False,
                                     sizing=self.sizing)
        if opportunity is None:
            return None
        profit_wei = self.pricer.price_in_native(cycle.start_token, opportunity.profit)
        if profit_wei < self.min_profit_wei:
            return None
        self._last_emitted[cycle.cycle_id] = candidate_id
        self.emitted += 1
        return self._candidate(opportunity, candidate_id, versions, profit_wei, event_received_ns)

    def _candidate(self, opportunity: Opportunity, candidate_id: str, versions: list[int],
                   profit_wei: int, event_received_ns: int) -> m.Candidate:
        cycle = opportunity.cycle
        amounts = opportunity.amounts
        PoolVersion = m.PoolVersion
        return m.Candidate(
            chain_id=self.chain_id,
            candidate_id=candidate_id,
            cycle_id=cycle.cycle_id,
            start_token=cycle.start_token,
            hops=opportunity.hops,
            amount_in=amounts[0],
            amount_out=amounts[-1],
            gross_profit=opportunity.profit,
            gross_profit_wei=profit_wei,
            block_number=self.store.block_number,
            state_versions=[PoolVersion(pool, version) for pool, version in zip(cycle.pools, versions)],
            detector_id=self.detector_id,
            event_received_ns=event_received_ns,
            detected_ns=self.clock_ns(),
        )
