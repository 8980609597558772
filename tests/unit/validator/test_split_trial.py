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
