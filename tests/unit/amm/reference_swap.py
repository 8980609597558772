"""A deliberately plain v3-core swap loop built from the library ports (computeSwapStep,
nextInitializedTickWithinOneWord on real bitmap words, getSqrtRatioAtTick, getTickAtSqrtRatio).

The optimised inline loop of ``UniswapV3Pool._swap`` must agree with it on every input."""

from __future__ import annotations

from mevbot.amm.bit_math import leastSignificantBit, mostSignificantBit
from mevbot.amm.full_math import Q128, mulDiv
from mevbot.amm.liquidity_math import addDelta
from mevbot.amm.swap_math import computeSwapStep
from mevbot.amm.tick_bitmap import position, to_words
from mevbot.amm.tick_math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    getSqrtRatioAtTick,
    getTickAtSqrtRatio,
)
from mevbot.errors import AmmError


def next_initialized_tick_within_one_word(words: dict[int, int], tick: int, spacing: int, lte: bool):
    """TickBitmap.nextInitializedTickWithinOneWord on the uint256 words, line by line."""
    compressed = int(tick / spacing)  # Solidity division truncates toward zero
    if tick < 0 and tick % spacing != 0:
        compressed -= 1
    if lte:
        word_pos, bit_pos = position(compressed)
        mask = (1 << bit_pos) - 1 + (1 << bit_pos)
        masked = words.get(word_pos, 0) & mask
        initialized = masked != 0
        nxt = (compressed - (bit_pos - mostSignificantBit(masked))) * spacing if initialized \
            else (compressed - bit_pos) * spacing
        return nxt, initialized
    word_pos, bit_pos = position(compressed + 1)
    mask = ~((1 << bit_pos) - 1) & ((1 << 256) - 1)
    masked = words.get(word_pos, 0) & mask
    initialized = masked != 0
    nxt = (compressed + 1 + (leastSignificantBit(masked) - bit_pos)) * spacing if initialized \
        else (compressed + 1 + (255 - bit_pos)) * spacing
    return nxt, initialized


def reference_swap(pool, zero_for_one: bool, amount_specified: int, limit: int | None):
    """Returns (amount0, amount1, sqrt_price, tick, liquidity, fee_growth_delta)."""
    if amount_specified == 0:
        raise AmmError("AS")
    price = pool.sqrt_price_x96
    if limit is None:
        limit = MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1
    if zero_for_one:
        if not (limit < price and limit > MIN_SQRT_RATIO):
            raise AmmError("SPL")
    elif not (limit > price and limit < MAX_SQRT_RATIO):
        raise AmmError("SPL")
    words = to_words(pool.initialized_ticks, pool.tick_spacing)
    net = pool.ticks
    remaining, calculated = amount_specified, 0
    tick, liquidity, growth = pool.tick, pool.liquidity, 0
    exact_in = amount_specified > 0
    while remaining != 0 and price != limit:
        start = price
        tick_next, initialized = next_initialized_tick_within_one_word(words, tick, pool.tick_spacing, zero_for_one)
        tick_next = max(MIN_TICK, min(MAX_TICK, tick_next))
        price_next = getSqrtRatioAtTick(tick_next)
        target = limit if (price_next < limit if zero_for_one else price_next > limit) else price_next
        price, amount_in, amount_out, fee_amount = computeSwapStep(price, target, liquidity, remaining, pool.fee_pips)
        if exact_in:
            remaining -= amount_in + fee_amount
            calculated -= amount_out
        else:
            remaining += amount_out
            calculated += amount_in + fee_amount
        if liquidity > 0:
            growth += mulDiv(fee_amount, Q128, liquidity)
        if price == price_next:
            if initialized:
                ln = net[tick_next]
                liquidity = addDelta(liquidity, -ln if zero_for_one else ln)
            tick = tick_next - 1 if zero_for_one else tick_next
        elif price != start:
            tick = getTickAtSqrtRatio(price)
    if zero_for_one == exact_in:
        a0, a1 = amount_specified - remaining, calculated
    else:
        a0, a1 = calculated, amount_specified - remaining
    return a0, a1, price, tick, liquidity, growth
