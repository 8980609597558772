"""Subscriptions of :class:`mevbot.nats_bus.NatsBus`: durable pull consumers and core subscribers."""

from __future__ import annotations

import asyncio
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
FETCH_WAIT_S = 1.0
SEEN_WINDOW = 65_536  # stream sequences remembered to drop redeliveries of handled messages
_CHECK_CONSUMER_EVERY = 10  # idle fetches between consumer existence checks
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
    """A durable pull consumer fetched in batches and handled in stream order."""

    def __init__(self, bus: Any, spec: SubscriptionSpec, stream: str) -> None:
        self.bus = bus
        self.spec = spec
        self.stream = stream
        self._decoders = Decoders(spec.message_type)
        self._psub: Any = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._handling = False
        self._seen: set[int] = set()
        self._seen_order: deque[int] = deque()
        self._limit = asyncio.Semaphore(max(1, spec.concurrency))

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

    async def _bind(self) -> None:
        try:
            self._psub = await self.bus._js.pull_subscribe(
                self.bus.wire(self.spec.subject), durable=self.spec.durable, stream=self.stream, config=self._config()
            )
        except nats.js.errors.Error as exc:
            raise BusError(f"cannot create consumer {self.spec.durable} on {self.stream}: {exc}") from exc
        except _TRANSIENT + (nats.errors.TimeoutError,) as exc:
            raise BusError(f"cannot create consumer {self.spec.durable}: {type(exc).__name__}") from exc

    async def start(self) -> None:
        await self._bind()
        self._task = asyncio.create_task(self._run(), name=f"consume:{self.spec.durable}")
        log.info("consuming", subject=self.spec.subject, consumer=self.spec.durable, mode=self.spec.mode.value)

    async def stop(self) -> None:
        self._stopping = True
        if self._task is None:
            return
        if not self._handling:
            self._task.cancel()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=ACK_WAIT_S)
        except (TimeoutError, asyncio.CancelledError):
            self._task.cancel()
        if self._psub is not None:
            try:
                await self._psub.unsubscribe()
            except Exception:  # noqa: BLE001 - the connection may already be gone
                pass

    async def _run(self) -> None:
        idle = 0
        delay_s = 0.1
        while not self._stopping:
            try:
                await self.bus._wait_connected()
            except BusError:
                return
            try:
                msgs = await self._psub.fetch(self.spec.batch, timeout=FETCH_WAIT_S)
            except nats.errors.TimeoutError:
                idle += 1
                if idle % _CHECK_CONSUMER_EVERY == 0:
                    await self._check_consumer()
                continue
            except (nats.js.errors.Error, *_TRANSIENT) as exc:
                log.debug("fetch failed, retrying", consumer=self.spec.durable, error=type(exc).__name__)
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, 2.0)
                await self._check_consumer()
                continue
            idle, delay_s = 0, 0.1
            self._handling = True
            try:
                if self.spec.concurrency <= 1:
                    for msg in msgs:
                        await self._handle(msg)
                else:
                    await asyncio.gather(*(self._handle_limited(msg) for msg in msgs))
            finally:
                self._handling = False

    async def _check_consumer(self) -> None:
        """Re-create the consumer if the server lost it (a restart without its store)."""
        if not self.bus.connected:
            return
        try:
            await self.bus._js.consumer_info(self.stream, self.spec.durable)
        except nats.js.errors.NotFoundError:
            log.warning("consumer vanished, re-creating", consumer=self.spec.durable, stream=self.stream)
            try:
                await self.bus.ensure_streams()
                await self._bind()
            except BusError as exc:
                log.warning("re-creating consumer failed", error=str(exc))
        except Exception:  # noqa: BLE001 - transient; next check retries
            pass

    async def _handle_limited(self, msg: Msg) -> None:
        async with self._limit:
            await self._handle(msg)

    async def _handle(self, msg: Msg) -> None:
        subject = self.bus.unwire(msg.subject)
        meta = msg.metadata
        seq = meta.sequence.stream
        if meta.num_delivered > 1 and seq in self._seen:
            metrics.MESSAGES.labels(self.bus.service, subject, "duplicate").inc()
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
            metrics.MESSAGES.labels(self.bus.service, subject, "handled").inc()
            await _settle(msg.ack)
        self._remember(seq)

    def _remember(self, seq: int) -> None:
        self._seen.add(seq)
        self._seen_order.append(seq)
        if len(self._seen_order) > SEEN_WINDOW:
            self._seen.discard(self._seen_order.popleft())


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
            except Exception:  # noqa: BLE001 - the connection may already be gone
                pass
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
