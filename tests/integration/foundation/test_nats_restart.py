"""NATS goes away mid-run and comes back: the service reconnects, readiness follows, nothing is lost.

A private nats-server (own port, own store) is stopped and restarted while a service on the real
runtime consumes a JetStream subject and a publisher keeps publishing. Every message published
before, during and after the outage must reach the handler exactly once.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from mevbot import subjects
from mevbot.nats_bus import NatsBus

from tests.fixtures.servers import service_env
from tests.integration.foundation.test_runtime_service import ECHO, candidate

pytestmark = pytest.mark.integration


def ready(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/health/ready", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


async def poll(predicate, timeout_s: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await asyncio.to_thread(predicate):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def test_service_survives_nats_restart_without_losing_messages(private_nats, redis_url, service_runner):  # type: ignore[no-untyped-def]
    child = service_runner(ECHO, service_env(private_nats.url, redis_url, ""))
    publisher = NatsBus(private_nats.url, service="publisher", chain_id=42161, ack_timeout_s=1.0)
    await publisher.connect()
    await publisher.ensure_streams()
    per_phase = 50
    try:
        # before: acked publishes
        for i in range(per_phase):
            await publisher.publish(subjects.CANDIDATES, candidate(i))
        await poll(lambda: len(seen(child)) == per_phase)

        # during: the server stops; publishes (acked and async) wait and retry
        await asyncio.to_thread(private_nats.stop)
        await poll(lambda: not ready(child.base_url))
        during = [
            asyncio.create_task(publisher.publish(subjects.CANDIDATES, candidate(i)))
            for i in range(per_phase, per_phase + per_phase // 2)
        ]
        for i in range(per_phase + per_phase // 2, 2 * per_phase):
            await publisher.publish_async(subjects.CANDIDATES, candidate(i))
        await asyncio.sleep(1.5)
        assert not any(t.done() for t in during), "an acked publish returned while the server was down"
        assert not ready(child.base_url)

        # back: same port, same store
        await asyncio.to_thread(private_nats.start)
        await asyncio.wait_for(asyncio.gather(*during), timeout=30)
        await publisher.flush(timeout_s=30)
        await poll(lambda: ready(child.base_url))

        # after
        for i in range(2 * per_phase, 3 * per_phase):
            await publisher.publish_async(subjects.CANDIDATES, candidate(i))
        await publisher.flush(timeout_s=30)
        await poll(lambda: len(seen(child)) >= 3 * per_phase)
        await asyncio.sleep(1.0)  # would a duplicate still arrive?
        got = seen(child)
        assert sorted(got) == sorted(f"cand-{i}" for i in range(3 * per_phase))
        assert len(got) == len(set(got)) == 3 * per_phase
        metrics_text = (await asyncio.to_thread(httpx.get, f"{child.base_url}/metrics")).text
        assert 'mev_bus_reconnects_total{service="echo"}' in metrics_text
    finally:
        await publisher.close()


def seen(child) -> list[str]:  # type: ignore[no-untyped-def]
    return httpx.get(f"{child.base_url}/echo/seen", timeout=2.0).json()["seen"]
