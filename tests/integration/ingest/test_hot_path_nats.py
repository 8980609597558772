"""The hot path against real JetStream (the suite's private nats-server): hand-built HPUB frames
with deterministic ``Nats-Msg-Id`` and ``Nats-Expected-Last-Msg-Id`` chaining, the per-block
confirmation through nats-py's response subscription, a broken chain refused and replayed, and
the latency stamps and metric of every event."""

from __future__ import annotations

import time

import nats
import pytest
from mevbot import messages as m
from mevbot import metrics
from mevbot import subjects as subj
from mevbot.chainconfig import default_chain_config
from mevbot.errors import MevbotError
from mevbot.logging import get_logger
from mevbot.messages import PoolInfo, PoolKind
from mevbot.nats_bus import NatsBus
from mevbot.provider_config import Provider

from services.ingest import outputs
from services.ingest.classify import Detection
from services.ingest.engine import Engine
from services.ingest.ledger import Ledger
from services.ingest.outputs import Publisher
from services.ingest.registry import PoolRegistry
from services.ingest.settings import IngestSettings
from tests.unit.ingest.logs import POOL, v2_swap, v2_sync, v3_burn, v3_mint, v3_swap

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not outputs._FAST_REQUEST, reason="another nats-py: public publish()/request()")]


def bh(n: int) -> str:
    return "0x" + format(n, "064x")


def block_logs(n: int) -> list[dict]:
    kw = {"block": n, "block_hash": bh(n)}
    return [v2_sync(5, 6, log_index=0, **kw), v2_swap(1, 0, 0, 7, log_index=1, **kw),
            v3_swap(-3, 4, 2**96, 10**18, -5, log_index=2, **kw), v3_mint(-60, 60, 10, log_index=3, **kw),
            v3_burn(-60, 60, 0, log_index=4, **kw)]


def header(n: int) -> dict:
    return {"number": hex(n), "hash": bh(n), "parentHash": bh(n - 1), "timestamp": hex(n), "baseFeePerGas": "0x1"}


def ingest_count() -> float:
    for family in metrics.STAGE_LATENCY.collect():
        for sample in family.samples:
            if sample.name == "mev_stage_latency_seconds_count" and sample.labels.get("stage") == "ingest":
                return sample.value
    return 0.0


async def make_engine(nats_url: str, namespace: str) -> tuple[Engine, NatsBus]:
    chain = default_chain_config()
    bus = NatsBus(nats_url, service="ingest", namespace=namespace, chain_id=chain.chain_id)
    await bus.connect()
    await bus.ensure_streams()
    registry = PoolRegistry(chain, rpc=None, cache=None)  # type: ignore[arg-type]
    registry.accepted[POOL] = Detection(address=POOL, accepted=True, info=PoolInfo(
        address=POOL, kind=PoolKind.UNISWAP_V3, dex="test", factory="0x" + "00" * 20, token0="0x" + "00" * 20,
        token1="0x" + "11" * 20))
    publisher = Publisher(bus, chain.chain_id, ack_timeout_s=2.0)
    assert publisher.fast
    engine = Engine(chain=chain, rpc=None, ws_providers=[Provider("none", "ws://x", "ws")],  # type: ignore[arg-type]
                    registry=registry, publisher=publisher, checkpoints=None, settings=IngestSettings(),
                    log=get_logger("test.ingest"))
    engine.ledger = Ledger(10, bh(10))
    engine.snapshotted = {POOL}
    return engine, bus


async def stored(nats_url: str, namespace: str) -> list[tuple[str, dict, m.Message]]:
    """(subject, headers, message) of everything in the chain stream, in stream order."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        name = f"{namespace.upper()}_MEV_CHAIN"
        total = (await js.stream_info(name)).state.messages
        sub = await js.pull_subscribe(f"{namespace}.mev.>", durable=f"check{int(time.time() * 1000)}", stream=name)
        out: list[tuple[str, dict, m.Message]] = []
        while len(out) < total:
            for msg in await sub.fetch(min(500, total - len(out)), timeout=5):
                out.append((msg.subject[len(namespace) + 1:], dict(msg.headers or {}), m.decode(msg.data)))
                await msg.ack()
        return out
    finally:
        await nc.close()


async def test_blocks_are_stored_once_in_order_with_deterministic_chained_ids(nats_url: str, namespace: str) -> None:
    engine, bus = await make_engine(nats_url, namespace)
    chain_id = engine.chain_id
    before = ingest_count()
    try:
        for n in range(11, 14):
            logs = block_logs(n)
            for raw in logs[:3]:  # the websocket delivers 0-2; the block's list brings 3 and 4
                received = time.time_ns()
                await engine.on_log(raw, received)
            await engine.on_log(logs[1], time.time_ns())  # a websocket duplicate
            await engine.complete_block(header(n), source="live", logs=logs)
            assert engine.publisher.confirmed_block == n
        # a lost message (e.g. a disconnect mid-block): its successor's expected id is wrong, the
        # stream refuses the rest of the block and the head; the confirmation replays the block
        engine.publisher._prev_id = "not-the-last-id"
        for raw in block_logs(14):
            await engine.on_log(raw, time.time_ns())
        await engine.complete_block(header(14), source="live", logs=block_logs(14))
        assert engine.publisher.replays == 1
        assert engine.publisher.confirmed_block == 14
    finally:
        await bus.close()
    assert ingest_count() - before == 20  # every event, flushed at its block's end

    want_ids: list[str] = []
    for n in range(11, 15):
        want_ids += [f"{chain_id}:{bh(n)}:{i}:p" for i in range(5)] + [f"{chain_id}:head:{bh(n)}"]
    got = await stored(nats_url, namespace)
    assert [h["Nats-Msg-Id"] for _, h, _ in got] == want_ids
    assert [h.get("Nats-Expected-Last-Msg-Id") for _, h, _ in got] == [None, *want_ids[:-1]]
    for subject, _, msg in got:
        if isinstance(msg, m.BlockHead):
            assert subject == subj.BLOCK_HEAD and msg.event_count == 5
            continue
        assert isinstance(msg, m.PoolEvent) and subject == f"mev.events.{type(msg).__struct_config__.tag}"
        assert 0 < msg.received_ns <= msg.published_ns <= time.time_ns()


async def test_confirmation_request_without_a_stream_fails_fast(nats_url: str, namespace: str) -> None:
    engine, bus = await make_engine(nats_url, namespace)
    try:
        start = time.monotonic()
        with pytest.raises(MevbotError, match="no responders"):
            await engine.publisher._request(f"{namespace}.nowhere", b"{}", "id-1", None)
        assert time.monotonic() - start < 1.5
        # the stream still answers through the same path afterwards
        reply = await engine.publisher._request(bus.wire(subj.BLOCK_HEAD), b"{}", "id-2", None)
        assert b'"seq"' in reply
    finally:
        await bus.close()
