"""Validator throughput and latency on anvil with the real protocol bytecode.

Three figures, each over the same approved 2-hop candidate (V2 WETH/USDC -> V3 WETH/USDC 500,
after a 600k USDC trade opened a dislocation):

* core only: the pure decision (screen + finalize) with a prepared context, no I/O;
* without simulation: the full pipeline with VALIDATOR_SIMULATE=false (head, lender balances over
  JSON-RPC, then pricing with the gas estimate);
* with simulation: the full pipeline (eth_call + eth_estimateGas of the draft, L1 quote from the
  NodeInterface stand-in, eth_call of the exact final transaction).

    .venv/bin/python benchmarks/validator_throughput.py [--n 300]

Prints validations/s and p50/p99 latency per mode, and the p99 latency simulation adds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mevbot.chain.anvil import AnvilConfig, AnvilProcess
from mevbot.chain.deploy import deploy_market
from mevbot.chain.rpc import RpcClient

from services.validator.core import SimulationOutcome, draft_plan, finalize, screen
from services.validator.reservations import Reservations
from tests.integration.validator.chainstate import candidate, mirror
from tests.integration.validator.test_validator_anvil import WIDE, dislocate, make_validator, two_hop


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def run(label: str, fn, n: int) -> list[float]:
    for _ in range(min(20, n)):
        fn()
    lat = []
    t0 = time.perf_counter()
    for _ in range(n):
        s = time.perf_counter()
        fn()
        lat.append(time.perf_counter() - s)
    total = time.perf_counter() - t0
    print(f"{label:<22} {n / total:>10,.0f} validations/s   p50 {statistics.median(lat) * 1e3:7.3f} ms"
          f"   p99 {pct(lat, 0.99) * 1e3:7.3f} ms")
    return lat


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args()
    with AnvilProcess(AnvilConfig()) as node, RpcClient(node.http_url) as rpc:
        dep = deploy_market(node.http_url)
        dislocate(rpc, dep)
        store = mirror(rpc, dep)
        c = candidate(store, dep, two_hop(dep), dep.weth)
        with_sim = make_validator(rpc, dep, WIDE, store=store)
        no_sim = make_validator(rpc, dep, dict(WIDE, VALIDATOR_SIMULATE="false"), store=store)
        assert with_sim.validate(c).plans and no_sim.validate(c).plans, "benchmark candidate must be approved"

        ctx = with_sim.context(c)
        core = with_sim.cfg.core
        l1 = with_sim.chain.l1_quote(draft_plan(screen(c, core, ctx).drafts[0], core, ctx.head_block, ctx.base_fee_wei),
                                     ctx.base_fee_wei)

        def core_only() -> None:
            d = screen(c, core, ctx).drafts[0]
            plan = draft_plan(d, core, ctx.head_block, ctx.base_fee_wei)
            sim = SimulationOutcome(True, tuple(h.amount_out for h in plan.hops), plan.expected_profit, 250_000)
            finalize(plan, sim, l1, ctx.base_fee_wei, d.native_rate, core)

        print(f"anvil {node.http_url}, candidate {len(c.hops)} hops, n={args.n} (2 shared cores: noisy)")
        a = run("core only (no I/O)", core_only, args.n * 10)
        def validate(v) -> None:
            v.reservations = Reservations()  # the same opportunity again: not a race with itself
            assert v.validate(c).plans

        b = run("without simulation", lambda: validate(no_sim), args.n)
        s = run("with simulation", lambda: validate(with_sim), args.n)
        print(f"p99 added by simulation: {(pct(s, 0.99) - pct(b, 0.99)) * 1e3:.3f} ms "
              f"(p50 {(statistics.median(s) - statistics.median(b)) * 1e3:.3f} ms); "
              f"p99 added by the whole validation vs the core: {(pct(s, 0.99) - pct(a, 0.99)) * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
