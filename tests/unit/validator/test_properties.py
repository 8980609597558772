"""Hypothesis properties of the money arithmetic: conversions never flatter the trade, fees round
the way the lenders do, impact grows with size, a recommended size always respects the limits."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from mevbot.amm.v2 import UniswapV2Pool
from mevbot.gas.l1 import l1_from_node_interface
from mevbot.gas.model import gas_cost

from services.validator.costs import NativeRate, aave_flash_premium, net_profit, uniswap_v3_flash_fee
from services.validator.impact import v2_impact_ppm
from services.validator.split import Limits, recommend
from tests.unit.validator.helpers import USDC, WETH

amounts = st.integers(min_value=0, max_value=10**30)
positive = st.integers(min_value=1, max_value=10**30)


@given(wei=amounts, token_amount=positive, native_wei=positive)
def test_gas_in_token_covers_the_gas_and_by_less_than_one_unit(wei: int, token_amount: int, native_wei: int) -> None:
    rate = NativeRate(token_amount, native_wei)
    t = rate.wei_to_token_ceil(wei)
    assert t * native_wei >= wei * token_amount  # never under-charged
    assert (t - 1) * native_wei < wei * token_amount  # by less than one token unit


@given(amount=amounts, token_amount=positive, native_wei=positive)
def test_profit_in_wei_never_overstated(amount: int, token_amount: int, native_wei: int) -> None:
    rate = NativeRate(token_amount, native_wei)
    assert rate.token_to_wei_floor(amount) * token_amount <= amount * native_wei


@given(amount=amounts, bps=st.integers(min_value=0, max_value=10_000))
def test_aave_premium_is_nearest_with_halves_up(amount: int, bps: int) -> None:
    fee = aave_flash_premium(amount, bps)
    exact2 = 2 * amount * bps  # 2 * exact * 10_000
    assert abs(fee * 20_000 - exact2) <= 10_000 and (fee * 20_000 - exact2 != -10_000)


@given(amount=amounts, pips=st.integers(min_value=0, max_value=999_999))
def test_uniswap_flash_fee_rounds_up(amount: int, pips: int) -> None:
    fee = uniswap_v3_flash_fee(amount, pips)
    assert fee * 1_000_000 >= amount * pips > (fee - 1) * 1_000_000 or fee == 0


@given(gross=st.integers(min_value=-(10**24), max_value=10**24), flash=st.integers(0, 10**20),
       gas_units=st.integers(0, 10**7), base=st.integers(0, 10**11), tip=st.integers(0, 10**10),
       token_amount=positive, native_wei=positive)
@settings(max_examples=200)
def test_net_profit_identity(gross, flash, gas_units, base, tip, token_amount, native_wei) -> None:
    gas = gas_cost(gas_units, l1_from_node_interface(gas_units // 10, base), base, tip)
    b = net_profit(gross, flash, gas, NativeRate(token_amount, native_wei))
    assert b.net_profit == gross - flash - b.gas_cost_in_token
    assert b.l2_gas_cost_wei + b.l1_gas_cost_wei == gas.total_wei
    assert b.net_profit_wei * token_amount <= b.net_profit * native_wei  # rounded against us


@given(r_in=st.integers(10**6, 10**30), r_out=st.integers(10**6, 10**30), a=st.integers(1, 10**28),
       b=st.integers(1, 10**28))
def test_v2_impact_grows_with_size(r_in: int, r_out: int, a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    pool = UniswapV2Pool("0xa", WETH, USDC, r_in, r_out, 3000)
    out_lo = pool.quote_exact_in(True, lo)
    assume(out_lo >= 10**7)  # below that the pool's floored output, not the size, dominates
    i_lo = v2_impact_ppm(r_in, r_out, lo, out_lo, 3000)
    i_hi = v2_impact_ppm(r_in, r_out, hi, pool.quote_exact_in(True, hi), 3000)
    assert 0 <= i_lo <= i_hi + 1 and i_hi <= 10**6  # 1 ppm: the ceiling of two floored quotes


@given(skew_bps=st.integers(50, 3000), hop_limit=st.integers(1, 20_000), depth=st.integers(10**20, 10**24))
@settings(max_examples=60, deadline=None)
def test_recommended_sizes_respect_the_limits_and_replay_exactly(skew_bps: int, hop_limit: int, depth: int) -> None:
    a = UniswapV2Pool("0xa", WETH, USDC, depth, depth * 3000 * (10_000 + skew_bps) // 10_000 // 10**12, 3000)
    b = UniswapV2Pool("0xb", WETH, USDC, depth // 3, depth * 1000 // 10**12, 3000)
    limits = Limits(hop_limit, 2 * hop_limit, 0, 10**30)
    d = recommend([(a, True), (b, False)], limits, lambda amount: 0)
    if d is None:
        return
    for part in d.parts:
        assert max(part.hop_impacts_ppm) <= hop_limit and part.net_profit > 0
    part = d.parts[0]
    out1 = a.quote_exact_in(True, part.amount_in)
    assert (out1, b.quote_exact_in(False, out1)) == part.amounts[1:]
