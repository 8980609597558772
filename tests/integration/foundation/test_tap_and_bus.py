"""The tap, the bus delivery modes and the cache against real NATS and Redis."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import pytest
from mevbot import messages as m
from mevbot import subjects
from mevbot.bus import Mode
from mevbot.cache import Cache
from mevbot.nats_bus import NatsBus

pytestmark = pytest.mark.integration

META = m.EventMeta(
    block_number=7, block_hash="0x" + "cd" * 32, tx_hash="0x" + "ef" * 32, tx_index=0, log_index=3
)


def swap(i: int, pool: str = "0x" + "ab" * 20) -> m.V3Swap:
    return m.V3Swap(
        chain_id=42161,
        pool=pool,
        meta=META,
        sender="0x" + "11" * 20,
        recipient="0x" + "22" * 20,
        amount0=-(2**255),
        amount1=2**255 - 1 - i,
        sqrt_price_x96=2**160 - 1,
        liquidity=2**128 - 1,
        tick=-887272,
    )


async def connected(url: str, ns: str, service: str, replica: str = "r0") -> NatsBus:
    bus = NatsBus(url, service=service, namespace=ns, chain_id=42161, replica_id=replica)
    await bus.connect()
    await bus.ensure_streams()
    return bus


async def until(predicate, timeout_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_tap_shows_a_published_event(nats_url: str, namespace: str) -> None:
    env = {**os.environ, "NATS_URL": nats_url}
    tap = subprocess.Popen(  # noqa: ASYNC220 - spawning does not block; reads go through to_thread
        [
            sys.executable,
            "-m",
            "mevbot.cli",
            "tap",
            "mev.events.>",
            "--namespace",
            namespace,
            "--count",
            "1",
            "--compact",
            "--filter",
            "type=v3_swap",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**env, "COLUMNS": "400"},
        text=True,
    )
    try:
        assert tap.stderr is not None
        line = await asyncio.to_thread(tap.stderr.readline)  # "tapping ..." once subscribed
        assert "tapping mev.events.>" in line, line
        bus = await connected(nats_url, namespace, "ingest")
        # a block head does not match the filter; the swap does
        await bus.publish(
            subjects.BLOCK_HEAD,
            m.BlockHead(chain_id=42161, block_number=1, block_hash="0x", parent_hash="0x", timestamp=0),
        )
        await bus.publish(subjects.event_subject(swap(0)), swap(0))
        await bus.close()
        out, err = await asyncio.to_thread(tap.communicate, timeout=20)
    finally:
        if tap.poll() is None:
            tap.kill()
    assert tap.returncode == 0, err
    assert "mev.events.v3_swap v3_swap" in out
    assert str(-(2**255)) in out and str(2**160 - 1) in out  # big ints printed exactly
    assert "block_head" not in out


async def test_replica_mode_copies_and_shared_mode_splits(nats_url: str, namespace: str) -> None:
    publisher = await connected(nats_url, namespace, "ingest")
    detectors = [await connected(nats_url, namespace, "detector", f"d{i}") for i in range(2)]
    validators = [await connected(nats_url, namespace, "validator", f"v{i}") for i in range(2)]
    seen_d: list[list[int]] = [[], []]
    seen_v: list[list[int]] = [[], []]
    for i, bus in enumerate(detectors):
        await bus.subscribe(subjects.EVENTS_PREFIX + ".>", _amounts(seen_d[i]), mode=Mode.REPLICA, batch=8)
    for i, bus in enumerate(validators):
        await bus.subscribe(subjects.EVENTS_PREFIX + ".>", _amounts(seen_v[i]), mode=Mode.SHARED, batch=8)
    n = 200
    try:
        for i in range(n):
            await publisher.publish_async(subjects.event_subject(swap(i)), swap(i))
        await publisher.flush(timeout_s=20)
        expected = [2**255 - 1 - i for i in range(n)]
        await until(lambda: len(seen_d[0]) == len(seen_d[1]) == n and len(seen_v[0]) + len(seen_v[1]) == n)
        assert seen_d[0] == seen_d[1] == expected  # every replica, in stream order
        assert sorted(seen_v[0] + seen_v[1], reverse=True) == expected  # each exactly once
        assert seen_v[0] and seen_v[1], "shared consumer did not split the work"
    finally:
        for bus in (publisher, *detectors, *validators):
            await bus.close()


async def test_durable_consumer_resumes_where_it_stopped(nats_url: str, namespace: str) -> None:
    publisher = await connected(nats_url, namespace, "detector")
    got: list[int] = []
    first = await connected(nats_url, namespace, "validator")
    await first.subscribe(subjects.CANDIDATES, _ids(got), mode=Mode.SHARED)
    for i in range(5):
        await publisher.publish(subjects.CANDIDATES, _candidate(i))
    await until(lambda: len(got) == 5)
    await first.close()
    for i in range(5, 10):  # published while no validator runs
        await publisher.publish(subjects.CANDIDATES, _candidate(i))
    second = await connected(nats_url, namespace, "validator")
    await second.subscribe(subjects.CANDIDATES, _ids(got), mode=Mode.SHARED)
    await until(lambda: len(got) == 10)
    await asyncio.sleep(0.3)
    assert got == list(range(10))
    await second.close()
    await publisher.close()


async def test_undecodable_payload_is_dead_lettered_not_lost(nats_url: str, namespace: str) -> None:
    bus = await connected(nats_url, namespace, "validator")
    handled: list[int] = []
    letters: list[m.DeadLetter] = []
    await bus.subscribe(subjects.CANDIDATES, _ids(handled), mode=Mode.SHARED)
    await bus.subscribe(subjects.dlq_subject("validator"), _collect(letters), mode=Mode.SHARED)
    await bus.nc.publish(bus.wire(subjects.CANDIDATES), b'{"type":"candidate","chain_id":42161}')
    await bus.publish(subjects.CANDIDATES, _candidate(1))
    await until(lambda: handled == [1] and len(letters) == 1)
    assert letters[0].error_code == "wire" and letters[0].chain_id == 42161
    assert letters[0].payload == '{"type":"candidate","chain_id":42161}'
    await bus.close()


async def test_cache_lru_in_front_of_redis(redis_url: str, namespace: str) -> None:
    writer = Cache(redis_url, name="pools", namespace=namespace)
    reader = Cache(redis_url, name="pools", namespace=namespace)
    try:
        assert await reader.ping()
        assert await reader.get("0xpool") is None
        await writer.set("0xpool", b"uniswap_v3", ttl_s=60)
        assert await reader.get("0xpool") == b"uniswap_v3"  # from Redis
        assert await reader.get("0xpool") == b"uniswap_v3"  # from the LRU
        assert (reader.hits, reader.misses) == (2, 1) and reader.hit_rate == pytest.approx(2 / 3)
        await writer.set("a", b"1")
        await writer.set("b", b"2")
        assert await reader.get_many(["a", "b", "c", "0xpool"]) == {
            "a": b"1",
            "b": b"2",
            "0xpool": b"uniswap_v3",
        }
        assert await writer.set_if_absent("plan-1", b"x", ttl_s=5) is True
        assert await reader.set_if_absent("plan-1", b"y", ttl_s=5) is False
        await writer.delete("a")
        assert await writer.get("a") is None
    finally:
        await writer.close()
        await reader.close()
    from mevbot.metrics import CACHE_HIT_RATE

    assert CACHE_HIT_RATE.labels("pools")._value.get() > 0


async def test_claim_all_is_all_or_nothing_under_races(redis_url: str, namespace: str) -> None:
    """Two replicas claiming the same pools in opposite orders: exactly one wins every round (one
    SET NX per key could let each take one pool and both give up)."""
    a = Cache(redis_url, name="claims", namespace=namespace)
    b = Cache(redis_url, name="claims", namespace=namespace)
    try:
        for round_ in range(50):
            keys = [f"r{round_}:pool-{i}" for i in range(4)]
            answers = await asyncio.gather(
                a.claim_all(keys, b"a", ttl_s=5), b.claim_all(list(reversed(keys)), b"b", ttl_s=5)
            )
            assert sorted(x is None for x in answers) == [False, True], answers
            winner = b"a" if answers[0] is None else b"b"
            assert await a.get_many(keys, local=False) == {k: winner for k in keys}
        # a key held by someone else: nothing is set, the held key is named
        await a.set("held", b"x", local=False)
        assert await b.claim_all(["free-1", "held", "free-2"], b"b", ttl_s=5) == "held"
        assert await b.get_many(["free-1", "free-2"], local=False) == {}
        assert await b.claim_all([], b"b") is None
        assert await b.claim_all(["no-ttl"], b"b") is None and await b.get("no-ttl", local=False) == b"b"
    finally:
        await a.close()
        await b.close()


async def test_cache_down_is_a_cache_error_and_not_ready() -> None:
    from mevbot.errors import CacheError
    from mevbot.runtime.localstack import free_port

    cache = Cache(f"redis://127.0.0.1:{free_port()}/0", socket_timeout_s=0.5)
    assert await cache.ping() is False
    with pytest.raises(CacheError):
        await cache.get("x")
    await cache.close()


def _candidate(i: int) -> m.Candidate:
    return m.Candidate(
        chain_id=42161,
        candidate_id=str(i),
        cycle_id="c",
        start_token="0x",
        hops=[],
        amount_in=1,
        amount_out=2,
        gross_profit=1,
        gross_profit_wei=1,
        block_number=i,
    )


def _amounts(target: list[int]):  # type: ignore[no-untyped-def]
    async def handler(message: m.V3Swap) -> None:
        target.append(message.amount1)

    return handler


def _ids(target: list[int]):  # type: ignore[no-untyped-def]
    async def handler(message: m.Candidate) -> None:
        target.append(int(message.candidate_id))

    return handler


def _collect(target: list):  # type: ignore[no-untyped-def,type-arg]
    async def handler(message) -> None:  # type: ignore[no-untyped-def]
        target.append(message)

    return handler
