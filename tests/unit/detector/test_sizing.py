"""Hot-path sizing: ``DETECTOR_SIZING=fast`` (exact, no staircase polish) vs ``full``."""

from __future__ import annotations

import pytest
from mevbot.amm.cycle import cycle_amounts, cycle_profit, optimize_cycle
from mevbot.chainconfig import default_chain_config
from mevbot.errors import ConfigError

from services.detector.core import DetectorCore
from services.detector.evaluate import DEFAULT_MAX_INPUT
from services.detector.settings import DetectorSettings
from services.detector.synthetic import BASE_TOKENS, WETH, SyntheticMarket
from tests.unit.detector.test_core import P1, core, market
from tests.unit.market.helpers import head, meta, sync


def dislocated_market(seed: int = 3) -> SyntheticMarket:
    market_ = SyntheticMarket(n_tokens=16, n_pools=60, v3_share=0.4, seed=seed)
    return market_


def candidates_of(sizing: str, seed: int = 3, per_event: bool = False) -> list[tuple]:
    """(candidate, exact amounts at x, profit at x - 1, profit at x + 1) on the state it was sized on."""
    market_ = dislocated_market(seed)
    det = DetectorCore(chain_id=42161, detector_id="d", base_tokens=BASE_TOKENS, native_token=WETH, sizing=sizing)
    for snap in market_.snapshots:
        det.on_snapshot(snap, live=False)
    out = []
    for events, block_head in market_.blocks(6, 20, size_fraction=(1e-3, 5e-2)):
        flushed = []
        for event in events:
            det.on_event(event)
            if per_event:  # evaluate-on-drain: the same cycles are sized again and again
                flushed.extend(det.flush())
        det.on_block_head(block_head)
        flushed.extend(det.flush())
        for c in flushed:
            if any(det.store.version(v.pool) != v.version for v in c.state_versions):
                out.append((c, None, None, None))  # sized on a state that moved since
                continue
            pools = [det.store.ready_pool(h.pool) for h in c.hops]
            hops = list(zip(pools, [h.zero_for_one for h in c.hops]))
            x = c.amount_in
            out.append((c, cycle_amounts(hops, x), cycle_profit(hops, x - 1) if x > 1 else None,
                        cycle_profit(hops, x + 1)))
    return out


def test_fast_sizing_is_exact_and_a_local_integer_optimum() -> None:
    found = candidates_of("fast")
    assert len(found) >= 5
    assert any(len(c.hops) == 3 for c, *_ in found)
    for c, amounts, left, right in found:
        assert amounts is not None
        # every hop amount is the exact output of the pool at the emitted versions' state
        assert amounts == [c.amount_in] + [h.amount_out for h in c.hops]
        assert c.gross_profit == c.amount_out - c.amount_in > 0
        # a local integer optimum: neither neighbour is better
        assert right <= c.gross_profit
        assert left is None or left <= c.gross_profit


def test_fast_and_full_find_the_same_opportunities_within_a_hair() -> None:
    fast = [c for c, *_ in candidates_of("fast")]
    full = [c for c, *_ in candidates_of("full")]
    # same cycles on the same states (the candidate id is cycle + versions), sizes within 1e-6 of
    # profit (the polish only trades floor losses of the middle hops)
    fast_by_id = {c.candidate_id: c for c in fast}
    full_by_id = {c.candidate_id: c for c in full}
    assert fast_by_id.keys() == full_by_id.keys()
    for cid, f in fast_by_id.items():
        g = full_by_id[cid]
        assert g.gross_profit >= f.gross_profit * (1 - 1e-12)  # the polish never loses
        if g.gross_profit > 10**9:
            assert f.gross_profit >= g.gross_profit * (1 - 1e-6)


def test_sizing_mode_is_validated_and_full_matches_the_library_default() -> None:
    with pytest.raises(ValueError):
        core(sizing="fastest")
    det = core(sizing="full")
    market(det, live=False)
    det.on_event(sync(P1, 4_000 * 10**9, 75 * 10**19, meta(101)))
    det.on_block_head(head(101, 1))
    for c in det.flush():
        pools = [det.store.ready_pool(h.pool) for h in c.hops]
        result = optimize_cycle(list(zip(pools, [h.zero_for_one for h in c.hops])), DEFAULT_MAX_INPUT)
        assert (c.amount_in, c.amount_out) == (result.amounts[0], result.amounts[-1])


def test_settings_default_to_fast_sizing_and_evaluate_on_drain() -> None:
    chain = default_chain_config()
    settings = DetectorSettings.from_env(chain, {})
    assert settings.sizing == "fast" and settings.idle_flush_ms == 0
    assert DetectorSettings.from_env(chain, {"DETECTOR_SIZING": "full"}).sizing == "full"
    with pytest.raises(ConfigError):
        DetectorSettings.from_env(chain, {"DETECTOR_SIZING": "polished"})


def test_fast_sizing_per_event_is_exact_too() -> None:
    """Evaluate-on-drain sizes the same cycles after every event: each candidate is still exact on
    the state it names and a local integer optimum."""
    found = candidates_of("fast", per_event=True)
    assert len(found) >= 20
    for c, amounts, left, right in found:
        if amounts is None:
            continue  # sized on a state that moved since (a later event of the block)
        assert amounts == [c.amount_in] + [h.amount_out for h in c.hops]
        assert right <= c.gross_profit and (left is None or left <= c.gross_profit)
