"""A new state's step cache takes over the previous state's complete steps after a Swap (v3_steps
``_take_over``), and skips zero-liquidity bitmap words in one step: every quote and swap summary
still equals the plain swap loop, whatever the sequence of swaps, mints, burns and rollbacks."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mevbot.amm.tick_math import MAX_TICK, getSqrtRatioAtTick
from mevbot.amm.v3_pool import UniswapV3Pool

from tests.unit.amm.peer_cases import build_pools
from tests.unit.amm.test_echidna_properties import random_pool

REAL = [p for p in build_pools().values() if isinstance(p, UniswapV3Pool)]


def _check(pool: UniswapV3Pool, zero_for_one: bool, amounts: list[int]) -> None:
    for amount in amounts:
        assert pool.quote_exact_in(zero_for_one, amount) == pool.quote_exact_in_loop(zero_for_one, amount), amount
        r = pool.simulate_exact_in(zero_for_one, amount)
        assert pool.swap_exact_in_summary(zero_for_one, amount) == (
            r.amount_in, r.amount_out, r.sqrt_price_x96_after, r.ticks_crossed)


def _swap(pool: UniswapV3Pool, zero_for_one: bool, amount: int, block: int) -> None:
    r = pool.simulate_exact_in(zero_for_one, amount)
    if r.amount_in < amount:
        return  # it would run into the price limit (no real swap leaves a pool there)
    pool.apply_swap(r.sqrt_price_x96_after, r.liquidity_after, r.tick_after, block_number=block)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    random_pool(),
    st.lists(
        st.tuples(
            st.sampled_from(["swap", "swap", "swap", "mint", "burn", "rollback"]),
            st.booleans(),
            st.integers(min_value=1, max_value=10**28),
        ),
        min_size=1,
        max_size=8,
    ),
    st.lists(st.integers(min_value=1, max_value=10**30), min_size=1, max_size=4),
)
def test_quotes_equal_the_loop_across_state_changes(pool, changes, amounts):
    block = 1
    for zero_for_one in (True, False):  # caches of both directions, far out
        _check(pool, zero_for_one, amounts)
    positions: list[tuple[int, int, int]] = []
    spacing = pool.tick_spacing
    for kind, direction, amount in changes:
        block += 1
        if kind == "swap":
            _swap(pool, direction, amount, block)
        elif kind == "mint":
            centre = pool.tick // spacing
            lo, hi = (centre - 3) * spacing, (centre + 2) * spacing
            liquidity = amount % 10**22 + 1
            pool.apply_mint(lo, hi, liquidity, block_number=block)
            positions.append((lo, hi, liquidity))
        elif kind == "burn" and positions:
            lo, hi, liquidity = positions.pop()
            pool.apply_burn(lo, hi, liquidity, block_number=block)
        elif kind == "rollback" and block > 2:
            pool.rollback_to(block - 2)
            block -= 1
            positions.clear()  # (their mints may be undone: burning them again would be invalid)
        for zero_for_one in (True, False):
            _check(pool, zero_for_one, amounts)


@pytest.mark.parametrize("pool", REAL, ids=lambda p: p.address[:10])
def test_real_pools_after_swaps_both_ways(pool):
    rng = random.Random(pool.address + "reuse")
    pool = pool.copy()
    amounts = [int(10 ** rng.uniform(0, 24)) for _ in range(6)]
    for block in range(1, 9):
        for zero_for_one in (True, False):
            _check(pool, zero_for_one, amounts)
        _swap(pool, rng.random() < 0.5, int(10 ** rng.uniform(10, 20)), block)
    for zero_for_one in (True, False):
        _check(pool, zero_for_one, amounts)


def _dense_pool() -> UniswapV3Pool:
    """Spacing 1, 3,000 initialized ticks around the price: a large quote crosses thousands."""
    pool = UniswapV3Pool("0x" + "44" * 20, "0x" + "22" * 20, "0x" + "33" * 20, 100, 1,
                         getSqrtRatioAtTick(0), 0, 0)
    for i in range(-1500, 1500):
        pool.apply_mint(i, i + 1, 10**18 + i * 10**12, block_number=0)
    return pool


def test_a_small_swap_takes_over_the_previous_steps():
    pool = _dense_pool()
    big = 10**20
    assert pool.quote_exact_in(True, big) == pool.quote_exact_in_loop(True, big)  # (first: the loop)
    pool.quote_exact_in(True, big)
    before = pool._step_caches[True]
    assert len(before.starts) > 1000
    for block, (zero_for_one, amount) in enumerate([(True, 10**15), (False, 3 * 10**15), (True, 2 * 10**16)], 1):
        _swap(pool, zero_for_one, amount, block)
        pool.warm_quotes(True)
        after = pool._step_caches[True]
        assert after is not before and after._reuse is not None  # the previous one, to take over
        # inside the taken-over steps (partial steps from their starts), at their ends, past them
        _check(pool, True, [7 * 10**15, 3 * 10**16, 10**17 + 12345, 1, 10**9, big])
        assert after._reuse is None and len(after.starts) > 900  # taken over, not recomputed
        _check(pool, True, [after.cum_in[len(after.cum_in) // 2], after.cum_in[-2] + 1, after.cum_in[-3] - 1])
        _check(pool, False, [big, 10**12])
        before = after


def test_a_mint_or_a_rollback_is_never_taken_over():
    pool = _dense_pool()
    pool.quote_exact_in(True, 10**20)
    pool.quote_exact_in(True, 10**20)
    pool.apply_mint(-900, 900, 10**21, block_number=1)  # the liquidity along the path changed
    pool.warm_quotes(True)
    assert pool._step_caches[True]._reuse is None
    _check(pool, True, [10**20, 10**19])
    _swap(pool, True, 10**16, 2)
    pool.rollback_to(1)  # the swap undone: the state before, by a rollback (ticks restored too)
    pool.warm_quotes(True)
    _check(pool, True, [10**20, 10**19])
    pool.rollback_to(0)  # the mint undone
    pool.warm_quotes(True)
    assert pool._step_caches[True]._reuse is None
    _check(pool, True, [10**20, 10**19])


@pytest.mark.parametrize("zero_for_one", [True, False])
def test_zero_liquidity_words_are_one_step(zero_for_one):
    """Past the last position the swap runs to the price limit through empty bitmap words: the
    cache takes one step there (and across empty gaps between positions), with the loop's result."""
    pool = UniswapV3Pool("0x" + "55" * 20, "0x" + "22" * 20, "0x" + "33" * 20, 100, 1,
                         getSqrtRatioAtTick(0), 0, 0)
    pool.apply_mint(-50, 50, 10**18, block_number=0)
    pool.apply_mint(-200_000, -199_990, 10**18, block_number=0)  # far away, across empty words
    pool.apply_mint(199_990, 200_000, 10**18, block_number=0)
    everything = 2**200
    pool.quote_exact_in(zero_for_one, 1)
    _check(pool, zero_for_one, [everything, 10**14, 10**18, 10**30])
    cache = pool._step_caches[zero_for_one]
    assert cache.done and len(cache.starts) < 20  # (word by word: ~1,600 steps)
    assert pool.tick < MAX_TICK
