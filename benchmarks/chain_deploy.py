"""Local chain toolkit figures: anvil start, full market deploy, dump/reload, and the executor's
gas and calldata size per flash source and cycle length.

    .venv/bin/python benchmarks/chain_deploy.py [--runs 5]

Timings on a shared 2-core machine are noisy; gas and byte counts are exact.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from mevbot.chain.anvil import AnvilConfig, AnvilProcess
from mevbot.chain.arb_calldata import LenderKind
from mevbot.chain.deploy import deploy_market
from mevbot.chain.devtools import KEEPER, Leg, best_size, build_call, send, swap_v2
from mevbot.chain.rpc import RpcClient

E18 = 10**18


def _ms(xs: list[float]) -> str:
    return f"median {statistics.median(xs) * 1000:.0f} ms, min {min(xs) * 1000:.0f} ms, max {max(xs) * 1000:.0f} ms"


def bench_deploy(runs: int) -> None:
    starts, deploys, dumps, reloads = [], [], [], []
    tx_count = 0
    for _ in range(runs):
        t = time.perf_counter()
        node = AnvilProcess(AnvilConfig()).start()
        starts.append(time.perf_counter() - t)
        try:
            t = time.perf_counter()
            dep = deploy_market(node.http_url)
            deploys.append(time.perf_counter() - t)
            tx_count = dep.tx_count
            with tempfile.TemporaryDirectory() as tmp:
                t = time.perf_counter()
                state = node.dump_state(Path(tmp) / "state.json")
                dumps.append(time.perf_counter() - t)
                node.stop()
                t = time.perf_counter()
                node = AnvilProcess(AnvilConfig(block_time_s=0.25, load_state=state)).start()
                reloads.append(time.perf_counter() - t)
        finally:
            node.stop()
    print(f"anvil start:                 {_ms(starts)}")
    print(f"deploy_market ({tx_count} txs):    {_ms(deploys)}")
    print(f"dump_state:                  {_ms(dumps)}")
    print(f"restart --load-state 0.25 s: {_ms(reloads)}")


def bench_executor() -> None:
    with AnvilProcess(AnvilConfig()) as node, RpcClient(node.http_url) as rpc:
        dep = deploy_market(node.http_url)
        weth, usdc, usdt = dep.token("WETH"), dep.token("USDC"), dep.token("USDT")
        v2 = dep.v2_pair("WETH", "USDC").address
        cycles = {
            2: [Leg(v2, weth, False), Leg(dep.v3_pool("WETH", "USDC", 500).address, usdc, True)],
            3: [
                Leg(v2, weth, False),
                Leg(dep.v3_pool("USDC", "USDT", 100).address, usdc, True),
                Leg(dep.v3_pool("WETH", "USDT", 500).address, usdt, True),
            ],
        }
        assert dep.aave is not None
        lenders = {
            LenderKind.BALANCER_V2: dep.balancer_vault,
            LenderKind.AAVE_V3: dep.aave.pool,
            LenderKind.UNISWAP_V3_FLASH: dep.v3_pool("WETH", "USDC", 3000).address,
        }
        print("executor: lender, hops -> calldata bytes, gas used")
        for kind, lender in lenders.items():
            for hops, legs in cycles.items():
                snap = rpc.call("evm_snapshot")
                swap_v2(rpc, dep, v2, usdc, 600_000 * 10**6)
                size, outs, _ = best_size(rpc, dep, legs, [10 * E18], lambda a: 0)
                data = build_call(rpc, kind, lender, weth, size, legs, outs)
                receipt = send(rpc, KEEPER, dep.executor, data, gas=2_000_000)
                status = "ok" if receipt["status"] == "0x1" else "REVERTED"
                print(
                    f"  {kind.name:<17} {hops} hops -> {len(data):>3} B, {int(receipt['gasUsed'], 16):>7} gas {status}"
                )
                rpc.call("evm_revert", snap)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bench_deploy(args.runs)
    bench_executor()


if __name__ == "__main__":
    main()
