"""Where ingest's results go: the bus (events, snapshots, block ends, rejections, dead letters)
and Redis (the checkpoint). Thin adapters over :mod:`mevbot.bus` and :mod:`mevbot.cache`.

Events and snapshots are confirmed per block (see :class:`Publisher`); the checkpoint is written
only for confirmed blocks, so a crash never skips an unpublished one.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

import msgspec
from mevbot import messages as m
from mevbot import metrics
from mevbot import subjects as subj
from mevbot.bus import dead_letter
from mevbot.errors import MevbotError
from mevbot.logging import get_logger

from services.ingest import stats

SERVICE = "ingest"
log = get_logger("services.ingest.publish")


class Publisher:
    """Publishes a block's messages fast and confirms the block as a whole, in order, exactly once.

    On NATS, events and snapshots go out as plain publishes (no per-message ack to wait for or
    to process) carrying a deterministic ``Nats-Msg-Id`` (``<chain>:<block hash>:<log index>:
    <p|r>``) and ``Nats-Expected-Last-Msg-Id`` = the id of the message published before it. The
    block's ``BlockHead`` is then published *with* an ack. The chain of expected ids makes the
    stream refuse any message whose predecessor is missing, so the head's ack proves the whole
    block is stored, in order - even across a NATS disconnect in the middle of the block. If the
    ack fails (refusal, disconnect, timeout), the block is published again from the last
    confirmed message: the duplicate window drops what is already stored, the rest is stored in
    order. The same ids make a restart idempotent too (within the stream's duplicate window).
    One active ingest publisher per stream (replicas are active/passive: a second concurrent
    writer would break the chain and be refused, never interleaved).

    On the in-memory bus (service tests) everything goes through ``publish_async``.
    """

    def __init__(self, bus: Any, chain_id: int, *, ack_timeout_s: float = 5.0) -> None:
        self.bus = bus
        self.chain_id = chain_id
        self.ack_timeout_s = ack_timeout_s
        self.fast = hasattr(bus, "nc") and hasattr(bus, "wire")
        self._rejected_sent: set[str] = set()
        self._block: list[tuple[str, bytes, str]] = []  # (wire subject, data, msg id) since the last confirm
        self._prev_id: str | None = None  # id of the last message handed to NATS
        self._confirmed_id: str | None = None  # id of the last message the stream confirmed
        self._pending_heads: list[int] = []  # block ends published but not confirmed yet
        self.confirmed_block: int | None = None
        self._wire: dict[str, str] = {}
        self._event_wire: dict[type, str] = {}  # event class -> wire subject
        self.events = 0
        self._counted = 0
        self.replays = 0
        self._requests = 0  # confirmation requests sent (reply tokens, see _request)
        self._token_prefix = f"ingest-{secrets.token_hex(4)}-"

    def _wire_subject(self, subject: str) -> str:
        wire = self._wire.get(subject)
        if wire is None:
            wire = self._wire[subject] = self.bus.wire(subject)
        return wire

    async def _send(self, subject: str, message: m.Message, msg_id: str) -> None:
        if not self.fast:
            await self.bus.publish_async(subject, message)
            return
        await self._send_wire(self._wire_subject(subject), message, msg_id)

    async def _send_wire(self, wire: str, message: m.Message, msg_id: str) -> None:
        """Chain ``message`` after the previous one and hand it to NATS (no ack: see the class)."""
        data = _encode(message)
        action = self._frame(wire, data, msg_id)
        if action:
            await self._finish(action, wire, data, msg_id)

    def _frame(self, wire: str, data: bytes, msg_id: str) -> int:
        """Chain and frame one message straight into nats-py's pending buffer (synchronous).

        nats-py's publish() re-validates the subject, re-encodes our two constant header names and
        builds the frame in three steps on every call (~3 us of ~5 us per message): here one bytes
        formatting (byte for byte its HPUB frame), appended to the pending buffer exactly as its
        ``_send_command()`` does. Returns what is left to do (:meth:`_finish`): ``0`` nothing,
        ``_KICK`` start nats-py's flusher (as publish() does), ``_FORCE`` flush now (buffer over
        its limit), ``_FALLBACK`` nothing was chained: publish through nats-py (disconnected, or
        a payload over the server's limit).
        """
        nc = self.bus.nc
        if not (_FAST_HPUB and len(data) < nc._max_payload and nc.is_connected):
            return _FALLBACK
        self._block.append((wire, data, msg_id))
        prev, self._prev_id = self._prev_id, msg_id
        id_b = msg_id.encode()
        if prev:
            prev_b = prev.encode()
            hdr_len = _HDR_CHAINED_LEN + len(id_b) + len(prev_b)
            frame = _HPUB_CHAINED % (wire.encode(), hdr_len, hdr_len + len(data), id_b, prev_b, data)
        else:
            hdr_len = _HDR_FIRST_LEN + len(id_b)
            frame = _HPUB_FIRST % (wire.encode(), hdr_len, hdr_len + len(data), id_b, data)
        nc._pending.append(frame)
        nc._pending_data_size += len(frame)
        if 0 < nc._max_pending_size < nc._pending_data_size:
            return _FORCE
        if nc._flush_queue is not None and nc._flush_queue.empty():
            return _KICK
        return 0

    async def _finish(self, action: int, wire: str, data: bytes, msg_id: str) -> None:
        """The rest of :meth:`_frame`'s work; a failure is left to the block's confirmation,
        which replays the block."""
        try:
            if action == _FALLBACK:
                self._block.append((wire, data, msg_id))
                prev, self._prev_id = self._prev_id, msg_id
                await self._publish(wire, data, msg_id, prev)
            else:
                await self.bus.nc._flush_pending(force_flush=action == _FORCE)
        except Exception:  # noqa: BLE001, S110 - the block's confirmation replays it
            pass

    async def _publish(self, wire: str, data: bytes, msg_id: str, expected_last: str | None) -> None:
        nc = self.bus.nc
        if _FAST_HPUB and nc.is_connected and len(data) < nc.max_payload:
            # nats-py's publish() re-validates and re-encodes our two constant header names on
            # every call (~3 us of the ~5 us per message); build the HPUB frame ourselves.
            hdr = (b"NATS/1.0\r\nNats-Msg-Id: " + msg_id.encode()
                   + (b"\r\nNats-Expected-Last-Msg-Id: " + expected_last.encode() if expected_last else b"")
                   + b"\r\n\r\n")
            await nc._send_command(_hpub_cmd(wire, "", hdr, data))
            if nc._flush_queue is not None and nc._flush_queue.empty():
                await nc._flush_pending()
            return
        await nc.publish(wire, data, headers=_headers(msg_id, expected_last))

    async def event(self, event: m.PoolEvent) -> None:
        meta = event.meta
        msg_id = f"{self.chain_id}:{meta.block_hash}:{meta.log_index}:{'r' if meta.removed else 'p'}"
        if self.fast:  # _send_wire written out: the hot path
            wire = self._event_wire.get(type(event))
            if wire is None:
                wire = self._event_wire[type(event)] = self._wire_subject(_EVENT_SUBJECTS[type(event)])
            data = _encode(event)
            action = self._frame(wire, data, msg_id)
            if action:
                await self._finish(action, wire, data, msg_id)
        else:
            await self.bus.publish_async(_EVENT_SUBJECTS[type(event)], event)
        self.events += 1

    async def snapshot(self, snapshot: m.PoolSnapshot) -> None:
        msg_id = f"{self.chain_id}:snap:{snapshot.pool.address}:{snapshot.block_number}:{snapshot.block_hash}"
        if snapshot.reason == "resync":
            # a resync may repeat a block already snapshotted (idle chain): a distinct id, else the
            # duplicate window would drop it and break the chain of expected last ids
            msg_id += f":resync:{snapshot.received_ns}"
        await self._send(subj.POOL_SNAPSHOT, snapshot, msg_id)
        stats.SNAPSHOTS.labels(snapshot.reason).inc()

    async def head(self, head: m.BlockHead, *, confirm: bool = True) -> None:
        """The block's end marker. With ``confirm`` it returns once the stream confirmed
        everything up to it; without (backfill), it is chained like an event and confirmed with a
        later block (:attr:`confirmed_block` says how far the stream confirmed)."""
        _PUBLISHED.inc(self.events - self._counted)  # counted per block: cheaper than per event
        self._counted = self.events
        _HEADS_PUBLISHED.inc()
        if not self.fast:
            await self.bus.publish_async(subj.BLOCK_HEAD, head)
            self.confirmed_block = head.block_number
            return
        msg_id = f"{self.chain_id}:head:{head.block_hash}"
        self._pending_heads.append(head.block_number)
        if not confirm:
            await self._send(subj.BLOCK_HEAD, head, msg_id)
            return
        self._block.append((self._wire_subject(subj.BLOCK_HEAD), _encode(head), msg_id))
        await self._confirm(head.block_number, resend_last=False)

    def confirmed_upto(self, last_complete: int) -> int | None:
        """The newest complete block whose messages the stream confirmed (None: none yet)."""
        return last_complete if not self._pending_heads else self.confirmed_block

    async def confirm(self) -> None:
        """Wait until every message published so far is stored (e.g. the initial snapshots)."""
        if self.fast and self._block:
            await self._confirm(None, resend_last=True)  # the last id again: acked as a duplicate

    async def _confirm(self, block: int | None, *, resend_last: bool) -> None:
        """Request an ack for the last message of ``_block`` (publishing it now unless
        ``resend_last``); on any failure replay ``_block`` from the last confirmed message."""
        delay_s = 0.05
        replay = False
        while True:
            try:
                # bounded as a whole, not only the ack: a publish stuck inside the client (a flush
                # that never completes across a reconnect) must become a replay, never a silent stall
                async with asyncio.timeout(2 * self.ack_timeout_s):
                    error = await self._attempt(replay, resend_last)
                if error is None:
                    break
                log.warning("block refused by JetStream: replaying", block=block, error=error)
            except Exception as exc:  # noqa: BLE001 - any failure: replay the block once connected
                log.warning("block not confirmed: replaying", block=block, error=type(exc).__name__)
            replay = True
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, 1.0)
        self._confirmed_id = self._prev_id = self._block[-1][2]
        self._block.clear()
        if self._pending_heads:
            self.confirmed_block = self._pending_heads[-1]
            self._pending_heads.clear()

    async def _attempt(self, replay: bool, resend_last: bool) -> str | None:
        """One try at confirming ``_block`` (replayed from the last confirmed message if ``replay``);
        the stream's refusal, or None once stored."""
        if replay:
            self.replays += 1
            prev = self._confirmed_id
            for wire, data, msg_id in self._block[:-1]:
                await self._publish(wire, data, msg_id, prev)
                prev = msg_id
            self._prev_id = prev
        wire, data, msg_id = self._block[-1]
        expected = self._prev_id if (replay or not resend_last) else _previous_id(self._block, self._confirmed_id)
        return _ack_error(await self._request(wire, data, msg_id, expected))

    async def _request(self, wire: str, data: bytes, msg_id: str, expected_last: str | None) -> bytes:
        """Publish one chained message with a reply subject; the stream's ack (its body).

        What ``nc.request`` does, minus its per-call costs (~20 us of CPU per block: subject
        validation, header encoding, a random token from ``os.urandom``, ``asyncio.wait_for``): the
        HPUB frame is built here, the reply goes to nats-py's own response subscription (the
        ``_resp_map`` future is set by its handler) under a token of ours, and a timer handle
        enforces the timeout. Raises on timeout, no responders or a closed connection (the
        caller replays the block).
        """
        nc = self.bus.nc
        if not (_FAST_REQUEST and nc.is_connected and len(data) < nc._max_payload):
            reply = await nc.request(wire, data, timeout=self.ack_timeout_s, headers=_headers(msg_id, expected_last))
            return reply.data
        if not nc._resp_sub_prefix:
            await nc._init_request_sub()
        self._requests += 1
        # '-' is outside the NUID alphabet: never one of nats-py's tokens; the random part keeps
        # two publishers on one connection apart
        token = f"{self._token_prefix}{self._requests}"
        inbox = nc._resp_sub_prefix + token.encode()
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        nc._resp_map[token] = future
        timer = loop.call_later(self.ack_timeout_s, _expire, future)
        try:
            id_b = msg_id.encode()
            if expected_last:
                prev_b = expected_last.encode()
                hdr_len = _HDR_CHAINED_LEN + len(id_b) + len(prev_b)
                frame = _HPUB_REQUEST_CHAINED % (wire.encode(), inbox, hdr_len, hdr_len + len(data), id_b, prev_b, data)
            else:
                hdr_len = _HDR_FIRST_LEN + len(id_b)
                frame = _HPUB_REQUEST_FIRST % (wire.encode(), inbox, hdr_len, hdr_len + len(data), id_b, data)
            nc._pending.append(frame)
            nc._pending_data_size += len(frame)
            if nc._flush_queue is not None and nc._flush_queue.empty():
                await nc._flush_pending()
            msg = await future
        finally:
            timer.cancel()
            nc._resp_map.pop(token, None)
        if msg.headers and msg.headers.get("Status") == _NO_RESPONDERS:
            raise MevbotError(f"no responders on {wire} (stream missing?)")
        return msg.data

    async def rejected(self, address: str, reason: str, block_number: int) -> None:
        if address in self._rejected_sent:
            return
        self._rejected_sent.add(address)
        try:
            await self.bus.publish_core(subj.POOL_REJECTED, m.PoolRejected(
                chain_id=self.chain_id, address=address, reason=reason, block_number=block_number))
        except MevbotError as exc:
            log.warning("PoolRejected not published", address=address, error=str(exc))

    async def dead_letter(self, raw_log: dict[str, Any], exc: MevbotError) -> None:
        """A log that cannot be decoded: kept on ``mev.dlq.ingest`` with the reason."""
        data = msgspec.json.encode(raw_log)
        letter = dead_letter(SERVICE, "eth_subscribe/logs", data, exc, self.chain_id)
        metrics.DEAD_LETTERS.labels(SERVICE, exc.code).inc()
        stats.LOGS.labels("dead_letter").inc()
        await self.bus.publish_async(subj.dlq_subject(SERVICE), letter)

    async def flush(self, timeout_s: float | None = 10.0) -> None:
        await self.bus.flush(timeout_s)


def _has_nats_internals(*names: str) -> bool:
    """Whether the nats-py we run has the internals ``_send_wire`` / ``_request`` use."""
    try:
        from nats.aio.client import Client

        client = Client()
        return all(hasattr(client, name) for name in names)
    except Exception:  # noqa: BLE001 - another nats-py: use the public publish() / request()
        return False


try:  # the HPUB frame builder of the nats-py version we run (see Publisher._publish)
    from nats.protocol.command import hpub_cmd as _hpub_cmd

    # pending buffer + flusher (Publisher._send_wire)
    _FAST_HPUB = _has_nats_internals("_pending", "_pending_data_size", "_max_pending_size", "_flush_queue",
                                     "_max_payload", "_flush_pending", "_send_command")
except ImportError:  # pragma: no cover - another nats-py: use the public publish()
    _FAST_HPUB = False
# nats-py's response subscription (Publisher._request)
_FAST_REQUEST = _FAST_HPUB and _has_nats_internals("_resp_map", "_resp_sub_prefix", "_init_request_sub")
_NO_RESPONDERS = "503"
_KICK, _FORCE, _FALLBACK = 1, 2, 3  # Publisher._frame: what is left to do


def _expire(future: asyncio.Future) -> None:
    if not future.done():
        future.set_exception(TimeoutError())


# The HPUB frame of a chained message, byte for byte what nats-py's hpub_cmd() builds (with an
# empty reply): "HPUB <subject>  <header len> <total len>\r\n<headers><payload>\r\n".
_HPUB_CHAINED = b"HPUB %s  %d %d\r\nNATS/1.0\r\nNats-Msg-Id: %s\r\nNats-Expected-Last-Msg-Id: %s\r\n\r\n%s\r\n"
_HPUB_FIRST = b"HPUB %s  %d %d\r\nNATS/1.0\r\nNats-Msg-Id: %s\r\n\r\n%s\r\n"
_HPUB_REQUEST_CHAINED = b"HPUB %s %s %d %d\r\nNATS/1.0\r\nNats-Msg-Id: %s\r\nNats-Expected-Last-Msg-Id: %s\r\n\r\n%s\r\n"
_HPUB_REQUEST_FIRST = b"HPUB %s %s %d %d\r\nNATS/1.0\r\nNats-Msg-Id: %s\r\n\r\n%s\r\n"
_HDR_CHAINED_LEN = len(b"NATS/1.0\r\nNats-Msg-Id: \r\nNats-Expected-Last-Msg-Id: \r\n\r\n")
_HDR_FIRST_LEN = len(b"NATS/1.0\r\nNats-Msg-Id: \r\n\r\n")


def _headers(msg_id: str, expected_last: str | None) -> dict[str, str]:
    if expected_last is None:
        return {"Nats-Msg-Id": msg_id}
    return {"Nats-Msg-Id": msg_id, "Nats-Expected-Last-Msg-Id": expected_last}


def _previous_id(block: list[tuple[str, bytes, str]], confirmed: str | None) -> str | None:
    return block[-2][2] if len(block) > 1 else confirmed


def _ack_error(data: bytes) -> str | None:
    try:
        body = msgspec.json.decode(data)
    except msgspec.DecodeError:
        return f"unreadable ack {data[:100]!r}"
    if isinstance(body, dict) and "error" in body:
        return str(body["error"])
    return None


_encode = msgspec.json.Encoder().encode
_EVENT_SUBJECTS = {cls: f"{subj.EVENTS_PREFIX}.{cls.__struct_config__.tag}"
                   for cls in (m.V2Sync, m.V2Swap, m.V3Swap, m.V3Mint, m.V3Burn, m.AlgebraFee)}
_PUBLISHED = stats.LOGS.labels("published")
_HEADS_PUBLISHED = metrics.MESSAGES.labels(SERVICE, subj.BLOCK_HEAD, "published")


class Checkpoint(msgspec.Struct, frozen=True):
    block_number: int
    block_hash: str
    saved_ns: int = 0


class CheckpointStore:
    """The last fully processed block in Redis (never in the in-process LRU: it changes)."""

    def __init__(self, cache: Any, chain_id: int, name: str = "ingest") -> None:
        self.cache = cache
        self.key = f"checkpoint:{chain_id}:{name}"

    async def load(self) -> Checkpoint | None:
        raw = await self.cache.get(self.key, local=False)
        if raw is None:
            return None
        try:
            return msgspec.json.decode(raw, type=Checkpoint)
        except msgspec.DecodeError:
            return None

    async def save(self, block_number: int, block_hash: str) -> None:
        value = msgspec.json.encode(Checkpoint(block_number, block_hash, time.time_ns()))
        await self.cache.set(self.key, value, local=False)

    async def clear(self) -> None:
        await self.cache.delete(self.key)
