"""Stale pool -> ResyncRequest -> ingest's fresh snapshot -> the detector's pool is ready again.

A detector-side store (the detector's own ChainFollower feeding a MarketStore) follows the chain
stream of a running ingest on anvil + real NATS. A pool marked stale there is asked for on
``mev.pools.resync`` - once while the chain is idle, once under traffic - and ingest answers with a
``PoolSnapshot(reason="resync")`` at a block boundary; the pool is ready again and, after more
traffic applied on top of the snapshot, equal to the chain's state."""

from __future__ import annotations

import asyncio
import time

import pytest
from mevbot import messages as m
from mevbot import subjects as subj
from mevbot.bus import Mode
from mevbot.chain.deployment import Deployment
from mevbot.chain.rpc import RpcClient
from mevbot.chain_follower import ChainFollower
from mevbot.market import MarketStore
from mevbot.market.build import pool_from_snapshot
from mevbot.nats_bus import NatsBus
from prometheus_client import REGISTRY

from services.ingest.snapshot import read_snapshot

from .harness import Traffic, providers, read_stream, start_ingest

pytestmark = pytest.mark.integration


def state_of(pool) -> tuple:
    if hasattr(pool, "reserve0"):
        return (pool.reserve0, pool.reserve1)
    return (pool.sqrt_price_x96, pool.tick, pool.liquidity, dict(pool.ticks))


async def wait_for(predicate, what: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def test_stale_pool_gets_a_resync_snapshot_and_equals_the_chain(
    anvil, market: Deployment, rpc: RpcClient, nats_url: str, redis_url: str, namespace: str
) -> None:
    v2 = market.v2_pairs[0].address.lower()
    v3 = next(p for p in market.v3_pools if p.tick_spacing >= 10).address.lower()
    unknown = "0x" + "de" * 20
    ingest = await start_ingest(market, providers([("ws", anvil.ws_url)], [("http", anvil.http_url)]), nats_url,
                                redis_url, namespace, pools=(v2, v3))
    detector_bus = NatsBus(nats_url, service="detector", replica_id="d0", namespace=namespace,
                           chain_id=market.chain_id)
    store = MarketStore()
    heads: list[int] = []

    def on_chain(message, live: bool) -> bool:
        if isinstance(message, m.PoolSnapshot):
            store.add_snapshot(message)
        elif isinstance(message, m.PoolEvent):
            store.apply_event(message)
        elif isinstance(message, m.BlockHead):
            assert store.end_block(message) == 0
            heads.append(message.block_number)
            return True
        return False

    async def on_idle(drained: bool) -> None:
        return None

    follower = ChainFollower(detector_bus, on_chain, on_idle)
    served = REGISTRY.get_sample_value("mev_ingest_resync_pools_total", {"outcome": "served"}) or 0.0
    ignored = REGISTRY.get_sample_value("mev_ingest_resync_pools_total", {"outcome": "ignored"}) or 0.0
    try:
        await ingest.run()
        await ingest.bus.subscribe(subj.POOL_RESYNC, ingest.engine.on_resync_request, mode=Mode.CORE,
                                   queue="ingest", message_type=m.ResyncRequest)
        await detector_bus.connect()
        await follower.start()
        await wait_for(lambda: store.is_ready(v2) and store.is_ready(v3), "initial snapshots")

        async def traffic(blocks: int, seed: int, pools: tuple[list[str], list[str]]) -> int:
            await asyncio.to_thread(Traffic(anvil.http_url, market, *pools, seed=seed).run, 20.0,
                                    per_block=(2, 4), max_blocks=blocks)
            last = int(rpc.call("eth_blockNumber"), 16)
            await ingest.wait_block(last)
            await wait_for(lambda: heads and heads[-1] >= last, f"detector at block {last}")
            return last

        async def ask(pools: list[str]) -> None:
            await detector_bus.publish(subj.POOL_RESYNC, m.ResyncRequest(
                chain_id=market.chain_id, pools=pools, reason="test: missed Mint", requested_by="d0",
                block_number=store.block_number))

        await traffic(3, 1, ([v2], [v3]))
        # 1. idle chain: the V3 pool goes stale on the detector side, ingest answers without a new block
        store.mark_stale(v3, "test: missed Mint")
        assert store.ready_pool(v3) is None and v3 in store.take_resync_requests()
        idle_block = ingest.engine.ledger.last.number
        await ask([v3, unknown])
        await wait_for(lambda: store.is_ready(v3), "V3 pool ready after the resync")
        assert store.entry(v3).state.block_number <= idle_block == ingest.engine.ledger.last.number
        # 2. under traffic: the V2 pair goes stale; its events are buffered until the answer
        store.mark_stale(v2, "test: gap")
        run = asyncio.create_task(traffic(6, 2, ([v2], [v3])))
        await asyncio.sleep(0.3)
        await ask([v2])
        await run
        await wait_for(lambda: store.is_ready(v2), "V2 pair ready after the resync")
        last = await traffic(3, 3, ([v2], [v3]))  # more events applied on top of both snapshots
        for address in (v2, v3):
            info = store.entry(address).info
            chain = pool_from_snapshot(await read_snapshot(ingest.rpc, info, last, chain_id=market.chain_id))
            assert state_of(store.ready_pool(address)) == state_of(chain), address
        assert (REGISTRY.get_sample_value("mev_ingest_resync_pools_total", {"outcome": "served"}) or 0) - served == 2
        assert (REGISTRY.get_sample_value("mev_ingest_resync_pools_total", {"outcome": "ignored"}) or 0) - ignored == 1
    finally:
        await follower.stop()
        await detector_bus.close()
        await ingest.stop()

    # in the stream, each resync snapshot sits at a block boundary: right after its block's end
    # marker, and no event of that block or earlier follows it
    published = await read_stream(nats_url, namespace)
    resyncs = [(i, msg) for i, (_, msg) in enumerate(published)
               if isinstance(msg, m.PoolSnapshot) and msg.reason == "resync"]
    assert sorted(msg.pool.address for _, msg in resyncs) == sorted([v2, v3])
    for i, snapshot in resyncs:
        before = [msg for _, msg in published[:i] if not isinstance(msg, m.PoolSnapshot)]
        assert isinstance(before[-1], m.BlockHead) and before[-1].block_number == snapshot.block_number
        assert before[-1].block_hash == snapshot.block_hash
        assert all(msg.meta.block_number > snapshot.block_number
                   for _, msg in published[i + 1 :] if isinstance(msg, m.PoolEvent))


async def _stream_messages(nc, stream: str, namespace: str) -> list[tuple[int, object]]:
    """(stream sequence, message) of every message in the stream."""
    js = nc.jetstream()
    total = (await js.stream_info(stream)).state.messages
    sub = await js.pull_subscribe(f"{namespace}.mev.>", durable=f"seq{int(time.time() * 1000)}", stream=stream)
    out: list[tuple[int, object]] = []
    while len(out) < total:
        for msg in await sub.fetch(min(500, total - len(out)), timeout=5):
            out.append((msg.metadata.sequence.stream, m.decode(msg.data)))
            await msg.ack()
    await sub.unsubscribe()
    return out


async def test_restarted_detector_asks_for_lost_snapshots_and_gap_pools_by_itself(
    anvil, market: Deployment, rpc: RpcClient, nats_url: str, redis_url: str, namespace: str
) -> None:
    """The real detector service: its replay finds a pool whose snapshot left the stream (retention)
    and a block with a missing event (every pool stale); it sends the ResyncRequest itself, the
    running ingest answers, and the pools are ready and equal to the chain."""
    from tests.integration.detector.harness import Replicas

    v2 = market.v2_pairs[0].address.lower()
    v3 = next(p for p in market.v3_pools if p.tick_spacing >= 10).address.lower()
    ingest = await start_ingest(market, providers([("ws", anvil.ws_url)], [("http", anvil.http_url)]), nats_url,
                                redis_url, namespace, pools=(v2, v3))
    try:
        await ingest.run()
        await ingest.bus.subscribe(subj.POOL_RESYNC, ingest.engine.on_resync_request, mode=Mode.CORE,
                                   queue="ingest", message_type=m.ResyncRequest)

        async def traffic(blocks: int, seed: int) -> int:
            await asyncio.to_thread(Traffic(anvil.http_url, market, [v2], [v3], seed=seed).run, 20.0,
                                    per_block=(2, 4), max_blocks=blocks)
            last = int(rpc.call("eth_blockNumber"), 16)
            await ingest.wait_block(last)
            return last

        await traffic(4, 5)
        # what stream retention and a lost message would leave: no snapshot of the V3 pool, and one
        # event of a block missing (never the stream's last message: ingest chains on it)
        nc = ingest.bus.nc
        stream = ingest.bus.stream_name(subj.STREAM_CHAIN)
        stored = await _stream_messages(nc, stream, namespace)
        snap_seq = next(seq for seq, msg in stored if isinstance(msg, m.PoolSnapshot) and msg.pool.address == v3)
        event_seq = next(seq for seq, msg in reversed(stored) if isinstance(msg, m.PoolEvent) and msg.pool == v2)
        js = nc.jetstream()
        await js.delete_msg(stream, snap_seq)
        await js.delete_msg(stream, event_seq)

        async with Replicas(nats_url, namespace, 1, DETECTOR_BASE_TOKENS=market.weth.lower(),
                            DETECTOR_RESYNC_INTERVAL_MS="300") as replicas:
            detector = replicas.services[0]
            store = detector.core.store
            await wait_for(lambda: store.is_ready(v2) and store.is_ready(v3), "pools ready after the resync",
                           timeout_s=15)
            assert detector.resync.requested >= 2 and store.gaps == 1
            last = await traffic(3, 6)  # events applied on top of the resync snapshots
            await wait_for(lambda: store.last_head is not None and store.last_head.block_number >= last,
                           f"detector at block {last}")
            for address in (v2, v3):
                info = store.entry(address).info
                chain = pool_from_snapshot(await read_snapshot(ingest.rpc, info, last, chain_id=market.chain_id))
                assert state_of(store.ready_pool(address)) == state_of(chain), address
            assert store.stale_pools() == [] and store.orphan_pools() == []
    finally:
        await ingest.stop()
