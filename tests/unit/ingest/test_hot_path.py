"""The engine's hot path, without NATS: batched latency metric, dedupe, order, reorgs, the
slow-path fallbacks, and the publisher's hand-built HPUB frames (byte for byte nats-py's)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from mevbot import messages as m
from mevbot import metrics
from mevbot import subjects as subj
from mevbot.bus import InMemoryBus
from mevbot.chainconfig import default_chain_config
from mevbot.logging import get_logger
from mevbot.messages import PoolInfo, PoolKind
from mevbot.provider_config import Provider
from nats.protocol.command import hpub_cmd
from prometheus_client import CollectorRegistry, Histogram

from services.ingest import outputs, stats
from services.ingest.classify import Detection
from services.ingest.engine import Engine
from services.ingest.ledger import Ledger
from services.ingest.outputs import Publisher
from services.ingest.registry import PoolRegistry
from services.ingest.settings import IngestSettings
from tests.unit.ingest.logs import POOL, v2_swap, v2_sync, v3_burn, v3_mint, v3_swap

# --- batched latency histogram ----------------------------------------------------------------------

EDGE_NS = [0, -5, 1, 99_999, 100_000, 100_001, 250_000, 1_000_000, 10**10, 10**10 + 1, 10**13]


def _histogram(name: str) -> Any:
    return Histogram(name, "test", ["stage"], buckets=metrics.LATENCY_BUCKETS_S,
                     registry=CollectorRegistry()).labels("ingest")


def _samples(child: Any) -> dict[str, float]:
    return {f"{s.name}{s.labels.get('le', '')}": s.value for s in child._child_samples() if s.name != "_created"}


def test_batched_latency_gives_the_buckets_and_count_of_one_observe_per_event() -> None:
    rnd = random.Random(7)
    values = EDGE_NS + [rnd.randrange(0, 3 * 10**9) >> rnd.randrange(0, 30) for _ in range(5000)]
    observed, batched = _histogram("per_event"), _histogram("batched")
    for ns in values:
        observed.observe(ns / 1e9)
    latency = stats.BatchedLatency(batched)
    assert latency._bulk
    for i, ns in enumerate(values):
        latency.samples.append(ns)
        if i % 37 == 0:
            assert latency.flush() > 0
    latency.flush()
    assert latency.flush() == 0 and latency.samples == []
    want, got = _samples(observed), _samples(batched)
    assert {k: v for k, v in got.items() if k != "_sum"} == {k: v for k, v in want.items() if k != "_sum"}
    assert got["_count"] == len(values)
    assert got["_sum"] == pytest.approx(want["_sum"], rel=1e-9)


def test_batched_latency_falls_back_to_observe_without_the_client_internals() -> None:
    class Plain:
        def __init__(self) -> None:
            self.seen: list[float] = []

        def observe(self, value: float) -> None:
            self.seen.append(value)

    child = Plain()
    latency = stats.BatchedLatency(child)
    assert not latency._bulk
    latency.samples += [1, 2_000_000_000]
    assert latency.flush() == 2 and child.seen == [1e-9, 2.0]


# --- the engine on the in-memory bus -------------------------------------------------------------------

H = "0x" + "00" * 31


def bh(n: int, fork: str = "0") -> str:
    return "0x" + (fork * 2 + format(n, "062x"))[-64:]


class _Cache:
    def __init__(self) -> None:
        self.hits = 0

    def record_hit(self, layer: str = "local", n: int = 1) -> None:
        self.hits += n


def engine_on(publisher: Publisher, cache: object = None, *, snapshotted: bool = True) -> Engine:
    """An engine publishing through ``publisher`` with POOL accepted (and snapshotted), no RPC."""
    chain = default_chain_config()
    registry = PoolRegistry(chain, rpc=None, cache=cache)  # type: ignore[arg-type]
    registry.accepted[POOL] = Detection(address=POOL, accepted=True, info=PoolInfo(
        address=POOL, kind=PoolKind.UNISWAP_V3, dex="test", factory="0x" + "00" * 20, token0="0x" + "00" * 20,
        token1="0x" + "11" * 20))
    engine = Engine(chain=chain, rpc=None, ws_providers=[Provider("none", "ws://x", "ws")],  # type: ignore[arg-type]
                    registry=registry, publisher=publisher, checkpoints=None,
                    settings=IngestSettings(), log=get_logger("test.ingest"))
    engine.ledger = Ledger(10, bh(10))
    if snapshotted:
        engine.snapshotted = {POOL}
    return engine


def make_engine(*, snapshotted: bool = True) -> tuple[Engine, InMemoryBus, _Cache]:
    chain = default_chain_config()
    bus = InMemoryBus("ingest", chain_id=chain.chain_id)
    cache = _Cache()
    return engine_on(Publisher(bus, chain.chain_id), cache, snapshotted=snapshotted), bus, cache


def header(n: int, fork: str = "0", parent_fork: str = "0") -> dict:
    return {"number": hex(n), "hash": bh(n, fork), "parentHash": bh(n - 1, parent_fork), "timestamp": hex(n),
            "baseFeePerGas": "0x1"}


def block_logs(n: int, fork: str = "0") -> list[dict]:
    kw = {"block": n, "block_hash": bh(n, fork)}
    return [v2_sync(5, 6, log_index=0, **kw), v2_swap(1, 0, 0, 7, log_index=1, **kw),
            v3_swap(-3, 4, 2**96, 10**18, -5, log_index=2, **kw), v3_mint(-60, 60, 10, log_index=3, **kw),
            v3_burn(-60, 60, 0, log_index=4, **kw)]


def ingest_count() -> float:
    for family in metrics.STAGE_LATENCY.collect():
        for sample in family.samples:
            if sample.name == "mev_stage_latency_seconds_count" and sample.labels.get("stage") == "ingest":
                return sample.value
    return 0.0


def events(bus: InMemoryBus) -> list[m.PoolEvent]:
    return [msg for msg in bus.messages("mev.events.>")]


async def test_every_published_event_is_counted_in_the_ingest_latency_histogram() -> None:
    engine, bus, cache = make_engine()
    before = ingest_count()
    for n in range(11, 21):
        logs = block_logs(n)
        for raw in logs:
            await engine.on_log(raw, 1)
        await engine.on_log(logs[2], 1)  # a websocket duplicate
        await engine.complete_block(header(n), source="live", logs=logs)
        assert ingest_count() - before == len(events(bus))  # flushed at each block end
    assert len(events(bus)) == 50
    assert cache.hits == 50  # every hot-path lookup counted as a cache hit
    heads = bus.messages(subj.BLOCK_HEAD)
    assert [h.event_count for h in heads] == [5] * 10
    for ev in events(bus):
        assert ev.received_ns == 1 and ev.published_ns > 1


async def test_events_leave_once_in_log_order_and_equal_a_plain_decode() -> None:
    engine, bus, _ = make_engine()
    logs = block_logs(11)
    for raw in (logs[1], logs[3]):  # the websocket missed 0, 2 and 4
        await engine.on_log(raw, 1)
    await engine.complete_block(header(11), source="live", logs=list(reversed(logs)))
    got = [(ev.meta.log_index, type(ev).__name__) for ev in events(bus)]
    assert got == [(1, "V2Swap"), (3, "V3Mint"), (0, "V2Sync"), (2, "V3Swap"), (4, "V3Burn")]
    from services.ingest.decode import decode_log

    for ev in events(bus):
        plain = decode_log(logs[ev.meta.log_index], engine.chain_id, ev.received_ns, ev.published_ns)
        assert ev == plain


async def test_the_slow_path_handles_mixed_case_unsnapshotted_and_malformed_logs() -> None:
    engine, bus, cache = make_engine(snapshotted=False)
    snapshots: list[str] = []

    async def snapshot(info: PoolInfo, number: int, block_hash: str, reason: str) -> bool:
        snapshots.append(reason)
        engine.snapshotted.add(info.address)
        return True

    engine._snapshot = snapshot  # type: ignore[method-assign]
    logs = block_logs(11)
    loud = dict(logs[0], address=POOL.upper().replace("0X", "0x"), topics=[logs[0]["topics"][0].upper()])
    await engine.on_log(loud, 1)  # first event of the pool (snapshot), upper-case hex
    await engine.on_log(dict(logs[1], data="0xzz"), 1)  # malformed: dead letter, no event
    await engine.on_log(dict(logs[2], topics=[["not", "hashable"]]), 1)  # malformed: dead letter
    await engine.on_log(logs[3], 1)  # hot path from here
    await engine.complete_block(header(11), source="live", logs=logs)
    assert snapshots == ["discovered"]
    assert [ev.meta.log_index for ev in events(bus)] == [0, 3, 4]
    assert events(bus)[0].pool == POOL
    assert len(bus.messages("mev.dlq.>")) == 2
    assert cache.hits >= 2


async def test_a_reorged_open_block_is_reversed_before_the_canonical_one() -> None:
    engine, bus, _ = make_engine()
    for raw in block_logs(11, "a"):
        await engine.on_log(raw, 1)
    await engine.complete_block(header(11, "b"), source="live", logs=block_logs(11, "b"))
    got = [(ev.meta.block_hash[2:4], ev.meta.log_index, ev.meta.removed) for ev in events(bus)]
    assert got == ([("aa", i, False) for i in range(5)] + [("aa", i, True) for i in reversed(range(5))]
                   + [("bb", i, False) for i in range(5)])


# --- the publisher's frames ---------------------------------------------------------------------------


class _Queue:
    def __init__(self, empty: bool) -> None:
        self._empty = empty

    def empty(self) -> bool:
        return self._empty


class _Nc:
    def __init__(self, *, connected: bool = True, queue_empty: bool = True, max_pending: int = 0) -> None:
        self._pending: list[bytes] = []
        self._pending_data_size = 0
        self._max_pending_size = max_pending
        self._flush_queue = _Queue(queue_empty)
        self._max_payload = 1 << 20
        self.is_connected = connected


class _Bus:
    def __init__(self, nc: _Nc) -> None:
        self.nc = nc

    def wire(self, subject: str) -> str:
        return f"ns.{subject}"


@pytest.mark.skipif(not outputs._FAST_HPUB, reason="another nats-py: the public publish() is used")
def test_frames_are_byte_for_byte_nats_py_hpub_with_chained_ids() -> None:
    nc = _Nc()
    publisher = Publisher(_Bus(nc), 42161)
    assert publisher.fast
    wire = "ns.mev.events.v2_sync"
    assert publisher._frame(wire, b'{"a":1}', "42161:0xab:0:p") == outputs._KICK
    nc._flush_queue = _Queue(False)  # the flusher was kicked: not again
    assert publisher._frame(wire, b'{"b":2}', "42161:0xab:1:p") == 0
    first = b"NATS/1.0\r\nNats-Msg-Id: 42161:0xab:0:p\r\n\r\n"
    second = b"NATS/1.0\r\nNats-Msg-Id: 42161:0xab:1:p\r\nNats-Expected-Last-Msg-Id: 42161:0xab:0:p\r\n\r\n"
    assert nc._pending == [hpub_cmd(wire, "", first, b'{"a":1}'), hpub_cmd(wire, "", second, b'{"b":2}')]
    assert nc._pending_data_size == sum(len(f) for f in nc._pending)
    assert [entry[2] for entry in publisher._block] == ["42161:0xab:0:p", "42161:0xab:1:p"]
    assert publisher._prev_id == "42161:0xab:1:p"


@pytest.mark.skipif(not outputs._FAST_HPUB, reason="another nats-py: the public publish() is used")
def test_frame_flush_and_fallback_decisions() -> None:
    nc = _Nc(max_pending=10)
    publisher = Publisher(_Bus(nc), 1)
    assert publisher._frame("s", b"x" * 20, "1:h:0:p") == outputs._FORCE  # over the pending limit
    down = Publisher(_Bus(_Nc(connected=False)), 1)
    assert down._frame("s", b"{}", "1:h:0:p") == outputs._FALLBACK
    assert down._block == [] and down._prev_id is None  # nothing chained: _finish publishes it
