"""The float Möbius models track the exact quotes, and the closed form is the V2 optimum."""

from __future__ import annotations

import math
import random

import pytest
from mevbot.amm.cycle import float_optimum
from mevbot.amm.v2 import UniswapV2Pool
from mevbot.amm.v3_pool import UniswapV3Pool

from tests.unit.amm.peer_cases import build_pools

REAL = [p for p in build_pools().values() if isinstance(p, UniswapV3Pool)]


@pytest.mark.parametrize("pool", REAL, ids=lambda p: p.address[:10])
def test_v3_model_tracks_exact_quotes(pool):
    rng = random.Random(pool.address)
    for zero_for_one in (True, False):
        curve = pool.float_segments(zero_for_one)
        assert curve.slope_at_zero() == pytest.approx(pool.spot_rate(zero_for_one))
        for _ in range(20):
            amount = int(10 ** rng.uniform(4, 20))
            exact = pool.quote_exact_in(zero_for_one, amount)
            model = curve.value(float(amount))
            # exact = model minus the roundings of each step: the step's input and fee are rounded up
            # (up to 2 input units, worth ~2*spot output) and its output down (< 1 output unit)
            steps = pool.simulate_exact_in(zero_for_one, amount).steps
            per_step = 2.0 * curve.slope_at_zero() + 1.0
            assert model >= exact - 1e-9 * model
            assert model - exact <= 1e-9 * model + steps * per_step + 2


def test_v2_closed_form_optimum():
    a = UniswapV2Pool("0x" + "01" * 20, "0x" + "0a" * 20, "0x" + "0b" * 20, 1000 * 10**18, 2_500_000 * 10**6)
    b = UniswapV2Pool("0x" + "02" * 20, "0x" + "0a" * 20, "0x" + "0b" * 20, 1000 * 10**18, 2_400_000 * 10**6)
    g = 0.997
    # A -> B in a, B -> A in b: out = a1*x/(b1 + c1*x) composed
    a1, b1, c1 = g * 2_500_000e6, 1000e18, g
    a2, b2, c2 = g * 1000e18, 2_400_000e6, g
    big_a, big_b, big_c = a1 * a2, b1 * b2, b2 * c1 + c2 * a1
    expected = (math.sqrt(big_a * big_b) - big_b) / big_c
    assert float_optimum([(a, True), (b, False)]) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("block", range(4))
def test_two_hop_walk_equals_the_general_walk(block):
    """The two-hop fast path of the float walk finds the same pieces and optimum as the general one."""
    from mevbot.amm.cycle import _walk, _walk_two

    from tests.unit.amm.test_cycle_sizing import _random_cycle

    checked = 0
    for seed in range(block * 250, (block + 1) * 250):
        hops, max_input = _random_cycle(seed)
        if len(hops) != 2:
            continue
        curves = [pool.float_segments(z) for pool, z in hops]
        if any(c is None for c in curves):
            continue
        for limit in (float(max_input), math.inf, float(max_input) / 1000.0):
            assert _walk_two(curves[0], curves[1], limit) == _walk(curves, limit), f"seed {seed}"
        checked += 1
    assert checked > 50
    # and on the real two-hop peer cycles, both directions of every pair of real pools
    pools = REAL[:6]
    for p in pools:
        for q in pools:
            if p is q or {p.token0, p.token1} != {q.token0, q.token1}:
                continue
            for z in (True, False):
                zq = q.token0 == (p.token1 if z else p.token0)
                curves = [p.float_segments(z), q.float_segments(zq)]
                assert _walk_two(curves[0], curves[1], 1e30) == _walk(curves, 1e30)


@pytest.mark.parametrize("block", range(4))
def test_three_hop_walk_equals_the_general_walk(block):
    """The three-hop fast path of the float walk finds the same pieces and optimum as the general one."""
    from mevbot.amm.cycle import _walk, _walk_three

    from tests.unit.amm.test_cycle_sizing import _random_cycle

    checked = 0
    for seed in range(block * 400, (block + 1) * 400):
        hops, max_input = _random_cycle(seed)
        if len(hops) != 3:
            continue
        curves = [pool.float_segments(z) for pool, z in hops]
        if any(c is None for c in curves):
            continue
        for limit in (float(max_input), math.inf, float(max_input) / 1000.0):
            assert _walk_three(*curves, limit) == _walk(curves, limit), f"seed {seed}"
        checked += 1
    assert checked > 50
