"""Where ingest's results go: the bus (events, snapshots, block ends, rejections, dead letters)
and Redis (the checkpoint). Thin adapters over :mod:`mevbot.bus` and :mod:`mevbot.cache`.

Events and snapshots are confirmed per block (see :class:`Publisher`); the checkpoint is written
only for confirmed blocks, so a crash never skips an unpublished one.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec

from mevbot import messages as m
from mevbot import metrics
from mevbot import subjects as subj
from mevbot.bus import dead_letter
from mevbot.errors import CacheError, MevbotError
from mevbot.logging import get_logger
from services.ingest import stats

SERVICE = "ingest"
log = get_logger("services.ingest.publish")


class Publisher:
    """Publishes a block's messages fast and confirms the block as a whole.

    On NATS, events and snapshots go out as plain publishes carrying a deterministic
    ``Nats-Msg-Id`` (``<chain>:<block hash>:<log index>:<p|r>``): no per-message ack to wait
    for or to process. The block's ``BlockHead`` is then published *with* an ack: JetStream
    handles one connection's messages in order, so its ack means every message of the block was
    handled. If it fails (disconnect, timeout, refusal), the whole block is published again: the
    stream's duplicate window drops what it already stored, so the block ends up stored exactly
    once. The same ids make a restarted or a second active ingest replica idempotent too.

    On the in-memory bus (service tests) everything goes through ``publish_async``.
    """

    def __init__(self, bus: Any, chain_id: int, *, ack_timeout_s: float = 5.0) -> None:
        self.bus = bus
        self.chain_id = chain_id
        self.ack_timeout_s = ack_timeout_s
        self.fast = hasattr(bus, "nc") and hasattr(bus, "wire")
        self._rejected_sent: set[str] = set()
        self._block: list[tuple[str, bytes, dict[str, str]]] = []  # this block's messages, for a replay
        self._wire: dict[str, str] = {}
        self.events = 0
        self.replays = 0

    def _wire_subject(self, subject: str) -> str:
        wire = self._wire.get(subject)
        if wire is None:
            wire = self._wire[subject] = self.bus.wire(subject)
        return wire

    async def _send(self, subject: str, message: m.Message, msg_id: str) -> None:
        if not self.fast:
            await self.bus.publish_async(subject, message)
            return
        item = (self._wire_subject(subject), _encode(message), {"Nats-Msg-Id": msg_id})
        self._block.append(item)
        try:
            await self.bus.nc.publish(item[0], item[1], headers=item[2])
        except Exception:  # noqa: BLE001 - the block's confirmation replays it
            pass

    async def event(self, event: m.PoolEvent) -> None:
        meta = event.meta
        msg_id = f"{self.chain_id}:{meta.block_hash}:{meta.log_index}:{'r' if meta.removed else 'p'}"
        await self._send(_EVENT_SUBJECTS[type(event)], event, msg_id)
        self.events += 1
        _PUBLISHED.inc()

    async def snapshot(self, snapshot: m.PoolSnapshot) -> None:
        msg_id = f"{self.chain_id}:snap:{snapshot.pool.address}:{snapshot.block_number}:{snapshot.block_hash}"
        await self._send(subj.POOL_SNAPSHOT, snapshot, msg_id)
        stats.SNAPSHOTS.labels(snapshot.reason).inc()

    async def head(self, head: m.BlockHead) -> None:
        """The block's end marker; returns once the stream confirmed the whole block."""
        if not self.fast:
            await self.bus.publish_async(subj.BLOCK_HEAD, head)
            return
        item = (self._wire_subject(subj.BLOCK_HEAD), _encode(head), {"Nats-Msg-Id": f"{self.chain_id}:head:{head.block_hash}"})
        await self._confirm(item, head.block_number)
        metrics.MESSAGES.labels(SERVICE, subj.BLOCK_HEAD, "published").inc()

    async def confirm(self) -> None:
        """Wait until every message published so far is stored (e.g. the initial snapshots)."""
        if self.fast and self._block:
            await self._confirm(self._block[-1], None)  # its id again: acked as a duplicate, in order

    async def _confirm(self, item: tuple[str, bytes, dict[str, str]], block: int | None) -> None:
        delay_s = 0.05
        replay = False
        while True:
            try:
                if replay:
                    self.replays += 1
                    for pending in self._block:
                        await self.bus.nc.publish(pending[0], pending[1], headers=pending[2])
                reply = await self.bus.nc.request(item[0], item[1], timeout=self.ack_timeout_s, headers=item[2])
                error = _ack_error(reply.data)
                if error is None:
                    break
                log.warning("block refused by JetStream: replaying", block=block, error=error)
            except Exception as exc:  # noqa: BLE001 - any failure: replay the block once connected
                log.warning("block not confirmed: replaying", block=block, error=type(exc).__name__)
            replay = True
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, 1.0)
        self._block.clear()

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
        try:
            await self.cache.set(self.key, value, local=False)
        except CacheError:
            raise

    async def clear(self) -> None:
        await self.cache.delete(self.key)
