"""The dust fallback's exact scan with the float models' bounds (:func:`mevbot.amm.cycle._scan_best`)
picks the same point, and so returns the same amounts, as quoting every point; the bounds it uses
are sound (exact amounts never exceed the floored models)."""

from __future__ import annotations

import random

import pytest
from mevbot.amm.cycle import (
    _doubling_points,
    _exact_scan,
    _float_walk,
    _floor_bound,
    _profit_root_bound,
    _scan_best,
    cycle_amounts,
    cycle_profit,
    optimize_cycle,
)
from mevbot.amm.tick_math import getSqrtRatioAtTick
from mevbot.amm.v2 import UniswapV2Pool
from mevbot.amm.v3_pool import UniswapV3Pool

from tests.unit.amm.test_cycle_sizing import _random_cycle

A, B, C = "0x" + "0a" * 20, "0x" + "0b" * 20, "0x" + "0c" * 20


def coarse_cycle(seed: int):
    """A (18 decimals) -> B (6 decimals: a unit is worth ~4e8 units of A) -> C -> A, the middle hop
    a thin spacing-1 V3 pool (a few units of B cross many ticks, each rounding against the trader):
    the float model's small profit is eaten by the floors, the sizing takes the dust fallback."""
    rng = random.Random(seed)
    a_per_b = 10 ** rng.uniform(7.5, 9.5)
    r_a = int(10 ** rng.uniform(20, 23))
    ab = UniswapV2Pool("0x" + "91" * 20, A, B, r_a, int(r_a / a_per_b), 3000)
    tick = rng.randint(-1000, 1000)
    thin = UniswapV3Pool("0x" + "92" * 20, B, C, 100, 1, getSqrtRatioAtTick(tick) + rng.randrange(10**6), tick, 0)
    thin.tick = tick
    for t in range(tick - 200, tick + 200):
        thin.apply_mint(t, t + 1, rng.randrange(10**3, 10**6), block_number=0)
    c_per_b = 1.0001**tick
    # C -> A priced so that the cycle is (barely or clearly) profitable in the model
    edge = 1.0 + 10 ** rng.uniform(-4, -1.5)
    a_per_c = a_per_b / c_per_b * edge / (0.997 * 0.9999 * 0.997)
    r_c = int(10 ** rng.uniform(8, 12))
    ca = UniswapV2Pool("0x" + "93" * 20, A, C, int(r_c * a_per_c), r_c, 3000)
    return [(ab, True), (thin, True), (ca, False)], 10 ** rng.randint(18, 30)


def brute_best(hops, points):
    profits = [cycle_profit(hops, x) for x in points]
    k = max(range(len(points)), key=profits.__getitem__)
    return k, profits[k]


def _cycles():
    for seed in range(400):
        hops, max_input = _random_cycle(seed)
        if all(p.float_segments(z) is not None for p, z in hops):
            yield f"random-{seed}", hops, max_input
    for seed in range(60):
        hops, max_input = coarse_cycle(seed)
        yield f"coarse-{seed}", hops, max_input


def test_coarse_cycles_take_the_dust_path():
    dust = 0
    for seed in range(60):
        hops, max_input = coarse_cycle(seed)
        found = _float_walk(hops, float(max_input))
        if found[0] > 0.0 and cycle_profit(hops, max(1, int(found[0]))) <= 0:
            dust += 1
    assert dust >= 20


@pytest.mark.parametrize("which", ["random", "coarse"])
def test_scan_best_equals_quoting_every_point(which):
    checked = 0
    for name, hops, max_input in _cycles():
        if not name.startswith(which):
            continue
        curves = [p.float_segments(z) for p, z in hops]
        found = _float_walk(hops, float(max_input))
        ends = {max_input, max(1, min(max_input, 10**6)), max(1, max_input // 7)}
        if found[0] > 0.0:
            ends.add(max(1, _profit_root_bound(hops, found[0], max_input)))
        for lo in (1, 3):
            for hi in sorted(ends):
                if hi < lo:
                    continue
                points = _doubling_points(lo, hi)
                assert _scan_best(hops, curves, points) == brute_best(hops, points), (name, lo, hi)
                assert _exact_scan(hops, lo, hi, curves) == _exact_scan(hops, lo, hi), (name, lo, hi)
                checked += 1
    assert checked > 100


def test_floor_bound_is_sound():
    rng = random.Random(5)
    checked = 0
    for name, hops, max_input in _cycles():
        curves = [p.float_segments(z) for p, z in hops]
        for _ in range(20):
            x = max(1, int(10 ** rng.uniform(0, min(30.0, len(str(max_input)) + 1))))
            bound = _floor_bound(curves, x)
            if bound is None:
                continue
            amounts = cycle_amounts(hops, x)
            i, top = bound
            if i >= 0:
                assert amounts[i + 1] == 0, (name, x)
            else:
                assert amounts[-1] <= top, (name, x)
            checked += 1
    assert checked > 1000


def test_dust_sizing_is_a_local_optimum_or_none():
    """optimize_cycle on the coarse cycles: a profit when the scan finds one, exact amounts, and
    no profit in a grid that the sizing misses."""
    for seed in range(60):
        hops, max_input = coarse_cycle(seed)
        result = optimize_cycle(hops, max_input)
        if result is None:
            continue
        x = result.amount_in
        assert result.amounts == cycle_amounts(hops, x)
        assert result.profit > 0
        assert cycle_profit(hops, x - 1) <= result.profit
        if x < max_input:
            assert cycle_profit(hops, x + 1) <= result.profit
