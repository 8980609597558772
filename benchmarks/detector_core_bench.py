"""The detector's pure core without NATS: where the time goes, per stage (one thread, in process).

Prints, for the Arbitrum pool set and the 2,000-pool synthetic market:
  * index build time and cycle count,
  * decode + apply throughput (JSON bytes -> message -> exact state update -> dirty cycles),
  * screening cost per dirty cycle (marginal-rate product),
  * exact sizing time per profitable cycle (median, p99) by hop count, for ``fast`` (the hot path:
    no staircase polish, bounded dust search) and ``full`` sizing (``DETECTOR_SIZING``),
  * evaluate-on-drain: apply one event and evaluate what it dirtied (what the service does for
    each event of a steady stream), per event p50 / p99 / p99.9 / max and candidates per event,
  * RSS of this process after loading the market.

    .venv/bin/python benchmarks/detector_core_bench.py
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mevbot import messages as m
from mevbot.bus import Decoders

from benchmarks.detector_bench import arbitrum_snapshots, subject_of
from services.detector.core import DetectorCore
from services.detector.evaluate import EvaluationStats, evaluate_cycle, marginal_rate_product
from services.detector.synthetic import BASE_TOKENS, WETH, Arbitrageur, SyntheticMarket


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


def bench(name: str, market: SyntheticMarket, n_blocks: int, block_events: int, size: tuple[float, float]) -> dict:
    market.equilibrate()
    core = DetectorCore(chain_id=42161, detector_id="bench", base_tokens=BASE_TOKENS, native_token=WETH)
    t = time.perf_counter()
    for snap in market.snapshots:
        core.on_snapshot(snap, live=False)
    out = {"market": name, "pools": len(core.store), "cycles": len(core.index),
           "index_build_s": round(time.perf_counter() - t, 3), "rss_mb": round(rss_mb(), 1)}
    blocks = list(market.blocks(n_blocks, block_events, size, arbitrageur=Arbitrageur(market, max_trades=32)))
    payloads = [(subject_of(e), m.encode(e)) for events, head in blocks for e in [*events, head]]
    decoders = Decoders()
    screen_s = 0.0
    screened = 0
    sizing: dict[tuple[str, int], list[float]] = {}
    t0 = time.perf_counter()
    apply_s = 0.0
    for subject, data in payloads:
        s = time.perf_counter()
        message = decoders.decode(subject, data)
        if isinstance(message, m.BlockHead):
            core.on_block_head(message)
            apply_s += time.perf_counter() - s
            # evaluate the dirty cycles by hand to time the stages separately
            dirty, core.dirty = core.dirty, {}
            for cycle_id in dirty:
                cycle = core.index.cycles[cycle_id]
                pools = [core.store.ready_pool(p) for p in cycle.pools]
                if None in pools:
                    continue
                s = time.perf_counter()
                product = marginal_rate_product(pools, cycle)
                screen_s += time.perf_counter() - s
                screened += 1
                if product <= 1.0:
                    continue
                kinds = [core.store.entry(p).info.kind for p in cycle.pools]
                for mode in ("fast", "full"):
                    s = time.perf_counter()
                    found = evaluate_cycle(cycle, pools, kinds, EvaluationStats(), screen=False, sizing=mode)
                    if found is not None:
                        sizing.setdefault((mode, cycle.hops), []).append(time.perf_counter() - s)
        else:
            core.on_event(message)
            apply_s += time.perf_counter() - s
    out["events"] = len(payloads) - len(blocks)
    out["decode_apply_events_per_s"] = round(len(payloads) / apply_s)
    out["screen_us_per_cycle"] = round(screen_s / max(1, screened) * 1e6, 2)
    for (mode, hops), times in sorted(sizing.items()):
        times.sort()
        out[f"size_{mode}_{hops}hop_n"] = len(times)
        out[f"size_{mode}_{hops}hop_ms_p50"] = round(statistics.median(times) * 1e3, 3)
        out[f"size_{mode}_{hops}hop_ms_p99"] = round(pct(times, 0.99) * 1e3, 3)
    out["total_s"] = round(time.perf_counter() - t0, 2)
    out.update(drain(market, n_blocks, block_events, size))
    return out


def drain(market: SyntheticMarket, n_blocks: int, block_events: int, size: tuple[float, float]) -> dict:
    """Evaluate-on-drain, in process: each event decoded, applied, then its dirty cycles evaluated
    (screen + exact sizing + Candidate), for both sizing modes on the same event sequence."""
    out = {}
    snapshots = [market.snapshot_of(address) for address in market.pools]  # before the blocks move them
    blocks = list(market.blocks(n_blocks, block_events, size, arbitrageur=Arbitrageur(market, max_trades=32)))
    payloads = [(subject_of(e), m.encode(e)) for events, head in blocks for e in [*events, head]]
    for mode in ("fast", "full"):
        core = DetectorCore(chain_id=42161, detector_id="bench", base_tokens=BASE_TOKENS, native_token=WETH,
                            sizing=mode)
        for snap in snapshots:
            core.on_snapshot(snap, live=False)
        decoders = Decoders()
        per_event: list[float] = []
        candidates = 0
        cpu0 = time.process_time()
        for subject, data in payloads:
            s = time.perf_counter()
            message = decoders.decode(subject, data)
            if isinstance(message, m.BlockHead):
                core.on_block_head(message)
                continue
            core.on_event(message)
            candidates += len(core.flush())
            per_event.append(time.perf_counter() - s)
        cpu = time.process_time() - cpu0
        per_event.sort()
        out[f"drain_{mode}_events"] = len(per_event)
        out[f"drain_{mode}_candidates_per_event"] = round(candidates / max(1, len(per_event)), 2)
        for q, label in ((0.5, "p50"), (0.99, "p99"), (0.999, "p99.9"), (1.0, "max")):
            out[f"drain_{mode}_ms_{label}"] = round(pct(per_event, q) * 1e3, 3)
        out[f"drain_{mode}_cpu_ms_per_event"] = round(cpu / max(1, len(per_event)) * 1e3, 3)
    return out


def main() -> None:
    markets = sys.argv[1:] or ["arbitrum", "synthetic"]
    if "arbitrum" in markets:
        print(json.dumps(bench("arbitrum", SyntheticMarket.from_snapshots(arbitrum_snapshots(), seed=7), 40, 250,
                               (1e-6, 5e-4))), flush=True)
    if "synthetic" in markets:
        print(json.dumps(bench("synthetic", SyntheticMarket(n_tokens=200, n_pools=2000, v3_share=0.3, seed=1), 40, 250,
                           (1e-5, 3e-3))), flush=True)


if __name__ == "__main__":
    main()
