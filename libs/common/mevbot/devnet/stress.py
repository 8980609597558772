"""Building blocks of the runbook's stress test (``mevbot stress`` = ``benchmarks/stress_bench.py``,
which holds the measurement itself; see docs/benchmarks_e2e.md).

* :func:`events_pool`: generated, consistent pool events (exact swaps on shadow pools of
  :class:`services.detector.synthetic.SyntheticMarket`, a few hundred V2/V3 pools) and the
  snapshots they start from, for the replay part (ingest's publish path -> detector);
* :class:`ReplayStep` / :class:`ReplayResult`: what a replay step measured;
* :func:`detector_events`, :func:`wait_metric`, :func:`rss_mb`: reading the detector process.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

from mevbot import messages as m
from mevbot.supervisor import ChildService

BLOCKS_PER_S = 4.0


@dataclass
class ReplayStep:
    offered_per_s: float
    published: int
    published_per_s: float
    consumed_per_s: float
    backlog_end: int
    drain_s: float
    sustained: bool
    drain_per_s: float = 0.0  # backlog / drain time: the detector's rate with the publisher idle


@dataclass
class ReplayResult:
    pools: int
    steps: list[ReplayStep] = field(default_factory=list)
    detector_rss_mb: float | None = None

    @property
    def sustained_per_s(self) -> float:
        ok = [s.consumed_per_s for s in self.steps if s.sustained]
        return max(ok) if ok else 0.0


def events_pool(n_pools: int, n_events: int, seed: int) -> tuple[list[m.PoolSnapshot], list[m.PoolEvent]]:
    from services.detector.synthetic import SyntheticMarket

    market = SyntheticMarket(n_tokens=max(12, n_pools // 8), n_pools=n_pools, v3_share=0.3, seed=seed)
    snapshots = list(market.snapshots)
    events: list[m.PoolEvent] = []
    for block_events, _head in market.blocks(n_blocks=n_events // 50 + 1, events_per_block=50, size_fraction=(1e-5, 2e-3)):
        events.extend(block_events)
        if len(events) >= n_events:
            break
    return snapshots, events[:n_events]


async def detector_events(base_url: str) -> float:
    import httpx

    # a detector saturated by the replay answers /metrics late (its loop is busy): be patient
    async with httpx.AsyncClient() as client:
        for attempt in range(3):
            try:
                text = (await client.get(f"{base_url}/metrics", timeout=20.0)).text
                break
            except httpx.TimeoutException:
                if attempt == 2:
                    raise
    for line in text.splitlines():
        if line.startswith("mev_detector_events_total "):
            return float(line.split()[1])
    return 0.0


async def wait_metric(base_url: str, what: str, expected: int, timeout_s: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            text = (await client.get(f"{base_url}/metrics", timeout=2.0)).text
            for line in text.splitlines():
                if line.startswith(f"mev_detector_{what} ") and float(line.split()[1]) >= expected:
                    return
            await asyncio.sleep(0.1)
    raise TimeoutError(f"detector did not load {expected} {what} within {timeout_s} s")


def rss_mb(child: ChildService) -> float | None:
    if child.proc is None:
        return None
    try:
        for line in Path(f"/proc/{child.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None
