"""The runtime lifecycle in-process on the in-memory bus: health, startup, fatal tasks, shutdown."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from mevbot import messages as m
from mevbot import subjects
from mevbot.bus import InMemoryBus
from mevbot.config import load_settings
from mevbot.errors import ConfigError
from mevbot.runtime import EXIT_FAILED, EXIT_OK, Service, ServiceContext, serve


class Probe(Service):
    name = "probe"
    default_port = 0

    def __init__(self, fail_task: bool = False) -> None:
        self.fail_task = fail_task
        self.heads: list[int] = []
        self.stopped = False
        self.ready_flag = False

    async def start(self, ctx: ServiceContext) -> None:
        await ctx.subscribe(subjects.BLOCK_HEAD, self.on_head)
        ctx.add_readiness_check("flag", lambda: self.ready_flag)
        if self.fail_task:
            ctx.spawn(self._explode(), name="explode")
        ctx.mark_started()

    async def on_head(self, head: m.BlockHead) -> None:
        self.heads.append(head.block_number)

    async def _explode(self) -> None:
        await asyncio.sleep(0.05)
        raise RuntimeError("background task died")

    async def stop(self, ctx: ServiceContext) -> None:
        self.stopped = True


async def _get(port: int, path: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(f"http://127.0.0.1:{port}{path}")


async def test_lifecycle_health_and_shutdown() -> None:
    settings = load_settings({"HTTP_PORT": "0", "HTTP_HOST": "127.0.0.1"})
    bus = InMemoryBus("probe")
    service = Probe()
    stop = asyncio.Event()
    ports: list[int] = []
    original_start = service.start

    async def start(ctx: ServiceContext) -> None:
        ports.append(ctx.http_port)
        await original_start(ctx)

    service.start = start  # type: ignore[method-assign]
    task = asyncio.create_task(serve(service, settings=settings, bus=bus, stop=stop, install_signals=False))
    while not ports:
        await asyncio.sleep(0.01)
    port = ports[0]
    assert (await _get(port, "/health/live")).status_code == 200
    assert (await _get(port, "/health/startup")).status_code == 200
    not_ready = await _get(port, "/health/ready")
    assert not_ready.status_code == 503 and not_ready.json()["checks"]["flag"] == "fail"
    service.ready_flag = True
    assert (await _get(port, "/health/ready")).status_code == 200
    await bus.publish(
        subjects.BLOCK_HEAD,
        m.BlockHead(chain_id=1, block_number=7, block_hash="0x", parent_hash="0x", timestamp=0),
    )
    assert service.heads == [7]
    assert "mev_stage_latency_seconds" in (await _get(port, "/metrics")).text
    stop.set()
    assert await asyncio.wait_for(task, 10) == EXIT_OK
    assert service.stopped and not bus.connected


async def test_fatal_background_task_stops_with_exit_1() -> None:
    settings = load_settings({"HTTP_PORT": "0", "HTTP_HOST": "127.0.0.1"})
    code = await asyncio.wait_for(
        serve(Probe(fail_task=True), settings=settings, bus=InMemoryBus("probe"), install_signals=False), 10
    )
    assert code == EXIT_FAILED


async def test_metrics_disabled_gives_404() -> None:
    settings = load_settings({"HTTP_PORT": "0", "HTTP_HOST": "127.0.0.1", "METRICS_ENABLED": "false"})
    service = Probe()
    ports: list[int] = []
    original_start = service.start

    async def start(ctx: ServiceContext) -> None:
        ports.append(ctx.http_port)
        await original_start(ctx)

    service.start = start  # type: ignore[method-assign]
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve(service, settings=settings, bus=InMemoryBus("probe"), stop=stop, install_signals=False)
    )
    while not ports:
        await asyncio.sleep(0.01)
    assert (await _get(ports[0], "/metrics")).status_code == 404
    stop.set()
    await task


async def test_rpc_service_without_rpc_endpoint_is_a_config_error() -> None:
    class NeedsRpc(Probe):
        uses_rpc = True

    with pytest.raises(ConfigError, match="ARBITRUM_RPC_ENDPOINT"):
        await serve(NeedsRpc(), settings=load_settings({}), bus=InMemoryBus(), install_signals=False)


async def test_the_documented_example_service_runs() -> None:
    """The example in mevbot.runtime's docstring is real code: build it and run it in-process."""
    import textwrap

    from mevbot import runtime

    block = (runtime.__doc__ or "").split("::\n", 1)[1].split("\nDelivery modes", 1)[0]
    namespace: dict[str, object] = {"__name__": "example"}
    exec(compile(textwrap.dedent(block), "runtime-example", "exec"), namespace)  # noqa: S102 - our own docstring
    service = namespace["EchoService"]()  # type: ignore[operator]
    service.uses_redis = False  # the example wants Redis; this in-process run has none
    bus = InMemoryBus("echo")
    stop = asyncio.Event()
    settings = load_settings({"HTTP_PORT": "0", "HTTP_HOST": "127.0.0.1"})
    task = asyncio.create_task(serve(service, settings=settings, bus=bus, stop=stop, install_signals=False))
    while not bus._subs:
        await asyncio.sleep(0.01)
    candidate = m.Candidate(chain_id=1, candidate_id="c", cycle_id="y", start_token="0x", hops=[], amount_in=1,
                            amount_out=2, gross_profit=1, gross_profit_wei=1, block_number=1)
    await bus.publish(subjects.CANDIDATES, candidate)
    assert [r.candidate_id for r in bus.messages(subjects.REJECTIONS)] == ["c"]
    stop.set()
    assert await asyncio.wait_for(task, 10) == EXIT_OK
