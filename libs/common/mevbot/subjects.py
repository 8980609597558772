"""The subject hierarchy: every NATS subject, its message type, producer, consumer and durability.

Everything lives under one root (``mev.``) so ``nats sub 'mev.>'`` or ``mevbot tap 'mev.>'`` taps
all traffic. Subjects that carry what must not be lost are bound to JetStream streams; consumers
use durable consumers so a restarted service resumes where it stopped. The README's subject table
is generated from :data:`SUBJECTS` (a test keeps the two in sync).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mevbot import messages as m

ROOT = "mev"

# --- subjects ----------------------------------------------------------------------------------

EVENTS_PREFIX = f"{ROOT}.events"  # + "." + event type tag, e.g. mev.events.v3_swap
POOL_SNAPSHOT = f"{ROOT}.pools.snapshot"
POOL_REJECTED = f"{ROOT}.pools.rejected"
POOL_RESYNC = f"{ROOT}.pools.resync"  # core NATS: detector -> ingest (queue group "ingest")
BLOCK_HEAD = f"{ROOT}.blocks.head"
CANDIDATES = f"{ROOT}.candidates"
PLANS = f"{ROOT}.plans"
REJECTIONS = f"{ROOT}.rejections"
EXECUTION_RESULTS = f"{ROOT}.executions.result"
CONTROL_EXECUTOR = f"{ROOT}.control.executor"
DETECTOR_HEARTBEAT = f"{ROOT}.detector.heartbeat"
DLQ_PREFIX = f"{ROOT}.dlq"  # + "." + service name


def event_subject(event: m.PoolEvent) -> str:
    """``mev.events.<type>`` for a decoded pool event."""
    return f"{EVENTS_PREFIX}.{_tag(type(event))}"


def dlq_subject(service: str) -> str:
    return f"{DLQ_PREFIX}.{service}"


# --- streams -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    description: str
    max_age_s: float = 24 * 3600.0
    # JetStream reserves max_bytes against the server's store when a stream is created: keep it
    # modest so many streams (replicas, test prefixes) fit on one server.
    max_bytes: int = 128 * 1024**2


STREAM_CHAIN = StreamSpec(
    "MEV_CHAIN",
    (f"{EVENTS_PREFIX}.>", POOL_SNAPSHOT, BLOCK_HEAD),
    "pool events, pool snapshots and block ends, in chain order",
    max_bytes=512 * 1024**2,
)
STREAM_CANDIDATES = StreamSpec("MEV_CANDIDATES", (CANDIDATES,), "candidate arbitrage cycles")
STREAM_PLANS = StreamSpec("MEV_PLANS", (PLANS,), "approved execution plans")
STREAM_RESULTS = StreamSpec("MEV_RESULTS", (f"{ROOT}.executions.>",), "execution results")
STREAM_DLQ = StreamSpec("MEV_DLQ", (f"{DLQ_PREFIX}.>",), "dead letters", max_age_s=7 * 24 * 3600.0)

STREAMS: tuple[StreamSpec, ...] = (STREAM_CHAIN, STREAM_CANDIDATES, STREAM_PLANS, STREAM_RESULTS, STREAM_DLQ)


# --- the table -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectSpec:
    subject: str  # as written in the table; ``*`` or ``<x>`` stands for a token
    message: Any  # Struct type or Union
    producer: str
    consumer: str
    queue_group: str  # "-" when every instance receives every message
    durability: str  # "JetStream <STREAM>" or "core"


SUBJECTS: tuple[SubjectSpec, ...] = (
    SubjectSpec(
        f"{EVENTS_PREFIX}.<type>",
        m.AnyPoolEvent,
        "ingest",
        "detector",
        "- (every replica, own durable consumer)",
        f"JetStream {STREAM_CHAIN.name}",
    ),
    SubjectSpec(
        POOL_SNAPSHOT, m.PoolSnapshot, "ingest", "detector", "- (every replica)", f"JetStream {STREAM_CHAIN.name}"
    ),
    SubjectSpec(BLOCK_HEAD, m.BlockHead, "ingest", "detector", "- (every replica)", f"JetStream {STREAM_CHAIN.name}"),
    SubjectSpec(POOL_REJECTED, m.PoolRejected, "ingest", "operators (tap)", "-", "core"),
    SubjectSpec(POOL_RESYNC, m.ResyncRequest, "detector", "ingest", "ingest", "core"),
    SubjectSpec(CANDIDATES, m.Candidate, "detector", "validator", "validator (shared durable)", f"JetStream {STREAM_CANDIDATES.name}"),
    SubjectSpec(PLANS, m.ExecutionPlan, "validator", "executor", "executor (shared durable)", f"JetStream {STREAM_PLANS.name}"),
    SubjectSpec(REJECTIONS, m.Rejection, "validator", "operators (tap)", "-", "core"),
    SubjectSpec(
        EXECUTION_RESULTS, m.ExecutionResult, "executor", "operators, devnet report", "-", f"JetStream {STREAM_RESULTS.name}"
    ),
    SubjectSpec(CONTROL_EXECUTOR, m.ControlCommand, "operators", "executor", "- (every replica)", "core"),
    SubjectSpec(DETECTOR_HEARTBEAT, m.DetectorHeartbeat, "detector", "detector", "- (every replica)", "core"),
    SubjectSpec(f"{DLQ_PREFIX}.<service>", m.DeadLetter, "every service", "operators", "-", f"JetStream {STREAM_DLQ.name}"),
)


def message_type_for(subject: str) -> Any:
    """The message type (or Union) carried by a concrete subject; ``AnyMessage`` if unknown."""
    for spec in SUBJECTS:
        if _matches(spec.subject, subject):
            return spec.message
    return m.AnyMessage


def markdown_table() -> str:
    """The README's subject table, generated from :data:`SUBJECTS`."""
    rows = [
        "| subject | message type | producer | consumer | queue group | durability |",
        "|---|---|---|---|---|---|",
    ]
    for spec in SUBJECTS:
        rows.append(
            f"| `{spec.subject}` | {_type_label(spec.message)} | {spec.producer} | {spec.consumer} "
            f"| {spec.queue_group} | {spec.durability} |"
        )
    return "\n".join(rows)


def _matches(pattern: str, subject: str) -> bool:
    p_tokens = pattern.split(".")
    s_tokens = subject.split(".")
    if len(p_tokens) != len(s_tokens):
        return False
    return all(p == s or p.startswith("<") or p == "*" for p, s in zip(p_tokens, s_tokens))


def _tag(struct_type: Any) -> str:
    return struct_type.__struct_config__.tag


def _type_label(message: Any) -> str:
    args = getattr(message, "__args__", None)
    if args:
        return ", ".join(f"`{a.__name__}`" for a in args)
    return f"`{message.__name__}`"
