"""Cycle sizing returns a true integer optimum: at least the profit one unit either side and at
least every point of a fine grid over [1, max_input], on V2-only, V3-only and mixed cycles."""

from __future__ import annotations

import random

import pytest
from mevbot.amm.cycle import cycle_amounts, cycle_profit, float_optimum, optimize_cycle
from mevbot.amm.tick_math import getSqrtRatioAtTick
from mevbot.amm.v2 import UniswapV2Pool
from mevbot.amm.v3_pool import UniswapV3Pool

from tests.unit.amm.peer_cases import build_pools, cases, cycle_hops

A, B, C = "0x" + "0a" * 20, "0x" + "0b" * 20, "0x" + "0c" * 20


def v2(r0, r1, fee=3000, t0=A, t1=B):
    return UniswapV2Pool("0x" + "99" * 20, t0, t1, r0, r1, fee)


def v3(tick, fee=500, spacing=10, t0=A, t1=B, seed=0):
    rng = random.Random(seed)
    pool = UniswapV3Pool(
        "0x" + "98" * 20, t0, t1, fee, spacing, getSqrtRatioAtTick(tick) + rng.randrange(10**9), tick, 0
    )
    pool.tick = tick
    for _ in range(25):
        width = rng.choice([1, 3, 10, 50, 400])
        lo = (tick // spacing + rng.randrange(-300, 300)) * spacing
        pool.apply_mint(lo, lo + width * spacing, rng.randrange(10**15, 10**21), block_number=0)
    pool.apply_mint(-(887270 // spacing) * spacing, 887270 // spacing * spacing, 10**17, block_number=0)
    return pool


def assert_integer_optimum(hops, result, max_input, grid_points=2000):
    assert result is not None
    x = result.amount_in
    assert 1 <= x <= max_input
    assert result.amounts == cycle_amounts(hops, x)
    assert result.profit == result.amounts[-1] - x > 0
    assert cycle_profit(hops, x - 1) <= result.profit
    if x < max_input:
        assert cycle_profit(hops, x + 1) <= result.profit
    # a fine grid over the whole range, denser around the optimum
    for i in range(1, grid_points + 1):
        point = max_input * i // grid_points
        assert cycle_profit(hops, point) <= result.profit
    for i in range(-grid_points // 2, grid_points // 2):
        point = x + x * i // (50 * grid_points)
        if 1 <= point <= max_input:
            assert cycle_profit(hops, point) <= result.profit


def test_two_v2_pairs_closed_form():
    cheap = v2(1000 * 10**18, 2_400_000 * 10**6)  # 2400 B per A
    dear = v2(1000 * 10**18, 2_500_000 * 10**6)  # 2500 B per A
    hops = [(dear, True), (cheap, False)]
    result = optimize_cycle(hops, 10**22)
    assert_integer_optimum(hops, result, 10**22)
    # the Möbius closed form is within a few units of the integer optimum
    assert abs(float_optimum(hops) - result.amount_in) < 1e-6 * result.amount_in


@pytest.mark.parametrize("seed", range(6))
def test_random_v2_triangles(seed):
    rng = random.Random(seed)
    ab = v2(rng.randrange(10**20, 10**24), rng.randrange(10**20, 10**24), t0=A, t1=B)
    bc = v2(rng.randrange(10**8, 10**14), rng.randrange(10**20, 10**24), t0=B, t1=C)
    ca = v2(rng.randrange(10**20, 10**24), rng.randrange(10**8, 10**14), t0=A, t1=C)
    for hops in ([(ab, True), (bc, True), (ca, False)], [(ca, True), (bc, False), (ab, False)]):
        result = optimize_cycle(hops, 10**25)
        if result is None:
            # unprofitable both at the margin and at every grid point
            assert all(cycle_profit(hops, 10**25 * i // 500) <= 0 for i in range(1, 501))
            assert cycle_profit(hops, 1) <= 0
            continue
        assert_integer_optimum(hops, result, 10**25, grid_points=500)


@pytest.mark.parametrize("seed", range(4))
def test_v3_against_v3_crossing_ticks(seed):
    low = v3(-500, seed=seed)
    high = v3(-430, fee=3000, spacing=60, seed=seed + 100)
    hops = [(high, True), (low, False)]  # sell A where it is dear, buy it back where it is cheap
    result = optimize_cycle(hops, 10**24)
    assert_integer_optimum(hops, result, 10**24, grid_points=400)
    assert high.simulate_exact_in(True, result.amount_in).ticks_crossed >= 0


def test_max_input_binds():
    cheap = v2(1000 * 10**18, 2_400_000 * 10**6)
    dear = v2(1000 * 10**18, 2_500_000 * 10**6)
    hops = [(dear, True), (cheap, False)]
    result = optimize_cycle(hops, 10**18)  # far below the unconstrained optimum
    # the bound binds: the answer is the left end of the plateau that contains max_input
    assert 10**18 - 10**12 < result.amount_in <= 10**18
    assert result.amounts[-1] == cycle_amounts(hops, 10**18)[-1]
    assert cycle_profit(hops, result.amount_in - 1) <= result.profit


def test_unprofitable_cycle_returns_none():
    pool = v2(1000 * 10**18, 2_400_000 * 10**6)
    other = v2(1000 * 10**18, 2_401_000 * 10**6)
    assert optimize_cycle([(pool, True), (other, False)], 10**22) is None


@pytest.mark.parametrize("cycle", cases()["cycles"], ids=lambda c: c["id"])
def test_peer_cycles_are_integer_optima(cycle):
    hops = cycle_hops(cycle, build_pools())
    max_input = int(cycle["max_input"])
    result = optimize_cycle(hops, max_input)
    assert_integer_optimum(hops, result, max_input, grid_points=300)


def test_cycle_through_a_stable_pair_uses_exact_search():
    from mevbot.amm.camelot_v2 import CamelotV2Pool

    stable = CamelotV2Pool("0x" + "97" * 20, B, C, 4 * 10**12, 4 * 10**12, 400, 400, stable=True,
                           decimals0=6, decimals1=6)
    ab = v2(1000 * 10**18, 2_500_000 * 10**6, t0=A, t1=B)   # A -> B at 2500
    ac = v2(1000 * 10**18, 2_440_000 * 10**6, t0=A, t1=C)   # C -> A at 1/2440
    hops = [(ab, True), (stable, True), (ac, False)]
    assert stable.float_segments(True) is None
    result = optimize_cycle(hops, 10**22)
    assert_integer_optimum(hops, result, 10**22, grid_points=120)


def _random_cycle(seed: int):
    """Random 2-3 hop cycle over random V2/V3 pools: extreme prices, dust reserves, empty ranges."""
    rng = random.Random(seed)
    n = rng.choice([2, 2, 3])
    tokens = [A, B] if n == 2 else [A, B, C]
    hops = []
    for i in range(n):
        t_in, t_out = tokens[i], tokens[(i + 1) % n]
        t0, t1 = sorted([t_in, t_out])
        if rng.random() < 0.6:
            fee, spacing = rng.choice([(100, 1), (500, 10), (3000, 60), (10000, 200)])
            tick = rng.randint(-300_000, 300_000)
            pool = UniswapV3Pool("0x" + "98" * 20, t0, t1, fee, spacing,
                                 getSqrtRatioAtTick(tick) + rng.randrange(10**6), tick, 0)
            max_c = 887272 // spacing
            for _ in range(rng.randint(0, 15)):
                lo = max(-max_c, tick // spacing + rng.randint(-200, 200))
                hi = min(max_c, lo + rng.choice([1, 2, 10, 100, 1000]))
                if lo < hi:
                    pool.apply_mint(lo * spacing, hi * spacing, int(10 ** rng.uniform(3, 25)), block_number=0)
        else:
            pool = UniswapV2Pool("0x" + "99" * 20, t0, t1, int(10 ** rng.uniform(0, 26)),
                                 int(10 ** rng.uniform(0, 26)), rng.choice([0, 1000, 3000, 10000]))
        hops.append((pool, pool.token0 == t_in))
    return hops, int(10 ** rng.uniform(0, 27))


@pytest.mark.parametrize("block", range(4))
def test_fuzz_random_cycles_never_miss_or_misreport(block):
    """Sizing never raises, never misses a profit a grid finds, and always returns exact amounts
    at a local integer optimum (dust optima, pools that run dry, coarse intermediates included)."""
    for seed in range(block * 150, (block + 1) * 150):
        hops, max_input = _random_cycle(seed)
        result = optimize_cycle(hops, max_input)
        grid = [max(1, max_input * i // 100) for i in range(1, 101)]
        best_grid = max(cycle_profit(hops, x) for x in grid)
        if result is None:
            assert best_grid <= 0, f"seed {seed}: missed a profit of {best_grid}"
            continue
        x = result.amount_in
        assert result.amounts == cycle_amounts(hops, x), seed
        assert cycle_profit(hops, x - 1) <= result.profit, seed
        assert x == max_input or cycle_profit(hops, x + 1) <= result.profit, seed
        assert best_grid <= result.profit, f"seed {seed}: grid beats the optimum by {best_grid - result.profit}"


@pytest.mark.parametrize("block", range(2))
def test_min_inputs_sweep_equals_min_amount_in_for(block):
    """The polish's incremental sweep gives exactly ``min_amount_in_for`` for every target: runs of
    consecutive targets, gaps, coarse and fine tokens, unreachable outputs (skipped by both)."""
    from mevbot.amm.cycle import _min_inputs_sweep
    from mevbot.errors import AmmError

    rng = random.Random(block)
    checked = 0
    for seed in range(block * 60, (block + 1) * 60):
        hops, _ = _random_cycle(seed)
        for pool, zero_for_one in hops:
            pool.warm_quotes(zero_for_one)
            centre = pool.quote_exact_in(zero_for_one, int(10 ** rng.uniform(0, 24)))
            targets = set()
            for start in (centre, centre + rng.randrange(1, 10**6), rng.randrange(1, 100)):
                targets.update(range(max(1, start - rng.randrange(0, 40)), start + rng.randrange(1, 40)))
            targets = sorted(targets)
            expected = []
            for o in targets:
                try:
                    expected.append((o, pool.min_amount_in_for(zero_for_one, o)))
                except AmmError:
                    pass
            assert list(_min_inputs_sweep(pool, zero_for_one, targets)) == expected, seed
            checked += len(expected)
    assert checked > 1000


@pytest.mark.parametrize("seed", [754, 2702])
def test_fuzz_regressions_coarse_plateau_and_drained_pool(seed):
    """Two cycles a 200-point grid once beat: (754) an intermediate of ~90 units whose best plateau
    lay beyond the first scan window (the scan now follows it), (2702) a pool that the model drains
    at 3.07 wei while the exact swap drains it at 8 wei, a 10x larger output (the left end of the
    drained plateau is now tried)."""
    hops, max_input = _random_cycle(seed)
    result = optimize_cycle(hops, max_input)
    grid = [max(1, max_input * i // 200) for i in range(1, 201)]
    assert max(cycle_profit(hops, x) for x in grid) <= result.profit
    assert_integer_optimum(hops, result, max_input, grid_points=400)
