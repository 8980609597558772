"""The ingest loop: websocket sessions with failover, backfill, per-block completion, reorgs.

One session = one websocket provider: subscribe ``logs`` (our topic0s, any emitter) and
``newHeads``, read the head, backfill from the last complete block to that head with
``eth_getLogs`` (HTTP pool, bounded ranges split on provider caps), then follow live:

* a log of the open block is published at once (dedupe by block hash + log index);
  a log of a later block waits until the blocks before it are complete;
* a head completes its block: ``eth_getLogs(blockHash)`` is the authoritative list (anything the
  websocket missed is published now, in order), then the ``BlockHead`` end marker;
* a head or log that contradicts a block we completed is a reorg: reversals, then the canonical
  blocks are backfilled.

A session ends on any provider fault (closed socket, 429, stalled subscription, unanswered ping)
and the next provider (by weight, in turn) takes over; the backfill of the next session closes the
gap, so nothing is lost and nothing is published twice.

An unknown emitter is identified before anything of it is published (:mod:`registry`); an
accepted pool seen for the first time gets a snapshot at the end of the block of its first log,
published before that log (the detector ignores events already inside a snapshot).

Resync (``mev.pools.resync``, :meth:`Engine.on_resync_request`): a detector that lost a pool's state
asks for a fresh snapshot. Requests are only queued by the handler; the engine itself serves them
at a block boundary - right after a live block's end marker, or while idle with no log of the next
block published yet - reading each pool at the last complete block and publishing the snapshot
(``reason="resync"``) on the chain stream, so that every event after it in the stream is newer
than the snapshot and the detector applies it on top. Only pools this deployment already accepted
are served (no probe on request); the others are ignored, logged and counted.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Any

from mevbot import messages as m
from mevbot import metrics
from mevbot.chainconfig import ChainConfig
from mevbot.errors import ChainError, DecodeError, MevbotError, ProviderStalledError, RpcError, StateError
from mevbot.provider_config import Provider
from mevbot.rpc import HttpRpc, WsConnection

from services.ingest import stats
from services.ingest.backfill import is_range_cap_error, plan_ranges, split_range
from services.ingest.decode import DECODERS, decode_at, decode_log, decode_pool_created, is_creation
from services.ingest.ledger import Ledger, Place
from services.ingest.outputs import CheckpointStore, Publisher
from services.ingest.registry import PoolRegistry
from services.ingest.settings import IngestSettings
from services.ingest.snapshot import read_snapshot
from services.ingest.topics import CREATION_TOPICS, log_filter

_INGEST_LATENCY = metrics.stage_latency("ingest")  # fed in bulk: see Engine.latency
PREFETCH_CONCURRENCY = 16
CONFIRM_EVERY_BLOCKS = 64
MAX_WS_BACKLOG = 100_000
RESYNC_MAX_POOLS_PER_BOUNDARY = 32  # snapshots read at one block boundary (the rest: next boundary)
RESYNC_READ_CONCURRENCY = 8


class _BackToPrimary(Exception):  # control flow, never leaves the engine
    """End a session on a backup provider to try the preferred one again."""

_DUPLICATE = stats.LOGS.labels("duplicate")
_BLOCKS: dict[str, Any] = {}  # source -> mev_ingest_blocks child


def _first(pair: tuple[int, dict]) -> int:
    return pair[0]


class Engine:
    def __init__(self, *, chain: ChainConfig, rpc: HttpRpc, ws_providers: list[Provider], registry: PoolRegistry,
                 publisher: Publisher, checkpoints: CheckpointStore | None, settings: IngestSettings, log: Any,
                 on_started: Any = None) -> None:
        if not ws_providers:
            raise ChainError("ingest needs at least one websocket (ws/wss) provider")
        self.chain = chain
        self.chain_id = chain.chain_id
        self.rpc = rpc
        self.ws_providers = ws_providers
        self.registry = registry
        self.publisher = publisher
        self.checkpoints = checkpoints
        self.cfg = settings
        self.log = log
        self.on_started = on_started
        self.ledger: Ledger | None = None
        self.snapshotted: set[str] = set()
        self.future: dict[int, list[tuple[dict, int]]] = defaultdict(list)
        self.sessions = 0
        self.failovers = 0
        self.started = asyncio.Event()
        self.current_provider: str | None = None
        self._saved: tuple[int, str] | None = None
        self._generation = 0
        self._return_at: float | None = None
        self._factories = {d.factory for d in chain.dexes}
        self._resync: dict[str, str] = {}  # pool -> requester, waiting for a block boundary
        self._resync_wake = asyncio.Event()
        self._resynced: dict[str, int] = {}  # pool -> block of its last resync snapshot
        self._quiet_since: float | None = None  # idle wait interrupted by a resync request since
        # mev_stage_latency_seconds{stage="ingest"} of every published event: one list append per
        # event, added to the histogram at each block end and by the checkpoint loop
        self.latency = stats.BatchedLatency(_INGEST_LATENCY)
        # registry lookups the hot path answered in-process, reported to the cache's hit rate in
        # bulk with the latency samples (Cache.record_hit costs ~2-3 us per call)
        self._local_hits = 0

    # --- start ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the checkpoint (or start at the head), snapshot the initial pools, publish them."""
        checkpoint = None
        if self.checkpoints is not None:
            if self.cfg.reset_checkpoint:
                await self.checkpoints.clear()
            checkpoint = await self.checkpoints.load()
        if checkpoint is not None:
            number, block_hash = checkpoint.block_number, checkpoint.block_hash
            header = await self.rpc.call("eth_getBlockByNumber", [hex(number), False])
            if header is None or header["hash"].lower() != block_hash:
                # chain reset (devnet) or the checkpoint block was reorged away while we were down:
                # its events cannot be reversed from here; the detector sees the gap and resyncs
                fallback = number - 1 if header is not None else int(await self.rpc.call("eth_blockNumber"), 16)
                self.log.error("checkpoint is not on the canonical chain: resuming from an earlier canonical block",
                               checkpoint=number, resume=fallback)
                number = fallback
                block_hash = (await self.rpc.call("eth_getBlockByNumber", [hex(number), False]))["hash"].lower()
            self.log.info("resuming from checkpoint", block=number, hash=block_hash)
        else:
            if self.cfg.start_block is not None:
                number = self.cfg.start_block
            else:
                number = int(await self.rpc.call("eth_blockNumber"), 16)
            header = await self.rpc.call("eth_getBlockByNumber", [hex(number), False])
            if header is None:
                raise ChainError(f"start block {number} not found")
            block_hash = header["hash"].lower()
            self.log.info("starting without checkpoint", block=number)
        self.ledger = Ledger(number, block_hash, window=self.cfg.reorg_window_blocks)
        pools = list(self.cfg.pools)
        if self.cfg.discover_from_block is not None:
            pools += await self.discover(self.cfg.discover_from_block, number)
        await self.initial_snapshots(pools, number, block_hash)
        await self.publisher.confirm()
        await self.publisher.flush()
        await self._save_checkpoint(force=True)
        self.started.set()
        if self.on_started is not None:
            self.on_started()

    async def discover(self, first: int, last: int) -> list[str]:
        """Pools created by allowed factories in ``[first, last]`` (from their creation logs)."""
        flt = {"address": sorted(self._factories), "topics": [list(CREATION_TOPICS)]}
        found = []
        for log in await self.get_logs(first, last, flt):
            try:
                created = decode_pool_created(log)
            except DecodeError as exc:
                self.log.warning("bad creation log", error=str(exc))
                continue
            detection = await self.registry.learn_created(*created)
            if detection is None:  # needs probes (Camelot V2 fees)
                detection = await self.registry.detect(created.pool)
            if detection.accepted:
                found.append(detection.address)
        self.log.info("pools discovered from factory logs", count=len(found), from_block=first, to_block=last)
        return found

    async def initial_snapshots(self, pools: list[str], number: int, block_hash: str) -> None:
        for address in dict.fromkeys(p.lower() for p in pools):
            detection = await self.registry.detect(address)
            if not detection.accepted:
                self.log.warning("configured pool rejected", pool=address, reason=detection.reason)
                await self.publisher.rejected(address, detection.reason, number)
                continue
            await self._snapshot(detection.info, number, block_hash, "initial")

    async def _snapshot(self, info: m.PoolInfo, number: int, block_hash: str, reason: str) -> bool:
        try:
            snapshot = await read_snapshot(self.rpc, info, number, block_hash=block_hash, chain_id=self.chain_id,
                                           reason=reason, received_ns=time.time_ns())
        except StateError as exc:
            # e.g. a V3 pool created but not initialised yet: snapshot it on its next event
            self.log.warning("pool snapshot not possible yet", pool=info.address, block=number, error=str(exc))
            return False
        await self.publisher.snapshot(snapshot)
        self.snapshotted.add(info.address)
        return True

    # --- sessions ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Follow the chain forever, failing over between websocket providers."""
        delay_s = 0.2
        while not self.started.is_set():
            try:
                await self.start()
            except RpcError as exc:  # providers down at start-up: keep trying (readiness stays 503)
                self.log.warning("start-up failed, retrying", error=str(exc), retry_in_s=delay_s)
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, 5.0)
        saver = asyncio.create_task(self._checkpoint_loop(), name="ingest-checkpoint")
        try:
            await self._sessions()
        finally:
            saver.cancel()
            await asyncio.gather(saver, return_exceptions=True)

    async def _sessions(self) -> None:
        index = 0
        while True:
            provider = self.ws_providers[index % len(self.ws_providers)]
            self.current_provider = provider.name
            # on a backup, go back to the preferred provider after a while (it may have recovered)
            self._return_at = (time.monotonic() + self.cfg.primary_retry_ms / 1000) if index % len(
                self.ws_providers) else None
            try:
                await self.session(provider)
                reason = "ended"
            except _BackToPrimary:
                self.log.info("returning to the preferred websocket provider", provider=self.ws_providers[0].name)
                stats.SESSIONS.labels(provider.name, "back_to_primary").inc()
                index = 0
                continue
            except asyncio.CancelledError:
                raise
            except ProviderStalledError as exc:
                reason = "stalled"
                self.log.warning("websocket provider stalled: failing over", provider=provider.name, error=str(exc))
            except RpcError as exc:
                reason = exc.code
                self.log.warning("websocket session failed: failing over", provider=provider.name, error=str(exc))
            except MevbotError as exc:
                reason = exc.code
                self.log.error("session error: reconnecting", provider=provider.name, error=str(exc))
            except Exception as exc:  # a bug or a provider answering nonsense: log, count, go on
                reason = type(exc).__name__
                self.log.error("unexpected session failure: reconnecting", provider=provider.name, error=str(exc),
                               exc_info=exc)
            stats.SESSIONS.labels(provider.name, reason).inc()
            if len(self.ws_providers) > 1:
                index += 1
                self.failovers += 1
                stats.FAILOVERS.inc()
            await asyncio.sleep(self.cfg.failover_backoff_ms / 1000)

    async def session(self, provider: Provider) -> None:
        ping_s = self.cfg.ping_interval_ms / 1000
        stall_s = self.cfg.stall_timeout_ms / 1000
        async with WsConnection(provider, ping_interval_s=ping_s, ping_timeout_s=ping_s,
                                open_timeout_s=max(1.0, stall_s), request_timeout_s=stall_s) as ws:
            logs_id = await ws.subscribe("logs", log_filter())
            heads_id = await ws.subscribe("newHeads")
            head = int(await ws.request("eth_blockNumber"), 16)
            self.sessions += 1
            self.log.info("websocket session", provider=provider.name, head=head, last=self.ledger.last.number)
            await self.catch_up(head)
            last_head_seen = head
            self._quiet_since = None
            while True:
                if self._resync and self.ledger.open is None:
                    await self.serve_resyncs()
                if self._return_at is not None and time.monotonic() >= self._return_at and ws.backlog == 0:
                    raise _BackToPrimary
                if ws.backlog > MAX_WS_BACKLOG:  # we fall behind (NATS down?): drop it, backfill later
                    raise ProviderStalledError(f"{provider.name}: {ws.backlog} notifications waiting",
                                               provider=provider.name)
                try:
                    note = await self._next(ws, stall_s)
                    if note is None:
                        continue  # a resync request arrived while idle: serve it at the loop's top
                except ProviderStalledError:
                    # silence: an idle chain, or a stalled subscription? ask for the head
                    current = int(await ws.request("eth_blockNumber", timeout_s=stall_s), 16)
                    if current > max(last_head_seen, self.ledger.last.number):
                        raise ProviderStalledError(
                            f"{provider.name}: chain at {current} but no newHeads since {last_head_seen}",
                            provider=provider.name) from None
                    continue
                if note.subscription == logs_id:
                    await self.on_log(note.result, note.received_ns)
                elif note.subscription == heads_id:
                    last_head_seen = max(last_head_seen, int(note.result["number"], 16))
                    await self.on_head(note.result)

    # --- live ----------------------------------------------------------------------------------

    async def on_log(self, raw: dict, received_ns: int) -> None:
        try:
            number = int(raw["blockNumber"], 16)
            block_hash = raw["blockHash"].lower()
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            await self.publisher.dead_letter(raw, DecodeError(f"log without block position: {exc}"))
            return
        ledger = self.ledger
        if raw.get("removed"):
            if ledger.hash_of(number) == block_hash or (ledger.open and ledger.open.hash == block_hash):
                await self.reconcile()  # the node says a block we published is gone
            return
        record = ledger.open
        if number == ledger.last_number + 1 and (record is None or record.hash == block_hash):
            await self.handle_log(raw, received_ns, number, block_hash)  # Place.OPEN, the hot path
            return
        place = ledger.place(number, block_hash)
        if place is Place.OPEN:
            await self.handle_log(raw, received_ns, number, block_hash)
        elif place is Place.FUTURE:
            if number > ledger.next_number + 1:
                # logs two blocks ahead while a head is missing (newHeads lagging or stalled):
                # complete the blocks in between from eth_getLogs instead of buffering forever
                await self.catch_up(number - 1)
                await self.on_log(raw, received_ns)
                return
            self.future[number].append((raw, received_ns))
            stats.LOGS.labels("buffered").inc()
        elif place is Place.FORK:
            if await self.fork_signal(number, block_hash):
                place = ledger.place(number, block_hash)
                if place is Place.OPEN:
                    await self.handle_log(raw, received_ns)
                elif place is Place.FUTURE:
                    self.future[number].append((raw, received_ns))
        else:
            stats.LOGS.labels("duplicate").inc()

    async def on_head(self, header: dict) -> None:
        number = int(header["number"], 16)
        block_hash = header["hash"].lower()
        ledger = self.ledger
        place = ledger.place(number, block_hash)
        if place is Place.DONE:
            return
        if place is Place.FORK or (place is Place.OPEN and header["parentHash"].lower() != ledger.last.hash):
            await self.reconcile()
            await self.catch_up(number)
            return
        if place is Place.FUTURE:
            await self.catch_up(number)
            return
        await self.complete_block(header, source="live")

    async def complete_block(self, header: dict, *, source: str, logs: list[dict] | None = None,
                             confirm: bool = True) -> None:
        """Publish whatever of the block is still missing (authoritative list), then its end."""
        number = int(header["number"], 16)
        block_hash = header["hash"].lower()
        if logs is None:
            logs = await self.rpc.call("eth_getLogs", [log_filter({"blockHash": block_hash})])
            await self.prefetch(logs)
        ledger = self.ledger
        if ledger.open is not None and ledger.open.hash != block_hash:
            await self._publish_reversals(ledger.drop_open())
        now = time.time_ns()
        # check the whole list first (nothing of a list that is not this block's gets published),
        # then publish what the websocket did not deliver, in log order
        seen = ledger.open_seen if ledger.open is not None and ledger.open.hash == block_hash else ()
        missing = []
        duplicates = 0
        for raw in logs:
            log_index = int(raw["logIndex"], 16)
            raw_hash = raw.get("blockHash")
            if raw.get("removed") or (raw_hash != block_hash and (raw_hash or "").lower() != block_hash):
                raise StateError(f"block {number}: log list does not belong to {block_hash}")
            if log_index in seen:
                duplicates += 1  # the websocket delivered it already
            else:
                missing.append((log_index, raw))
        if missing:
            missing.sort(key=_first)
            for log_index, raw in missing:
                if ledger.is_published(block_hash, log_index):
                    duplicates += 1  # listed twice
                    continue
                await self.handle_log(raw, now, number, block_hash, log_index)
        if duplicates:
            _DUPLICATE.inc(duplicates)
        events = ledger.open.events if ledger.open is not None and ledger.open.hash == block_hash else []
        await self.publisher.head(m.BlockHead(
            chain_id=self.chain_id, block_number=number, block_hash=block_hash,
            parent_hash=header["parentHash"].lower(), timestamp=int(header["timestamp"], 16),
            base_fee_wei=int(header.get("baseFeePerGas") or "0x0", 16), event_count=len(events), received_ns=now,
        ), confirm=confirm)
        ledger.complete(number, block_hash, header["parentHash"].lower())
        self._flush_metrics()
        blocks = _BLOCKS.get(source)
        if blocks is None:
            blocks = _BLOCKS[source] = stats.BLOCKS.labels(source)
        blocks.inc()
        stats.LAST_BLOCK.set(number)
        if self._resync and source == "live":
            await self.serve_resyncs()  # a block boundary: nothing of the next block published yet
        # logs of the next block that arrived early
        early = self.future.pop(number + 1, None)
        for stale in [n for n in self.future if n <= number]:
            del self.future[stale]
        if early:
            for raw, received_ns in early:
                await self.on_log(raw, received_ns)

    async def handle_log(self, raw: dict, received_ns: int, number: int | None = None,
                         block_hash: str | None = None, log_index: int | None = None) -> None:
        """One log of the open block: identify the emitter, decode, publish once.

        The hot path (a pool event of an accepted, already snapshotted pool, as nodes send it:
        lower-case topic0 and address) is written out here with the fewest calls; anything else
        (creation logs, unknown or rejected emitters, first events of a pool, mixed-case hex,
        malformed logs) goes through :meth:`_handle_other`, which does every check in full.
        """
        ledger = self.ledger
        if number is None or block_hash is None:
            number = int(raw["blockNumber"], 16)
            block_hash = raw["blockHash"].lower()
        if log_index is None:
            try:
                log_index = int(raw["logIndex"], 16)
            except (KeyError, TypeError, ValueError) as exc:
                await self.publisher.dead_letter(raw, DecodeError(f"log without logIndex: {exc}"))
                return
        record = ledger.open
        if record is not None and record.hash == block_hash and log_index in ledger.open_seen:
            _DUPLICATE.inc()  # ledger.is_published
            return
        if log_index < ledger.max_open_log_index:
            stats.OUT_OF_ORDER.inc()
            self.log.warning("log arrived after a later log of its block", block=number, log_index=log_index)
        topics = raw.get("topics")
        emitter = raw.get("address")
        try:
            decoder = DECODERS.get(topics[0])  # a creation topic0 is no key: the other path
            detection = self.registry.accepted.get(emitter) if decoder is not None else None
        except (TypeError, IndexError, KeyError):
            detection = None  # malformed: the other path dead-letters it
        if detection is None or emitter not in self.snapshotted:
            await self._handle_other(raw, received_ns, number, block_hash, log_index)
            return
        self._local_hits += 1  # a lookup answered in-process (see PoolRegistry.lookup), counted in bulk
        now = time.time_ns()
        try:
            event = decode_at(decoder, raw, emitter, topics, self.chain_id, received_ns, now, number, block_hash,
                              log_index)
        except DecodeError as exc:
            await self._dead_letter(raw, exc, number, block_hash, log_index)
            return
        if ledger.add(number, block_hash, log_index, event):
            await self.publisher.event(event)
            self.latency.samples.append(now - received_ns)

    async def _dead_letter(self, raw: dict, exc: DecodeError, number: int, block_hash: str, log_index: int) -> None:
        """A malformed log: dead-lettered with its error, and marked seen (never published, never retried)."""
        await self.publisher.dead_letter(raw, exc)
        self.ledger.mark_seen(number, block_hash, log_index)

    async def _handle_other(self, raw: dict, received_ns: int, number: int, block_hash: str, log_index: int) -> None:
        """:meth:`handle_log` for every log off its hot path (same outcome, every check spelt out)."""
        ledger = self.ledger
        if is_creation(raw):
            await self._on_creation(raw)
            ledger.mark_seen(number, block_hash, log_index)
            return
        emitter = (raw.get("address") or "").lower()
        detection = self.registry.lookup(emitter)
        if detection is None:
            try:  # a malformed log needs no probe: dead-letter it straight away
                decode_log(raw, self.chain_id, received_ns)
            except DecodeError as exc:
                await self._dead_letter(raw, exc, number, block_hash, log_index)
                return
            detection = await self.registry.detect(emitter)
        if not detection.accepted:
            stats.LOGS.labels("not_pool").inc()
            await self.publisher.rejected(emitter, detection.reason, number)
            ledger.mark_seen(number, block_hash, log_index)
            return
        if emitter not in self.snapshotted:
            await self._snapshot(detection.info, number, block_hash, "discovered")
        now = time.time_ns()
        try:
            event = decode_log(raw, self.chain_id, received_ns, now, block_number=number, block_hash=block_hash,
                               log_index=log_index)
        except DecodeError as exc:
            await self._dead_letter(raw, exc, number, block_hash, log_index)
            return
        if ledger.add(number, block_hash, log_index, event):
            await self.publisher.event(event)
            self.latency.samples.append(now - received_ns)

    async def prefetch(self, logs: list[dict]) -> None:
        """Identify every unknown emitter of ``logs`` concurrently (a backfill meets many at once)."""
        registry = self.registry
        unknown: set[str] = set()
        for raw in logs:
            address = (raw.get("address") or "").lower()
            if address in registry.accepted or address in unknown or registry.known(address) is not None:
                continue
            if is_creation(raw):
                continue
            try:  # a malformed log is dead-lettered without a probe (see handle_log)
                decode_log(raw, self.chain_id)
            except DecodeError:
                continue
            unknown.add(address)
        if not unknown:
            return
        sem = asyncio.Semaphore(PREFETCH_CONCURRENCY)

        async def one(address: str) -> None:
            async with sem:
                await registry.detect(address)

        results = await asyncio.gather(*(one(a) for a in unknown), return_exceptions=True)
        for exc in results:
            if isinstance(exc, BaseException):
                raise exc  # transport failure: the session retries

    async def _on_creation(self, raw: dict) -> None:
        stats.LOGS.labels("creation").inc()
        try:
            created = decode_pool_created(raw)
        except DecodeError as exc:
            self.log.warning("bad creation log", error=str(exc))
            return
        if created.factory in self._factories:
            await self.registry.learn_created(*created)

    # --- resync ---------------------------------------------------------------------------------

    async def on_resync_request(self, request: m.ResyncRequest) -> None:
        """``mev.pools.resync`` handler: queue the accepted pools (served at the next block boundary)."""
        queued = 0
        for pool in request.pools:
            address = pool.lower()
            detection = await self.registry.cached(address)
            if detection is None or not detection.accepted:
                stats.RESYNC.labels("ignored").inc()
                self.log.info("resync request for an unknown or rejected pool ignored", pool=address,
                              requested_by=request.requested_by,
                              why="unknown" if detection is None else detection.reason)
                continue
            self._resync[address] = request.requested_by
            queued += 1
        if queued:
            stats.RESYNC.labels("queued").inc(queued)
            self.log.info("resync requested", pools=queued, requested_by=request.requested_by,
                          reason=request.reason[:200])
            self._resync_wake.set()

    async def serve_resyncs(self) -> None:
        """Publish a fresh snapshot of queued pools at the last complete block.

        Must run in the engine's task at a block boundary (no log of the open block published), so
        the snapshot sits in the stream between the block's end marker and the next block's events.
        """
        ledger = self.ledger
        if not self._resync or ledger is None or ledger.open is not None or not self.started.is_set():
            return
        last = ledger.last
        batch = list(self._resync)[:RESYNC_MAX_POOLS_PER_BOUNDARY]
        for address in batch:
            del self._resync[address]
        if not self._resync:
            self._resync_wake.clear()
        todo = []
        for address in batch:
            if self._resynced.get(address) == last.number:  # already answered at this very block
                stats.RESYNC.labels("duplicate").inc()
            else:
                todo.append(address)
        if not todo:
            return
        sem = asyncio.Semaphore(RESYNC_READ_CONCURRENCY)

        async def read(address: str) -> m.PoolSnapshot | None:
            info = self.registry.accepted[address].info if address in self.registry.accepted else None
            if info is None:
                detection = await self.registry.cached(address)
                info = detection.info if detection is not None and detection.accepted else None
            if info is None:
                return None
            async with sem:
                try:
                    return await read_snapshot(self.rpc, info, last.number, block_hash=last.hash,
                                               chain_id=self.chain_id, reason="resync", received_ns=time.time_ns())
                except (StateError, RpcError) as exc:
                    stats.RESYNC.labels("failed").inc()
                    self.log.warning("resync snapshot not possible", pool=address, block=last.number, error=str(exc))
                    return None

        snapshots = await asyncio.gather(*(read(a) for a in todo))
        published = 0
        for snapshot in snapshots:
            if snapshot is None:
                continue
            await self.publisher.snapshot(snapshot)
            self.snapshotted.add(snapshot.pool.address)
            self._resynced[snapshot.pool.address] = last.number
            published += 1
        if published:
            if len(self._resynced) > 100_000:
                self._resynced.clear()
            stats.RESYNC.labels("served").inc(published)
            await self.publisher.confirm()
            self.log.info("resync snapshots published", pools=published, block=last.number)

    async def _next(self, ws: WsConnection, timeout_s: float) -> Any:
        """The next notification; None when a resync request arrived while idle at a block boundary.

        The silence allowed before :class:`ProviderStalledError` counts from the last notification,
        not from the last wake-up: repeated requests never hide a stalled subscription.
        """
        if ws.backlog or self.ledger.open is not None:
            self._quiet_since = None
            return await ws.next(timeout_s)
        now = time.monotonic()
        if self._quiet_since is None:
            self._quiet_since = now
        remaining = max(0.0, self._quiet_since + timeout_s - now)
        note_task = asyncio.ensure_future(ws.next(remaining))
        wake_task = asyncio.ensure_future(self._resync_wake.wait())
        try:
            await asyncio.wait((note_task, wake_task), return_when=asyncio.FIRST_COMPLETED)
        finally:
            wake_task.cancel()
            if not note_task.done():
                note_task.cancel()
        await asyncio.gather(note_task, return_exceptions=True)
        if note_task.cancelled():
            return None  # cancel-safe: an unread notification stays queued
        self._quiet_since = None
        return note_task.result()  # the notification, or the stall / closed error

    # --- backfill ------------------------------------------------------------------------------

    async def catch_up(self, target: int) -> None:
        """Complete every block up to ``target`` from ``eth_getLogs`` ranges and block headers."""
        while self.ledger.last.number < target:
            lo = self.ledger.next_number
            hi = min(target, lo + self.cfg.get_logs_max_blocks - 1)
            logs = await self.get_logs(lo, hi, log_filter())
            headers = await self.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in range(lo, hi + 1)])
            by_block: dict[int, list[dict]] = defaultdict(list)
            for raw in logs:
                by_block[int(raw["blockNumber"], 16)].append(raw)
            await self.prefetch(logs)
            for n, header in zip(range(lo, hi + 1), headers, strict=True):
                if isinstance(header, BaseException) or header is None:
                    raise RpcError(f"block {n} header unavailable: {header}")
                if header["parentHash"].lower() != self.ledger.last.hash:
                    await self.reconcile()
                    break
                block_hash = header["hash"].lower()
                block_logs = by_block.get(n, [])
                if any((r.get("blockHash") or "").lower() != block_hash for r in block_logs):
                    block_logs = None  # the range answer and the header disagree (reorg): by hash
                # a backfill confirms with the stream every CONFIRM_EVERY blocks, not per block
                confirm = n == hi or (n - lo) % CONFIRM_EVERY_BLOCKS == CONFIRM_EVERY_BLOCKS - 1
                await self.complete_block(header, source="backfill", logs=block_logs, confirm=confirm)

    async def get_logs(self, first: int, last: int, flt: dict) -> list[dict]:
        """``eth_getLogs`` over ``[first, last]``, cutting ranges the provider refuses."""
        out: list[dict] = []
        todo = plan_ranges(first, last, self.cfg.get_logs_max_blocks)
        while todo:
            lo, hi = todo.pop(0)
            try:
                out.extend(await self.rpc.call("eth_getLogs", [dict(flt, fromBlock=hex(lo), toBlock=hex(hi))]))
                stats.BACKFILL_LOGS_CALLS.labels("ok").inc()
            except RpcError as exc:
                if not is_range_cap_error(exc) or lo == hi:
                    raise
                stats.BACKFILL_LOGS_CALLS.labels("split").inc()
                todo[:0] = split_range(lo, hi)
        return out

    # --- reorgs --------------------------------------------------------------------------------

    async def fork_signal(self, number: int, block_hash: str) -> bool:
        """A log contradicts our chain: reconcile when it is canonical; False for a dead fork's log."""
        header = await self.rpc.call("eth_getBlockByNumber", [hex(number), False])
        if header is None or header["hash"].lower() != block_hash:
            stats.LOGS.labels("stale_fork").inc()
            return False
        await self.reconcile()
        return True

    async def reconcile(self) -> None:
        """Find the newest block we completed that is still canonical; reverse everything above it."""
        ledger = self.ledger
        numbers = sorted(ledger.completed, reverse=True)
        if ledger.open is not None:
            numbers.insert(0, ledger.open.number)
        canonical: dict[int, str] = {}
        ancestor = None
        for i in range(0, len(numbers), 32):
            chunk = numbers[i : i + 32]
            headers = await self.rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in chunk])
            for n, header in zip(chunk, headers, strict=True):
                if isinstance(header, dict):
                    canonical[n] = header["hash"].lower()
            ancestor = ledger.find_ancestor(canonical)
            if ancestor is not None:
                break
        if ancestor is None:
            self.log.error("reorg deeper than the window: detector must resync", window=ledger.window)
            ancestor = min(ledger.completed)
            record = ledger.completed[ancestor]
            record.hash = canonical.get(ancestor, record.hash)
        depth = ledger.last.number - ancestor
        if depth == 0 and (ledger.open is None or canonical.get(ledger.open.number) == ledger.open.hash):
            return  # our chain is canonical: nothing to undo
        reversals = ledger.rollback_to(ancestor)
        self._generation += 1
        stats.REORGS.inc()
        self.log.warning("reorg: rolled back", ancestor=ancestor, depth=depth, reversals=len(reversals))
        self.future.clear()
        await self._publish_reversals(reversals)
        await self.publisher.confirm()  # reversals stored before the checkpoint moves back
        await self._save_checkpoint(force=True)

    async def _publish_reversals(self, reversals: list[m.PoolEvent]) -> None:
        for event in reversals:
            await self.publisher.event(event)
            stats.REVERSALS.inc()

    def _flush_metrics(self) -> None:
        """Add the hot path's batched observations to the exported metrics (block end, checkpoint
        tick, close)."""
        self.latency.flush()
        hits, self._local_hits = self._local_hits, 0
        if hits:
            record_hit = self.registry.record_hit
            if record_hit is not None:
                record_hit(n=hits)

    # --- checkpoint ----------------------------------------------------------------------------

    async def _checkpoint_loop(self) -> None:
        while True:
            await asyncio.sleep(self.cfg.checkpoint_interval_ms / 1000)
            self._flush_metrics()  # events of a block still open (or abandoned) count too
            try:
                await self._save_checkpoint()
            except MevbotError as exc:
                self.log.warning("checkpoint not saved (will retry)", error=str(exc))

    async def _save_checkpoint(self, *, force: bool = False) -> None:
        """Persist the last complete block once everything up to it is acked.

        A reorg during the flush changes the generation: that save is skipped, never writing a
        block that was just rolled back.
        """
        if self.checkpoints is None or self.ledger is None:
            return
        number = self.publisher.confirmed_upto(self.ledger.last.number)
        block_hash = self.ledger.hash_of(number) if number is not None else None
        if number is None or block_hash is None:
            return  # nothing confirmed yet (or older than the window): keep the previous checkpoint
        current = (number, block_hash)
        if current == self._saved and not force:
            return
        generation = self._generation
        await self.publisher.flush()
        if generation != self._generation:
            return
        await self.checkpoints.save(*current)
        self._saved = current

    async def close(self) -> None:
        """Flush and persist where we are (graceful stop)."""
        self._flush_metrics()
        try:
            await self._save_checkpoint(force=True)
        except MevbotError as exc:
            self.log.warning("final checkpoint not saved", error=str(exc))
