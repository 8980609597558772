"""NATS + JetStream implementation of :class:`mevbot.bus.Bus` (see that module for the contract).

Why it looks like this:

* Infinite reconnects with backoff; callbacks flip :attr:`NatsBus.connected`, which readiness
  reads. After a reconnect the streams are ensured again (a server that lost its store comes
  back empty).
* JetStream publishes carry ``Nats-Msg-Id`` and are retried until acked, so a disconnect never
  loses a stored message, and never duplicates one while the outage is shorter than the
  stream's duplicate window (``DUPLICATE_WINDOW_S``; longer outages may store a retry twice).
* Consumers are durable pull consumers with explicit acks; a window of requested messages is
  kept open (throughput) and they are handled in stream order (the detector needs chain order).
* ``namespace`` prefixes every wire subject and stream name, so tests (or two deployments) can
  share one server without seeing each other. Handlers and publishers use the plain
  ``mev.*`` subjects either way.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js import api

from mevbot import messages as m
from mevbot import metrics
from mevbot import subjects as subj
from mevbot.bus import (
    DeliverFrom,
    Handler,
    Mode,
    SubscriptionSpec,
    chain_id_of,
    dead_letter,
    durable_name,
    stream_for,
)
from mevbot.errors import BusError, MevbotError
from mevbot.logging import get_logger
from mevbot.nats_subscriptions import _CoreSubscription, _PullSubscription

log = get_logger("mevbot.bus")

_RETRYABLE = (
    nats.errors.TimeoutError,
    nats.errors.NoRespondersError,
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.StaleConnectionError,
    nats.errors.FlushTimeoutError,
    asyncio.TimeoutError,
    ConnectionError,
    OSError,
)
DUPLICATE_WINDOW_S = 120.0


class _Pending:
    __slots__ = ("attempts", "data", "headers", "sent_at", "wire_subject")

    def __init__(self, wire_subject: str, data: bytes, headers: dict[str, str]) -> None:
        self.wire_subject = wire_subject
        self.data = data
        self.headers = headers
        self.sent_at = time.monotonic()
        self.attempts = 1


class NatsBus:
    def __init__(
        self,
        url: str,
        *,
        service: str,
        replica_id: str | None = None,
        namespace: str = "",
        chain_id: int = 0,
        ack_timeout_s: float = 5.0,
        max_in_flight: int = 8192,
        connect_timeout_s: float = 2.0,
        reconnect_wait_s: float = 0.5,
    ) -> None:
        self.url = url
        self.service = service
        self.replica_id = replica_id or f"{os.uname().nodename}-{os.getpid()}"
        self.namespace = namespace
        self.chain_id = chain_id
        self.ack_timeout_s = ack_timeout_s
        self.max_in_flight = max_in_flight
        self.connect_timeout_s = connect_timeout_s
        self.reconnect_wait_s = reconnect_wait_s
        self._nc: nats.NATS | None = None
        self._js: Any = None
        self._connected = asyncio.Event()
        self._closing = False
        self._intake = True
        self._subs: list[_PullSubscription | _CoreSubscription] = []
        self._ids = itertools.count(1)
        self._id_prefix = f"{self.service}-{self.replica_id}-{time.time_ns()}"
        # async publish state
        self._inbox_prefix = ""
        self._pending: dict[str, _Pending] = {}
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._all_acked = asyncio.Event()
        self._all_acked.set()
        self._publish_errors: list[str] = []
        self._watchdog: asyncio.Task[None] | None = None
        self._streams_ready = False
        self._counters: dict[tuple[str, str], Any] = {}
        self._stream_of: dict[str, bool] = {}

    # --- naming --------------------------------------------------------------------------------

    def wire(self, subject: str) -> str:
        return f"{self.namespace}.{subject}" if self.namespace else subject

    def unwire(self, subject: str) -> str:
        return subject[len(self.namespace) + 1 :] if self.namespace else subject

    def stream_name(self, spec: subj.StreamSpec) -> str:
        return f"{self.namespace.upper().replace('-', '_')}_{spec.name}" if self.namespace else spec.name

    # --- connection ------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected.is_set() and self._nc is not None and self._nc.is_connected

    async def connect(self) -> None:
        """Connect (retrying with backoff until it works or :meth:`close` is called)."""
        delay_s = 0.1
        while not self._closing:
            try:
                self._nc = await nats.connect(
                    [u.strip() for u in self.url.split(",") if u.strip()],  # NATS_URL may list servers
                    name=f"{self.service}:{self.replica_id}",
                    connect_timeout=self.connect_timeout_s,
                    reconnect_time_wait=self.reconnect_wait_s,
                    max_reconnect_attempts=-1,
                    allow_reconnect=True,
                    pending_size=64 * 1024 * 1024,
                    flush_timeout=self.ack_timeout_s,  # a forced flush never waits forever (default: no bound)
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                    error_cb=self._on_error,
                    closed_cb=self._on_closed,
                    skip_subject_validation=True,  # subjects come from mevbot.subjects, not users
                )
                break
            except (nats.errors.NoServersError, *_RETRYABLE) as exc:
                log.warning("nats connect failed, retrying", url=self.url, error=str(exc) or type(exc).__name__, retry_in_s=delay_s)
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, 5.0)
        if self._nc is None:
            raise BusError("bus closed before it could connect")
        self._js = self._nc.jetstream(timeout=self.ack_timeout_s)
        self._inbox_prefix = f"_INBOX.{self._nc._nuid.next().decode()}"
        await self._nc.subscribe(f"{self._inbox_prefix}.*", cb=self._on_ack)
        self._connected.set()
        metrics.BUS_CONNECTED.labels(self.service).set(1)
        self._watchdog = asyncio.create_task(self._ack_watchdog(), name="bus-ack-watchdog")
        log.info("nats connected", url=self.url, namespace=self.namespace or None)

    async def _on_disconnected(self) -> None:
        self._connected.clear()
        metrics.BUS_CONNECTED.labels(self.service).set(0)
        if not self._closing:
            log.warning("nats disconnected")

    async def _on_reconnected(self) -> None:
        metrics.BUS_RECONNECTS.labels(self.service).inc()
        log.info("nats reconnected", url=self._nc.connected_url.netloc if self._nc and self._nc.connected_url else None)
        if self._streams_ready:
            asyncio.create_task(self._reensure_streams())
        self._connected.set()
        metrics.BUS_CONNECTED.labels(self.service).set(1)
        self._resend_pending()
        for sub in self._subs:
            if isinstance(sub, _PullSubscription):
                sub.reset()

    async def _reensure_streams(self) -> None:
        try:
            await self.ensure_streams()
        except MevbotError as exc:
            log.warning("re-ensuring streams after reconnect failed", error=str(exc))

    async def _on_error(self, exc: Exception) -> None:
        if not self._closing:
            log.debug("nats error", error=str(exc) or type(exc).__name__)

    async def _on_closed(self) -> None:
        self._connected.clear()
        metrics.BUS_CONNECTED.labels(self.service).set(0)

    async def _wait_connected(self) -> None:
        while not self.connected:
            if self._closing:
                raise BusError("bus is closing")
            try:
                await asyncio.wait_for(self._connected.wait(), timeout=0.5)
            except TimeoutError:
                pass

    @property
    def nc(self) -> nats.NATS:
        if self._nc is None:
            raise BusError("bus is not connected: call connect() first")
        return self._nc

    # --- streams ---------------------------------------------------------------------------------

    async def ensure_streams(self) -> None:
        """Create or update every stream of :data:`mevbot.subjects.STREAMS` (idempotent)."""
        for spec in subj.STREAMS:
            config = api.StreamConfig(
                name=self.stream_name(spec),
                subjects=[self.wire(s) for s in spec.subjects],
                description=spec.description,
                retention=api.RetentionPolicy.LIMITS,
                storage=api.StorageType.FILE,
                max_age=spec.max_age_s,
                max_bytes=spec.max_bytes,
                duplicate_window=DUPLICATE_WINDOW_S,
                discard=api.DiscardPolicy.OLD,
            )
            try:
                try:
                    await self._js.add_stream(config)
                except nats.js.errors.BadRequestError as exc:
                    if exc.err_code != 10058:  # stream name already in use with a different config
                        raise
                    await self._js.update_stream(config)
            except nats.js.errors.Error as exc:
                raise BusError(f"ensuring stream {config.name} failed: {exc}") from exc
            except _RETRYABLE as exc:
                raise BusError(f"ensuring stream {config.name} failed: {type(exc).__name__}") from exc
        self._streams_ready = True

    # --- publish -----------------------------------------------------------------------------------

    def _count(self, subject: str, outcome: str) -> None:
        counter = self._counters.get((subject, outcome))
        if counter is None:
            counter = self._counters[(subject, outcome)] = metrics.MESSAGES.labels(self.service, subject, outcome)
        counter.inc()

    def _stored(self, subject: str) -> bool:
        """Is ``subject`` captured by a JetStream stream (cached: the table is static)?"""
        stored = self._stream_of.get(subject)
        if stored is None:
            stored = self._stream_of[subject] = stream_for(subject) is not None
        return stored

    def _msg_id(self) -> str:
        return f"{self._id_prefix}-{next(self._ids)}"

    async def publish(self, subject: str, message: m.Message) -> None:
        """Publish; on a stream subject, return once the stream stored it (retrying through outages)."""
        data = m.encode(message)
        if not self._stored(subject):
            await self._core(subject, data)
            return
        headers = {"Nats-Msg-Id": self._msg_id()}
        wire_subject = self.wire(subject)
        delay_s = 0.05
        while True:
            await self._wait_connected()
            try:
                reply = await self.nc.request(wire_subject, data, timeout=self.ack_timeout_s, headers=headers)
                error = _ack_error(reply)
                if error is None:
                    self._count(subject, "published")
                    return
                if not error[1]:
                    self._count(subject, "publish_failed")
                    raise BusError(f"JetStream refused {subject}: {error[0]}")
            except _RETRYABLE as exc:
                log.debug("jetstream publish retry", subject=subject, error=type(exc).__name__)
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, 1.0)

    async def publish_async(self, subject: str, message: m.Message) -> None:
        """Fast path: write now, collect the ack later (bounded in flight); see :meth:`flush`."""
        data = m.encode(message)
        if not self._stored(subject):
            await self._core(subject, data)
            return
        await self._in_flight.acquire()
        pending = _Pending(self.wire(subject), data, {"Nats-Msg-Id": self._msg_id()})
        inbox = f"{self._inbox_prefix}.{next(self._ids)}"
        self._pending[inbox] = pending
        self._all_acked.clear()
        self._count(subject, "published")
        if self.connected:
            try:
                await self.nc.publish(pending.wire_subject, data, reply=inbox, headers=pending.headers)
            except _RETRYABLE:
                pass  # the watchdog resends it

    async def publish_core(self, subject: str, message: m.Message) -> None:
        """Core NATS publish without any ack (fire and forget), even on a stream subject."""
        await self._core(subject, m.encode(message))

    async def _core(self, subject: str, data: bytes) -> None:
        try:
            await self.nc.publish(self.wire(subject), data)
        except _RETRYABLE as exc:
            self._count(subject, "publish_failed")
            raise BusError(f"core publish on {subject} failed: {type(exc).__name__}") from exc
        self._count(subject, "published")

    async def flush(self, timeout_s: float | None = None) -> None:
        """Wait until every async publish is acked; raise :class:`BusError` if any was refused."""
        try:
            await asyncio.wait_for(self._all_acked.wait(), timeout=timeout_s)
        except TimeoutError:
            raise BusError(f"{len(self._pending)} JetStream publishes still un-acked after {timeout_s} s") from None
        if self._nc is not None and self.connected:
            try:
                await self._nc.flush(timeout=timeout_s or 10)
            except _RETRYABLE as exc:
                raise BusError(f"flush failed: {type(exc).__name__}") from exc
        if self._publish_errors:
            errors, self._publish_errors = self._publish_errors, []
            raise BusError(f"{len(errors)} JetStream publishes refused; first: {errors[0]}")

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    async def _on_ack(self, msg: Msg) -> None:
        pending = self._pending.get(msg.subject)
        if pending is None:
            return  # a late ack of a message already acked by a retry
        # A good PubAck is {"stream":..,"seq":..}: skip JSON parsing unless it says otherwise.
        error = None if (msg.headers is None and b'"error"' not in msg.data) else _ack_error(msg)
        if error is not None and error[1]:
            return  # retryable (e.g. no responders during a restart): the watchdog resends
        del self._pending[msg.subject]
        self._in_flight.release()
        if error is not None:
            self._publish_errors.append(error[0])
            log.error("jetstream refused an async publish", subject=self.unwire(pending.wire_subject), error=error[0])
        if not self._pending:
            self._all_acked.set()

    async def _ack_watchdog(self) -> None:
        while not self._closing:
            await asyncio.sleep(min(1.0, self.ack_timeout_s / 2))
            if not self.connected:
                continue
            now = time.monotonic()
            overdue = [(inbox, p) for inbox, p in self._pending.items() if now - p.sent_at > self.ack_timeout_s]
            for inbox, pending in overdue:
                await self._resend(inbox, pending)

    def _resend_pending(self) -> None:
        for inbox, pending in list(self._pending.items()):
            asyncio.create_task(self._resend(inbox, pending))

    async def _resend(self, inbox: str, pending: _Pending) -> None:
        if inbox not in self._pending or not self.connected:
            return
        pending.sent_at = time.monotonic()
        pending.attempts += 1
        try:
            await self.nc.publish(pending.wire_subject, pending.data, reply=inbox, headers=pending.headers)
        except _RETRYABLE:
            pass

    # --- subscribe ---------------------------------------------------------------------------------

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
    ) -> _PullSubscription | _CoreSubscription:
        name = durable_name(self.service, subject, mode, self.replica_id, durable) if mode is not Mode.CORE else None
        spec = SubscriptionSpec(subject, handler, mode, name, message_type, queue, batch, concurrency, deliver_from)
        sub: _PullSubscription | _CoreSubscription
        if mode is Mode.CORE:
            sub = _CoreSubscription(self, spec)
        else:
            stream = stream_for(subject)
            if stream is None:
                raise BusError(f"{subject} is not stored in any JetStream stream: subscribe with mode=Mode.CORE")
            sub = _PullSubscription(self, spec, self.stream_name(stream))
        await sub.start()
        self._subs.append(sub)
        return sub

    async def stop_intake(self) -> None:
        """Stop fetching new messages; handlers in progress finish and ack."""
        self._intake = False
        await asyncio.gather(*(s.stop() for s in self._subs), return_exceptions=True)

    async def close(self) -> None:
        """Stop intake, wait (bounded) for async publish acks, drain and close the connection."""
        await self.stop_intake()
        if self._nc is not None and self.connected and self._pending:
            try:
                await self.flush(timeout_s=self.ack_timeout_s)
            except BusError as exc:
                log.error("closing with un-acked publishes", error=str(exc))
        self._closing = True
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self._nc is not None and not self._nc.is_closed:
            try:
                if self._nc.is_connected:
                    await self._nc.drain()
                else:
                    await self._nc.close()
            except Exception as exc:  # noqa: BLE001 - closing must not raise
                log.warning("nats close failed", error=str(exc) or type(exc).__name__)
        self._connected.clear()
        metrics.BUS_CONNECTED.labels(self.service).set(0)

    # --- handling ----------------------------------------------------------------------------------

    async def _dead_letter(self, subject: str, data: bytes, exc: BaseException) -> None:
        reason = exc.code if isinstance(exc, MevbotError) else type(exc).__name__
        metrics.DEAD_LETTERS.labels(self.service, reason).inc()
        metrics.MESSAGES.labels(self.service, subject, "failed").inc()
        log.error("handler failed, message dead-lettered", subject=subject, error_code=reason, error=str(exc)[:500],
                  exc_info=not isinstance(exc, MevbotError))
        if subject.startswith(subj.DLQ_PREFIX):
            return  # never dead-letter a dead letter
        await self.publish(subj.dlq_subject(self.service), dead_letter(self.service, subject, data, exc, chain_id_of(data)))


def _ack_error(reply: Msg) -> tuple[str, bool] | None:
    """``None`` for a good PubAck, else (description, retryable)."""
    if reply.headers and reply.headers.get("Status") == "503":
        return "no responders (stream not available)", True
    try:
        body = json.loads(reply.data)
    except ValueError:
        return f"unreadable ack {reply.data[:100]!r}", False
    if "error" in body:
        err = body["error"]
        code = err.get("code", 0)
        return f"{err.get('description', err)} (code {code})", code in (503, 408)
    return None

