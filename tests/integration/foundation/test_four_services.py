"""The four real services on the real runtime: they start, answer /health/* and /metrics, and ride
out a NATS restart (readiness goes false then true) without losing a JetStream message.

The chain is the devnet's (anvil with the real protocol contracts, 0.25 s blocks), so ingest
publishes a block head for every block: the heads stored in the stream must be gap-free and
duplicate-free across the outage.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import pytest
from mevbot import messages as m
from mevbot import subjects
from mevbot.supervisor import SERVICES, service_available

from tests.fixtures.servers import service_env

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not all(service_available(s) for s in SERVICES), reason="a service has no __main__ yet"
    ),
]


def probe(base_url: str, path: str) -> int:
    try:
        return httpx.get(f"{base_url}{path}", timeout=2.0).status_code
    except httpx.HTTPError:
        return 0


def poll(predicate, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for: {what}")


@pytest.fixture
def devnet_env(tmp_path: Path):  # type: ignore[no-untyped-def]
    from mevbot.devnet.chain import start_devnet_chain
    from mevbot.devnet.configfile import write_devnet_files

    (tmp_path / "chain").mkdir()
    chain = start_devnet_chain(tmp_path / "chain", block_time_s=0.25)

    def build(nats_url: str, redis_url: str, namespace: str) -> dict[str, str]:
        info = chain.info
        env = write_devnet_files(
            tmp_path / "files",
            info,
            execution_enabled=False,
            nats_url=nats_url,
            redis_url=redis_url,
            namespace=namespace,
            min_profit_threshold_wei=10**15,
        )
        env.update(
            {
                "INGEST_DISCOVER_FROM_BLOCK": "0",
                "INGEST_START_BLOCK": str(info.start_block),
                "EXECUTOR_KEYS": info.bot_address,
                "EXECUTOR_NATIVE_TOKEN": info.deployment.weth.lower(),
                "EXECUTOR_CONTRACT_FILE": str(tmp_path / "executor_contract.json"),
            }
        )
        return env

    try:
        yield build
    finally:
        chain.stop()


def test_four_services_start_answer_and_survive_a_nats_restart(
    private_nats,
    redis_url,
    devnet_env,  # type: ignore[no-untyped-def]
    service_runner,
):
    namespace = f"t{uuid.uuid4().hex[:8]}"  # Redis keys; the NATS server is private
    env = devnet_env(private_nats.url, redis_url, namespace)
    # all four at once (as the supervisor does), then wait for each to be ready
    children = {
        name: service_runner(
            f"services.{name}",
            service_env(private_nats.url, redis_url, namespace, **env),
            name=name,
            wait=None,
        )
        for name in SERVICES
    }
    for name, child in children.items():
        try:
            child.wait_ready(120)
        except (RuntimeError, TimeoutError) as exc:
            log = child.log_path.read_text()[-4000:] if child.log_path and child.log_path.exists() else ""
            raise AssertionError(f"{name}: {exc}\n{log}") from exc

    for name, child in children.items():
        assert probe(child.base_url, "/health/live") == 200, name
        assert probe(child.base_url, "/health/ready") == 200, name
        poll(lambda c=child: probe(c.base_url, "/health/startup") == 200, 60, f"{name} startup")
        text = httpx.get(f"{child.base_url}/metrics", timeout=5).text
        assert f'mev_bus_connected{{service="{name}"}} 1.0' in text, name
        assert "mev_stage_latency_seconds" in text and "mev_messages_total" in text

    # NATS goes away: every service stays alive but is no longer ready
    private_nats.stop()
    for name, child in children.items():
        poll(lambda c=child: probe(c.base_url, "/health/ready") == 503, 30, f"{name} not ready")
        assert probe(child.base_url, "/health/live") == 200, name
    time.sleep(2.0)  # ~8 blocks are mined while the bus is down

    # and comes back (same port, same store): every service reconnects
    private_nats.start()
    for name, child in children.items():
        poll(lambda c=child: probe(c.base_url, "/health/ready") == 200, 60, f"{name} ready again")
        assert child.alive, f"{name} died"
    time.sleep(2.0)

    heads = asyncio.run(_stored_block_heads(private_nats.url, namespace))
    assert len(heads) >= 8, heads
    assert len(heads) == len(set(heads)), "a block head was stored twice"
    assert heads == list(range(heads[0], heads[0] + len(heads))), "a block head was lost"
    for name, child in children.items():
        text = httpx.get(f"{child.base_url}/metrics", timeout=5).text
        assert f'mev_bus_reconnects_total{{service="{name}"}} 1.0' in text, name


async def _stored_block_heads(url: str, namespace: str) -> list[int]:
    import nats

    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe(
            f"{namespace}.{subjects.BLOCK_HEAD}", stream=f"{namespace.upper()}_{subjects.STREAM_CHAIN.name}"
        )
        numbers: list[int] = []
        pending = 1
        while pending:  # ingest keeps publishing: read what was stored when we started, no more
            batch = await sub.fetch(500, timeout=5.0)
            for msg in batch:
                numbers.append(m.decode(msg.data, m.BlockHead).block_number)
                await msg.ack()
            pending = batch[-1].metadata.num_pending if numbers else 0
        return sorted(numbers)
    finally:
        await nc.close()
