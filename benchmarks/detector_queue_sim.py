"""The latency floor of the detector's core alone: a virtual-time queue with no NATS and no service.

Events arrive on a Poisson process at ``--rate`` (virtual time). The core (one thread, the real
:class:`DetectorCore` on the Arbitrum pool set of ``detector_bench.py``) serves them as the
service does with evaluate-on-drain: when it is free, it applies every event that has arrived by
then (coalescing) and evaluates what they dirtied; each candidate is done at the virtual time the
server started plus the *measured* wall time of the work up to it. Latency per candidate = done -
arrival of the oldest event that dirtied its cycle (as ``detector_bench.py`` measures it through
NATS). What this prints is what the core's own speed allows at that rate with zero transport, zero
event-loop and zero publishing cost: a service can only add to it.

    taskset -c 1 .venv/bin/python benchmarks/detector_queue_sim.py [--rate 1000] [--blocks 60]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time
from pathlib import Path

import msgspec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mevbot import messages as m

from benchmarks.detector_bench import arbitrum_snapshots, describe
from services.detector.core import DetectorCore
from services.detector.synthetic import BASE_TOKENS, WETH, Arbitrageur, SyntheticMarket


def simulate(rate: float, n_blocks: int, block_events: int = 250, seed: int = 11) -> dict:
    market = SyntheticMarket.from_snapshots(arbitrum_snapshots(), seed=7)
    market.equilibrate()
    snapshots = [market.snapshot_of(address) for address in market.pools]
    blocks = list(market.blocks(n_blocks, block_events, (1e-6, 5e-4), arbitrageur=Arbitrageur(market, max_trades=32)))
    core = DetectorCore(chain_id=42161, detector_id="sim", base_tokens=BASE_TOKENS, native_token=WETH)
    for snapshot in snapshots:
        core.on_snapshot(snapshot, live=False)
    gc.collect()
    gc.freeze()  # as the service does once in sync (services/detector/app.py: _freeze_heap)
    rng = random.Random(seed)
    stream: list[tuple[float, m.Message]] = []
    t = 0.0
    for events, head in blocks:
        for event in events:
            t += rng.expovariate(rate)
            stream.append((t, event))
        stream.append((t, head))  # the block's end right after its last event
    latencies: list[float] = []
    first: dict[int, float] = {}
    clock = busy = 0.0
    i, n = 0, len(stream)
    while i < n:
        clock = max(clock, stream[i][0])
        start = time.perf_counter()
        while i < n and stream[i][0] <= clock:
            at, message = stream[i]
            i += 1
            if isinstance(message, m.BlockHead):
                core.on_block_head(message)
            else:
                core.on_event(msgspec.structs.replace(message, received_ns=int(at * 1e9)))
        for candidate in core.flush_iter():
            if candidate is None:
                continue
            done = clock + (time.perf_counter() - start)
            latency_ms = (done - candidate.event_received_ns / 1e9) * 1e3
            latencies.append(latency_ms)
            first.setdefault(candidate.event_received_ns, latency_ms)
        elapsed = time.perf_counter() - start
        busy += elapsed
        clock += elapsed
    return {"rate": rate, "events": sum(len(events) for events, _ in blocks), "utilisation": round(busy / stream[-1][0], 3),
            "candidates_ms": describe(latencies), "first_per_event_ms": describe(list(first.values()))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=1000.0, help="events/s (Poisson)")
    parser.add_argument("--blocks", type=int, default=60, help="blocks of 250 events")
    args = parser.parse_args()
    print(json.dumps(simulate(args.rate, args.blocks)))


if __name__ == "__main__":
    main()
