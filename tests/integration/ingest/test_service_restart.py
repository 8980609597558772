"""The real process: ``python -m services.ingest`` with the providers YAML and a chain config file.
/health/startup turns 200 after the initial snapshots; /metrics exports the runbook names; a
stop (SIGTERM) and restart resumes from the Redis checkpoint: no block lost, none published twice."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import msgspec
import pytest
from mevbot.cache import Cache
from mevbot.chain.deployment import Deployment
from mevbot.chain.rpc import RpcClient
from mevbot.chainconfig import to_json

from tests.fixtures.servers import service_env

from .harness import Traffic, chain_config, chain_logs, read_stream
from .test_exactly_once import check_exactly_once, pools

pytestmark = pytest.mark.integration


async def wait_checkpoint(
    redis_url: str, namespace: str, chain_id: int, block: int, timeout_s: float = 30
) -> None:
    cache = Cache(redis_url, name="ingest", namespace=namespace)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            raw = await cache.get(f"checkpoint:{chain_id}:ingest", local=False)
            if raw is not None and msgspec.json.decode(raw)["block_number"] >= block:
                return
            assert time.monotonic() < deadline, f"checkpoint {raw!r} never reached block {block}"
            await asyncio.sleep(0.05)
    finally:
        await cache.close()


async def test_service_process_health_metrics_and_restart_without_loss(
    anvil,
    market: Deployment,
    rpc: RpcClient,
    nats_url: str,
    redis_url: str,
    namespace: str,
    service_runner,
    tmp_path: Path,
) -> None:
    v2, v3 = pools(market)
    (tmp_path / "providers.yaml").write_text(
        "providers:\n"
        f"  - {{name: anvil-ws, endpoint: '{anvil.ws_url}', type: ws, weight: 100, timeout: 10s, rateLimit: 0}}\n"
        f"  - {{name: anvil-http, endpoint: '{anvil.http_url}', type: http, weight: 100, timeout: 10s, rateLimit: 0}}\n"
        "retry: {maxRetries: 5, retryDelay: 50ms, backoffMultiplier: 2, maxBackoff: 500ms}\n"
    )
    (tmp_path / "chain.json").write_bytes(to_json(chain_config(market)))
    env = service_env(
        nats_url,
        redis_url,
        namespace,
        PROVIDER_CONFIG_PATH=str(tmp_path / "providers.yaml"),
        CHAIN_CONFIG_PATH=str(tmp_path / "chain.json"),
        INGEST_POOLS=",".join(v2 + v3),
        INGEST_STALL_TIMEOUT_MS="1000",
        INGEST_PING_INTERVAL_MS="1000",
        LOG_LEVEL="warning",
    )
    first = int(rpc.call("eth_blockNumber"), 16) + 1
    traffic = Traffic(anvil.http_url, market, v2, v3, seed=21)

    child = service_runner("services.ingest", env, wait="startup")
    metrics = (await asyncio.to_thread(httpx.get, f"{child.base_url}/metrics")).text
    assert "mev_cache_hit_rate" in metrics and "mev_rpc_calls_total" in metrics
    assert 'mev_ingest_snapshots_total{reason="initial"}' in metrics
    await asyncio.to_thread(traffic.run, 1.5)
    await wait_checkpoint(redis_url, namespace, market.chain_id, int(rpc.call("eth_blockNumber"), 16))
    assert child.stop() == 0

    await asyncio.to_thread(traffic.run, 1.0)  # blocks mined while ingest is down
    child = service_runner("services.ingest", env, wait="startup")
    await asyncio.to_thread(traffic.run, 1.0)
    last = int(rpc.call("eth_blockNumber"), 16)
    await wait_checkpoint(redis_url, namespace, market.chain_id, last)
    assert child.stop() == 0

    published = await read_stream(nats_url, namespace)
    check_exactly_once(published, chain_logs(rpc, first, last), first, last)
