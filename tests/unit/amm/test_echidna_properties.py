"""Hypothesis versions of v3-core's Echidna invariants (contracts/test/*EchidnaTest.sol), plus the
equivalence of the optimised swap loop / sorted-list bitmap with the plain library ports."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from mevbot.amm.full_math import MAX_UINT256, mulDiv, mulDivRoundingUp
from mevbot.amm.sqrt_price_math import (
    getAmount0Delta,
    getAmount1Delta,
    getNextSqrtPriceFromInput,
    getNextSqrtPriceFromOutput,
)
from mevbot.amm.swap_math import computeSwapStep
from mevbot.amm.tick_bitmap import nextInitializedTickWithinOneWord, to_words
from mevbot.amm.tick_math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    getSqrtRatioAtTick,
    getTickAtSqrtRatio,
    tick_at_sqrt_ratio,
)
from mevbot.amm.v3_pool import UniswapV3Pool
from mevbot.errors import AmmError

from tests.unit.amm.reference_swap import next_initialized_tick_within_one_word, reference_swap

uint160 = st.integers(min_value=1, max_value=(1 << 160) - 1)
uint128 = st.integers(min_value=1, max_value=(1 << 128) - 1)
uint256 = st.integers(min_value=0, max_value=MAX_UINT256)
sqrt_price = st.integers(min_value=MIN_SQRT_RATIO, max_value=MAX_SQRT_RATIO - 1)
ticks = st.integers(min_value=MIN_TICK, max_value=MAX_TICK)
PROPS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- FullMathEchidnaTest ----------------------------------------------------------------------

@PROPS
@given(uint256, uint256, st.integers(min_value=1, max_value=MAX_UINT256))
def test_mul_div_matches_exact_rational(x, y, d):
    exact = Fraction(x * y, d)
    if exact > MAX_UINT256:
        with pytest.raises(AmmError):
            mulDiv(x, y, d)
        return
    down = mulDiv(x, y, d)
    assert down == int(exact)  # floor for non-negative
    if exact.denominator != 1 and down == MAX_UINT256:
        with pytest.raises(AmmError):
            mulDivRoundingUp(x, y, d)
        return
    up = mulDivRoundingUp(x, y, d)
    assert up - down == (0 if exact.denominator == 1 else 1)


def test_mul_div_zero_denominator_reverts():
    with pytest.raises(AmmError):
        mulDiv(1, 1, 0)
    with pytest.raises(AmmError):
        mulDivRoundingUp(1, 1, 0)


# --- TickMathEchidnaTest ----------------------------------------------------------------------

@PROPS
@given(st.integers(min_value=MIN_TICK + 1, max_value=MAX_TICK - 1))
def test_sqrt_ratio_at_tick_is_strictly_monotonic(tick):
    ratio = getSqrtRatioAtTick(tick)
    assert getSqrtRatioAtTick(tick - 1) < ratio < getSqrtRatioAtTick(tick + 1)
    assert MIN_SQRT_RATIO <= ratio <= MAX_SQRT_RATIO


@PROPS
@given(sqrt_price)
def test_tick_at_sqrt_ratio_brackets_the_price(price):
    tick = getTickAtSqrtRatio(price)
    assert getSqrtRatioAtTick(tick) <= price < getSqrtRatioAtTick(tick + 1)
    assert MIN_TICK <= tick < MAX_TICK
    assert tick_at_sqrt_ratio(price) == tick  # the fast path gives the same tick


@PROPS
@given(ticks)
def test_tick_round_trip(tick):
    assume(tick < MAX_TICK)
    assert getTickAtSqrtRatio(getSqrtRatioAtTick(tick)) == tick
    assert tick_at_sqrt_ratio(getSqrtRatioAtTick(tick)) == tick


def test_tick_math_bounds_and_reverts():
    assert getSqrtRatioAtTick(MIN_TICK) == MIN_SQRT_RATIO
    assert getSqrtRatioAtTick(MAX_TICK) == MAX_SQRT_RATIO
    assert getSqrtRatioAtTick(0) == 1 << 96
    for bad in (MIN_TICK - 1, MAX_TICK + 1):
        with pytest.raises(AmmError, match="T"):
            getSqrtRatioAtTick(bad)
    for bad in (MIN_SQRT_RATIO - 1, MAX_SQRT_RATIO):
        with pytest.raises(AmmError, match="R"):
            getTickAtSqrtRatio(bad)


# --- SqrtPriceMathEchidnaTest -----------------------------------------------------------------

@PROPS
@given(uint160, uint128, st.integers(min_value=0, max_value=(1 << 200)), st.booleans())
def test_next_sqrt_price_from_input_moves_the_right_way(price, liquidity, amount, zero_for_one):
    try:
        nxt = getNextSqrtPriceFromInput(price, liquidity, amount, zero_for_one)
    except AmmError:
        return
    if zero_for_one:
        assert nxt <= price
    else:
        assert nxt >= price
    assert nxt < (1 << 160)


@PROPS
@given(uint160, uint128, st.integers(min_value=0, max_value=(1 << 200)), st.booleans())
def test_next_sqrt_price_from_output_moves_the_right_way(price, liquidity, amount, zero_for_one):
    try:
        nxt = getNextSqrtPriceFromOutput(price, liquidity, amount, zero_for_one)
    except AmmError:
        return
    if zero_for_one:
        assert nxt <= price
    else:
        assert nxt >= price


@PROPS
@given(uint160, uint160, uint128)
def test_amount_deltas_round_up_by_at_most_one(a, b, liquidity):
    down0 = getAmount0Delta(a, b, liquidity, False)
    up0 = getAmount0Delta(a, b, liquidity, True)
    assert down0 <= up0 and up0 - down0 < 2
    down1 = getAmount1Delta(a, b, liquidity, False)
    up1 = getAmount1Delta(a, b, liquidity, True)
    assert down1 <= up1 and up1 - down1 < 2
    # the exact rational amounts lie between the two roundings
    lo, hi = min(a, b), max(a, b)
    exact0 = Fraction(liquidity * (1 << 96) * (hi - lo), hi * lo)
    exact1 = Fraction(liquidity * (hi - lo), 1 << 96)
    assert down0 <= exact0 <= up0
    assert down1 <= exact1 <= up1


# --- SwapMathEchidnaTest ----------------------------------------------------------------------

@PROPS
@given(uint160, uint160, uint128,
       st.integers(min_value=-(1 << 255) + 1, max_value=(1 << 255) - 1),
       st.integers(min_value=1, max_value=999_999))
def test_compute_swap_step_invariants(price, target, liquidity, amount_remaining, fee_pips):
    try:
        nxt, amount_in, amount_out, fee_amount = computeSwapStep(price, target, liquidity, amount_remaining, fee_pips)
    except AmmError:
        return
    assert amount_in <= MAX_UINT256 - fee_amount
    if amount_remaining < 0:
        assert amount_out <= -amount_remaining
    else:
        assert amount_in + fee_amount <= amount_remaining
    if price == target:
        assert nxt == target
    # the next price lies between the current price and the target
    if target <= price:
        assert target <= nxt <= price
    else:
        assert price <= nxt <= target


# --- bitmap on a sorted list == bitmap words --------------------------------------------------

@PROPS
@given(st.sampled_from([1, 10, 50, 60, 200]),
       st.lists(st.integers(min_value=-3000, max_value=3000), max_size=40),
       st.integers(min_value=-800_000, max_value=800_000), st.booleans())
def test_sorted_list_bitmap_equals_word_bitmap(spacing, compressed_ticks, tick, lte):
    limit = MAX_TICK // spacing
    sorted_ticks = sorted({c * spacing for c in compressed_ticks if -limit <= c <= limit})
    words = to_words(sorted_ticks, spacing)
    tick = tick // 8 if spacing == 1 else tick
    assert nextInitializedTickWithinOneWord(sorted_ticks, tick, spacing, lte) == \
        next_initialized_tick_within_one_word(words, tick, spacing, lte)


# --- the inline swap loop == the plain loop over the library ports ---------------------------

@st.composite
def random_pool(draw):
    fee, spacing = draw(st.sampled_from([(100, 1), (500, 10), (2500, 50), (3000, 60), (10000, 200)]))
    tick = draw(st.integers(min_value=-200_000, max_value=200_000))
    pool = UniswapV3Pool("0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20, fee, spacing,
                         getSqrtRatioAtTick(tick) + draw(st.integers(0, 10**6)), 0, 0)
    pool.tick = getTickAtSqrtRatio(pool.sqrt_price_x96)
    n = draw(st.integers(min_value=0, max_value=12))
    max_c = MAX_TICK // spacing
    for _ in range(n):
        width = draw(st.sampled_from([1, 2, 5, 30, 300, 3000]))
        centre = tick // spacing + draw(st.integers(-600, 600))
        lo = max(-max_c, centre - draw(st.integers(0, width)))
        hi = min(max_c, lo + width)
        if lo >= hi:
            continue
        pool.apply_mint(lo * spacing, hi * spacing, draw(st.integers(10**3, 10**24)), block_number=0)
    return pool


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_pool(), st.booleans(), st.booleans(),
       st.integers(min_value=1, max_value=10**30), st.integers(min_value=-20_000, max_value=20_000))
def test_inline_swap_equals_reference_loop(pool, zero_for_one, exact_out, amount, limit_ticks):
    amount_specified = -amount if exact_out else amount
    limit = None
    if limit_ticks:
        limit_tick = max(MIN_TICK + 1, min(MAX_TICK - 1, pool.tick + limit_ticks))
        limit = getSqrtRatioAtTick(limit_tick)
    try:
        expected = reference_swap(pool, zero_for_one, amount_specified, limit)
    except AmmError as exc:
        with pytest.raises(AmmError):
            pool.swap(zero_for_one, amount_specified, limit)
        assert str(exc)  # same outcome: both revert
        return
    got = pool.swap(zero_for_one, amount_specified, limit)
    assert (got.amount0, got.amount1, got.sqrt_price_x96_after, got.tick_after, got.liquidity_after,
            got.fee_growth_global_x128_delta) == expected
    if exact_out:
        try:
            q = pool.quote_exact_out(zero_for_one, amount) if limit is None else None
        except AmmError:
            q = None
        if q is not None:
            assert q == (got.amount0 if zero_for_one else got.amount1)
    elif limit is None:
        assert pool.quote_exact_in(zero_for_one, amount) == got.amount_out
