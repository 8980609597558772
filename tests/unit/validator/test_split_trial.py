"""The split's trials read each hop off the pools' current state (no copy per trial): the same
amounts, impacts and ticks crossed, and the same refusals, as swapping each hop on a fresh copy of
its pool (the previous implementation, the reference here), on real Arbitrum tick maps."""

from __future__ import annotations

import random
from contextlib import contextmanager
from unittest.mock import patch

import pytest
from mevbot.amm.loaders import load_initial_pool_states
from mevbot.amm.v2 import UniswapV2Pool
from mevbot.errors import AmmError

from services.validator import split
from services.validator.split import Limits, _Book, _swap_read_only, max_size_within_limits
from tests.shared_data import ARBITRUM_DATA

STATES = load_initial_pool_states(ARBITRUM_DATA / "initial_pool_states.json", ARBITRUM_DATA / "pools.json")
COMPLETE = sorted(a for a, (_, complete) in STATES.items() if complete)


def _copying_swap(state, zero_for_one: bool, amount_in: int) -> tuple[int, int, int]:
    """The hop as trials ran it before: a swap on a fresh copy of the pool."""
    result = state.copy().execute_swap(zero_for_one, amount_in)
    return result.amount_in, result.amount_out, getattr(result, "ticks_crossed", 0)


@contextmanager
def copying_hops():
    """Trials (and the bisection over them) as they were: every hop swapped on a copy. The limit
    checks around the hop are the same code either way; only the hop differs."""
    with patch.object(split, "_swap_read_only", _copying_swap):
        yield


def _outcome(fn):
    try:
        return fn()
    except AmmError as exc:
        return ("AmmError", type(exc).__name__)


@pytest.mark.parametrize("address", COMPLETE[:12])
def test_a_hop_read_off_the_state_equals_a_swap_on_a_copy(address: str) -> None:
    pool = STATES[address][0]
    rng = random.Random(address)
    for zero_for_one in (True, False):
        amounts = [0, 1, 2, 10**3] + [int(10 ** rng.uniform(3, 30)) for _ in range(25)]
        for amount in amounts:
            assert _outcome(lambda a=amount, z=zero_for_one: _swap_read_only(pool, z, a)) \
                == _outcome(lambda a=amount, z=zero_for_one: _copying_swap(pool, z, a)), (address, zero_for_one, amount)


def test_trials_and_the_largest_size_within_limits_match_the_copying_reference() -> None:
    rng = random.Random(5)
    checked = 0
    for address in COMPLETE[:10]:
        v3 = STATES[address][0]
        # a V2 pair on the same tokens at about the V3 pool's price: a 2-hop cycle through both
        price = (v3.sqrt_price_x96 / 2**96) ** 2
        r0 = 10 ** rng.randint(18, 24)
        v2 = UniswapV2Pool("0x" + "ab" * 20, v3.token0, v3.token1, r0, max(1, int(r0 * price * 1.01)), 3000)
        for zfo in (True, False):
            path = [(v2, zfo), (v3, not zfo)]
            for limits in (Limits(7_500, 15_000, 5, 10**24), Limits(50_000, 100_000, 200, 10**30),
                           Limits(100, 200, 0, 10**20)):
                book = _Book([v2, v3])
                for amount in [1, 10**6] + [int(10 ** rng.uniform(6, 28)) for _ in range(12)]:
                    got = book.trial(path, amount, limits)
                    with copying_hops():
                        want = book.trial(path, amount, limits)
                    assert got == want, (address, zfo, amount, limits)
                    checked += 1
                # the bisection lands on the same size
                cap = max_size_within_limits(book, path, limits)
                with copying_hops():
                    want_cap = max_size_within_limits(book, path, limits)
                assert cap == want_cap, (address, zfo, limits)
    assert checked > 500


def bisection(book: _Book, path, limits: Limits) -> int:
    """The largest size within the limits by plain bisection over the trials (the reference: what
    ``max_size_within_limits`` computed before it interpolated; ``benchmarks/validator_split.py``
    counts its trials too)."""
    lo, hi = 0, limits.max_input
    if hi <= 0:
        return 0
    if book.trial(path, hi, limits) is not None:
        return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if book.trial(path, mid, limits) is not None:
            lo = mid
        else:
            hi = mid
    return lo


@contextmanager
def counted_probes():
    """Counts every ``_Book.probe`` (each trial is one) while active, in the yielded ``{"n": ...}``."""
    real_probe = _Book.probe
    counter = {"n": 0}

    def counting_probe(self, *args, **kwargs):
        counter["n"] += 1
        return real_probe(self, *args, **kwargs)

    with patch.object(_Book, "probe", counting_probe):
        yield counter


def test_the_interpolating_search_lands_on_a_boundary_near_the_bisections_in_half_the_trials() -> None:
    """Both searches return an input that passes while one wei more fails. Near the boundary the
    verdict saw-tooths (an intermediate amount of a few hundred units rounds down by one, the next
    hop's impact jumps), so two searches may stop on different teeth: the sizes agree to a few %
    case by case and to 1e-6 over all cases. Where the bisection's halvings miss a narrow band of
    passing sizes (a tiny input fails too: its output rounds down to a large impact) and it returns
    0, the interpolation, aiming at the limit, finds the band."""
    rng = random.Random(17)
    searched = bisected = cases = found_more = 0
    sizes = {"bisection": 0, "search": 0}
    for address in COMPLETE[:24]:
        v3 = STATES[address][0]
        price = (v3.sqrt_price_x96 / 2**96) ** 2
        for _ in range(3):
            r0 = 10 ** rng.uniform(15, 26)
            v2 = UniswapV2Pool("0x" + "cd" * 20, v3.token0, v3.token1, int(r0),
                               max(1, int(r0 * price * rng.uniform(0.97, 1.03))), 3000)
            for zfo in (True, False):
                path = [(v2, zfo), (v3, not zfo)]
                for limits in (Limits(rng.randint(50, 20_000), rng.randint(100, 40_000), rng.randint(0, 40),
                                      10 ** rng.randint(15, 30)),
                               Limits(7_500, 15_000, 5, 10**24), Limits(100, 200, 0, 10**20)):
                    book = _Book([v2, v3])
                    with counted_probes() as counter:
                        want = bisection(book, path, limits)
                        bisected += counter["n"]
                        counter["n"] = 0
                        got = max_size_within_limits(book, path, limits)
                        searched += counter["n"]
                    cases += 1
                    if got:  # a boundary: passes, and one wei more fails (or the maximum itself)
                        assert book.trial(path, got, limits) is not None, (address, zfo, limits, got)
                        assert got == limits.max_input or book.trial(path, got + 1, limits) is None
                    if want == 0:
                        found_more += got > 0
                        continue
                    assert abs(got - want) <= 0.25 * want, (address, zfo, limits, got, want)
                    sizes["bisection"] += want
                    sizes["search"] += got
    assert cases == 24 * 3 * 2 * 3
    assert abs(sizes["search"] / sizes["bisection"] - 1) < 1e-6, sizes
    assert searched < 0.6 * bisected, (searched, bisected)
    assert found_more >= 1
