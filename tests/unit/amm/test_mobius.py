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


@pytest.mark.parametrize(("hops", "block"), [(n, b) for n in (2, 3) for b in range(4)])
def test_fixed_hop_walks_equal_the_general_walk(hops, block):
    """The two- and three-hop fast paths of the float walk find the same pieces and optimum as the
    general one, on random cycles with every kind of limit."""
    from mevbot.amm.cycle import _walk, _walk_three, _walk_two

    from tests.unit.amm.test_cycle_sizing import _random_cycle

    fast = {2: _walk_two, 3: _walk_three}[hops]
    span = 250 if hops == 2 else 400
    checked = 0
    for seed in range(block * span, (block + 1) * span):
        cycle, max_input = _random_cycle(seed)
        if len(cycle) != hops:
            continue
        curves = [pool.float_segments(z) for pool, z in cycle]
        if any(c is None for c in curves):
            continue
        for limit in (float(max_input), math.inf, float(max_input) / 1000.0):
            assert fast(*curves, limit) == _walk(curves, limit), f"seed {seed}"
        checked += 1
    assert checked > 50


def test_two_hop_walk_equals_the_general_walk_on_real_pools():
    """Both directions of every pair of real pools of the same tokens."""
    from mevbot.amm.cycle import _walk, _walk_two

    pools = REAL[:6]
    for p in pools:
        for q in pools:
            if p is q or {p.token0, p.token1} != {q.token0, q.token1}:
                continue
            for z in (True, False):
                zq = q.token0 == (p.token1 if z else p.token0)
                curves = [p.float_segments(z), q.float_segments(zq)]
                assert _walk_two(curves[0], curves[1], 1e30) == _walk(curves, 1e30)
