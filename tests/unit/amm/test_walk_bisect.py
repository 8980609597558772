"""The float walk's bisection (long walks, :func:`mevbot.amm.cycle._walk_search`) finds the same
optimum as the plain linear walk: same piece, same bounds, same solve (the results are compared
exactly, with a float tolerance as the documented contract), on cycles whose optimum lies hundreds
to thousands of pieces away (spacing-1 V3 pools with a position on every tick), on short walks, at
``max_input`` and where a pool runs dry."""

from __future__ import annotations

import math
import random

import pytest
from mevbot.amm import cycle
from mevbot.amm.cycle import (
    _LINEAR_PIECES,
    _MAX_WALK,
    _float_walk,
    _walk,
    _walk_three,
    _walk_two,
    optimize_cycle,
)
from mevbot.amm.mobius import SegmentCurve
from mevbot.amm.tick_math import getSqrtRatioAtTick
from mevbot.amm.v2 import UniswapV2Pool
from mevbot.amm.v3_pool import UniswapV3Pool

from tests.unit.amm.test_cycle_sizing import _random_cycle, assert_integer_optimum

A, B, C = "0x" + "0a" * 20, "0x" + "0b" * 20, "0x" + "0c" * 20


def dense_v3(rng: random.Random, tick: int, t0: str, t1: str, n_ticks: int, *, full_range: bool = True,
             fee: int = 100) -> UniswapV3Pool:
    """Spacing-1 pool with a width-1 position on each of ``n_ticks`` ticks either side of ``tick``
    (every initialized tick is a segment of the float model): a long walk for a big dislocation."""
    pool = UniswapV3Pool("0x" + "97" * 20, t0, t1, fee, 1, getSqrtRatioAtTick(tick) + rng.randrange(10**6), tick, 0)
    pool.tick = tick
    base = 10 ** rng.uniform(17, 21)
    for t in range(tick - n_ticks, tick + n_ticks):
        pool.apply_mint(t, t + 1, int(base * rng.uniform(0.2, 3.0)), block_number=0)
    if full_range:
        pool.apply_mint(-887272, 887272, int(base * 0.01), block_number=0)
    return pool


def v2_at_tick(tick: int, t0: str, t1: str, depth: float, fee: int = 3000) -> UniswapV2Pool:
    price = 1.0001**tick  # token1 per token0
    r0 = int(depth)
    return UniswapV2Pool("0x" + "99" * 20, t0, t1, r0, int(r0 * price), fee)


def long_cycle(seed: int):
    """A 2- or 3-hop cycle through a dense spacing-1 pool whose price is 200-2500 ticks off the
    others' (its optimum lies that many pieces into the walk), in either direction."""
    rng = random.Random(seed)
    n_hops = rng.choice([2, 3])
    offset = rng.randint(200, 2500) * rng.choice([1, -1])
    dense = dense_v3(rng, 0, A, B, 2800, full_range=rng.random() < 0.7)
    # the dense pool sells token1 for token0 at tick 0; the rest of the cycle buys it back at `offset`
    zero_for_one = offset < 0  # push the dense pool's price towards the others'
    hops = [(dense, zero_for_one)]
    depth = 10 ** rng.uniform(24, 27)
    if n_hops == 2:
        other = v2_at_tick(offset, A, B, depth) if rng.random() < 0.5 else dense_v3(rng, offset, A, B, 40)
        hops.append((other, not zero_for_one))
    else:
        # the rest of the cycle buys the dense pool's input back 1.0001**|offset| cheaper, the
        # whole dislocation in one of its two pools
        d = abs(offset)
        s0 = rng.randint(0, 1)
        if zero_for_one:  # A -> B (dense), B -> C (mid: C per B), C -> A (last: C per A)
            mid = v2_at_tick(d * s0, B, C, depth)
            last = v2_at_tick(-d * (1 - s0), A, C, depth)
            hops += [(mid, True), (last, False)]
        else:  # B -> A (dense), A -> C (last), C -> B (mid)
            last = v2_at_tick(d * s0, A, C, depth)
            mid = v2_at_tick(-d * (1 - s0), B, C, depth)
            hops += [(last, True), (mid, False)]
    return hops


def linear(curves, limit):
    return _walk(curves, limit)  # the plain linear walk (no search)


def assert_same_optimum(got, want, context):
    (x1, c1), (x2, c2) = got, want
    assert x1 == pytest.approx(x2, rel=1e-9, abs=1e-9), context
    assert c1 == pytest.approx(c2, rel=1e-6, abs=1e-300), context
    assert (c1 == 0.0) == (c2 == 0.0), context


@pytest.mark.parametrize("block", range(3))
def test_long_walks_match_the_linear_walk(block):
    walked = []
    for seed in range(block * 12, (block + 1) * 12):
        hops = long_cycle(seed)
        curves = [p.float_segments(z) for p, z in hops]
        for limit in (math.inf, 1e30, None):
            if limit is None:  # a limit inside the walk
                limit = linear(curves, math.inf)[0] * random.Random(seed).uniform(0.05, 0.95)
            want = linear(curves, limit)
            pieces = sum(len(c.segments) for c in curves)
            assert pieces < _MAX_WALK  # the linear reference did not give up
            got = _float_walk(hops, limit)
            assert_same_optimum(got, want, (seed, limit))
            assert got == want, (seed, limit)  # in practice the very same floats
            fast = _walk_two(*curves, limit) if len(curves) == 2 else _walk_three(*curves, limit)
            assert fast == got
            assert _walk(curves, limit, search=True) == got
            walked.append(pieces)
    assert max(walked) > 20 * _LINEAR_PIECES  # some walks are long (a segment per tick)


def test_long_walk_sizing_is_an_integer_optimum():
    hops = long_cycle(5)
    curves = [p.float_segments(z) for p, z in hops]
    x_f, _ = _float_walk(hops, 1e40)
    assert sum(len(c.segments) for c in curves) > 10 * _LINEAR_PIECES
    result = optimize_cycle(hops, 10**28)
    assert result is not None
    assert result.float_optimum == x_f
    assert_integer_optimum(hops, result, 10**28, grid_points=100)


@pytest.mark.parametrize("full_range", [False, True])
def test_pool_running_dry_mid_walk(full_range):
    """A dense pool with no position past its ticks runs dry: the walk stops at its exhaustion
    (the kink, curvature 0) the same way with and without the search."""
    rng = random.Random(7)
    dense = dense_v3(rng, 0, A, B, 300, full_range=full_range)
    deep = v2_at_tick(-3000, A, B, 1e27)
    hops = [(dense, True), (deep, False)]
    curves = [p.float_segments(z) for p, z in hops]
    want = linear(curves, math.inf)
    assert _float_walk(hops, math.inf) == want
    if not full_range:
        assert want[1] == 0.0  # a kink: the dense pool is dry at the optimum
        assert curves[0].segments[-1][1] == math.inf  # the walk reached the exhausted segment


def test_curve_ending_without_a_terminal_segment():
    """``segment()`` returns None past a model's last segment: the walk stops at the end of the
    last segment (``(x, 0.0)``), with or without the search."""
    rng = random.Random(3)
    dense = dense_v3(rng, 0, A, B, 400, full_range=False)
    deep = v2_at_tick(-5000, A, B, 1e27)
    full = dense.float_segments(True)
    full.segment(10**6)  # generate everything
    truncated = SegmentCurve(list(full.segments[:300]))
    curves = [truncated, deep.float_segments(False)]
    want = linear(curves, math.inf)
    assert want[1] == 0.0
    assert want[0] == pytest.approx(truncated.segments[-1][1], rel=1e-12)
    assert _walk_two(*curves, math.inf) == want
    assert _walk(curves, math.inf, search=True) == want
    # and a lazily generated one that ends
    lazy = SegmentCurve([], iter(list(full.segments[:300])))
    assert _walk_two(lazy, deep.float_segments(False), math.inf) == want


def test_max_input_inside_a_long_walk():
    hops = long_cycle(11)
    curves = [p.float_segments(z) for p, z in hops]
    x_opt = linear(curves, math.inf)[0]
    for frac in (1e-6, 0.01, 0.3, 0.999, 1.0, 1.001, 3.0):
        limit = x_opt * frac
        want = linear(curves, limit)
        assert _float_walk(hops, limit) == want
        if frac < 1.0:
            assert want == (limit, 0.0)


@pytest.mark.parametrize("block", range(2))
def test_random_cycles_match_the_linear_walk(block, monkeypatch):
    """The random cycles of the sizing fuzz (mostly short walks), every kind of limit, and the
    search forced from the first piece (``_LINEAR_PIECES`` = 0)."""
    checked = 0
    for seed in range(block * 300, (block + 1) * 300):
        hops, max_input = _random_cycle(seed)
        curves = [p.float_segments(z) for p, z in hops]
        if any(c is None for c in curves):
            continue
        for limit in (float(max_input), math.inf, float(max_input) / 1000.0):
            want = linear(curves, limit)
            assert _float_walk(hops, limit) == want, seed
            with monkeypatch.context() as m:
                m.setattr(cycle, "_LINEAR_PIECES", 0)
                assert_same_optimum(_walk(curves, limit, search=True), want, (seed, limit))
                assert_same_optimum(_float_walk(hops, limit), want, (seed, limit))
        checked += 1
    assert checked > 150


@pytest.mark.parametrize("seed", range(40))
def test_forced_search_on_long_cycles(seed, monkeypatch):
    """Bisection from the very first piece finds the linear walk's optimum too."""
    hops = long_cycle(100 + seed)
    curves = [p.float_segments(z) for p, z in hops]
    want = linear(curves, math.inf)
    monkeypatch.setattr(cycle, "_LINEAR_PIECES", 0)
    got = _walk(curves, math.inf, search=True)
    fast = _walk_two(*curves, math.inf) if len(curves) == 2 else _walk_three(*curves, math.inf)
    assert_same_optimum(got, want, seed)
    assert_same_optimum(fast, want, seed)


def test_segment_lookup_by_bisection_equals_the_scan():
    rng = random.Random(1)
    dense = dense_v3(rng, 0, A, B, 500)
    for zero_for_one in (True, False):
        curve = dense.float_segments(zero_for_one)
        fresh = SegmentCurve([], iter(list(_all_segments(dense, zero_for_one))))
        his = [seg[1] for seg in _all_segments(dense, zero_for_one)]
        assert his == sorted(his)
        for _ in range(400):
            x = 10 ** rng.uniform(-3, 30) if rng.random() < 0.9 else rng.choice(his[:-1])
            k = next(i for i, hi in enumerate(his) if x <= hi)
            assert curve.index_of(x) == k
            assert fresh.find(x) is fresh.segments[k]
            assert curve.find(x) == curve.segments[k]
        assert curve.his == [seg[1] for seg in curve.segments]


def _all_segments(pool, zero_for_one):
    curve = type(pool.float_segments(zero_for_one))(pool, zero_for_one)
    curve.segment(10**6)
    return curve.segments
