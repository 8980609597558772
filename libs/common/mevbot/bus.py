"""The message bus: one interface, two implementations.

* :class:`~mevbot.nats_bus.NatsBus`: NATS core + JetStream (production, integration tests).
* :class:`InMemoryBus`: same interface in-process, for service-level unit tests.

A handler is ``async def handler(message) -> None``; it receives the decoded :mod:`mevbot.messages`
Struct. Returning normally acknowledges the message. Raising sends the raw payload to the
dead-letter subject ``mev.dlq.<service>`` (with the error) and terminates it, so the stream goes
on and nothing is silently lost.

Delivery modes (:class:`Mode`):

* ``SHARED``: one durable consumer per service: replicas split the work (validator, executor).
* ``REPLICA``: one durable consumer per replica: every replica sees every message (detector).
* ``CORE``: plain NATS subscription (no persistence), optional queue group.

Publishing: ``publish`` on a subject bound to a JetStream stream waits for the stream's ack,
retrying through disconnects with a ``Nats-Msg-Id`` so retries are deduplicated (exactly one
copy stored). ``publish_async`` is the fast path: it returns once the message is written, keeps at
most ``max_in_flight`` un-acked messages, retries un-acked ones, and ``flush()`` waits for all acks.
Subjects not bound to a stream are published on core NATS.

Delivery to handlers is at-least-once across process restarts; within one process the bus drops
redeliveries of a stream sequence it already handled. Handlers of shared consumers must be
idempotent on their message's id (a redelivery may land on another replica).
"""

from __future__ import annotations

import asyncio
import enum
import re
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from mevbot import messages as m
from mevbot import metrics
from mevbot import subjects as subj
from mevbot.errors import MevbotError, WireError

Handler = Callable[[Any], Awaitable[None]]


class Mode(str, enum.Enum):
    SHARED = "shared"
    REPLICA = "replica"
    CORE = "core"


class DeliverFrom(str, enum.Enum):
    """Where a new durable consumer starts (an existing one resumes where it stopped)."""

    ALL = "all"
    NEW = "new"
    LAST_PER_SUBJECT = "last_per_subject"


@dataclass(frozen=True)
class SubscriptionSpec:
    subject: str
    handler: Handler
    mode: Mode
    durable: str | None
    message_type: Any
    queue: str | None
    batch: int
    concurrency: int
    deliver_from: DeliverFrom


class Subscription(Protocol):
    spec: SubscriptionSpec

    async def stop(self) -> None: ...


class Bus(Protocol):
    """What a service may call. Both implementations satisfy it."""

    service: str
    replica_id: str

    @property
    def connected(self) -> bool: ...

    async def connect(self) -> None: ...

    async def ensure_streams(self) -> None: ...

    async def publish(self, subject: str, message: m.Message) -> None: ...

    async def publish_async(self, subject: str, message: m.Message) -> None: ...

    async def publish_core(self, subject: str, message: m.Message) -> None: ...

    async def flush(self, timeout_s: float | None = None) -> None: ...

    async def subscribe(
        self,
        subject: str,
        handler: Handler,
        *,
        mode: Mode = Mode.SHARED,
        durable: str | None = None,
        message_type: Any = None,
        queue: str | None = None,
        batch: int = 256,
        concurrency: int = 1,
        deliver_from: DeliverFrom = DeliverFrom.ALL,
    ) -> Subscription: ...

    async def stop_intake(self) -> None: ...

    async def close(self) -> None: ...


# --- naming ------------------------------------------------------------------------------------

_DURABLE_BAD = re.compile(r"[^A-Za-z0-9_-]")


def durable_name(service: str, subject: str, mode: Mode, replica_id: str, durable: str | None = None) -> str:
    """``<service>_<subject>`` (shared) or ``<service>_<subject>_<replica>`` (per replica)."""
    base = durable or f"{service}_{subject.replace('>', 'all').replace('*', 'any')}"
    if mode is Mode.REPLICA:
        base = f"{base}_{replica_id}"
    return _DURABLE_BAD.sub("_", base)


def stream_for(subject: str) -> subj.StreamSpec | None:
    """The stream a concrete (or wildcard) subject is stored in, if any."""
    for spec in subj.STREAMS:
        for pattern in spec.subjects:
            if subject_matches(pattern, subject):
                return spec
    return None


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS wildcard match: ``*`` one token, ``>`` the rest (also pattern vs pattern)."""
    p_tokens, s_tokens = pattern.split("."), subject.split(".")
    for i, p in enumerate(p_tokens):
        if p == ">":
            return len(s_tokens) > i
        if i >= len(s_tokens):
            return False
        if p != "*" and p != s_tokens[i]:
            return False
    return len(p_tokens) == len(s_tokens)


class Decoders:
    """Per-subject decoder cache: the message type comes from the subject table unless given."""

    def __init__(self, message_type: Any = None) -> None:
        self._fixed = message_type
        self._by_subject: dict[str, Any] = {}

    def decode(self, subject: str, data: bytes) -> Any:
        message_type = self._fixed
        if message_type is None:
            message_type = self._by_subject.get(subject)
            if message_type is None:
                message_type = self._by_subject[subject] = subj.message_type_for(subject)
        return m.decode(data, message_type)


def dead_letter(service: str, subject: str, data: bytes, exc: BaseException, chain_id: int) -> m.DeadLetter:
    code = exc.code if isinstance(exc, MevbotError) else type(exc).__name__
    return m.DeadLetter(
        chain_id=chain_id,
        service=service,
        subject=subject,
        error_code=code,
        error=str(exc)[:2000],
        payload=data.decode("utf-8", errors="replace"),
        received_ns=time.time_ns(),
    )


def chain_id_of(data: bytes) -> int:
    """Best effort chain id of a payload that failed to decode (0 when unknown)."""
    match = re.search(rb'"chain_id"\s*:\s*(\d+)', data)
    return int(match.group(1)) if match else 0


# --- in-memory --------------------------------------------------------------------------------


class _MemorySubscription:
    def __init__(self, bus: InMemoryBus, spec: SubscriptionSpec) -> None:
        self.bus = bus
        self.spec = spec
        self.decoders = Decoders(spec.message_type)

    async def stop(self) -> None:
        if self in self.bus._subs:
            self.bus._subs.remove(self)


class InMemoryBus:
    """The bus in one process: every publish is encoded, decoded and delivered before it returns.

    Shared-mode subscriptions with the same durable name split messages round-robin (like replicas
    of one service); replica and core subscriptions each get every message. Handler failures go
    to :attr:`dead_letters` (and to subscribers of ``mev.dlq.<service>``), as on NATS.
    """

    def __init__(self, service: str = "test", *, replica_id: str = "0", chain_id: int = 0) -> None:
        self.service = service
        self.replica_id = replica_id
        self.chain_id = chain_id
        self.published: list[tuple[str, m.Message]] = []
        self.dead_letters: list[m.DeadLetter] = []
        self._subs: list[_MemorySubscription] = []
        self._round_robin: dict[str, int] = defaultdict(int)
        self._intake = True
        self._connected = False

    @property
    def connected(self) -> bool:
        return self._connected

    async def connect(self) -> None:
        self._connected = True

    async def ensure_streams(self) -> None:
        return None

    async def publish(self, subject: str, message: m.Message) -> None:
        await self._deliver(subject, m.encode(message), message)

    publish_async = publish
    publish_core = publish

    async def flush(self, timeout_s: float | None = None) -> None:
        return None

    def messages(self, subject_pattern: str = ">") -> list[m.Message]:
        """Messages published so far on subjects matching the pattern (for assertions)."""
        return [msg for s, msg in self.published if subject_matches(subject_pattern, s)]

    async def subscribe(
        self,
        subject: str,
        handler: Handler,
        *,
        mode: Mode = Mode.SHARED,
        durable: str | None = None,
        message_type: Any = None,
        queue: str | None = None,
        batch: int = 256,
        concurrency: int = 1,
        deliver_from: DeliverFrom = DeliverFrom.ALL,
    ) -> _MemorySubscription:
        name = durable_name(self.service, subject, mode, self.replica_id, durable) if mode is not Mode.CORE else None
        spec = SubscriptionSpec(subject, handler, mode, name, message_type, queue, batch, concurrency, deliver_from)
        sub = _MemorySubscription(self, spec)
        self._subs.append(sub)
        return sub

    async def stop_intake(self) -> None:
        self._intake = False

    async def close(self) -> None:
        self._intake = False
        self._connected = False
        self._subs.clear()

    async def _deliver(self, subject: str, data: bytes, message: m.Message) -> None:
        self.published.append((subject, message))
        metrics.MESSAGES.labels(self.service, subject, "published").inc()
        if not self._intake:
            return
        groups: dict[str, list[_MemorySubscription]] = defaultdict(list)
        targets: list[_MemorySubscription] = []
        for sub in list(self._subs):
            if not subject_matches(sub.spec.subject, subject):
                continue
            key = sub.spec.durable if sub.spec.mode is Mode.SHARED else (sub.spec.queue if sub.spec.mode is Mode.CORE else None)
            if key:
                groups[key].append(sub)
            else:
                targets.append(sub)
        for key, members in groups.items():
            targets.append(members[self._round_robin[key] % len(members)])
            self._round_robin[key] += 1
        for sub in targets:
            await self._handle(sub, subject, data)

    async def _handle(self, sub: _MemorySubscription, subject: str, data: bytes) -> None:
        try:
            decoded = sub.decoders.decode(subject, data)
            await sub.spec.handler(decoded)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the dead-letter path is the point
            reason = exc.code if isinstance(exc, MevbotError) else type(exc).__name__
            metrics.DEAD_LETTERS.labels(self.service, reason).inc()
            metrics.MESSAGES.labels(self.service, subject, "failed").inc()
            letter = dead_letter(self.service, subject, data, exc, chain_id_of(data))
            self.dead_letters.append(letter)
            if not subject.startswith(subj.DLQ_PREFIX):
                await self._deliver(subj.dlq_subject(self.service), m.encode(letter), letter)
            return
        metrics.MESSAGES.labels(self.service, subject, "handled").inc()


def __getattr__(name: str) -> Any:
    # NatsBus lives in its own module (it imports this one); re-exported lazily.
    if name == "NatsBus":
        from mevbot.nats_bus import NatsBus

        return NatsBus
    raise AttributeError(name)


__all__ = [
    "Bus", "DeliverFrom", "Handler", "InMemoryBus", "Mode", "Subscription", "SubscriptionSpec",
    "WireError", "durable_name", "stream_for", "subject_matches",
]
