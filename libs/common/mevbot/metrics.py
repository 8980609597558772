"""Prometheus metrics shared by every service, defined once.

Names follow the runbook (``mev_opportunities_detected``, ``mev_opportunities_profitable``,
``mev_cache_hit_rate``, ``mev_rpc_calls_total``, ``mev_executions_total{status}``) plus the
per-stage counters and latency histograms of the pipeline. A service adds its own metrics in its
own module with the ``mev_<service>_`` prefix; the ones here are the cross-service vocabulary that
dashboards and alerts rely on.

Counters are exposed with the ``_total`` suffix by prometheus-client (``mev_opportunities_detected``
is scraped as ``mev_opportunities_detected_total``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

# Latency buckets from 100 us to 10 s: a pipeline stage on loopback is sub-millisecond, an RPC
# round trip tens of ms, a transaction inclusion ~0.25-2 s on Arbitrum.
LATENCY_BUCKETS_S = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)

# --- runbook names ------------------------------------------------------------------------------

OPPORTUNITIES_DETECTED = Counter(
    "mev_opportunities_detected", "Candidate arbitrage cycles found by the detector (positive gross profit)"
)
OPPORTUNITIES_PROFITABLE = Counter(
    "mev_opportunities_profitable", "Candidates still profitable after validation (net of gas and flash fee)"
)
CACHE_HIT_RATE = Gauge("mev_cache_hit_rate", "Pool-detection cache hit rate since start (0..1)", ["cache"])
RPC_CALLS = Counter("mev_rpc_calls", "JSON-RPC calls made", ["provider", "method", "outcome"])
EXECUTIONS = Counter("mev_executions", "Execution attempts by final status", ["status"])
PROFIT_WEI = Counter("mev_profit_wei", "Realized profit of included transactions, in wei of the native token")

# --- pipeline -------------------------------------------------------------------------------------

STAGE_LATENCY = Histogram(
    "mev_stage_latency_seconds",
    "Latency of one pipeline stage (ingest, detect, validate, sign, send, event_to_send...)",
    ["stage"],
    buckets=LATENCY_BUCKETS_S,
)
MESSAGES = Counter(
    "mev_messages", "Bus messages by service, subject and outcome (published, handled, failed)",
    ["service", "subject", "outcome"],
)
DEAD_LETTERS = Counter("mev_dead_letters", "Messages sent to the dead-letter stream", ["service", "reason"])
CACHE_REQUESTS = Counter("mev_cache_requests", "Cache look-ups by layer and result", ["cache", "layer", "result"])

# --- runtime ----------------------------------------------------------------------------------------

BUS_CONNECTED = Gauge("mev_bus_connected", "1 while the NATS connection is up", ["service"])
BUS_RECONNECTS = Counter("mev_bus_reconnects", "NATS reconnections", ["service"])
SERVICE_READY = Gauge("mev_service_ready", "1 while /health/ready answers 200", ["service"])
BUSY_POLL = Gauge("mev_busy_poll", "1 while the service's event loop busy-polls (BUSY_POLL: 100 % of a core by design)",
                  ["service"])
SERVICE_INFO = Gauge("mev_service_info", "Constant 1, labelled with the service identity", ["service", "replica", "chain_id"])


@contextmanager
def stage_timer(stage: str) -> Iterator[None]:
    """Observe the wall time of a block into ``mev_stage_latency_seconds{stage}``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        stage_latency(stage).observe(time.perf_counter() - start)


def observe_since_ns(stage: str, start_ns: int, now_ns: int | None = None) -> None:
    """Observe the latency since a ``time.time_ns()`` stamp carried on a message (cross-process)."""
    if start_ns <= 0:
        return
    elapsed_ns = (now_ns if now_ns is not None else time.time_ns()) - start_ns
    if elapsed_ns >= 0:
        stage_latency(stage).observe(elapsed_ns / 1e9)


_STAGE_CHILDREN: dict[str, Any] = {}


def stage_latency(stage: str) -> Any:
    """The ``mev_stage_latency_seconds{stage}`` histogram child, made once per stage (``labels()``
    validates and hashes its arguments on every call: per message on the hot paths)."""
    child = _STAGE_CHILDREN.get(stage)
    if child is None:
        child = _STAGE_CHILDREN[stage] = STAGE_LATENCY.labels(stage)
    return child


def render_latest() -> tuple[bytes, str]:
    """The exposition text and its content type (for /metrics)."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
