"""The detector's own metrics (``mev_detector_*``); the shared ones live in :mod:`mevbot.metrics`."""

from __future__ import annotations

from mevbot.metrics import LATENCY_BUCKETS_S
from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter("mev_detector_events", "Pool events applied or buffered by the detector")
SEQUENCE_GAPS = Counter("mev_detector_sequence_gaps", "Blocks that ended with fewer events than ingest published")
POOLS = Gauge("mev_detector_pools", "Pools with state in the detector")
STALE_POOLS = Gauge("mev_detector_stale_pools", "Pools excluded until a resync snapshot arrives")
RESYNC_REQUESTS = Counter("mev_detector_resync_requests", "Pools asked from ingest for a resync snapshot, by outcome "
                          "(sent, failed)", ["outcome"])
CYCLES = Gauge("mev_detector_cycles", "Cycles in the index (all replicas' shares)")
REPLICAS = Gauge("mev_detector_replicas", "Live detector replicas sharing the cycles")
EVALUATIONS = Counter("mev_detector_evaluations", "Cycle evaluations by outcome", ["outcome"])
DUPLICATES = Counter("mev_detector_duplicates_suppressed", "Unchanged opportunities not emitted again")
EVALUATE_SECONDS = Histogram("mev_detector_flush_seconds", "Time to evaluate the dirty cycles of one flush",
                             buckets=LATENCY_BUCKETS_S)

_last: dict[str, int] = {}


def _delta(name: str, value: int) -> int:
    previous = _last.get(name, 0)
    _last[name] = value
    return max(0, value - previous)


def export_core(core) -> None:
    """Move the core's plain counters into Prometheus (the core itself imports no metrics)."""
    s = core.stats
    for outcome in ("screened_out", "unprofitable", "profitable", "refused", "errors"):
        n = _delta(f"{id(core)}:{outcome}", getattr(s, outcome))
        if n:
            EVALUATIONS.labels(outcome).inc(n)
    n = _delta(f"{id(core)}:dup", core.duplicates_suppressed)
    if n:
        DUPLICATES.inc(n)
