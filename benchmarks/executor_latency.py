"""Executor benchmark: plan received -> signed transaction handed to the RPC (p50/p99), and
signatures per second.

Runs the real pipeline (safety checks, Redis once-guard, fee bid, nonce, signing with the
keystore key, eth_call simulation of the signed tx, eth_sendRawTransaction) against a private
anvil (automine) with the real market and MevbotArbExecutor, and Redis on 127.0.0.1:6379.
"handed to the RPC" is stamped when ``ChainRpc.broadcast`` is entered.

    .venv/bin/python benchmarks/executor_latency.py [--plans 300] [--signatures 3000]
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

import redis.asyncio as aioredis
from eth_utils import to_checksum_address
from mevbot.chain.anvil import AnvilConfig, AnvilProcess
from mevbot.chain.arb_calldata import encode_plan
from mevbot.chain.deploy import deploy_market
from mevbot.chain.rpc import RpcClient
from mevbot.config import Secret
from mevbot.keystore import load_signer
from mevbot.messages import ExecutionStatus
from msgspec.structs import replace

from services.executor.engine import EngineConfig, Executor, KeySlot
from services.executor.lease import OnceGuard
from services.executor.rpc import ChainRpc, Endpoint
from services.executor.safety import Limits
from tests.integration.executor.kit import E18, PASSWORD, build_plan, dislocate, new_keys


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


async def bench_pipeline(node: AnvilProcess, rpc_sync: RpcClient, n_plans: int, keystore: Path) -> dict[str, float]:
    dep = deploy_market(node.http_url)
    entry = new_keys(rpc_sync, dep, keystore, 1)[0]
    signer = load_signer(entry.path, Secret(PASSWORD))
    dislocate(rpc_sync, dep, usdc=3_000_000 * 10**6)
    plan = build_plan(rpc_sync, dep, entry.address, sizes=[E18 // 10], min_out_slack_bps=3_000, min_profit=1)
    rpc = ChainRpc([Endpoint("anvil", node.http_url)])
    stamps: dict[str, int] = {}
    original = rpc.broadcast

    async def stamped(raw: bytes):  # type: ignore[no-untyped-def]
        stamps["handed"] = time.perf_counter_ns()
        return await original(raw)

    rpc.broadcast = stamped  # type: ignore[method-assign]
    redis = aioredis.Redis.from_url("redis://127.0.0.1:6379/0", decode_responses=True)
    results = []

    async def publish(result):  # type: ignore[no-untyped-def]
        results.append(result)

    config = EngineConfig(
        chain_id=dep.chain_id, contract=dep.executor or "", execution_enabled=True, v2_exact=False,
        limits=Limits(chain_id=dep.chain_id, max_position_size_wei=10**24, min_profit_threshold_wei=0,
                      max_plan_age_ns=0, native_token=dep.weth),
    )  # fmt: skip
    engine = Executor(config, rpc, [KeySlot(signer)], publish,
                      guard=OnceGuard(redis, ttl_s=600, prefix=f"bench:{uuid.uuid4().hex}"))  # fmt: skip
    await engine.head(refresh=True)
    poller = asyncio.create_task(engine.poll_head(0.1))
    latencies_ms, sim_ms = [], []
    try:
        for i in range(n_plans + 20):
            p = replace(plan, plan_id=f"b{i}", candidate_id=uuid.uuid4().hex, deadline_block=2**39)
            stamps.clear()
            t0 = time.perf_counter_ns()
            result = await engine.handle_plan(p)
            if result.status is not ExecutionStatus.SENT:
                raise SystemExit(f"plan {i} not sent: {result.status} {result.reason} {result.detail}")
            if i >= 20:  # warm-up excluded
                latencies_ms.append((stamps["handed"] - t0) / 1e6)
        await engine.wait_trackers(30)
        # eth_call round trip of the simulation alone, for the breakdown
        data = "0x" + encode_plan(plan, v2_exact=False).hex()
        for _ in range(100):
            t0 = time.perf_counter_ns()
            try:
                await rpc.call("eth_call", {"from": signer.address, "to": dep.executor, "data": data}, "latest")
            except Exception:  # noqa: BLE001,S110 - the state moved; only the round trip matters here
                pass
            sim_ms.append((time.perf_counter_ns() - t0) / 1e6)
    finally:
        poller.cancel()
        await rpc.close()
        await redis.aclose()
    included = sum(r.status is ExecutionStatus.INCLUDED for r in results)
    return {
        "plans": n_plans, "included": included,
        "p50_ms": statistics.median(latencies_ms), "p99_ms": pct(latencies_ms, 0.99),
        "max_ms": max(latencies_ms), "sim_p50_ms": statistics.median(sim_ms),
    }  # fmt: skip


def bench_signatures(keystore: Path, n: int, contract: str, data: bytes) -> tuple[float, float]:
    """(Signer's fast path, eth-account's sign_transaction) signatures per second."""
    from eth_account import Account
    from mevbot.keystore import list_keystores

    signer = load_signer(list_keystores(keystore)[0].path, Secret(PASSWORD))
    tx = {"type": 2, "chainId": 42161, "nonce": 0, "to": to_checksum_address(contract), "value": 0, "data": data,
          "gas": 500_000, "maxFeePerGas": 10**9, "maxPriorityFeePerGas": 10**8}  # fmt: skip
    rates = []
    reference = Account.create()  # a throw-away key, for the library's own figure
    for sign in (signer.sign_transaction, reference.sign_transaction):
        t0 = time.perf_counter()
        for i in range(n):
            tx["nonce"] = i
            sign(tx)
        rates.append(n / (time.perf_counter() - t0))
    return rates[0], rates[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plans", type=int, default=300)
    parser.add_argument("--signatures", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, AnvilProcess(AnvilConfig()) as node, RpcClient(node.http_url) as rpc:
        keystore = Path(tmp) / "ks"
        figures = asyncio.run(bench_pipeline(node, rpc, args.plans, keystore))
        sig_s = bench_signatures(keystore, args.signatures, "0x" + "ab" * 20, b"\x00" * 190)
    print(f"plan received -> signed tx handed to RPC over {figures['plans']} plans "
          f"(all sent, {figures['included']} included):")
    print(f"  p50 {figures['p50_ms']:.2f} ms   p99 {figures['p99_ms']:.2f} ms   max {figures['max_ms']:.2f} ms")
    print(f"  of which the eth_call simulation round trip: p50 {figures['sim_p50_ms']:.2f} ms")
    print(f"signatures/s (EIP-1559, 190-byte calldata): Signer (keystore.sign_eip1559, coincurve) {sig_s[0]:,.0f}; "
          f"eth-account sign_transaction {sig_s[1]:,.0f}")


if __name__ == "__main__":
    main()
