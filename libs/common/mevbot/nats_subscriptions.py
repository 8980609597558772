"""Subscriptions of :class:`mevbot.nats_bus.NatsBus`: durable pull consumers and core subscribers."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js import api

from mevbot import metrics
from mevbot.bus import Decoders, DeliverFrom, Mode, SubscriptionSpec
from mevbot.errors import BusError
from mevbot.logging import get_logger

log = get_logger("mevbot.bus")

ACK_WAIT_S = 30.0
MAX_ACK_PENDING = 20_000
PULL_EXPIRES_S = 5.0
SEEN_WINDOW = 65_536  # stream sequences remembered to drop redeliveries of handled messages
_DELIVER = {
    DeliverFrom.ALL: api.DeliverPolicy.ALL,
    DeliverFrom.NEW: api.DeliverPolicy.NEW,
    DeliverFrom.LAST_PER_SUBJECT: api.DeliverPolicy.LAST_PER_SUBJECT,
}
_TRANSIENT = (
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.NoRespondersError,
    nats.errors.StaleConnectionError,
    nats.js.errors.ServiceUnavailableError,
    asyncio.TimeoutError,
    OSError,
)


class _PullSubscription:
    """A durable pull consumer, handled in stream order.

    nats-py's ``fetch`` returns whatever is queued after the first message and sends a new pull
    request each time (one message per round trip under load). This keeps a window of requested
    messages open instead: it asks for ``batch`` messages, and asks again when half arrived, so
    the server streams continuously; a request that expires (408) or is lost in a reconnect is
    replaced by the watchdog.

    A request is also renewed by the watchdog once it is half its life old, whatever the count of
    messages still owed says: the count is an estimate that only the server's 408s correct, and a
    request that expires right after delivering a message can end without one (seen on the devnet:
    one message at the request's last moment, no 408, the count still above half a batch, so no new
    request and candidates held in the stream for 6.5 s, until the inactivity check). Renewing at
    half life keeps a live request on the server at all times, at the cost of one pull request every
    ``PULL_EXPIRES_S / 2`` on an idle consumer.
    """

    def __init__(self, bus: Any, spec: SubscriptionSpec, stream: str) -> None:
        self.bus = bus
        self.spec = spec
        self.stream = stream
        self._decoders = Decoders(spec.message_type)
        self._sub: Any = None
        self._inbox = ""
        self._next_subject = ""
        self._outstanding = 0  # requested and not yet delivered
        self._last_activity = 0.0
        self._last_request = 0.0  # monotonic time of the newest pull request
        self._stopping = False
        self._watchdog: asyncio.Task[None] | None = None
        self._seen: set[int] = set()
        self._seen_order: deque[int] = deque()
        self._limit = asyncio.Semaphore(max(1, spec.concurrency))
        self._in_progress: set[asyncio.Task[None]] = set()
        self._counters: dict[tuple[str, str], Any] = {}

    def _config(self) -> api.ConsumerConfig:
        return api.ConsumerConfig(
            durable_name=self.spec.durable,
            name=self.spec.durable,
            ack_policy=api.AckPolicy.EXPLICIT,
            deliver_policy=_DELIVER[self.spec.deliver_from],
            filter_subject=self.bus.wire(self.spec.subject),
            ack_wait=ACK_WAIT_S,
            max_deliver=-1,
            max_ack_pending=MAX_ACK_PENDING,
            inactive_threshold=3600.0 if self.spec.mode is Mode.REPLICA else None,
        )

    async def _ensure_consumer(self) -> None:
        js = self.bus._js
        try:
            try:
                await js.consumer_info(self.stream, self.spec.durable)
            except nats.js.errors.NotFoundError:
                await js.add_consumer(self.stream, config=self._config())
        except nats.js.errors.Error as exc:
            raise BusError(f"cannot create consumer {self.spec.durable} on {self.stream}: {exc}") from exc
        except (*_TRANSIENT, nats.errors.TimeoutError) as exc:
            raise BusError(f"cannot create consumer {self.spec.durable}: {type(exc).__name__}") from exc
        prefix = "$JS.API"
        self._next_subject = f"{prefix}.CONSUMER.MSG.NEXT.{self.stream}.{self.spec.durable}"

    async def start(self) -> None:
        await self._ensure_consumer()
        nc = self.bus.nc
        self._inbox = nc.new_inbox()
        self._sub = await nc.subscribe(self._inbox, cb=self._on_msg, pending_msgs_limit=4 * MAX_ACK_PENDING,
                                       pending_bytes_limit=256 * 1024 * 1024)
        await self._request_more()
        self._watchdog = asyncio.create_task(self._watch(), name=f"pull-watchdog:{self.spec.durable}")
        log.info("consuming", subject=self.spec.subject, consumer=self.spec.durable, mode=self.spec.mode.value)

    async def _request_more(self) -> None:
        if self._stopping or not self.bus.connected:
            return
        request = b'{"batch":%d,"expires":%d}' % (self.spec.batch, int(PULL_EXPIRES_S * 1e9))
        try:
            await self.bus.nc.publish(self._next_subject, request, reply=self._inbox)
        except (nats.errors.Error, OSError):
            return  # the watchdog asks again
        if time.monotonic() - self._last_request >= PULL_EXPIRES_S:
            self._outstanding = 0  # every earlier request has expired by now, 408 or not
        self._outstanding += self.spec.batch
        self._last_activity = self._last_request = time.monotonic()

    async def _watch(self) -> None:
        """Replace pull requests lost in a reconnect; re-create a consumer a fresh server lacks."""
        while not self._stopping:
            await asyncio.sleep(0.5)
            if not self.bus.connected:
                self._outstanding = 0
                continue
            if time.monotonic() - self._last_activity > PULL_EXPIRES_S + 1.0:
                await self._check_consumer()
                self._outstanding = 0
                await self._request_more()
            elif time.monotonic() - self._last_request >= PULL_EXPIRES_S / 2:
                await self._request_more()  # renew before the newest request expires (class doc)

    def reset(self) -> None:
        """Called after a reconnect: outstanding requests died with the old connection."""
        self._outstanding = 0
        self._last_activity = 0.0
        self._last_request = 0.0

    async def stop(self) -> None:
        self._stopping = True
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception as exc:  # noqa: BLE001 - the connection may already be gone
                log.debug("unsubscribe failed", error=type(exc).__name__)
        if self._in_progress:
            await asyncio.wait(self._in_progress, timeout=ACK_WAIT_S)

    async def _check_consumer(self) -> None:
        try:
            await self.bus._js.consumer_info(self.stream, self.spec.durable)
        except nats.js.errors.NotFoundError:
            log.warning("consumer vanished, re-creating", consumer=self.spec.durable, stream=self.stream)
            try:
                await self.bus.ensure_streams()
                await self._ensure_consumer()
            except BusError as exc:
                log.warning("re-creating consumer failed", error=str(exc))
        except Exception as exc:  # noqa: BLE001 - transient; the next check retries
            log.debug("consumer check failed", error=type(exc).__name__)

    async def _on_msg(self, msg: Msg) -> None:
        self._last_activity = time.monotonic()
        if not msg.reply:  # a status message (no ack subject)
            status = msg.headers.get("Status") if msg.headers else None
            if status in ("408", "409"):  # request expired / consumer or leadership changed
                pending = msg.headers.get("Nats-Pending-Messages") if msg.headers else None
                self._outstanding = max(0, self._outstanding - int(pending)) if pending else 0
                if self._outstanding <= self.spec.batch // 2:
                    await self._request_more()
            return
        self._outstanding -= 1
        if self._outstanding <= self.spec.batch // 2:
            await self._request_more()
        if self._stopping:
            return  # not acked: redelivered after ACK_WAIT_S
        if self.spec.concurrency <= 1:
            await self._handle(msg)
            return
        await self._limit.acquire()
        task = asyncio.create_task(self._handle_release(msg))
        self._in_progress.add(task)
        task.add_done_callback(self._in_progress.discard)

    async def _handle_release(self, msg: Msg) -> None:
        try:
            await self._handle(msg)
        finally:
            self._limit.release()

    def _count(self, subject: str, outcome: str) -> None:
        counter = self._counters.get((subject, outcome))
        if counter is None:
            counter = self._counters[(subject, outcome)] = metrics.MESSAGES.labels(self.bus.service, subject, outcome)
        counter.inc()

    async def _handle(self, msg: Msg) -> None:
        subject = self.bus.unwire(msg.subject)
        delivered, seq = _delivery(msg.reply)
        if delivered > 1 and seq in self._seen:
            self._count(subject, "duplicate")
            await _settle(msg.ack)
            return
        try:
            message = self._decoders.decode(subject, msg.data)
            await self.spec.handler(message)
        except asyncio.CancelledError:
            raise  # not acked: redelivered after ACK_WAIT_S
        except Exception as exc:  # noqa: BLE001 - the dead-letter path is the point
            try:
                await self.bus._dead_letter(subject, msg.data, exc)
            except BusError:
                return  # closing: leave it un-acked so it is redelivered
            await _settle(msg.term)
        else:
            self._count(subject, "handled")
            await _settle(msg.ack)
        self._remember(seq)

    def _remember(self, seq: int) -> None:
        self._seen.add(seq)
        self._seen_order.append(seq)
        if len(self._seen_order) > SEEN_WINDOW:
            self._seen.discard(self._seen_order.popleft())


def _delivery(reply: str) -> tuple[int, int]:
    """(times delivered, stream sequence) from a JetStream ack subject (v1 and v2 formats)."""
    tokens = reply.split(".")
    if len(tokens) == 9:  # $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
        return int(tokens[4]), int(tokens[5])
    if len(tokens) >= 11:  # $JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>...
        return int(tokens[6]), int(tokens[7])
    return 1, 0


class _CoreSubscription:
    """A plain NATS subscription (optionally in a queue group); no persistence."""

    def __init__(self, bus: Any, spec: SubscriptionSpec) -> None:
        self.bus = bus
        self.spec = spec
        self._decoders = Decoders(spec.message_type)
        self._sub: Any = None

    async def start(self) -> None:
        self._sub = await self.bus.nc.subscribe(self.bus.wire(self.spec.subject), queue=self.spec.queue or "", cb=self._on_msg)

    async def stop(self) -> None:
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception as exc:  # noqa: BLE001 - the connection may already be gone
                log.debug("unsubscribe failed", error=type(exc).__name__)
            self._sub = None

    async def _on_msg(self, msg: Msg) -> None:
        subject = self.bus.unwire(msg.subject)
        try:
            message = self._decoders.decode(subject, msg.data)
            await self.spec.handler(message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001
            try:
                await self.bus._dead_letter(subject, msg.data, exc)
            except BusError:
                pass
            return
        metrics.MESSAGES.labels(self.bus.service, subject, "handled").inc()


async def _settle(action: Any) -> None:
    try:
        await action()
    except (nats.errors.Error, OSError) as exc:
        # The connection dropped: the server redelivers after ACK_WAIT_S and _seen drops the copy.
        log.debug("ack failed", error=type(exc).__name__)
