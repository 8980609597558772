"""Sized cycles executed on anvil against the real bytecode yield exactly the predicted amounts.

Cycles over real Uniswap V3 pools (npm bytecode, positions via PoolActor) and a real Uniswap V2
pair: the sizing's input is executed hop by hop (V3 through PoolActor with exact input; V2 by
transfer + ``swap`` asking for exactly the predicted output, and one wei more must revert with K).
Each hop's on-chain output must equal the prediction to the wei, and so must the profit.
"""

from __future__ import annotations

import random

import pytest
from mevbot.amm.cycle import cycle_profit, optimize_cycle
from mevbot.amm.tick_math import getSqrtRatioAtTick
from mevbot.amm.v2 import UniswapV2Pool
from mevbot.chain.rpc import RevertError
from mevbot.errors import ChainError

from tests.integration.amm.v3_lab import V3Lab, random_positions

pytestmark = pytest.mark.integration


def v3_pool(lab: V3Lab, rng: random.Random, fee: int, tick: int, tokens: tuple[str, str]):
    positions = random_positions(rng, fee, tick, 30)
    spacing = {100: 1, 500: 10, 3000: 60, 10000: 200}[fee]
    positions.append((-(887272 // spacing) * spacing, 887272 // spacing * spacing, 10**21))
    return lab.create_v3_pool(fee, getSqrtRatioAtTick(tick) + rng.randrange(10**9), positions, tokens)


def orient(pools_and_tokens, start: str):
    hops, token = [], start.lower()
    start = start.lower()
    for pool in pools_and_tokens:
        zero_for_one = pool.token0 == token
        hops.append((pool, zero_for_one))
        token = pool.token1 if zero_for_one else pool.token0
    assert token == start
    return hops


def execute(lab: V3Lab, hops, addresses, amounts) -> list[int]:
    """Run the cycle hop by hop on chain; returns the on-chain output of each hop."""
    outs = []
    for (pool, zero_for_one), address, amount_in, predicted in zip(hops, addresses, amounts[:-1], amounts[1:], strict=True):
        if isinstance(pool, UniswapV2Pool):
            token_in = pool.token0 if zero_for_one else pool.token1
            lab.batch.call("v2 pay", token_in, lab.erc20.codec.encode_call("transfer", address, amount_in))
            lab.batch.flush()
            out0, out1 = (0, predicted) if zero_for_one else (predicted, 0)
            greedy = lab.pair_codec.encode_call("swap", out0 + (0 if zero_for_one else 1),
                                                out1 + (1 if zero_for_one else 0), lab.deployer, b"")
            with pytest.raises(RevertError, match="K"):
                lab.eth_call(address, greedy)
            lab.batch.call("v2 swap", address, lab.pair_codec.encode_call("swap", out0, out1, lab.deployer, b""))
            receipt = lab.batch.flush()[-1]
            assert receipt["status"] == "0x1"
            outs.append(predicted)
        else:
            event = lab.send_swaps(address, [(zero_for_one, amount_in, 0)])[0]
            paid, got = (event.amount0, -event.amount1) if zero_for_one else (event.amount1, -event.amount0)
            assert paid == amount_in
            outs.append(got)
    return outs


@pytest.mark.parametrize("seed", [1, 2])
def test_two_hop_v3_cycle_executes_exactly(lab, seed):
    rng = random.Random(seed)
    tokens = lab.token_pair()
    cheap_addr, cheap = v3_pool(lab, rng, 500, -20_000, tokens)
    dear_addr, dear = v3_pool(lab, rng, 3000, -20_000 + 180 + 60 * seed, tokens)
    start = tokens[0]
    hops = orient([dear, cheap], start)  # sell token0 where it is dear, buy it back where cheap
    result = optimize_cycle(hops, 10**30)
    assert result is not None and result.profit > 0
    assert cycle_profit(hops, result.amount_in - 1) <= result.profit >= cycle_profit(hops, result.amount_in + 1)
    outs = execute(lab, hops, [dear_addr, cheap_addr], result.amounts)
    assert outs == result.amounts[1:]
    assert outs[-1] - result.amount_in == result.profit


def test_three_hop_v3_v2_v3_cycle_executes_exactly(lab):
    rng = random.Random(3)
    a, b = lab.token_pair()
    c, _ = lab.token_pair()
    ab_addr, ab = v3_pool(lab, rng, 500, 0, tuple(sorted((a, b))))
    bc_addr, bc = lab.create_v2_pair(10**24, 10**24, tuple(sorted((b, c))))
    # the C/A pool is 2% off: one direction of the triangle is profitable
    ca_tokens = tuple(sorted((c, a)))
    ca_addr, ca = v3_pool(lab, rng, 3000, 200 if ca_tokens[0] == c else -200, ca_tokens)
    best = None
    for order in ([ab, bc, ca], [ca, bc, ab]):
        hops = orient(order, a)
        result = optimize_cycle(hops, 10**30)
        if result is not None and (best is None or result.profit > best[1].profit):
            best = (hops, result)
    assert best is not None, "neither direction profitable"
    hops, result = best
    addresses = {id(ab): ab_addr, id(bc): bc_addr, id(ca): ca_addr}
    outs = execute(lab, hops, [addresses[id(p)] for p, _ in hops], result.amounts)
    assert outs == result.amounts[1:]
    assert result.profit == outs[-1] - result.amount_in > 0


def test_v2_pair_rejects_one_wei_more_than_predicted(lab):
    pair_addr, pair = lab.create_v2_pair(3 * 10**21, 7 * 10**24)
    amount_in = 10**19
    out = pair.quote_exact_in(True, amount_in)
    lab.batch.call("pay", pair.token0, lab.erc20.codec.encode_call("transfer", pair_addr, amount_in))
    lab.batch.flush()
    with pytest.raises(RevertError, match="K"):
        lab.eth_call(pair_addr, lab.pair_codec.encode_call("swap", 0, out + 1, lab.deployer, b""))
    lab.batch.call("swap", pair_addr, lab.pair_codec.encode_call("swap", 0, out, lab.deployer, b""))
    try:
        lab.batch.flush()
    except ChainError as exc:  # pragma: no cover - would be a model bug
        raise AssertionError(f"pair refused the predicted output: {exc}") from exc
    reserves = lab.pair_codec.decode_output("getReserves", lab.eth_call(pair_addr, lab.pair_codec.encode_call("getReserves")))
    expected = pair.simulate_exact_in(True, amount_in)
    assert (reserves[0], reserves[1]) == (expected.reserve0_after, expected.reserve1_after)
