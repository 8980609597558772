"""The step-cache quotes (v3_steps) equal the plain swap loop, exact input and exact output."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mevbot.amm.v3_pool import UniswapV3Pool
from mevbot.errors import AmmError

from tests.unit.amm.peer_cases import build_pools
from tests.unit.amm.test_echidna_properties import random_pool

REAL = [p for p in build_pools().values() if isinstance(p, UniswapV3Pool)]


def loop_exact_out(pool, zero_for_one, amount_out):
    r = pool.swap(zero_for_one, -amount_out, None)
    if r.amount_out < amount_out:
        raise AmmError("cannot deliver")
    return r.amount_in


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    random_pool(), st.booleans(), st.lists(st.integers(min_value=1, max_value=10**30), min_size=1, max_size=6)
)
def test_cached_quotes_equal_loop_on_random_pools(pool, zero_for_one, amounts):
    for amount in amounts:  # several amounts reuse (and extend) one cache
        assert pool.quote_exact_in(zero_for_one, amount) == pool.quote_exact_in_loop(zero_for_one, amount)
        try:
            expected = loop_exact_out(pool, zero_for_one, amount)
        except AmmError:
            with pytest.raises(AmmError):
                pool.quote_exact_out(zero_for_one, amount)
            continue
        assert pool.quote_exact_out(zero_for_one, amount) == expected


@pytest.mark.parametrize("pool", REAL, ids=lambda p: p.address[:10])
def test_cached_quotes_equal_loop_on_real_pools(pool):
    rng = random.Random(pool.address)
    for zero_for_one in (True, False):
        for _ in range(15):
            amount = int(10 ** rng.uniform(0, 21))
            assert pool.quote_exact_in(zero_for_one, amount) == pool.quote_exact_in_loop(zero_for_one, amount)
            try:
                expected = loop_exact_out(pool, zero_for_one, amount)
            except AmmError:
                continue
            assert pool.quote_exact_out(zero_for_one, amount) == expected


def test_cache_is_dropped_on_mutation():
    pool = next(p for p in REAL if len(p.initialized_ticks) > 20)
    amount = 10**15
    before = pool.quote_exact_in(True, amount)
    clone = pool.copy()
    moved = pool.simulate_exact_in(True, amount * 50)
    clone.apply_swap(moved.sqrt_price_x96_after, moved.liquidity_after, moved.tick_after, block_number=1)
    assert clone.quote_exact_in(True, amount) == clone.quote_exact_in_loop(True, amount)
    assert clone.quote_exact_in(True, amount) != before
    assert pool.quote_exact_in(True, amount) == before


@pytest.mark.parametrize("pool", REAL, ids=lambda p: p.address[:10])
def test_exact_out_of_everything_the_pool_holds(pool):
    """Regression: after the last real liquidity, steps can add ~0 output for enormous input; an
    exact output equal to the pool's whole output must stop where the loop stops."""
    for zero_for_one in (True, False):
        everything = pool.swap(zero_for_one, 2**200, None).amount_out
        for amount in (everything, everything - 1, everything // 2):
            if amount <= 0:
                continue
            expected = loop_exact_out(pool, zero_for_one, amount)
            fresh = pool.copy()
            fresh.quote_exact_in(zero_for_one, 1)  # the first call of a state bypasses the cache
            assert fresh.quote_exact_out(zero_for_one, amount) == expected
        with pytest.raises(AmmError):
            pool.quote_exact_out(zero_for_one, everything + 1)


def _summary_from_loop(pool, zero_for_one, amount):
    r = pool.simulate_exact_in(zero_for_one, amount)
    return r.amount_in, r.amount_out, r.sqrt_price_x96_after, r.ticks_crossed


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    random_pool(), st.booleans(), st.lists(st.integers(min_value=0, max_value=10**30), min_size=1, max_size=6)
)
def test_swap_summary_from_cache_equals_the_loop_on_random_pools(pool, zero_for_one, amounts):
    """Input used, output, price after and ticks crossed from the step cache == the swap loop,
    including inputs that complete a step exactly and swaps that run into the price limit."""
    for amount in amounts:
        if amount == 0:
            assert pool.swap_exact_in_summary(zero_for_one, 0)[:2] == (0, 0)
            continue
        assert pool.swap_exact_in_summary(zero_for_one, amount) == _summary_from_loop(pool, zero_for_one, amount)
        cache = pool._steps(zero_for_one)
        # inputs that complete a cached step exactly (the loop stops at its target)
        for c in cache.cum_in[1:6]:
            if c > 0:
                assert pool.swap_exact_in_summary(zero_for_one, c) == _summary_from_loop(pool, zero_for_one, c)
                assert pool.swap_exact_in_summary(zero_for_one, c + 1) == _summary_from_loop(pool, zero_for_one, c + 1)


@pytest.mark.parametrize("pool", REAL, ids=lambda p: p.address[:10])
def test_swap_summary_from_cache_equals_the_loop_on_real_pools(pool):
    rng = random.Random(pool.address + "summary")
    for zero_for_one in (True, False):
        for _ in range(15):
            amount = int(10 ** rng.uniform(0, 24))
            assert pool.swap_exact_in_summary(zero_for_one, amount) == _summary_from_loop(pool, zero_for_one, amount)
