"""Where ingest's results go: the bus (events, snapshots, block ends, rejections, dead letters)
and Redis (the checkpoint). Thin adapters over :mod:`mevbot.bus` and :mod:`mevbot.cache`.

Events, snapshots and block ends use the bus's async JetStream publish (bounded in flight, acks
collected in the background); :meth:`Publisher.flush` waits for every ack (the checkpoint is only
written after it, so a crash never skips an unpublished block).
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from mevbot import messages as m
from mevbot import metrics
from mevbot import subjects as subj
from mevbot.bus import dead_letter
from mevbot.errors import CacheError, MevbotError
from services.ingest import stats

SERVICE = "ingest"


class Publisher:
    def __init__(self, bus: Any, chain_id: int) -> None:
        self.bus = bus
        self.chain_id = chain_id
        self._rejected_sent: set[str] = set()
        self.events = 0

    async def event(self, event: m.PoolEvent) -> None:
        await self.bus.publish_async(f"{subj.EVENTS_PREFIX}.{type(event).__struct_config__.tag}", event)
        self.events += 1

    async def snapshot(self, snapshot: m.PoolSnapshot) -> None:
        await self.bus.publish_async(subj.POOL_SNAPSHOT, snapshot)
        stats.SNAPSHOTS.labels(snapshot.reason).inc()

    async def head(self, head: m.BlockHead) -> None:
        await self.bus.publish_async(subj.BLOCK_HEAD, head)

    async def rejected(self, address: str, reason: str, block_number: int) -> None:
        if address in self._rejected_sent:
            return
        self._rejected_sent.add(address)
        await self.bus.publish_core(subj.POOL_REJECTED, m.PoolRejected(
            chain_id=self.chain_id, address=address, reason=reason, block_number=block_number))

    async def dead_letter(self, raw_log: dict[str, Any], exc: MevbotError) -> None:
        """A log that cannot be decoded: kept on ``mev.dlq.ingest`` with the reason."""
        data = msgspec.json.encode(raw_log)
        letter = dead_letter(SERVICE, "eth_subscribe/logs", data, exc, self.chain_id)
        metrics.DEAD_LETTERS.labels(SERVICE, exc.code).inc()
        stats.LOGS.labels("dead_letter").inc()
        await self.bus.publish_async(subj.dlq_subject(SERVICE), letter)

    async def flush(self, timeout_s: float | None = 10.0) -> None:
        await self.bus.flush(timeout_s)


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
