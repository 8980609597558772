"""Follow the chain stream (MEV_CHAIN) in order: an ordered JetStream consumer from the start.

Used by every service that keeps pool state in memory (the detector's state, the validator's
market mirror). Why not the bus's per-replica durable consumers: a restarted replica that resumed
a durable consumer where it stopped would miss every snapshot and event before that point; and
one consumer per subject (events, snapshots, block ends) loses the order *between* them: under
load a block's end marker was handled before the last of its events, and the store, seeing a
block with missing events, marked every pool stale (the validator's mirror, 20 of 250 blocks of
the chain stress test, every pool stale from then on). An ordered (ephemeral, flow-controlled,
gap-checked) consumer of the whole stream, replayed from the first retained message, rebuilds
exact state on every start in chain order; messages that were already in the stream when the
replica subscribed are delivered with ``live=False`` (state only, no candidates).

The handler runs inline in the subscription callback (no extra queue hop). ``on_idle(True)`` is
called whenever the client-side inbox is empty, ``on_idle(False)`` after a flush point (the
handler returned True) while more messages wait: that is where the detector evaluates. A follower
without ``on_idle`` (the validator's mirror: state only) skips that call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nats.js import api

from mevbot import metrics
from mevbot import subjects as subj
from mevbot.bus import Decoders, chain_id_of, dead_letter
from mevbot.errors import MevbotError
from mevbot.logging import get_logger

log = get_logger("mevbot.chain_follower")

Handler = Callable[[Any, bool], bool]  # (message, live) -> True at a flush point


class ChainFollower:
    def __init__(self, bus: Any, handler: Handler, on_idle: Callable[[bool], Awaitable[None]] | None = None, *,
                 replay: bool = True, service: str = "detector") -> None:
        self.bus = bus
        self.handler = handler
        self.on_idle = on_idle
        self.replay = replay
        self.service = service  # names its dead letters and log lines
        self.replay_until_seq = 0
        self.last_seq = 0
        self.handled = 0
        self.failed = 0
        self._decoders = Decoders()
        self._sub: Any = None

    @property
    def caught_up(self) -> bool:
        return self.last_seq >= self.replay_until_seq

    async def start(self) -> None:
        js = self.bus.nc.jetstream()
        stream = self.bus.stream_name(subj.STREAM_CHAIN)
        info = await js.stream_info(stream)
        self.replay_until_seq = info.state.last_seq if self.replay else 0
        self._sub = await js.subscribe(
            self.bus.wire(f"{subj.ROOT}.>"),
            stream=stream,
            ordered_consumer=True,
            cb=self._on_msg,
            deliver_policy=api.DeliverPolicy.ALL if self.replay else api.DeliverPolicy.NEW,
            pending_msgs_limit=1_000_000,
            pending_bytes_limit=1024 * 1024 * 1024,
        )
        log.info("following chain stream", service=self.service, stream=stream, replay_until_seq=self.replay_until_seq)

    async def stop(self) -> None:
        if self._sub is not None:
            try:
                await self._sub.unsubscribe()
            except Exception:  # noqa: BLE001, S110 - the connection may already be gone
                pass
            self._sub = None

    async def _on_msg(self, msg: Any) -> None:
        # ``$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ts>.<pending>``; the
        # longer v2 form (domain, account hash) goes through the library's parser
        tokens = msg.reply.split(".")
        seq = int(tokens[5]) if len(tokens) == 9 else msg.metadata.sequence.stream
        self.last_seq = seq
        subject = self.bus.unwire(msg.subject)
        flush_point = False
        try:
            message = self._decoders.decode(subject, msg.data)
            flush_point = self.handler(message, seq > self.replay_until_seq)
            self.handled += 1
        except Exception as exc:
            self.failed += 1
            reason = exc.code if isinstance(exc, MevbotError) else type(exc).__name__
            metrics.DEAD_LETTERS.labels(self.service, reason).inc()
            log.error("chain message failed, dead-lettered", subject=subject, error_code=reason, error=str(exc)[:300],
                      exc_info=not isinstance(exc, MevbotError))
            letter = dead_letter(self.service, subject, msg.data, exc, chain_id_of(msg.data))
            try:
                await self.bus.publish_async(subj.dlq_subject(self.service), letter)
            except MevbotError:
                pass
        if self.on_idle is not None and self._sub is not None:
            drained = self._sub.pending_msgs == 0
            if drained or flush_point:
                await self.on_idle(drained)

