"""``mevbot.rpc`` against anvil and a proxy that answers 429 or goes silent: failover, cooldown,
batches with per-call errors, rate limits, retries exhausted, websocket subscriptions."""

from __future__ import annotations

import asyncio
import time

import pytest
from mevbot.errors import ProviderStalledError, RateLimitedError, RpcError
from mevbot.provider_config import Provider, RetryConfig
from mevbot.rpc import HttpRpc, WsConnection
from prometheus_client import REGISTRY

from .proxy import CuttableProxy

pytestmark = pytest.mark.integration
FAST = RetryConfig(max_retries=3, retry_delay_s=0.02, backoff_multiplier=2, max_backoff_s=0.1)


def calls(provider: str, method: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("mev_rpc_calls_total", {"provider": provider, "method": method,
                                                              "outcome": outcome}) or 0.0


@pytest.mark.parametrize("fault", ["http429", "stall"])
async def test_failover_and_cooldown(fault: str, anvil) -> None:
    proxy = await CuttableProxy(anvil.port).start()
    rpc = HttpRpc([Provider(f"p-{fault}", proxy.http_url, "http", weight=100, timeout_s=0.3, rate_limit_per_s=0),
                   Provider(f"b-{fault}", anvil.http_url, "http", weight=10, timeout_s=2, rate_limit_per_s=0)],
                  retry=FAST, cooldown_s=30)
    try:
        assert int(await rpc.call("net_version")) == 42161
        assert calls(f"p-{fault}", "net_version", "ok") == 1
        await rpc.endpoints[0].client.aclose()  # fresh connections: the fault is met on a new request
        rpc.endpoints[0].client = type(rpc.endpoints[0].client)(timeout=0.3)
        proxy.set_mode(fault)
        assert int(await rpc.call("eth_chainId"), 16) == 42161  # answered by the backup
        outcome = "rate_limited" if fault == "http429" else "timeout"
        assert calls(f"p-{fault}", "eth_chainId", outcome) == 1
        assert calls(f"b-{fault}", "eth_chainId", "ok") == 1
        start = time.perf_counter()
        await rpc.call("eth_blockNumber")  # the primary cools down: straight to the backup
        assert time.perf_counter() - start < 0.25
        assert calls(f"p-{fault}", "eth_blockNumber", outcome) == 0
    finally:
        proxy.set_mode("pass")
        await rpc.close()
        await proxy.stop()


async def test_batch_keeps_per_call_errors_and_exhausted_retries_raise(anvil) -> None:
    rpc = HttpRpc([Provider("anvil-b", anvil.http_url, "http", rate_limit_per_s=0)], retry=FAST)
    try:
        out = await rpc.batch([("eth_chainId", []), ("eth_call", [{"to": "0x" + "00" * 19 + "01", "data": "0x"},
                                                                  "latest"]), ("no_such_method", [])])
        assert out[0] == "0xa4b1" and isinstance(out[2], RpcError) and not isinstance(out[1], RpcError)
        with pytest.raises(RpcError):
            await rpc.call("no_such_method")
    finally:
        await rpc.close()
    proxy = await CuttableProxy(anvil.port).start()
    proxy.set_mode("http429")
    lonely = HttpRpc([Provider("only", proxy.http_url, "http", rate_limit_per_s=0)], retry=FAST, cooldown_s=0)
    try:
        with pytest.raises(RpcError, match="every provider failed after 4 attempts"):
            await lonely.call("eth_chainId")
    finally:
        await lonely.close()
        await proxy.stop()


async def test_rate_limit_per_provider(anvil) -> None:
    rpc = HttpRpc([Provider("limited", anvil.http_url, "http", rate_limit_per_s=40)], retry=FAST)
    try:
        start = time.perf_counter()
        await asyncio.gather(*(rpc.call("eth_chainId") for _ in range(60)))
        assert time.perf_counter() - start >= 0.45  # 40 burst, then 20 more at 40/s
    finally:
        await rpc.close()


async def test_websocket_subscription_and_handshake_429(anvil, rpc) -> None:
    async with WsConnection(Provider("ws", anvil.ws_url, "ws"), ping_interval_s=0.5, ping_timeout_s=0.5) as ws:
        heads = await ws.subscribe("newHeads")
        rpc.call("evm_mine")
        note = await ws.next(5)
        assert note.subscription == heads and int(note.result["number"], 16) == int(rpc.call("eth_blockNumber"), 16)
        assert note.received_ns > 0
        with pytest.raises(ProviderStalledError):
            await ws.next(0.2)  # silence is reported, not waited on forever
    proxy = await CuttableProxy(anvil.port).start()
    proxy.set_mode("http429")
    try:
        with pytest.raises(RateLimitedError):
            await WsConnection(Provider("ws429", proxy.ws_url, "ws")).connect()
    finally:
        await proxy.stop()
