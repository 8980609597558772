"""Our library on the degenbot peer cases: identical answers on all 192 V3 and 24 V2 quotes, and a
cycle profit at least as good as the library-independent reference optimum on all 4 cycles."""

from __future__ import annotations

import pytest
from mevbot.amm.cycle import cycle_amounts, optimize_cycle

from tests.unit.amm.peer_cases import build_pools, cases, cycle_hops, results

POOLS = build_pools()
V3_EXPECTED = {c["id"]: c for c in results()["per_case"]["v3"]}
V2_EXPECTED = {c["id"]: c for c in results()["per_case"]["v2"]}


def test_case_counts():
    assert len(cases()["v3_quotes"]) == 192
    assert len(cases()["v2_quotes"]) == 24
    assert len(cases()["cycles"]) == 4


def test_both_degenbot_versions_agree_with_each_other():
    other = {c["id"]: c for c in results("0.6.0a17")["per_case"]["v3"]}
    for cid, case in V3_EXPECTED.items():
        assert other[cid]["amount_out"] == case["amount_out"]


@pytest.mark.parametrize("quote", cases()["v3_quotes"], ids=lambda q: q["id"])
def test_v3_quote_identical(quote):
    pool = POOLS[quote["pool"]]
    expected = V3_EXPECTED[quote["id"]]
    amount_in = int(quote["amount_in"])
    result = pool.simulate_exact_in(quote["zero_for_one"], amount_in)
    assert result.amount_out == int(expected["amount_out"])
    assert result.tick_after == expected["end_tick"]
    assert result.sqrt_price_x96_after == int(expected["end_sqrt_price_x96"])
    assert result.ticks_crossed == quote["ticks_to_cross"]
    assert result.amount_in == amount_in
    assert pool.quote_exact_in(quote["zero_for_one"], amount_in) == result.amount_out


@pytest.mark.parametrize("quote", cases()["v2_quotes"], ids=lambda q: q["id"])
def test_v2_quote_identical(quote):
    pool = POOLS[quote["pool"]]
    out = pool.quote_exact_in(quote["zero_for_one"], int(quote["amount_in"]))
    assert out == int(V2_EXPECTED[quote["id"]]["amount_out"])


@pytest.mark.parametrize("cycle", cases()["cycles"], ids=lambda c: c["id"])
def test_cycle_at_least_reference(cycle):
    hops = cycle_hops(cycle, POOLS)
    result = optimize_cycle(hops, int(cycle["max_input"]))
    assert result is not None
    reference = results()["cycles"][cycle["id"]]
    assert result.profit >= int(reference["reference_optimum"]["profit"])
    assert result.profit >= int(reference["profit_exact"])  # degenbot 0.5.0's own answer
    # the amounts are the exact path amounts, and a true local integer optimum
    assert result.amounts == cycle_amounts(hops, result.amount_in)
    x = result.amount_in
    for neighbour in (x - 1, x + 1):
        amounts = cycle_amounts(hops, neighbour)
        assert amounts[-1] - amounts[0] <= result.profit
    # degenbot's own optimum evaluates to its recorded path amounts under our maths
    path = [int(a) for a in reference["path_amounts"]]
    assert cycle_amounts(hops, path[0]) == path
