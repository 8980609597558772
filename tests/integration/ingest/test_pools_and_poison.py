"""Pool detection on anvil: bait contracts never become pools, malformed logs go to the dead-letter
stream, an unknown genuine pool of an allowed factory is probed once, cached in Redis and reused
by a second replica without any probe."""

from __future__ import annotations

import asyncio

import nats
import pytest
from mevbot import messages as m
from mevbot.chain.artifacts import load_artifact
from mevbot.chain.create2 import v2_pair_address
from mevbot.chain.deployment import Deployment
from mevbot.chain.devtools import ERC20, OWNER, PAIR, deploy_contract, send, swap_v2
from mevbot.chain.rpc import RpcClient

from services.ingest import topics as t

from .harness import providers, read_stream, start_ingest

pytestmark = pytest.mark.integration


def log_emitter_code(n_topics: int) -> str:
    """EVM code: LOG<n>(topics = calldata words 0..n-1, data = calldata[160:]). No pool at all."""
    code = "60a0360360a0600037"  # CALLDATACOPY(0, 0xa0, calldatasize - 0xa0)
    for i in reversed(range(n_topics)):
        code += f"60{32 * i:02x}35"  # CALLDATALOAD(32 * i)
    code += "60a036036000" + format(0xA0 + n_topics, "02x") + "00"
    return "0x" + code


def emit(rpc: RpcClient, emitter: str, topics: list[str], data_words: list[int]) -> None:
    words = [int(x, 16) for x in topics] + [0] * (5 - len(topics)) + [w % (1 << 256) for w in data_words]
    data = b"".join(w.to_bytes(32, "big") for w in words)
    assert send(rpc, OWNER, emitter, data, gas=200_000)["status"] == "0x1"


def addr_word(address: str) -> str:
    return "0x" + address[2:].rjust(64, "0")


async def test_bait_rejected_malformed_dead_lettered_new_pool_detected_and_shared(
    anvil, market: Deployment, rpc: RpcClient, nats_url: str, redis_url: str, namespace: str
) -> None:
    dep = market
    weth, usdc, wbtc = dep.token("WETH").lower(), dep.token("USDC").lower(), dep.token("WBTC").lower()
    # an unknown genuine pool: a new V2 pair, created before ingest starts (ingest never sees its creation)
    v2f = load_artifact("UniswapV2Factory").codec
    assert (
        send(rpc, OWNER, dep.uniswap_v2_factory, v2f.encode_call("createPair", wbtc, usdc))["status"] == "0x1"
    )
    new_pair = v2_pair_address(dep.uniswap_v2_factory, wbtc, usdc).lower()
    for token, amount in ((wbtc, 10 * 10**8), (usdc, 600_000 * 10**6)):
        send(rpc, OWNER, token, ERC20.encode_call("mint", new_pair, amount))
    assert send(rpc, OWNER, new_pair, PAIR.encode_call("mint", OWNER))["status"] == "0x1"
    # a bait that impersonates a pool of the allowed V2 factory (right factory, right tokens)
    bait_art = load_artifact("SwapEventBait")
    bait = deploy_contract(rpc, bait_art.creation_code()).lower()
    send(rpc, OWNER, bait, bait_art.codec.encode_call("setIdentity", weth, usdc, dep.uniswap_v2_factory))
    emitters = {n: "0x" + format(0xE0 + n, "040x") for n in (1, 2, 3)}
    for n, address in emitters.items():
        rpc.call("anvil_setCode", address, log_emitter_code(n))

    core = await nats.connect(nats_url)
    rejected: list[m.PoolRejected] = []

    async def on_rejected(msg) -> None:
        rejected.append(m.decode(msg.data))

    await core.subscribe(f"{namespace}.mev.pools.rejected", cb=on_rejected)
    start = int(rpc.call("eth_blockNumber"), 16)
    first = await start_ingest(
        dep,
        providers([("ws", anvil.ws_url)], [("http", anvil.http_url)]),
        nats_url,
        redis_url,
        namespace,
        replica="r0",
    )
    try:
        await first.run()
        # bait: V2 Sync+Swap and V3 Swap shaped logs
        send(rpc, OWNER, bait, bait_art.codec.encode_call("emitV2", 1, 0, 0, 1, 10**18, 10**18))
        send(rpc, OWNER, bait, bait_art.codec.encode_call("emitV3", -5, 7, 2**96, 10**18, 10))
        # malformed logs: short data, wrong topic count, out-of-range values
        emit(rpc, emitters[1], [t.V2_SYNC], [1])  # 32 bytes instead of 64
        emit(rpc, emitters[2], [t.V2_SWAP, addr_word(OWNER)], [1, 2, 3, 4])  # 2 topics instead of 3
        emit(rpc, emitters[1], [t.V2_SYNC], [2**112, 1])  # reserve beyond uint112
        emit(
            rpc, emitters[3], [t.V3_SWAP, addr_word(OWNER), addr_word(OWNER)], [1, -1, 2**96, 10**18, 887273]
        )
        # the new genuine pool trades
        swap_v2(rpc, dep, new_pair, usdc, 1_000 * 10**6)
        last = int(rpc.call("eth_blockNumber"), 16)
        await first.wait_block(last)
        await asyncio.sleep(0.2)
        assert first.engine.registry.probes >= 2  # the bait and the new pair, once each
        assert first.engine.started.is_set()
    finally:
        await first.stop()

    published = await read_stream(nats_url, namespace)
    dead = await read_stream(nats_url, namespace, "MEV_DLQ")
    await core.close()
    snapshots = [msg for _, msg in published if isinstance(msg, m.PoolSnapshot)]
    events = [msg for _, msg in published if isinstance(msg, m.PoolEvent)]
    assert bait not in {s.pool.address for s in snapshots} and bait not in {e.pool for e in events}
    assert any(r.address == bait and "CREATE2" in r.reason for r in rejected), rejected
    new = [s for s in snapshots if s.pool.address == new_pair]
    assert new and new[0].reason == "discovered"
    # the snapshot is the state at the end of the block of the pair's first log (its Sync says so)
    syncs = [e for e in events if e.pool == new_pair and isinstance(e, m.V2Sync)]
    assert syncs and syncs[0].meta.block_number == new[0].block_number
    assert (new[0].reserve0, new[0].reserve1) == (syncs[-1].reserve0, syncs[-1].reserve1)
    assert new[0].pool.kind is m.PoolKind.UNISWAP_V2 and (new[0].pool.token0, new[0].pool.token1) == tuple(
        sorted((wbtc, usdc), key=lambda a: int(a, 16))
    )
    assert [e for e in events if e.pool == new_pair and isinstance(e, m.V2Swap)]
    letters = [msg for _, msg in dead if isinstance(msg, m.DeadLetter)]
    reasons = " | ".join(d.error for d in letters)
    assert len(letters) == 4, reasons
    assert all(d.service == "ingest" and d.error_code == "decode" for d in letters)
    for fragment in (
        "data is 32 bytes, expected 64",
        "2 topics, expected 3",
        "uint112",
        "tick 887273 outside",
    ):
        assert fragment in reasons

    # Redis holds the answers; a second replica replays the same blocks without a single probe
    second = await start_ingest(
        dep,
        providers([("ws", anvil.ws_url)], [("http", anvil.http_url)]),
        nats_url,
        redis_url,
        namespace,
        replica="r1",
        start_block=start,
    )
    try:
        assert await second.cache.get(f"{dep.chain_id}:{new_pair}", local=False) is not None
        redis = second.cache._redis  # TTLs: accepted pools never expire, rejections do (negative cache)
        assert await redis.ttl(f"{second.cache.prefix}{dep.chain_id}:{new_pair}") == -1
        assert 0 < await redis.ttl(f"{second.cache.prefix}{dep.chain_id}:{bait}") <= 3600
        await second.run()
        await second.wait_block(last)
        assert new_pair in second.engine.registry.accepted
        assert second.engine.registry.probes == 0
        assert second.cache.hits >= 2 and second.cache.hit_rate > 0
    finally:
        await second.stop()


async def test_discovery_from_factory_creation_logs(
    anvil, market: Deployment, rpc: RpcClient, nats_url: str, redis_url: str, namespace: str
) -> None:
    """With INGEST_DISCOVER_FROM_BLOCK, every pool the allowed factories created is found from the
    creation logs (no probes: same CREATE2 check on the log's data) and snapshotted at start."""
    ingest = await start_ingest(market, providers([("ws", anvil.ws_url)], [("http", anvil.http_url)]), nats_url,
                                redis_url, namespace, discover_from_block=0)
    try:
        await ingest.engine.start()
        assert ingest.engine.registry.probes == 0
    finally:
        await ingest.stop()
    published = await read_stream(nats_url, namespace)
    snapshots = {msg.pool.address: msg for _, msg in published if isinstance(msg, m.PoolSnapshot)}
    expected = {p.address.lower() for p in market.v2_pairs} | {p.address.lower() for p in market.v3_pools}
    assert set(snapshots) == expected
    assert all(s.reason == "initial" for s in snapshots.values())
    for p in market.v3_pools:
        s = snapshots[p.address.lower()]
        assert s.pool.fee_pips == p.fee_pips and s.pool.tick_spacing == p.tick_spacing and s.ticks
