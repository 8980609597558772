"""Impact arithmetic: execution price against the mid before the hop, fee excluded, rounded up."""

from __future__ import annotations

import pytest
from mevbot.amm.v2 import UniswapV2Pool
from mevbot.errors import ValidationError

from services.validator.impact import path_impact_ppm, pool_impact_ppm, v2_impact_ppm, v3_impact_ppm
from tests.unit.validator.helpers import USDC, WETH, v3_full_range_pool

E18 = 10**18


@pytest.mark.parametrize("amount_in", [10**15, 10**17, 10**19, 10**21])
def test_constant_product_impact_is_in_over_reserve_plus_in(amount_in: int) -> None:
    pool = UniswapV2Pool("0xa", WETH, USDC, 1_000 * E18, 3_000_000 * 10**6, 3000)
    out = pool.quote_exact_in(True, amount_in)
    got = v2_impact_ppm(pool.reserve0, pool.reserve1, amount_in, out, 3000)
    in_f = amount_in * 997_000 // 1_000_000
    ideal = in_f * 10**6 / (pool.reserve0 + in_f)  # continuous formula; the pool floors its output
    assert ideal <= got <= ideal + 2


def test_fee_is_not_impact_and_tiny_trades_have_none() -> None:
    # 1 unit in on a deep pool: the output floors to 0 -> full impact, never negative
    assert v2_impact_ppm(10**30, 10**30, 1, 0, 3000) == 10**6
    # the fee alone: out = in * (1 - fee) at mid 1 is 0 impact
    assert v2_impact_ppm(10**30, 10**30, 10**6, 997_000, 3000) == 0


@pytest.mark.parametrize("zero_for_one", [True, False])
def test_v3_impact_matches_the_pool_and_both_directions(zero_for_one: bool) -> None:
    pool = v3_full_range_pool("0xb", 3000e6 / 1e18, 5 * 10**15, fee_pips=500)
    amount_in = 10 * E18 if zero_for_one else 30_000 * 10**6
    out = pool.quote_exact_in(zero_for_one, amount_in)
    got = v3_impact_ppm(zero_for_one, pool.sqrt_price_x96, amount_in, out, 500)
    assert 0 < got < 10**6
    assert pool_impact_ppm(pool, zero_for_one, amount_in, out) == got
    # larger trades have larger impact
    out2 = pool.quote_exact_in(zero_for_one, amount_in * 10)
    assert v3_impact_ppm(zero_for_one, pool.sqrt_price_x96, amount_in * 10, out2, 500) > got


def test_path_compounds_and_rounds_up() -> None:
    assert path_impact_ppm([0, 0]) == 0
    assert path_impact_ppm([1000]) == 1000
    assert path_impact_ppm([1000, 1000]) == 1999  # 1 - 0.999**2 = 0.001999
    assert path_impact_ppm([1, 1]) == 2  # 1.999999 ppm rounds up
    assert path_impact_ppm([10**6, 5]) == 10**6


def test_missing_state_is_an_error() -> None:
    with pytest.raises(ValidationError):
        v3_impact_ppm(True, 0, 1, 1, 500)
    with pytest.raises(ValidationError):
        v2_impact_ppm(0, 10, 1, 1, 3000)
