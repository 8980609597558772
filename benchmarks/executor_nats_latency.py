"""Executor benchmark through the bus: plan published on ``mev.plans`` (JetStream) -> signed
transaction handed to the RPC, measured from the executor service's own ``ExecutionResult``
stamps (``sent_ns`` minus the plan's ``validated_ns``, stamped just before publishing).

Runs the real service (``services.executor.app.ExecutorService`` under the runtime) in-process
against a private nats-server, Redis on 127.0.0.1:6379 and a private anvil with the real market.
Plans are published one at a time (each waits for its SENT result), so this is latency, not
throughput.

    .venv/bin/python benchmarks/executor_nats_latency.py [--plans 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mevbot import messages as m
from mevbot import subjects
from mevbot.bus import Mode
from mevbot.chain.anvil import AnvilConfig, AnvilProcess
from mevbot.chain.deploy import deploy_market
from mevbot.chain.rpc import RpcClient
from mevbot.nats_bus import NatsBus
from mevbot.runtime.localstack import NatsServer
from msgspec.structs import replace

from tests.integration.executor.conftest import Chain, executor_env, running_executor
from tests.integration.executor.kit import E18, build_plan, dislocate, new_keys


async def run(n_plans: int, tmp: Path) -> list[float]:
    nats = NatsServer(store_dir=tmp / "nats", log_path=tmp / "nats.log").start()
    node = AnvilProcess(AnvilConfig()).start()
    rpc = RpcClient(node.http_url)
    try:
        chain = Chain(node, rpc, deploy_market(node.http_url))
        key = new_keys(rpc, chain.dep, tmp / "ks", 1)[0]
        dislocate(rpc, chain.dep, usdc=3_000_000 * 10**6)
        plan = build_plan(rpc, chain.dep, key.address, sizes=[E18 // 10], min_out_slack_bps=3_000, min_profit=1)
        ns = f"bench{uuid.uuid4().hex[:6]}"
        env = executor_env(chain, tmp / "ks", nats.url, "redis://127.0.0.1:6379/0", ns, EXECUTOR_V2_EXACT="false",
                           LOG_LEVEL="warning")  # fmt: skip
        bus = NatsBus(nats.url, service="bench", namespace=ns, chain_id=chain.dep.chain_id)
        await bus.connect()
        await bus.ensure_streams()
        sent: dict[str, m.ExecutionResult] = {}

        async def on_result(result: m.ExecutionResult) -> None:
            if result.status is m.ExecutionStatus.SENT:
                sent[result.plan_id] = result

        await bus.subscribe(subjects.EXECUTION_RESULTS, on_result, mode=Mode.CORE, message_type=m.ExecutionResult)
        latencies_ms: list[float] = []
        async with running_executor(env):
            for i in range(n_plans + 20):
                p = replace(plan, plan_id=f"n{i}", candidate_id=uuid.uuid4().hex, deadline_block=2**39,
                            validated_ns=time.time_ns())  # fmt: skip
                await bus.publish(subjects.PLANS, p)
                deadline = time.monotonic() + 10
                while p.plan_id not in sent:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"plan {i} not sent within 10 s")
                    await asyncio.sleep(0.0005)
                if i >= 20:
                    latencies_ms.append((sent[p.plan_id].sent_ns - p.validated_ns) / 1e6)
        await bus.close()
        return latencies_ms
    finally:
        rpc.close()
        node.stop()
        nats.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plans", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lat = asyncio.run(run(args.plans, Path(tmp)))
    s = sorted(lat)
    print(f"plan published (JetStream) -> signed tx handed to RPC, {len(lat)} plans, one at a time:")
    print(f"  p50 {statistics.median(s):.2f} ms   p99 {s[min(len(s) - 1, int(0.99 * len(s)))]:.2f} ms   max {s[-1]:.2f} ms")


if __name__ == "__main__":
    main()
