"""The detector core's evaluation path as it was before the hot-path work (reference for tests).

A verbatim copy of ``DetectorCore.flush_iter`` / ``_ready_pools`` / ``_size`` / ``_candidate`` and of
``evaluate_cycle`` / ``describe_hops`` / ``_fee_of`` / ``marginal_rate_bound`` / ``candidate_id_of``
as of commit a8871b5 (only made to run on a given core's store, index, shard, pricer and stats,
with its own dedupe memory): per-flush screen rates, getattr-probed fees, keyword-dict hops, the
candidate id's text built from formatted pairs. ``test_core_equivalence`` checks that the
optimised core emits exactly what this emits, candidate for candidate and counter for counter.
"""

from __future__ import annotations

import hashlib

from mevbot import messages as m
from mevbot.amm.cycle import optimize_cycle
from mevbot.errors import AmmError

from services.detector.core import DetectorCore
from services.detector.evaluate import POLISH_SAMPLES, SCREEN_TOLERANCE

_Q192 = float(1 << 192)


def candidate_id_of(cycle_id, versions) -> str:
    text = cycle_id + "|" + ";".join(f"{pool}@{version}" for pool, version in versions)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def fee_of(pool, zero_for_one: bool) -> int:
    for name in ("_fee_for", "_direction_fee"):
        fee_for = getattr(pool, name, None)
        if fee_for is not None:
            return fee_for(zero_for_one)
    return getattr(pool, "fee_pips", 0)


def marginal_rate_bound(pool, zero_for_one: bool) -> float:
    fee = fee_of(pool, zero_for_one)
    sqrt_price = getattr(pool, "sqrt_price_x96", None)
    if sqrt_price is not None:
        price = sqrt_price * sqrt_price / _Q192
        rate = price if zero_for_one else (1.0 / price if price > 0.0 else 0.0)
    elif not getattr(pool, "stable", False):
        r0, r1 = pool.reserve0, pool.reserve1
        if r0 <= 0 or r1 <= 0:
            return 0.0
        rate = r1 / r0 if zero_for_one else r0 / r1
    else:
        return pool.spot_rate(zero_for_one)
    return rate * (1_000_000 - fee) / 1_000_000


def describe_hops(cycle, pools, kinds, amounts):
    hops = []
    for i, (pool, zero_for_one) in enumerate(zip(pools, cycle.zero_for_one)):
        amount_in = amounts[i]
        summary = getattr(pool, "swap_exact_in_summary", None)
        if summary is not None:
            used, out, price_after, ticks_crossed = summary(zero_for_one, amount_in)
        else:
            sim = pool.simulate_exact_in(zero_for_one, amount_in)
            used, out, price_after, ticks_crossed = sim.amount_in, sim.amount_out, sim.sqrt_price_x96_after, 0
        if used != amount_in or out != amounts[i + 1]:
            return None
        if hasattr(pool, "reserve0"):
            reserve_in, reserve_out = (pool.reserve0, pool.reserve1) if zero_for_one else (pool.reserve1, pool.reserve0)
            extra = {"reserve_in": reserve_in, "reserve_out": reserve_out}
        else:
            extra = {
                "sqrt_price_x96_before": pool.sqrt_price_x96,
                "sqrt_price_x96_after": price_after,
                "ticks_crossed": ticks_crossed,
                "liquidity": pool.liquidity,
            }
        hops.append(m.Hop(
            pool=cycle.pools[i],
            kind=kinds[i],
            token_in=cycle.tokens[i],
            token_out=cycle.tokens[i + 1],
            zero_for_one=zero_for_one,
            amount_in=amount_in,
            amount_out=amounts[i + 1],
            fee_pips=fee_of(pool, zero_for_one),
            **extra,
        ))
    return hops


class ReferenceFlush:
    """``flush()`` of the pre-optimisation core, on ``core``'s state (the core's own flush unused)."""

    def __init__(self, core: DetectorCore, rate=marginal_rate_bound) -> None:
        self.core = core
        self.rate = rate  # the screen's rate function (a test may make it fail)
        self.last_emitted: dict[str, str] = {}

    def flush(self) -> list[m.Candidate]:
        core = self.core
        if not core.dirty:
            return []
        dirty, core.dirty = core.dirty, {}
        cycles = core.index.cycles
        ranked = []
        stats = core.stats
        entries = core.store.entries
        rates: dict[str, float] = {}
        threshold = 1.0 - SCREEN_TOLERANCE
        evaluated = screened_out = 0
        for cycle_id, stamp_ns in dirty.items():
            if not core.shard.owns(cycle_id):
                continue
            cycle = cycles[cycle_id]
            product = 1.0
            for key in cycle.hop_keys:
                rate = rates.get(key)
                if rate is None:
                    entry = entries.get(key[:-2])
                    if entry is None or not entry.ready:
                        rate = -1.0
                    else:
                        try:
                            rate = self.rate(entry.state, key[-1] == "1")
                        except (AmmError, ZeroDivisionError, OverflowError):
                            rate = -1.0
                            stats.errors += 1
                    rates[key] = rate
                if rate < 0.0:
                    product = -1.0
                    break
                product *= rate
            if product < 0.0:
                continue
            evaluated += 1
            if product <= threshold:
                screened_out += 1
                continue
            pools_kinds = self._ready_pools(cycle)
            if pools_kinds is not None:
                ranked.append((product, cycle_id, stamp_ns, pools_kinds[0], pools_kinds[1]))
        stats.evaluated += evaluated
        stats.screened_out += screened_out
        ranked.sort(key=lambda r: r[0], reverse=True)
        out = []
        for _, cycle_id, stamp_ns, pools, kinds in ranked:
            try:
                candidate = self._size(cycles[cycle_id], pools, kinds, stamp_ns)
            except Exception:  # noqa: BLE001
                stats.errors += 1
                continue
            if candidate is not None:
                out.append(candidate)
        return out

    def _ready_pools(self, cycle):
        entries = self.core.store.entries
        pools, kinds = [], []
        for address in cycle.pools:
            entry = entries.get(address)
            if entry is None or not entry.ready:
                return None
            pools.append(entry.state)
            kinds.append(entry.info.kind)
        return pools, kinds

    def _size(self, cycle, pools, kinds, event_received_ns):
        core = self.core
        entries = core.store.entries
        pools = []
        for address in cycle.pools:
            entry = entries.get(address)
            if entry is None or not entry.ready:
                return None
            pools.append(entry.state)
        versions = [(address, entries[address].version) for address in cycle.pools]
        candidate_id = candidate_id_of(cycle.cycle_id, versions)
        if self.last_emitted.get(cycle.cycle_id) == candidate_id:
            core.duplicates_suppressed += 1
            return None
        stats = core.stats
        try:
            result = optimize_cycle(list(zip(pools, cycle.zero_for_one)), core.max_input,
                                    polish_samples=POLISH_SAMPLES[core.sizing])
            if result is None or result.profit <= 0:
                stats.unprofitable += 1
                return None
            hops = describe_hops(cycle, pools, kinds, result.amounts)
        except AmmError:
            stats.errors += 1
            return None
        if hops is None:
            stats.refused += 1
            return None
        stats.profitable += 1
        amounts = result.amounts
        profit = amounts[-1] - amounts[0]
        profit_wei = core.pricer.price_in_native(cycle.start_token, profit)
        if profit_wei < core.min_profit_wei:
            return None
        self.last_emitted[cycle.cycle_id] = candidate_id
        core.emitted += 1
        return m.Candidate(
            chain_id=core.chain_id,
            candidate_id=candidate_id,
            cycle_id=cycle.cycle_id,
            start_token=cycle.start_token,
            hops=hops,
            amount_in=amounts[0],
            amount_out=amounts[-1],
            gross_profit=profit,
            gross_profit_wei=profit_wei,
            block_number=core.store.block_number,
            state_versions=[m.PoolVersion(pool, version) for pool, version in versions],
            detector_id=core.detector_id,
            event_received_ns=event_received_ns,
            detected_ns=core.clock_ns(),
        )
