"""AMM benchmark on the degenbot peer cases (/work/shared/peers/degenbot/cases.json).

Prints, side by side with degenbot's recorded figures (results-0.5.0.json, results-0.6.0a17.json,
measured on this machine class; degenbot itself is not run here: it needs Python >= 3.12):

* exact-input quotes/s: V2, and V3 with 0, 1, 5 initialized ticks crossed, "cold" (the pool's
  step cache dropped before every timed call, outside the timing: every call walks its ticks)
  and "warm" (the same call repeated, as degenbot's warm mode);
* median and p90 time to size each of the 4 cycles (2-hop and 3-hop), cold (caches dropped
  before each solve) and warm, and the profit against the reference optimum;
* that every answer is identical to degenbot's (amount_out, end tick, end sqrtPriceX96).

Run: ``.venv/bin/python benchmarks/amm_bench.py [--reps N] [--json out.json]``. To compare with
degenbot run live in the same session (it needs Python >= 3.12: pyenv's 3.12.1 / 3.13.0 here),
run its ``bench_degenbot.py --out r05.json`` / ``--out r06.json`` first (see the peers README) and
pass ``--ref05 r05.json --ref06 r06.json``. One process, one
core; the machine is shared, so compare figures taken in the same session.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "libs" / "common")]

from mevbot.amm.cycle import optimize_cycle
from mevbot.amm.loaders import pool_from_dict

PEERS = Path("/work/shared/peers/degenbot")


def drop_caches(pool) -> None:
    if hasattr(pool, "_steps_version"):
        pool._steps_version = -1
        # (else the next cache would take the dropped one's steps over, see v3_steps._take_over)
        pool._step_caches = [None, None]
        pool._prev_step_caches = [None, None]
    pool._curve_version = -1


def time_calls(calls, reps: int, cold: bool) -> dict:
    samples = []
    for pool, zfo, amount in calls:
        fn = pool.quote_exact_in
        fn(zfo, amount)
        for _ in range(reps):
            if cold:
                drop_caches(pool)
            t0 = time.perf_counter_ns()
            fn(zfo, amount)
            samples.append(time.perf_counter_ns() - t0)
    mean = statistics.fmean(samples)
    return {"n": len(samples), "quotes_per_s": round(1e9 / mean), "median_ns": int(statistics.median(samples)),
            "p90_ns": int(sorted(samples)[int(0.9 * len(samples))])}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=100, help="timed calls per V3 case and mode")
    ap.add_argument("--cycle-runs", type=int, default=50)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--ref05", type=Path, default=PEERS / "results-0.5.0.json",
                    help="degenbot 0.5.0 results (default: the recorded run; pass a live run's --out)")
    ap.add_argument("--ref06", type=Path, default=PEERS / "results-0.6.0a17.json",
                    help="degenbot 0.6.0a17 results (default: the recorded run)")
    args = ap.parse_args()
    cases = json.loads((PEERS / "cases.json").read_text())
    ref05 = json.loads(args.ref05.read_text())
    ref06 = json.loads(args.ref06.read_text())
    print(f"degenbot figures from {args.ref05} and {args.ref06}")
    t0 = time.perf_counter()
    pools = {pid: pool_from_dict(d) for pid, d in cases["pools"].items()}
    build_s = time.perf_counter() - t0

    # identical answers ---------------------------------------------------------------------------
    expected = {c["id"]: c for c in ref05["per_case"]["v3"]}
    mismatches = 0
    for q in cases["v3_quotes"]:
        r = pools[q["pool"]].simulate_exact_in(q["zero_for_one"], int(q["amount_in"]))
        e = expected[q["id"]]
        mismatches += (r.amount_out, r.tick_after, r.sqrt_price_x96_after) != (
            int(e["amount_out"]), e["end_tick"], int(e["end_sqrt_price_x96"]))
    expected2 = {c["id"]: c for c in ref05["per_case"]["v2"]}
    for q in cases["v2_quotes"]:
        out = pools[q["pool"]].quote_exact_in(q["zero_for_one"], int(q["amount_in"]))
        mismatches += out != int(expected2[q["id"]]["amount_out"])

    report: dict = {"pool_build_s": round(build_s, 4), "mismatches": mismatches, "v3": {}, "cycles": {}}
    print(f"pools built in {build_s * 1e3:.1f} ms; mismatches vs degenbot on 192 V3 + 24 V2 quotes: {mismatches}")

    # V2 quotes -----------------------------------------------------------------------------------
    v2_calls = [(pools[q["pool"]], q["zero_for_one"], int(q["amount_in"])) for q in cases["v2_quotes"]]
    passes = 20_000
    t0 = time.perf_counter_ns()
    for _ in range(passes):
        for pool, zfo, amount in v2_calls:
            pool.quote_exact_in(zfo, amount)
    v2_qps = round(passes * len(v2_calls) * 1e9 / (time.perf_counter_ns() - t0))
    report["v2_quotes_per_s"] = v2_qps
    print(f"\nV2 exact-input quotes/s: ours {v2_qps:,} | degenbot 0.5.0 {ref05['v2_quotes']['quotes_per_s']:,}"
          f" | 0.6.0a17 (Rust) {ref06['v2_quotes']['quotes_per_s']:,}")

    # V3 quotes -----------------------------------------------------------------------------------
    print("\nV3 exact-input quotes/s (both directions)   ours cold | ours warm | degenbot 0.5.0 cold | 0.5.0 warm"
          " | 0.6.0a17")
    for k in (0, 1, 5):
        calls = [(pools[q["pool"]], q["zero_for_one"], int(q["amount_in"]))
                 for q in cases["v3_quotes"] if q["ticks_to_cross"] == k]
        cold = time_calls(calls, args.reps, cold=True)
        warm = time_calls(calls, args.reps, cold=False)
        key = f"{k}_ticks_both"
        report["v3"][key] = {"cold": cold, "warm": warm}
        print(f"  {k} ticks crossed: {cold['quotes_per_s']:>10,} | {warm['quotes_per_s']:>10,} | "
              f"{ref05['v3_quotes']['cold'][key]['quotes_per_s']:>10,} | "
              f"{ref05['v3_quotes']['warm'][key]['quotes_per_s']:>10,} | "
              f"{ref06['v3_quotes']['cold'][key]['quotes_per_s']:>10,}"
              f"   (median ns cold {cold['median_ns']:,} = {1e9 / cold['median_ns']:,.0f}/s, "
              f"warm {warm['median_ns']:,} = {1e9 / warm['median_ns']:,.0f}/s)")

    # cycles --------------------------------------------------------------------------------------
    print("\ncycle sizing, ms     ours cold median/p90 | ours warm median | 0.5.0 cold median | 0.6.0a17 cold median"
          " | profit - reference (wei)")
    for cycle in cases["cycles"]:
        hops = []
        token = cycle["input_token"]
        for pid in cycle["pools"]:
            pool = pools[pid]
            zfo = pool.token0 == token
            hops.append((pool, zfo))
            token = pool.token1 if zfo else pool.token0
        max_input = int(cycle["max_input"])
        cold, warm = [], []
        result = None
        for _ in range(args.cycle_runs):
            for pool, _z in hops:
                drop_caches(pool)
            t0 = time.perf_counter_ns()
            result = optimize_cycle(hops, max_input)
            cold.append(time.perf_counter_ns() - t0)
        for _ in range(args.cycle_runs):
            t0 = time.perf_counter_ns()
            result = optimize_cycle(hops, max_input)
            warm.append(time.perf_counter_ns() - t0)
        ref = ref05["cycles"][cycle["id"]]
        delta = result.profit - int(ref["reference_optimum"]["profit"])
        entry = {"hops": len(hops), "input_amount": str(result.amount_in), "profit": str(result.profit),
                 "profit_minus_reference": str(delta), "amounts": [str(a) for a in result.amounts],
                 "cold_median_ms": statistics.median(cold) / 1e6,
                 "cold_p90_ms": sorted(cold)[int(0.9 * len(cold))] / 1e6,
                 "warm_median_ms": statistics.median(warm) / 1e6}
        report["cycles"][cycle["id"]] = entry
        print(f"  {cycle['id']:<18} {entry['cold_median_ms']:8.3f} / {entry['cold_p90_ms']:7.3f} | "
              f"{entry['warm_median_ms']:8.3f} | {ref['cold']['median_ms']:8.3f} | "
              f"{ref06['cycles'][cycle['id']]['cold']['median_ms']:8.3f} | {delta:+,}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
