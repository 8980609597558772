"""DetectorCore: candidates from dislocations, exact hops, dedupe, coalescing, sharding, safety."""

from __future__ import annotations

import random

from mevbot import messages as m
from mevbot.amm.cycle import cycle_amounts

from services.detector.core import DetectorCore
from tests.unit.market.helpers import (
    head,
    meta,
    sync,
    v2_info,
    v2_snapshot,
    v3_info,
    v3_pool_with_positions,
    v3_snapshot_from,
    v3_swap_event,
)

WETH, USDC, ARB = "0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20
P1, P2, P3, P4 = ("0x" + f"{i:02x}" * 20 for i in (0xA1, 0xA2, 0xA3, 0xA4))
V3 = "0x" + "b3" * 20


def core(replica: str = "d0", **kw) -> DetectorCore:
    return DetectorCore(chain_id=42161, detector_id=replica, base_tokens=[WETH, USDC], native_token=WETH, **kw)


def market(det: DetectorCore, live: bool = True) -> None:
    det.on_snapshot(v2_snapshot(v2_info(P1, USDC, WETH), 3_000 * 10**9, 10**21), live)  # 3000 USDC/WETH
    det.on_snapshot(v2_snapshot(v2_info(P2, USDC, WETH), 6_000 * 10**9, 2 * 10**21), live)
    det.on_snapshot(v2_snapshot(v2_info(P3, ARB, WETH), 2 * 10**24, 10**21), live)  # 2000 ARB/WETH
    det.on_snapshot(v2_snapshot(v2_info(P4, ARB, USDC), 3 * 10**24, 4_500_000 * 10**6), live)  # 1.5 USDC/ARB


def test_balanced_market_has_no_candidates_and_a_dislocation_is_reported_exactly() -> None:
    det = core()
    market(det)
    assert len(det.index) == 2 + 2 + 2  # P1/P2 both ways, WETH-USDC-ARB via P1|P2, both directions
    assert det.flush() == []
    assert det.stats.screened_out == len(det.index)
    # a big buy of WETH on P1 pushes its price up: WETH -> USDC on P1, USDC -> WETH on P2 pays
    det.on_event(sync(P1, 4_000 * 10**9, 75 * 10**19, meta(101)))
    assert det.on_block_head(head(101, 1)) == 0
    candidates = det.flush()
    assert candidates
    for c in candidates:
        assert c.gross_profit > 0 and c.gross_profit == c.amount_out - c.amount_in
        assert c.start_token == WETH and c.gross_profit_wei == c.gross_profit
        assert c.hops[0].token_in == WETH and c.hops[-1].token_out == WETH
        assert c.block_number == 101
        pools = [det.store.ready_pool(h.pool) for h in c.hops]
        amounts = cycle_amounts(list(zip(pools, [h.zero_for_one for h in c.hops])), c.amount_in)
        assert amounts == [c.amount_in] + [h.amount_out for h in c.hops]
        assert all(h.amount_in == a for h, a in zip(c.hops, amounts))
        assert c.hops[0].reserve_in > 0 and c.hops[0].reserve_out > 0
        assert {v.pool for v in c.state_versions} == {h.pool for h in c.hops}
    # the same unchanged state is never emitted twice, even when re-evaluated
    det.dirty = {c.cycle_id: 0 for c in candidates}
    assert det.flush() == []
    assert det.duplicates_suppressed == len(candidates)


def test_events_coalesce_per_cycle_and_replay_dirties_nothing() -> None:
    det = core()
    market(det, live=False)
    assert det.dirty == {}
    for log in range(50):
        det.on_event(m.V2Sync(chain_id=42161, pool=P1, meta=meta(101, log, log), reserve0=3_000 * 10**9 + log,
                              reserve1=10**21, received_ns=1000 + log))
    assert set(det.dirty) == set(det.index.cycles_through(P1))
    assert all(stamp == 1000 for stamp in det.dirty.values())  # oldest unevaluated event
    det.flush()
    assert det.stats.evaluated == len(det.index.cycles_through(P1))  # once each, not 50 times


def test_stale_pools_are_never_acted_on() -> None:
    det = core()
    market(det)
    det.flush()
    det.store.mark_stale(P2, "test")
    det.on_event(sync(P1, 4_000 * 10**9, 75 * 10**19, meta(101)))
    assert all(P2 not in c.hops[0].pool + c.hops[-1].pool for c in det.flush())
    det.on_event(sync(P1, 4_100 * 10**9, 74 * 10**19, meta(102)))
    for c in det.flush():
        assert P2 not in [h.pool for h in c.hops]


def random_dislocations(det: DetectorCore, rng: random.Random) -> list[m.Candidate]:
    out = []
    for block in range(101, 131):
        pool = rng.choice([P1, P2, P3, P4])
        r0, r1 = det.store.ready_pool(pool).reserve0, det.store.ready_pool(pool).reserve1
        k = rng.uniform(0.8, 1.25)
        det.on_event(sync(pool, int(r0 * k), int(r1 / k), meta(block)))
        det.on_block_head(head(block, 1))
        out.extend(det.flush())
    return out


def test_union_over_1_2_3_replicas_is_the_same_set_without_duplicates() -> None:
    results = {}
    for n in (1, 2, 3):
        replicas = [f"det-{i}" for i in range(n)]
        union = []
        for r in replicas:
            det = core(r)
            det.set_members(replicas)
            market(det)
            union.extend(random_dislocations(det, random.Random(42)))
        ids = [c.candidate_id for c in union]
        assert len(ids) == len(set(ids))
        results[n] = {(c.candidate_id, c.amount_in, c.amount_out) for c in union}
    assert results[1] and results[1] == results[2] == results[3]


def test_v3_cycle_reports_price_fields() -> None:
    det = core()
    info = v3_info(V3, USDC, WETH, fee_pips=500, spacing=10)
    # price ~ 1/3000 WETH per USDC unit adjusted for decimals: tick such that 1e6 USDC-units ~ 1/3000 WETH
    pool = v3_pool_with_positions(info, -198080 + 276320, [(-887270, 887270, 10**18), (78000, 79000, 10**20)])
    det.on_snapshot(v3_snapshot_from(info, pool))
    det.on_snapshot(v2_snapshot(v2_info(P1, USDC, WETH), 3_000 * 10**9, 10**21))
    det.flush()
    swap = pool.execute_swap(False, 30 * 10**18, block_number=101)  # sell WETH into the V3 pool
    det.on_event(v3_swap_event(V3, swap, meta(101)))
    candidates = det.flush()
    assert candidates
    v3_hops = [h for c in candidates for h in c.hops if h.pool == V3]
    assert v3_hops and all(h.sqrt_price_x96_before == swap.sqrt_price_x96_after for h in v3_hops)
    assert all(h.liquidity == swap.liquidity_after and h.sqrt_price_x96_after > 0 for h in v3_hops)


def test_screening_bound_is_an_upper_bound_and_tight_at_zero() -> None:
    from services.detector.evaluate import marginal_rate_bound

    info = v3_info(V3, USDC, WETH, fee_pips=500, spacing=10)
    v3 = v3_pool_with_positions(info, 78240, [(-887270, 887270, 10**18), (78000, 79000, 10**20)])
    from mevbot.amm.v2 import UniswapV2Pool

    v2 = UniswapV2Pool(P1, USDC, WETH, 3_000 * 10**9, 10**21, 3000)
    for pool in (v3, v2):
        for zero_for_one in (True, False):
            bound = marginal_rate_bound(pool, zero_for_one)
            assert abs(bound - pool.spot_rate(zero_for_one)) <= 1e-9 * bound
            for exponent in range(3, 24, 2):
                x = 10**exponent
                assert pool.quote_exact_in(zero_for_one, x) <= bound * x * (1 + 1e-12)


def test_events_applied_while_a_flush_yields_are_sized_on_the_current_state() -> None:
    """The service publishes each candidate as soon as it is sized and yields to the event loop, so
    events can be applied in the middle of a flush: the cycles still waiting are sized on the
    current state (versions read with the amounts) and keep their older event stamp; a cycle the
    new event dirtied after its sizing (here the first one) is sized again in the same flush,
    stamped with the new event. Nothing stays dirty, nothing is sized twice on the same states,
    and a later event marks the cycles with its own stamp."""
    det = core()
    market(det, live=False)
    det.on_event(m.V2Sync(chain_id=42161, pool=P1, meta=meta(101), reserve0=4_000 * 10**9, reserve1=75 * 10**19,
                          received_ns=1_000))
    det.on_block_head(head(101, 1))
    flush = det.flush_iter()
    first = next(flush)
    assert first is not None and first.event_received_ns == 1_000
    # mid-flush: P1 moves again (one event of the next block)
    det.on_event(m.V2Sync(chain_id=42161, pool=P1, meta=meta(102), reserve0=4_100 * 10**9, reserve1=74 * 10**19,
                          received_ns=2_000))
    rest = [c for c in flush if c is not None]
    assert rest and {c.event_received_ns for c in rest} == {1_000, 2_000}
    assert len({c.cycle_id for c in rest}) == len(rest)
    again = {c.cycle_id: c for c in rest if c.event_received_ns == 2_000}
    assert first.cycle_id in again  # sized before the event: sized again, after it
    for c in rest:
        pools = [det.store.ready_pool(h.pool) for h in c.hops]
        amounts = cycle_amounts(list(zip(pools, [h.zero_for_one for h in c.hops])), c.amount_in)
        assert amounts == [c.amount_in] + [h.amount_out for h in c.hops]
        assert c.block_number == 102
        assert all(v.version == det.store.entries[v.pool].version for v in c.state_versions)
    assert det.dirty == {}
    assert det.flush() == [] and det.duplicates_suppressed == 0
    # an event after those sizings marks the cycles with its own stamp
    det.on_event(m.V2Sync(chain_id=42161, pool=P1, meta=meta(102, 1), reserve0=4_200 * 10**9, reserve1=73 * 10**19,
                          received_ns=3_000))
    assert det.dirty and set(det.dirty.values()) == {3_000}


def test_cycles_dirtied_mid_flush_are_queued_after_the_waiting_ones_in_the_same_flush() -> None:
    """Cycles dirtied while a flush is suspended form its next batch, screened and ranked when the
    cycles already waiting are done (first come, first served between batches: a stream of large
    new dislocations must not starve older small ones); the flush ends with nothing dirty."""
    det = core()
    market(det, live=False)
    det.on_event(m.V2Sync(chain_id=42161, pool=P1, meta=meta(101), reserve0=3_150 * 10**9, reserve1=10**21,
                          received_ns=1_000))  # a small dislocation: a few cycles through P1
    flush = det.flush_iter()
    first = next(flush)
    assert first is not None and first.event_received_ns == 1_000
    # mid-flush: USDC/WETH on P2 doubles (its cycles via ARB were not dirty; P1 -> ARB -> WETH waits)
    det.on_event(m.V2Sync(chain_id=42161, pool=P2, meta=meta(101, 1, 1), reserve0=9_000 * 10**9, reserve1=14 * 10**20,
                          received_ns=2_000))
    rest = [c for c in flush if c is not None]
    stamps = [c.event_received_ns for c in rest]
    assert stamps[0] == 1_000 and set(stamps[1:]) == {2_000}  # the waiting one first
    assert [h.pool for h in rest[0].hops] == [P1, P4, P3]  # untouched by the event: sized once
    assert all(P2 in {h.pool for h in c.hops} for c in rest[1:])
    assert len({c.cycle_id for c in rest}) == len(rest)
    assert det.dirty == {}
