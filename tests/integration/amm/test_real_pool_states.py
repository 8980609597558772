"""The 32 complete real Arbitrum Uniswap V3 pool states (2024-11-01) load, and our quotes agree
with the same state minted into real V3 pools (npm bytecode) on anvil.

Each state is rebuilt on chain at the same sqrtPriceX96 with one position per interval between
consecutive initialized ticks (liquidity = the in-range liquidity there), which reproduces the
liquidityNet map and bitmap exactly. Checked: slot0/liquidity, the degenbot peer quotes of that
pool (exact input, then the exact output of what came out) by eth_call, and a sequence of random
swaps executed on chain (amounts, sqrtPriceX96, tick, liquidity after each).
"""

from __future__ import annotations

import random
from itertools import pairwise

import pytest
from mevbot.amm.loaders import load_initial_pool_states
from mevbot.amm.v3_pool import UniswapV3Pool
from mevbot.errors import AmmError

from tests.integration.amm.v3_lab import V3Lab, random_swaps
from tests.shared_data import ARBITRUM_DATA
from tests.unit.amm.peer_cases import cases

pytestmark = pytest.mark.integration

DATA = ARBITRUM_DATA
INCOMPLETE = {"0xc6962004", "0x641c00a8", "0x2f5e87c9", "0xc31e54c7", "0xc6f78049", "0xcda53b1f", "0xdbaeb7f0",
              "0xb0f6ca40"}
STATES = load_initial_pool_states(DATA / "initial_pool_states.json", DATA / "pools.json")
COMPLETE = sorted(a for a, (_, complete) in STATES.items() if complete)
# default run: a handful, one or more per fee tier, small tick maps (a mint per interval)
DEFAULT = ["0x8c9d230d45d6cfee39a6680fb7cb7e8de7ea8e71", "0x7548bd60cb8f627a9b8ed94f8ca174348dbe6a05",
           "0x421803da50d3932caa36bd1731d36a0e2af93542", "0xc7341e85996eeb05897d3dec79448b6e4ccc09cf",
           "0x50e7b9293aef80c304234e86c84a01be8401c530", "0x80a9ae39310abf666a87c743d6ebbd0e8c42158e"]


def test_the_32_complete_states_load():
    assert len(STATES) == 40
    assert len(COMPLETE) == 32
    assert {a[:10] for a, (_, complete) in STATES.items() if not complete} == INCOMPLETE
    for address in COMPLETE:
        pool, _ = STATES[address]
        assert sum(n for t, n in pool.ticks.items() if t <= pool.tick) == pool.liquidity
        pool.quote_exact_in(True, 10**6)
        pool.quote_exact_in(False, 10**6)


def positions_for(pool: UniswapV3Pool) -> list[tuple[int, int, int]]:
    ticks = pool.initialized_ticks
    positions = []
    running = 0
    for lower, upper in pairwise(ticks):
        running += pool.ticks[lower]
        if running > 0:
            positions.append((lower, upper, running))
        assert running >= 0
    return positions


def check_pool_on_chain(lab: V3Lab, address: str, n_swaps: int) -> int:
    model = STATES[address][0].copy()
    chain_pool, rebuilt = lab.create_v3_pool(model.fee_pips, model.sqrt_price_x96, positions_for(model))
    assert rebuilt.ticks == model.ticks and rebuilt.liquidity == model.liquidity and rebuilt.tick == model.tick
    slot0 = lab.pool_codec.decode_output("slot0", lab.eth_call(chain_pool, lab.pool_codec.encode_call("slot0")))
    liquidity = lab.pool_codec.decode_output("liquidity", lab.eth_call(chain_pool, lab.pool_codec.encode_call("liquidity")))
    assert (slot0[0], slot0[1], liquidity[0]) == (model.sqrt_price_x96, model.tick, model.liquidity)

    # the peer quotes for this pool, plus exact output of what came out, by eth_call
    quotes = [q for q in cases()["v3_quotes"] if q["pool"] == address]
    rng = random.Random(address)
    requests = [(q["zero_for_one"], int(q["amount_in"]), 0) for q in quotes]
    requests += [(z, int(10 ** rng.uniform(3, 21)), 0) for z in (True, False) for _ in range(6)]
    outs = []
    for zfo, amount, _ in requests:
        chain = lab.quote_call(chain_pool, zfo, amount, 0)
        if chain is None:  # the pool reverts (e.g. the price would leave uint160): so must we
            with pytest.raises(AmmError):
                model.simulate_exact_in(zfo, amount)
            continue
        a0, a1 = chain
        expected = model.simulate_exact_in(zfo, amount)
        assert (a0, a1) == (expected.amount0, expected.amount1), f"{address} exact in {amount} zfo={zfo}"
        assert model.quote_exact_in(zfo, amount) == expected.amount_out
        outs.append((zfo, expected.amount_out))
    for zfo, out in outs:
        if out <= 0:
            continue
        chain = lab.quote_call(chain_pool, zfo, -out, 0)
        assert chain is not None
        assert (chain[0] if zfo else chain[1]) == model.quote_exact_out(zfo, out)

    # a sequence of real swaps from the real state
    swaps = random_swaps(rng, rebuilt, n_swaps, model.tick)
    events = lab.send_swaps(chain_pool, [(z, a, lim) for z, a, lim, _ in swaps])
    for (_, _, _, expected), ev in zip(swaps, events, strict=True):
        assert (expected.amount0, expected.amount1, expected.sqrt_price_x96_after, expected.tick_after,
                expected.liquidity_after) == (ev.amount0, ev.amount1, ev.sqrt_price_x96, ev.tick, ev.liquidity)
    return len(quotes)


def test_real_states_match_bytecode_handful(lab):
    peer_quotes = 0
    for address in DEFAULT:
        assert address in COMPLETE
        peer_quotes += check_pool_on_chain(lab, address, n_swaps=40)
    assert peer_quotes == 6 * len(DEFAULT)


@pytest.mark.slow
def test_real_states_match_bytecode_all_32(lab):
    peer_quotes = 0
    for address in COMPLETE:
        peer_quotes += check_pool_on_chain(lab, address, n_swaps=60)
    assert peer_quotes == 192
