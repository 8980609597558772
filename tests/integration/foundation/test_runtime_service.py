"""A service on the real runtime, as a subprocess, against real NATS and Redis."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from mevbot import messages as m
from mevbot import subjects
from mevbot.bus import Mode
from mevbot.nats_bus import NatsBus

from tests.fixtures.servers import service_env

pytestmark = pytest.mark.integration

ECHO = "tests.integration.foundation.echo_service"


def candidate(i: int, cycle_id: str = "c") -> m.Candidate:
    return m.Candidate(
        chain_id=42161,
        candidate_id=f"cand-{i}",
        cycle_id=cycle_id,
        start_token="0x" + "11" * 20,
        hops=[],
        amount_in=2**256 - 1,
        amount_out=2**256 - 1,
        gross_profit=i,
        gross_profit_wei=i,
        block_number=i,
    )


async def wait_for(predicate, timeout_s: float = 15.0, interval_s: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(interval_s)
    raise AssertionError("condition not met in time")


def test_health_endpoints_and_metrics(nats_url, redis_url, namespace, service_runner):  # type: ignore[no-untyped-def]
    child = service_runner(ECHO, service_env(nats_url, redis_url, namespace))
    base = child.base_url
    live = httpx.get(f"{base}/health/live")
    assert live.status_code == 200 and live.json()["status"] == "healthy"
    ready = httpx.get(f"{base}/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"nats": "ok", "redis": "ok", "started": "ok", "warm": "ok"}
    assert httpx.get(f"{base}/health/startup").status_code == 200
    text = httpx.get(f"{base}/metrics").text
    for name in (
        "mev_opportunities_detected_total",
        "mev_cache_hit_rate",
        "mev_rpc_calls_total",
        "mev_executions_total",
        "mev_stage_latency_seconds",
        "mev_bus_connected",
    ):
        assert name in text, name
    assert 'mev_bus_connected{service="echo"} 1.0' in text


def test_not_ready_until_the_service_start_returned(nats_url, redis_url, namespace, service_runner):  # type: ignore[no-untyped-def]
    """/health/ready answered 200 as soon as NATS was connected, while start() was still running
    (the detector reported ready with 759-1,259 of 2,000 pools replayed, 3 times in 12 under load)."""
    child = service_runner(ECHO, {**service_env(nats_url, redis_url, namespace), "ECHO_START_DELAY_S": "3"},
                           wait="live")
    base = child.base_url
    deadline = time.monotonic() + 2.0
    seen = []
    while time.monotonic() < deadline:
        response = httpx.get(f"{base}/health/ready")
        seen.append(response.status_code)
        if response.status_code == 503 and response.json()["checks"].get("nats") == "ok":
            break  # connected, start() still running: not ready
        time.sleep(0.05)
    assert 503 in seen and 200 not in seen
    assert httpx.get(f"{base}/health/ready").json()["checks"]["started"] == "fail"
    child.wait_ready(15.0)
    assert httpx.get(f"{base}/health/ready").json()["checks"]["started"] == "ok"


async def test_handles_publishes_and_dead_letters(nats_url, redis_url, namespace, service_runner):  # type: ignore[no-untyped-def]
    child = service_runner(ECHO, service_env(nats_url, redis_url, namespace))
    bus = NatsBus(nats_url, service="probe", namespace=namespace, chain_id=42161)
    await bus.connect()
    rejections: list[m.Rejection] = []
    letters: list[m.DeadLetter] = []
    await bus.subscribe(subjects.REJECTIONS, _append(rejections), mode=Mode.CORE)
    await bus.subscribe(subjects.dlq_subject("echo"), _append(letters), mode=Mode.SHARED)
    try:
        await bus.publish(subjects.CANDIDATES, candidate(1))
        await bus.publish(subjects.CANDIDATES, candidate(2, cycle_id="boom"))
        await bus.publish(subjects.CANDIDATES, candidate(3))
        await wait_for(lambda: len(rejections) == 2 and len(letters) == 1)
        assert [r.candidate_id for r in rejections] == ["cand-1", "cand-3"]
        letter = letters[0]
        assert letter.service == "echo" and letter.subject == subjects.CANDIDATES
        assert letter.error_code == "ValueError" and "boom on purpose" in letter.error
        assert m.decode(letter.payload, m.Candidate) == candidate(2, cycle_id="boom")  # raw payload kept
        seen = (await asyncio.to_thread(httpx.get, f"{child.base_url}/echo/seen")).json()["seen"]
        assert seen == ["cand-1", "cand-3"]
        metrics_text = (await asyncio.to_thread(httpx.get, f"{child.base_url}/metrics")).text
        assert 'mev_dead_letters_total{reason="ValueError",service="echo"} 1.0' in metrics_text
    finally:
        await bus.close()


def test_sigterm_drains_and_exits_zero(nats_url, redis_url, namespace, service_runner):  # type: ignore[no-untyped-def]
    child = service_runner(ECHO, service_env(nats_url, redis_url, namespace))
    assert child.stop(timeout_s=15) == 0
    assert "stopped" in child.log_path.read_text()


def test_bad_config_stops_startup_naming_the_key(nats_url, redis_url, namespace, service_runner):  # type: ignore[no-untyped-def]
    env = service_env(nats_url, redis_url, namespace, EXECUTION_ENABLED="maybe")
    child = service_runner(ECHO, env, wait=None)
    assert child.proc is not None
    assert child.proc.wait(timeout=30) == 2
    assert "EXECUTION_ENABLED" in child.log_path.read_text()


def _append(target: list):  # type: ignore[no-untyped-def,type-arg]
    async def handler(message) -> None:  # type: ignore[no-untyped-def]
        target.append(message)

    return handler
