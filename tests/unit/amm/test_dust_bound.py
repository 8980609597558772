"""The dust shortcut (:func:`mevbot.amm.cycle._dust_ruled_out`, a fee-floor bound) is exact:
``optimize_cycle`` returns the same amounts (or None) as without it (the pre-shortcut
implementation: the shortcut is the only difference, an early ``return None`` in the dust branch;
:func:`reference_optimize` switches it off), and whenever the bound claims that no input profits, no
input does (checked directly on every plateau left end of the coarse intermediate). The cases
are built so that the shortcut triggers (asserted: the tests cannot pass vacuously)."""

from __future__ import annotations

import random
from math import log

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mevbot.amm import cycle as cycle_mod
from mevbot.amm.algebra_pool import AlgebraPool
from mevbot.amm.cycle import _float_walk, _profit_root_bound, cycle_profit, optimize_cycle
from mevbot.amm.tick_math import getSqrtRatioAtTick
from mevbot.amm.v2 import UniswapV2Pool
from mevbot.amm.v3_pool import UniswapV3Pool
from mevbot.errors import AmmError

from tests.unit.amm.test_cycle_sizing import _random_cycle
from tests.unit.amm.test_dust_scan import coarse_cycle

A, B, C = "0x" + "0a" * 20, "0x" + "0b" * 20, "0x" + "0c" * 20


def _v3(address: str, t_in: str, t_out: str, price_out_per_in: float, fee: int, spacing: int,
        liquidity: int, ranges: int, rng: random.Random) -> tuple[UniswapV3Pool, bool]:
    """A V3 pool quoting about ``price_out_per_in`` (raw units) for ``t_in``, ``ranges`` positions."""
    t0, t1 = sorted([t_in, t_out])
    zero_for_one = t0 == t_in
    price1_per_0 = price_out_per_in if zero_for_one else 1.0 / price_out_per_in
    tick = round(log(price1_per_0) / log(1.0001))
    tick = max(-880_000, min(880_000, tick))
    pool = UniswapV3Pool(address, t0, t1, fee, spacing, getSqrtRatioAtTick(tick) + rng.randrange(10**6), tick, 0)
    pool.tick = tick
    base = tick // spacing
    for _ in range(ranges):
        lo = base - rng.randint(1, 50)
        hi = base + rng.randint(1, 50)
        pool.apply_mint(lo * spacing, hi * spacing, max(1, int(liquidity * rng.uniform(0.2, 1.0))), block_number=0)
    return pool, zero_for_one


def _v2(address: str, t_in: str, t_out: str, price_out_per_in: float, reserve_in: int,
        fee: int) -> tuple[UniswapV2Pool, bool]:
    t0, t1 = sorted([t_in, t_out])
    reserve_out = max(1, int(reserve_in * price_out_per_in))
    r0, r1 = (reserve_in, reserve_out) if t0 == t_in else (reserve_out, reserve_in)
    pool = UniswapV2Pool(address, t0, t1, r0, r1, fee)
    return pool, t0 == t_in


def dust_cycle(rng: random.Random):
    """A (18 decimals) -> B (coarse: one unit worth 1e3..1e10 units of A) -> [C ->] A over V2/V3
    pools with a tiny dislocation (the continuous profit is worth less than a unit of B, or a
    little more), sometimes tiny liquidity or a near-drained pool: the dust path."""
    a_per_b = 10 ** rng.uniform(4, 11)
    edge = 1.0 + 10 ** rng.uniform(-8, -2)
    fees = [rng.choice([100, 500, 3000, 10000]) for _ in range(3)]
    hops_n = rng.choice([2, 3])
    liq = 10 ** rng.uniform(2, 24)
    reserve_a = int(10 ** rng.uniform(6, 24))

    def hop(address, t_in, t_out, price, fee):
        if rng.random() < 0.6:
            spacing = rng.choice([1, 10, 60])
            return _v3(address, t_in, t_out, price, fee, spacing, int(liq), rng.randint(1, 6), rng)
        return _v2(address, t_in, t_out, price, max(1, int(reserve_a * (price if rng.random() < 0.5 else 1.0))),
                   rng.choice([0, 1000, 3000, 10000]))

    gamma = 1.0
    for fee in fees[:hops_n]:
        gamma *= 1.0 - fee / 1e6
    if hops_n == 2:
        first = hop("0x" + "81" * 20, A, B, 1.0 / a_per_b, fees[0])
        back = hop("0x" + "82" * 20, B, A, a_per_b * edge / gamma, fees[1])
        hops = [first, back]
    else:
        c_per_b = 10 ** rng.uniform(-3, 6)
        first = hop("0x" + "81" * 20, A, B, 1.0 / a_per_b, fees[0])
        middle = hop("0x" + "82" * 20, B, C, c_per_b, fees[1])
        back = hop("0x" + "83" * 20, C, A, a_per_b / c_per_b * edge / gamma, fees[2])
        hops = [first, middle, back]
    return hops, 10 ** rng.randint(12, 27)


def reference_optimize(hops, max_input):
    """``optimize_cycle`` without the shortcut: the dust branch always runs its exact scan."""
    shortcut = cycle_mod._dust_ruled_out
    cycle_mod._dust_ruled_out = lambda *args: False
    try:
        return optimize_cycle(hops, max_input)
    finally:
        cycle_mod._dust_ruled_out = shortcut


def _same(hops, max_input) -> bool:
    new = optimize_cycle(hops, max_input)
    old = reference_optimize(hops, max_input)
    if new is None or old is None:
        return new is None and old is None
    return new.amounts == old.amounts


class _Counter:
    def __init__(self):
        self.calls = 0
        self.ruled_out = 0


def _counting(monkeypatch) -> _Counter:
    counter = _Counter()
    original = cycle_mod._dust_ruled_out

    def counted(*args):
        counter.calls += 1
        found = original(*args)
        counter.ruled_out += found
        return found

    monkeypatch.setattr(cycle_mod, "_dust_ruled_out", counted)
    return counter


def _cases():
    for seed in range(60):
        yield coarse_cycle(seed)
    rng = random.Random(20261125)
    for _ in range(500):
        yield dust_cycle(rng)


def test_same_results_as_reference_and_shortcut_triggers(monkeypatch):
    counter = _counting(monkeypatch)
    compared = 0
    for hops, max_input in _cases():
        try:
            assert _same(hops, max_input)
        except AmmError:
            continue
        compared += 1
    assert compared >= 400
    assert counter.calls >= 100  # dust cases reached the shortcut
    assert counter.ruled_out >= 50  # and it ruled many of them out


def _plateau_left_ends(hops, k: int, lo: int, hi: int, limit: int = 400) -> list[int]:
    """The smallest input giving each output m of hop k (up to ``limit`` of them) within [lo, hi]."""
    points = [lo, hi]
    for m in range(1, limit):
        try:
            x = cycle_mod._min_input_for_output(hops[:k + 1], m)
        except AmmError:
            break
        if x > hi:
            break
        if x >= lo:
            points.append(x)
    return points


def test_ruled_out_means_no_plateau_profits():
    """Direct check of the bound: where it claims no input in [1, scan_max] profits, quote the
    left end of every plateau of every intermediate amount (the best input of each plateau)."""
    rng = random.Random(7)
    ruled_out = 0
    for _ in range(400):
        hops, max_input = dust_cycle(rng)
        found = _float_walk(hops, float(max_input))
        if found is None or found[0] <= 0.0:
            continue
        x_f, curvature = found
        try:
            if cycle_profit(hops, min(max(int(x_f), 1), max_input)) > 0:
                continue
        except AmmError:
            continue
        hi = max(1, _profit_root_bound(hops, x_f, max_input))
        curves = [pool.float_segments(z) for pool, z in hops]
        if not cycle_mod._dust_ruled_out(hops, curves, x_f, curvature, 1, hi):
            continue
        ruled_out += 1
        for k in range(len(hops) - 1):
            for x in _plateau_left_ends(hops, k, 1, hi):
                assert cycle_profit(hops, x) <= 0, (hops, x)
        step = max(1, hi // 2000)
        for x in range(1, hi + 1, step):
            assert cycle_profit(hops, x) <= 0, (hops, x)
    assert ruled_out >= 30


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_property_same_results_as_reference(seed):
    hops, max_input = dust_cycle(random.Random(seed))
    try:
        reference_optimize(hops, max_input)
    except AmmError:
        return
    assert _same(hops, max_input)


def _random_v3(rng: random.Random, algebra: bool):
    """A V3 (or Algebra, with a different fee per direction) pool, thin spacing-1 ranges included:
    small inputs cross many ticks, every step rounding against the trader."""
    fee = rng.choice([1, 100, 500, 3000, 10000, 100_000])
    spacing = rng.choice([1, 10, 60])
    tick = rng.randint(-200_000, 200_000)
    tick -= tick % spacing
    sqrt_price = getSqrtRatioAtTick(tick) + rng.randrange(10**6)
    if algebra:
        pool = AlgebraPool("0x" + "71" * 20, A, B, fee, spacing, sqrt_price, tick, 0,
                           fee_otz_pips=rng.choice([None, 1, 250, 2500, 30000]))
    else:
        pool = UniswapV3Pool("0x" + "72" * 20, A, B, fee, spacing, sqrt_price, tick, 0)
    pool.tick = tick
    for _ in range(rng.randint(1, 12)):
        lo = tick // spacing + rng.randint(-40, 0)
        hi = lo + rng.choice([1, 1, 2, 5, 40])
        pool.apply_mint(lo * spacing, hi * spacing, int(10 ** rng.uniform(0, 22)), block_number=0)
    return pool


def test_v3_fee_floor_claim():
    """The fact the shortcut adds to the documented ones: a V3/Algebra exact-input swap of ``m``
    units returns at most ``floor(model(min(m, (m - 1) / gamma)) * M + 0.5)`` (its fee-free input
    is an integer <= floor(m * gamma) <= m - 1), also across many ticks."""
    rng = random.Random(11)
    checked = tight = 0
    for trial in range(300):
        pool = _random_v3(rng, algebra=trial % 2 == 1)
        for zero_for_one in (True, False):
            curve = pool.float_segments(zero_for_one)
            gamma = (1_000_000 - pool._direction_fee(zero_for_one)) / 1_000_000
            for m in sorted({1, 2, 3, *(int(10 ** rng.uniform(0, 12)) for _ in range(12))}):
                out = pool.quote_exact_in(zero_for_one, m)
                y = min(float(m), (m - 1.0) / gamma)
                seg = curve.find(y)
                u = y - seg[0]
                bound = int((seg[6] + seg[7] * u / (seg[8] + seg[9] * u)) * cycle_mod._MODEL_MARGIN + 0.5)
                assert out <= bound, (pool, zero_for_one, m, out, bound)
                checked += 1
                tight += out == bound and out > 0
    assert checked > 3000
    assert tight > 50  # the bound is often attained: the test would see a wrong fee model


def test_small_input_cycles_are_ruled_out_exactly(monkeypatch):
    """Dust whose optimum is a few wei of a coarse *input* (the first hop's fee floor costs a whole
    unit): same results as the reference, and the shortcut fires."""
    counter = _counting(monkeypatch)
    rng = random.Random(3)
    for _ in range(300):
        price = 10 ** rng.uniform(0, 6)  # raw B per raw A: the input is the coarse token
        edge = 1.0 + 10 ** rng.uniform(-6, -2)
        f0, f1 = rng.choice([100, 500, 3000]), rng.choice([100, 500, 3000])
        first = _v3("0x" + "61" * 20, A, B, price, f0, rng.choice([1, 10]), int(10 ** rng.uniform(3, 9)),
                    rng.randint(1, 4), rng)
        back = _v3("0x" + "62" * 20, B, A, edge / price / (1 - f0 / 1e6) / (1 - f1 / 1e6), f1,
                   rng.choice([1, 10]), int(10 ** rng.uniform(3, 9)), rng.randint(1, 4), rng)
        try:
            assert _same([first, back], 10 ** rng.randint(3, 20))
        except AmmError:
            continue
    assert counter.ruled_out >= 20


def test_random_cycles_same_results_as_reference():
    """The sizing fuzz corpus (extreme prices, dust reserves, empty ranges): unchanged results."""
    for seed in range(1500):
        hops, max_input = _random_cycle(seed)
        try:
            reference_optimize(hops, max_input)
        except AmmError:
            continue
        assert _same(hops, max_input), seed
