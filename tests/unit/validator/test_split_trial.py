"""The split's trials read each hop off the pools' current state (no copy per trial): the same
amounts, impacts and ticks crossed, and the same refusals, as swapping on a fresh copy of every
pool (the previous implementation, kept here as the reference), on real Arbitrum tick maps."""

from __future__ import annotations

import random

import pytest
from mevbot.amm.loaders import load_initial_pool_states
from mevbot.amm.v2 import UniswapV2Pool
from mevbot.errors import AmmError

from services.validator.impact import path_impact_ppm, pool_impact_ppm
from services.validator.split import Limits, _Book, _swap_read_only, max_size_within_limits
from tests.shared_data import ARBITRUM_DATA

STATES = load_initial_pool_states(ARBITRUM_DATA / "initial_pool_states.json", ARBITRUM_DATA / "pools.json")
COMPLETE = sorted(a for a, (_, complete) in STATES.items() if complete)


def reference_trial(book: _Book, path, amount_in: int, limits: Limits):
    """The trial as it was: every hop swapped on a scratch copy of the pool."""
    scratch = {}
    amounts, impacts, ticks = [amount_in], [], []
    a = amount_in
    for pool, zfo in path:
        addr = pool.address
        state = scratch.get(addr)
        if state is None:
            state = scratch[addr] = book.current[addr].copy()
        try:
            result = state.execute_swap(zfo, a)
        except AmmError:
            return None
        if result.amount_in != a:
            return None
        a = result.amount_out
        amounts.append(a)
        crossed = book.ticks[addr] + getattr(result, "ticks_crossed", 0)
        impact = pool_impact_ppm(book.original[addr], zfo, amounts[-2], a)
        if impact > limits.max_hop_impact_ppm or crossed > limits.max_ticks_crossed:
            return None
        impacts.append(impact)
        ticks.append(crossed)
    if path_impact_ppm(impacts) > limits.max_path_impact_ppm:
        return None
    return amounts, impacts, ticks


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
            def copied(a=amount, z=zero_for_one):
                r = pool.copy().execute_swap(z, a)
                return r.amount_in, r.amount_out, r.ticks_crossed

            assert _outcome(lambda a=amount, z=zero_for_one: _swap_read_only(pool, z, a)) == _outcome(copied), \
                (address, zero_for_one, amount)


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
                    assert book.trial(path, amount, limits) == reference_trial(book, path, amount, limits), \
                        (address, zfo, amount, limits)
                    checked += 1
                # the bisection lands on the same size
                cap = max_size_within_limits(book, path, limits)
                lo, hi = 0, limits.max_input
                if reference_trial(book, path, hi, limits) is not None:
                    want = hi
                else:
                    while hi - lo > 1:
                        mid = (lo + hi) // 2
                        if reference_trial(book, path, mid, limits) is not None:
                            lo = mid
                        else:
                            hi = mid
                    want = lo
                assert cap == want, (address, zfo, limits)
    assert checked > 500
