"""On anvil with the real Uniswap V2/V3 bytecode.

1. The store's state after real swaps, mints and burns equals the state read from the chain.
2. Every dislocation opened by a large swap is reported as a candidate, and executing the candidate
   hop by hop right after (all hops in one block) gives exactly the predicted amounts.
"""

from __future__ import annotations

import random
import time

import pytest
from mevbot import messages as m
from mevbot.chain.devtools import ACTOR, ERC20, OWNER, PAIR, WETH9, balance_of, swap_v2, swap_v3
from mevbot.market import MarketStore

from services.detector.core import DetectorCore
from services.ingest.decode import decode_log
from tests.integration.detector.chainfeed import CHAIN_ID, chain_messages, head_block, pool_infos, snapshots

pytestmark = pytest.mark.integration

V3_SWAP_TOPIC = "0xc42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67"
V2_SWAP_TOPIC = "0xd78ad95fa46c994b6551d0da85fc275fe613ce37657fb8d5e3d130840159d822"


def _send(rpc, sender: str, to: str, data: bytes, gas: int = 5_000_000) -> str:
    return rpc.call("eth_sendTransaction", {"from": sender, "to": to, "input": "0x" + data.hex(), "gas": hex(gas)})


def _feed(core_or_store, messages) -> None:
    for message in messages:
        if isinstance(message, m.BlockHead):
            if isinstance(core_or_store, DetectorCore):
                assert core_or_store.on_block_head(message) == 0
            else:
                assert core_or_store.end_block(message) == 0
        elif isinstance(core_or_store, DetectorCore):
            core_or_store.on_event(message)
        else:
            core_or_store.apply_event(message)


def test_state_after_real_swaps_mints_and_burns_equals_the_chain(rpc, market) -> None:
    dep = market
    infos = pool_infos(dep)
    start = head_block(rpc)
    store = MarketStore()
    for snap in snapshots(rpc, infos, start):
        store.add_snapshot(snap)
    rng = random.Random(3)
    v3 = [i for i in infos if i.kind is m.PoolKind.UNISWAP_V3]
    v2 = [i for i in infos if i.kind is m.PoolKind.UNISWAP_V2]
    for _ in range(30):
        roll = rng.random()
        info = rng.choice(v3)
        if roll < 0.45:
            token_in = info.token0 if rng.random() < 0.5 else info.token1
            # up to a few percent of the pool's balance of the input token: crosses ticks now and then
            held = balance_of(rpc, token_in, info.address)
            swap_v3(rpc, dep, info.address, token_in, max(1000, int(held * rng.uniform(0.001, 0.08))))
        elif roll < 0.8:
            spacing = info.tick_spacing
            pool_tick = store.ready_pool(info.address).tick if store.ready_pool(info.address) else 0
            lower = max((pool_tick // spacing - rng.randint(1, 40)) * spacing, -(887272 // spacing) * spacing)
            upper = min((pool_tick // spacing + rng.randint(1, 40)) * spacing, (887272 // spacing) * spacing)
            amount = 10 ** rng.randint(12, 16)
            assert _receipt(rpc, _send(rpc, OWNER, dep.pool_actor,
                                       ACTOR.encode_call("mint", info.address, lower, upper, amount)))
            if rng.random() < 0.6:
                assert _receipt(rpc, _send(rpc, OWNER, dep.pool_actor, ACTOR.encode_call(
                    "burn", info.address, lower, upper, amount // 2, OWNER)))
        else:
            pair = rng.choice(v2)
            state = store.ready_pool(pair.address)
            zero_for_one = rng.random() < 0.5
            reserve_in = state.reserve0 if zero_for_one else state.reserve1
            swap_v2(rpc, dep, pair.address, pair.token0 if zero_for_one else pair.token1,
                    int(reserve_in * rng.uniform(0.001, 0.05)))
        # keep the store current, so that the next mint is placed around the live tick
        end = head_block(rpc)
        _feed(store, chain_messages(rpc, infos, start + 1, end))
        start = end
    assert store.stale_pools() == []
    for snap in snapshots(rpc, infos, start):
        pool = store.ready_pool(snap.pool.address)
        if snap.pool.kind is m.PoolKind.UNISWAP_V2:
            assert (pool.reserve0, pool.reserve1) == (snap.reserve0, snap.reserve1)
        else:
            assert (pool.sqrt_price_x96, pool.tick, pool.liquidity) == (snap.sqrt_price_x96, snap.tick, snap.liquidity)
            assert sorted(pool.ticks.items()) == [tuple(t) for t in snap.ticks]


def _receipt(rpc, tx_hash: str) -> bool:
    deadline = time.monotonic() + 10
    while (receipt := rpc.call("eth_getTransactionReceipt", tx_hash)) is None and time.monotonic() < deadline:
        time.sleep(0.002)
    return receipt is not None and receipt["status"] == "0x1"


def _execute_in_one_block(rpc, dep, candidate: m.Candidate) -> list[tuple[int, int]]:
    """Run every hop of the candidate, in order, in one block; (amount_in, amount_out) per hop from the logs."""
    rpc.call("evm_setAutomine", False)
    try:
        for hop in candidate.hops:
            if hop.kind is m.PoolKind.UNISWAP_V3:
                _send(rpc, OWNER, dep.pool_actor, ACTOR.encode_call("swap", hop.pool, hop.zero_for_one, hop.amount_in, 0,
                                                                    OWNER))
            else:  # pay the pair, ask for exactly the predicted output (the pair checks K)
                if hop.token_in == dep.weth.lower():
                    _send(rpc, OWNER, hop.token_in, WETH9.encode_call("transfer", hop.pool, hop.amount_in))
                else:
                    _send(rpc, OWNER, hop.token_in, ERC20.encode_call("mint", hop.pool, hop.amount_in))
                out0, out1 = (0, hop.amount_out) if hop.zero_for_one else (hop.amount_out, 0)
                _send(rpc, OWNER, hop.pool, PAIR.encode_call("swap", out0, out1, OWNER, b""))
        rpc.call("evm_mine")
    finally:
        rpc.call("evm_setAutomine", True)
    block = rpc.call("eth_getBlockByNumber", "latest", True)
    for tx in block["transactions"]:
        assert _receipt(rpc, tx["hash"]), "a hop reverted"
    logs = rpc.call("eth_getLogs", {"fromBlock": block["number"], "toBlock": block["number"]})
    swaps = [decode_log(log, CHAIN_ID) for log in logs if log["topics"][0] in (V3_SWAP_TOPIC, V2_SWAP_TOPIC)]
    assert len(swaps) == len(candidate.hops)
    out = []
    for hop, swap in zip(candidate.hops, swaps):
        assert swap.pool == hop.pool
        if isinstance(swap, m.V3Swap):
            out.append((swap.amount0, -swap.amount1) if hop.zero_for_one else (swap.amount1, -swap.amount0))
        else:
            out.append((swap.amount0_in, swap.amount1_out) if hop.zero_for_one else (swap.amount1_in, swap.amount0_out))
    return out


@pytest.mark.parametrize("kind,pair,fee,token_in,amount", [
    ("v2", ("WETH", "USDC"), 3000, "WETH", 150 * 10**18),
    ("v3", ("WETH", "USDC"), 500, "USDC", 2_000_000 * 10**6),
    ("v3", ("ARB", "WETH"), 3000, "ARB", 300_000 * 10**18),
])
def test_every_dislocation_is_reported_and_executes_exactly(rpc, market, kind, pair, fee, token_in, amount) -> None:
    dep = market
    infos = pool_infos(dep)
    base = [dep.weth.lower()] + [dep.token(s).lower() for s in ("USDC", "USDT", "ARB", "WBTC") if s in dep.tokens]
    core = DetectorCore(chain_id=CHAIN_ID, detector_id="it", base_tokens=base, native_token=dep.weth, max_hops=3)
    start = head_block(rpc)
    for snap in snapshots(rpc, infos, start):
        core.on_snapshot(snap)
    core.flush()  # whatever the fresh market offers is not what this test is about
    if kind == "v2":
        pool = dep.v2_pair(*pair).address.lower()
        swap_v2(rpc, dep, pool, dep.token(token_in), amount)
    else:
        pool = dep.v3_pool(*pair, fee).address.lower()
        swap_v3(rpc, dep, pool, dep.token(token_in), amount)
    end = head_block(rpc)
    _feed(core, chain_messages(rpc, infos, start + 1, end))
    candidates = core.flush()
    through = [c for c in candidates if pool in [h.pool for h in c.hops]]
    assert through, "the dislocation was not reported"
    assert all(c.gross_profit > 0 and c.block_number == end for c in candidates)
    best = sorted(through, key=lambda c: -c.gross_profit_wei)[:4]
    for candidate in best:
        snap_id = rpc.call("evm_snapshot")
        try:
            executed = _execute_in_one_block(rpc, dep, candidate)
        finally:
            rpc.call("evm_revert", snap_id)
        assert executed == [(h.amount_in, h.amount_out) for h in candidate.hops]
