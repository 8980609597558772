"""Fixtures of the executor's integration tests: a private anvil with the real market and our
contract, the executor service run in-process on real NATS + Redis, and a client bus that
publishes plans and collects ``ExecutionResult``s."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from mevbot import messages as m
from mevbot import subjects
from mevbot.bus import Mode
from mevbot.chain.anvil import AnvilConfig, AnvilProcess
from mevbot.chain.deploy import deploy_market
from mevbot.chain.deployment import Deployment
from mevbot.chain.rpc import RpcClient
from mevbot.config import load_settings
from mevbot.nats_bus import NatsBus
from mevbot.runtime import serve

from services.executor.app import ExecutorService
from services.executor.settings import load_executor_settings
from tests.integration.executor.kit import PASSWORD, new_keys, wait_for


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A JetStream server of our own for the executor's tests (overrides the shared one): the
    shared server's storage is reserved by everyone's streams, and these tests must not fail
    because another suite left streams behind."""
    from mevbot.runtime.localstack import NatsServer

    directory = tmp_path_factory.mktemp("executor-nats")
    server = NatsServer(store_dir=directory / "store", log_path=directory / "nats.log").start()
    try:
        yield server.url
    finally:
        server.stop()


@dataclass
class Chain:
    node: AnvilProcess
    rpc: RpcClient
    dep: Deployment


@pytest.fixture(scope="session")
def xchain() -> Iterator[Chain]:
    node = AnvilProcess(AnvilConfig()).start()
    rpc = RpcClient(node.http_url)
    try:
        yield Chain(node, rpc, deploy_market(node.http_url))
    finally:
        rpc.close()
        node.stop()


def executor_env(
    chain: Chain, keystore: Path, nats_url: str, redis_url: str, namespace: str, **extra: str
) -> dict[str, str]:
    env = {
        "ARBITRUM_RPC_ENDPOINT": chain.node.http_url,
        "NATS_URL": nats_url,
        "REDIS_URL": redis_url,
        "MEV_NAMESPACE": namespace,
        "HTTP_PORT": "0",
        "HTTP_HOST": "127.0.0.1",
        "MEV_BOT_ENCRYPTION_KEY": PASSWORD,
        "MEV_BOT_KEYSTORE_DIR": str(keystore),
        "EXECUTOR_CONTRACT_ADDRESS": chain.dep.executor or "",
        "EXECUTOR_NATIVE_TOKEN": chain.dep.weth,
        "EXECUTION_ENABLED": "true",
        "MIN_PROFIT_THRESHOLD": "0",
        "MAX_POSITION_SIZE": str(10**24),
        "EXECUTOR_MAX_PLAN_AGE_MS": "0",
        "EXECUTOR_LEASE_TTL_MS": "2000",
        "EXECUTOR_RECEIPT_POLL_MS": "10",
        "LOG_LEVEL": "info",
    }
    env.update(extra)
    return env


@dataclass
class Running:
    service: ExecutorService
    stop: asyncio.Event
    task: asyncio.Task[int]

    @property
    def port(self) -> int:
        return self.service.ctx.http_port


@contextlib.asynccontextmanager
async def running_executor(env: dict[str, str], *, ready: bool = True) -> AsyncIterator[Running]:
    service = ExecutorService(load_executor_settings(env))
    stop = asyncio.Event()
    task = asyncio.create_task(serve(service, settings=load_settings(env), stop=stop, install_signals=False))
    run = Running(service, stop, task)
    try:
        if ready:
            await wait_for(
                lambda: task.done() or (hasattr(service, "ctx") and service.ctx.health.started), 30
            )
            if task.done():
                raise AssertionError(f"executor exited with {task.result()}")
        yield run
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@dataclass
class Client:
    bus: NatsBus
    results: list[m.ExecutionResult] = field(default_factory=list)

    async def send(self, plan: m.ExecutionPlan) -> None:
        await self.bus.publish(subjects.PLANS, plan)

    def for_plan(self, plan_id: str) -> list[m.ExecutionResult]:
        return [r for r in self.results if r.plan_id == plan_id]

    async def final(self, plan_id: str, timeout_s: float = 20.0) -> m.ExecutionResult:
        """The last result of a plan: included / reverted / dropped / failed / dry_run."""
        done = {m.ExecutionStatus.INCLUDED, m.ExecutionStatus.REVERTED, m.ExecutionStatus.DROPPED,
                m.ExecutionStatus.FAILED, m.ExecutionStatus.DRY_RUN}  # fmt: skip
        return await wait_for(
            lambda: next((r for r in self.for_plan(plan_id) if r.status in done), None), timeout_s
        )


@pytest.fixture
async def client(nats_url: str, namespace: str) -> AsyncIterator[Client]:
    bus = NatsBus(nats_url, service="executor-test", namespace=namespace, chain_id=42161)
    await bus.connect()
    await bus.ensure_streams()
    c = Client(bus)

    async def on_result(result: m.ExecutionResult) -> None:
        c.results.append(result)

    await bus.subscribe(subjects.EXECUTION_RESULTS, on_result, mode=Mode.CORE, message_type=m.ExecutionResult)
    try:
        yield c
    finally:
        await bus.close()


@pytest.fixture
def keystore(tmp_path: Path) -> Path:
    return tmp_path / "keystore"


@pytest.fixture
def one_key(xchain: Chain, keystore: Path):  # type: ignore[no-untyped-def]
    return new_keys(xchain.rpc, xchain.dep, keystore, 1)[0]
