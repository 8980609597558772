"""Tap every ``mev.>`` subject (core NATS: JetStream subjects are ordinary subjects too) and keep the
pipeline's counters and per-stage latencies from the ``*_ns`` stamps the messages carry.

Stages, all measured from ingest's ``received_ns`` of the triggering log (one clock: one machine):
``published`` (ingest published the event), ``candidate`` (detector), ``validated`` (validator),
``signed`` and ``sent`` (executor).
"""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field

import nats

from mevbot import messages as m
from mevbot.errors import WireError

STAGES = ("published", "candidate", "validated", "signed", "sent")


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class PipelineStats:
    events: int = 0
    events_by_type: Counter[str] = field(default_factory=Counter)
    snapshots: int = 0
    blocks: int = 0
    candidates: int = 0
    plans: dict[str, m.ExecutionPlan] = field(default_factory=dict)
    rejections: Counter[str] = field(default_factory=Counter)
    results: list[m.ExecutionResult] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    dead_letters: Counter[str] = field(default_factory=Counter)
    pools_rejected: int = 0
    undecodable: int = 0
    latency_ms: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STAGES})
    _event_times: deque[float] = field(default_factory=lambda: deque(maxlen=200_000))

    def events_per_s(self, window_s: float = 5.0) -> float:
        now = time.monotonic()
        while self._event_times and now - self._event_times[0] > window_s:
            self._event_times.popleft()
        return len(self._event_times) / window_s

    def latency_summary(self) -> dict[str, dict[str, float | int | None]]:
        out: dict[str, dict[str, float | int | None]] = {}
        for stage, values in self.latency_ms.items():
            out[stage] = {"n": len(values), "p50_ms": _r(percentile(values, 50)), "p90_ms": _r(percentile(values, 90)),
                          "p99_ms": _r(percentile(values, 99)), "max_ms": _r(max(values) if values else None)}
        return out

    def result_for_tx(self, tx_hash: str) -> m.ExecutionResult | None:
        for r in self.results:
            if r.tx_hash.lower() == tx_hash.lower():
                return r
        return None

    # --- one message ------------------------------------------------------------------------------

    def observe(self, msg: object) -> None:
        if isinstance(msg, m.PoolEvent):
            self.events += 1
            self.events_by_type[type(msg).__struct_config__.tag] += 1  # type: ignore[attr-defined]
            self._event_times.append(time.monotonic())
            self._lat("published", msg.received_ns, msg.published_ns)
        elif isinstance(msg, m.PoolSnapshot):
            self.snapshots += 1
        elif isinstance(msg, m.BlockHead):
            self.blocks += 1
        elif isinstance(msg, m.Candidate):
            self.candidates += 1
            self._lat("candidate", msg.event_received_ns, msg.detected_ns)
        elif isinstance(msg, m.ExecutionPlan):
            self.plans[msg.plan_id] = msg
            self._lat("validated", msg.event_received_ns, msg.validated_ns)
        elif isinstance(msg, m.Rejection):
            self.rejections[msg.reason] += 1
        elif isinstance(msg, m.ExecutionResult):
            self.results.append(msg)
            self.statuses[msg.status.value] += 1
            if msg.status in (m.ExecutionStatus.SENT, m.ExecutionStatus.DRY_RUN):
                self._lat("signed", msg.event_received_ns, msg.signed_ns)
                if msg.status == m.ExecutionStatus.SENT:
                    self._lat("sent", msg.event_received_ns, msg.sent_ns)
        elif isinstance(msg, m.DeadLetter):
            self.dead_letters[msg.service] += 1
        elif isinstance(msg, m.PoolRejected):
            self.pools_rejected += 1

    def _lat(self, stage: str, start_ns: int, end_ns: int) -> None:
        if start_ns > 0 and end_ns >= start_ns:
            self.latency_ms[stage].append((end_ns - start_ns) / 1e6)


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 3)


class BusTap:
    """Subscribe ``<namespace>.mev.>`` and feed :class:`PipelineStats` (run inside an event loop)."""

    def __init__(self, nats_url: str, namespace: str, stats: PipelineStats | None = None) -> None:
        self.url = nats_url
        self.prefix = f"{namespace}." if namespace else ""
        self.stats = stats or PipelineStats()
        self._nc: nats.NATS | None = None

    async def start(self) -> None:
        self._nc = await nats.connect(self.url, name="mevbot-devnet-tap", max_reconnect_attempts=-1)
        await self._nc.subscribe(f"{self.prefix}mev.>", cb=self._on_msg, pending_msgs_limit=1_000_000,
                                 pending_bytes_limit=1024**3)

    async def _on_msg(self, msg: nats.aio.msg.Msg) -> None:
        try:
            decoded = m.decode(msg.data)
        except WireError:
            self.stats.undecodable += 1
            return
        self.stats.observe(decoded)

    async def stop(self) -> None:
        if self._nc is not None:
            try:
                await self._nc.drain()
            except Exception:  # noqa: BLE001, S110 - closing anyway
                pass
            self._nc = None
