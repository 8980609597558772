"""Detector service wiring: chain stream -> DetectorCore -> ``mev.candidates``; heartbeats -> shares.

Flow: the :class:`ChainFollower` hands every chain message to :meth:`DetectorService.on_chain_message`
(state only, synchronous). Evaluation (``flush``) happens whenever the inbox drained
(evaluate-on-drain: mid-block too, so a swap is evaluated as soon as it is applied, not when its
block ends; Arbitrum's sequencer feed delivers a block's logs over ~250 ms), or at a ``BlockHead``
under backlog when the last evaluation is older than ``max(DETECTOR_MAX_COALESCE_MS, 4 x its
duration)``. Until then events only mark cycles dirty (coalescing: each dirty cycle is evaluated
once, on the newest state, however many events touched it). The evaluation runs in its own task,
not in the follower's callback, and returns to the event loop every ``FLUSH_YIELD_S``: events that
arrive during a long evaluation (on the devnet, a block's burst of ~250 logs behind 20-40 ms of
sizing) are applied meanwhile and join it (:meth:`DetectorCore.flush_iter`) instead of waiting in
the inbox for its end. Flush points under backlog and ``DETECTOR_IDLE_FLUSH_MS > 0`` evaluate
inline, on the state exactly at the block's end. With ``DETECTOR_IDLE_FLUSH_MS > 0``
a drained inbox inside an open block waits for the block's end marker up to that long instead
(evaluation per whole block, the pre-2026-11-24 behaviour).

Mid-block evaluation: pools are sized on their exact state at a chain position (the versions
say which; the validator drops a candidate whose pools moved since), stale pools are never used,
and an unchanged opportunity is not emitted twice (candidate id = cycle + versions). One thing
only the ``BlockHead`` can tell: that an event of the block never arrived (ingest lost a log; the
ordered consumer itself never skips a stream message). Then every pool goes stale at the block's
end, but candidates already emitted from that block were sized on a state missing the event
(the validator's store, fed by the same stream, has the same gap until that BlockHead). Block-end
evaluation avoided this except for blocks whose end marker came late; with evaluate-on-drain it
is the price of not waiting ~250 ms for the block to end.

Replicas: each publishes a ``DetectorHeartbeat`` every ``DETECTOR_HEARTBEAT_INTERVAL_MS`` on core
NATS and listens to the others; the live set decides, by rendezvous hashing, which cycles this
replica evaluates. A new replica waits 1.5 heartbeat intervals before its first evaluation so it
knows its peers; a stopping replica sends ``stopping=True`` so the others take over at once.

Resync: pools the store cannot trust (stale) or knows only from events (their snapshot is no longer
in the stream) are asked from ingest with a ``ResyncRequest`` on ``mev.pools.resync`` (core NATS),
right after a block end that made pools stale and every ``DETECTOR_RESYNC_INTERVAL_MS / 2``, each
pool at most once per ``DETECTOR_RESYNC_INTERVAL_MS`` (:mod:`services.detector.resync`). Ingest
answers on the chain stream with ``PoolSnapshot(reason="resync")``, which makes the pool ready.
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any

from mevbot import messages as m
from mevbot import metrics
from mevbot import subjects as subj
from mevbot.bus import Mode
from mevbot.chain_follower import ChainFollower
from mevbot.config import Env
from mevbot.errors import MevbotError
from mevbot.runtime import Service, ServiceContext

from services.detector import stats
from services.detector.core import DetectorCore
from services.detector.resync import ResyncRequester, pools_needing_resync
from services.detector.settings import DetectorSettings
from services.detector.sharding import Membership

#: candidates sized after the first of a flush are written to the socket at most this far apart
SEND_BATCH_S = 0.0005
#: a flush returns to the event loop at least this often (between two sizings; also after its first
#: candidate and each SEND_BATCH_S batch), so that events that arrived meanwhile are applied and the
#: rest of the flush sizes on the newest state. 1 ms cost the steady benchmark's tail (p99.9 13 ->
#: 18-27 ms, max 20 -> 38-55 ms on the Arbitrum set: a loop round trip, socket writes and nats-server
#: wake-ups on 2 shared cores, 2026-11-25); 10 ms was the pause before (heartbeats only)
FLUSH_YIELD_S = 0.005


class DetectorService(Service):
    name = "detector"
    default_port = 9102

    def __init__(self, env: Env | None = None) -> None:
        self.env = env
        self.ctx: ServiceContext | None = None
        self.core: DetectorCore | None = None
        self.follower: ChainFollower | None = None
        self._open_block = False
        self._last_flush = 0.0
        self._last_flush_ms = 0.0
        self._idle_handle: asyncio.TimerHandle | None = None
        self._settled = False
        self._started = False
        self._flushing = False
        self._flush_task: asyncio.Future | None = None
        self._resync_scheduled = False
        self._heap_grew = False

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        cfg = self.cfg = DetectorSettings.from_env(ctx.chain, self.env)
        self.started_ns = time.time_ns()
        self.core = DetectorCore(
            chain_id=ctx.chain_id, detector_id=ctx.replica_id, base_tokens=cfg.base_tokens,
            native_token=cfg.native_token, max_hops=cfg.max_hops, min_profit_wei=cfg.min_profit_wei,
            sizing=cfg.sizing,
        )
        self.membership = Membership(ctx.replica_id, cfg.heartbeat_ttl_ms * 1_000_000)
        self.resync = ResyncRequester(chain_id=ctx.chain_id, requested_by=ctx.replica_id,
                                      min_interval_s=cfg.resync_interval_ms / 1000)
        await ctx.subscribe(subj.DETECTOR_HEARTBEAT, self.on_heartbeat, mode=Mode.CORE,
                            message_type=m.DetectorHeartbeat)
        await self._send_heartbeat()
        ctx.spawn(self._heartbeat_loop(), name="detector-heartbeat")
        ctx.spawn(self._resync_loop(), name="detector-resync")
        loop = asyncio.get_running_loop()
        loop.call_later(cfg.heartbeat_interval_ms * 1.5 / 1000, self._settle)
        if hasattr(ctx.bus, "nc"):
            self.follower = ChainFollower(ctx.bus, self.on_chain_message, self.on_idle, replay=cfg.replay)
            await self.follower.start()
            ctx.add_readiness_check("chain_caught_up", lambda: self.follower.caught_up)
            if self.follower.replay_until_seq == 0:  # nothing to replay: in sync from the start
                self._started = True
                ctx.mark_started()
                self._freeze_heap()
        else:  # in-memory bus (service tests): every replica sees every message, in publish order
            for subject in (f"{subj.EVENTS_PREFIX}.>", subj.POOL_SNAPSHOT, subj.BLOCK_HEAD):
                await ctx.subscribe(subject, self._on_memory_message, mode=Mode.REPLICA)
            self._started = True
            ctx.mark_started()
        ctx.log.info("detector started", max_hops=cfg.max_hops, base_tokens=len(cfg.base_tokens),
                     native=cfg.native_token, replay=cfg.replay, sizing=cfg.sizing,
                     idle_flush_ms=cfg.idle_flush_ms)

    async def stop(self, ctx: ServiceContext) -> None:
        if self.follower is not None:
            await self.follower.stop()
        if self._flush_task is not None and not self._flush_task.done():
            self._flush_task.cancel()
        try:
            await self._send_heartbeat(stopping=True)
        except Exception:  # noqa: BLE001, S110 - best effort: peers expire us anyway
            pass

    # --- chain messages -------------------------------------------------------------------------

    def on_chain_message(self, message: Any, live: bool) -> bool:
        """Update state; True at a flush point (a block's end marker)."""
        core = self.core
        if isinstance(message, m.PoolEvent):
            core.on_event(message, live)
            self._open_block = True
            stats.EVENTS.inc()
            return False
        if isinstance(message, m.BlockHead):
            missing = core.on_block_head(message)
            self._open_block = False
            if missing:
                stats.SEQUENCE_GAPS.inc()
                self.ctx.log.error("block ended with missing events: every pool stale until resync",
                                   block=message.block_number, missing=missing)
            self._report_stale()
            return True
        if isinstance(message, m.PoolSnapshot):
            core.on_snapshot(message, live)
            self._heap_grew = True
            stats.POOLS.set(len(core.store))
            stats.CYCLES.set(len(core.index))
            return False
        return False

    async def _on_memory_message(self, message: Any) -> None:
        self.on_chain_message(message, True)
        if isinstance(message, m.BlockHead) and self._settled:
            await self.flush()

    async def on_idle(self, drained: bool) -> None:
        """Called by the follower when the inbox drained, or at a block end under backlog."""
        follower = self.follower
        if follower is not None and not follower.caught_up:
            return
        if not self._started:
            self._started = True
            self.ctx.mark_started()
            self._schedule_resync()  # replay done: ask for what it left stale or without a snapshot
            self._freeze_heap()
        if not self._settled:
            return
        if not drained:
            # behind: evaluate at a block end only every max(DETECTOR_MAX_COALESCE_MS, 4 x the last
            # evaluation's duration), so evaluation takes at most ~20 % of the time while catching up
            # (0 = at every block end, for reproducible runs)
            since_ms = (time.monotonic() - self._last_flush) * 1000
            limit_ms = self.cfg.max_coalesce_ms
            if limit_ms and since_ms < max(limit_ms, 4 * self._last_flush_ms):
                return
            await self.flush()  # inline: on the state exactly at this block's end
            return
        if self._open_block and self.cfg.idle_flush_ms > 0:
            # opt-in: wait for the block's end marker (up to DETECTOR_IDLE_FLUSH_MS) before evaluating
            if self._idle_handle is None:
                loop = asyncio.get_running_loop()
                self._idle_handle = loop.call_later(self.cfg.idle_flush_ms / 1000, self._idle_flush)
            return
        if self.cfg.idle_flush_ms > 0:
            # block-end mode: evaluate inline, on the state exactly at the block's end (reproducible)
            await self.flush()
            return
        # evaluate-on-drain (default): everything that arrived is applied, nothing else waits, so
        # evaluate now, mid-block or not; events that arrive meanwhile are applied while the
        # evaluation yields (it runs in its own task) and coalesced: a cycle still to be sized in
        # this evaluation is sized on the newest state, the others are screened and queued behind
        # it in the same evaluation (DetectorCore.flush_iter)
        self.schedule_flush()

    def schedule_flush(self) -> None:
        """Start an evaluation in its own task unless one is running (it re-runs itself at its end
        while cycles are dirty). Not in the caller's task: the follower's callback must return so
        that the subscription goes on applying events while the evaluation yields (awaited inline,
        a 20 ms evaluation held a whole block's burst of events in the inbox)."""
        task = self._flush_task
        if task is None or task.done():
            self._flush_task = asyncio.ensure_future(self.flush())

    def _idle_flush(self) -> None:
        self._idle_handle = None
        self.schedule_flush()

    def _settle(self) -> None:
        self._settled = True
        if self.follower is None or self.follower.caught_up:
            self.schedule_flush()

    async def flush(self) -> None:
        """Evaluate the dirty cycles this replica owns and publish the candidates."""
        if self._flushing or not self._settled:
            return
        if self._idle_handle is not None:
            self._idle_handle.cancel()
            self._idle_handle = None
        self._flushing = True
        detected = 0  # counted once per flush (a counter's inc takes a lock)
        try:
            start = time.perf_counter()
            # core NATS publish on the candidates stream's subject: JetStream stores it as any
            # other, without a PubAck to send back and parse per candidate (see docs/benchmarks.md;
            # 1.7-3 candidates per event on the benchmark). A candidate is worth ~one block: nothing
            # would resend it, so the ack bought nothing but a counter of refusals.
            publish = self.ctx.bus.publish_core
            # best first, each published as soon as sized; a pause every FLUSH_YIELD_S lets the events
            # that arrived meanwhile be applied (the rest of the flush sizes on the newest state)
            # and keeps heartbeats going.
            # nats-py only queues a publish: its flusher task writes the socket when the loop runs
            # (without a yield every candidate waited for the whole flush: +47 ms p50 measured).
            # A socket write costs ~0.1 ms here (a mean: the syscall wakes nats-server), as much as
            # sizing a cycle, so the first (best) candidate is written at once and the others in
            # batches at most SEND_BATCH_S apart, and at the end.
            clock = time.perf_counter
            sent_at = clock()
            unsent = 0
            first = True
            for candidate in self.core.flush_iter(pause_every_s=FLUSH_YIELD_S):
                if candidate is None:
                    await asyncio.sleep(0)
                    sent_at, unsent = clock(), 0
                    continue
                try:
                    await publish(subj.CANDIDATES, candidate)
                except MevbotError as exc:  # disconnected: the bus counted it; size the rest anyway
                    stats.EVALUATIONS.labels("publish_failed").inc()
                    self.ctx.log.warning("candidate not published", candidate=candidate.candidate_id,
                                         error=str(exc)[:200])
                    continue
                detected += 1
                metrics.observe_since_ns("detect", candidate.event_received_ns)
                unsent += 1
                if first or clock() - sent_at >= SEND_BATCH_S:
                    first = False
                    await asyncio.sleep(0)
                    sent_at, unsent = clock(), 0
            if unsent:
                await asyncio.sleep(0)
            took_s = time.perf_counter() - start
            self._last_flush_ms = took_s * 1000
            self._last_flush = time.monotonic()
            stats.EVALUATE_SECONDS.observe(took_s)
            stats.export_core(self.core)
            if self.core.last_error:
                self.ctx.log.error("cycle evaluation failed", error=self.core.last_error[:500])
                self.core.last_error = ""
        except Exception as exc:
            stats.EVALUATIONS.labels("flush_failed").inc()
            self.ctx.log.exception("flush failed", error=str(exc)[:500])
        finally:
            self._flushing = False
            if detected:
                metrics.OPPORTUNITIES_DETECTED.inc(detected)
        if self._heap_grew and self._started:
            self._freeze_heap()
        if self.core.dirty and (not self._open_block or self.cfg.idle_flush_ms == 0):
            # events applied while this flush paused found it busy: evaluate them now
            asyncio.get_running_loop().call_soon(self._idle_flush)

    def _freeze_heap(self, full: bool = True) -> None:
        """Exempt the long-lived heap (pool states, tick maps, the cycle index) from the cyclic GC.

        Evaluation allocates, so the GC runs; a full (generation 2) collection traverses every
        tracked object: 38-50 ms on the Arbitrum pool set, the largest single delay of a candidate
        in the latency benchmark. ``gc.freeze()`` moves every object alive now to a permanent
        generation the collector never traverses; frozen objects are still freed by reference
        counting, only a reference cycle among them would outlive its use. Done once in sync with
        the stream (after a full collection), after snapshots added state, and every heartbeat
        (after a young-generation collection: survivors of the last second join the frozen heap,
        so no full collection has anything large to traverse).
        """
        self._heap_grew = False
        gc.collect(2 if full else 1)
        gc.freeze()

    def _report_stale(self) -> None:
        requests = self.core.store.take_resync_requests()
        if requests:
            for pool, reason in list(requests.items())[:20]:
                self.ctx.log.warning("pool stale, needs a resync snapshot", pool=pool, reason=reason)
            stats.STALE_POOLS.set(len(self.core.store.stale_pools()))
            self._schedule_resync()

    # --- resync ---------------------------------------------------------------------------------

    def _schedule_resync(self) -> None:
        """Ask for the stale pools soon (from a synchronous handler; at most one pending)."""
        if not self._resync_scheduled:
            self._resync_scheduled = True
            self._resync_task = asyncio.ensure_future(self.request_resyncs())  # keep a reference

    async def request_resyncs(self) -> int:
        """Publish ``ResyncRequest`` for the pools that need one and are due; returns how many."""
        self._resync_scheduled = False
        if self.follower is not None and not self.follower.caught_up:
            return 0  # the rest of the replay may still hold the answer
        store = self.core.store
        stats.STALE_POOLS.set(len(store.stale_pools()))
        pools = pools_needing_resync(store)
        if not pools:
            return 0
        due = self.resync.due(pools, time.monotonic())
        sent = 0
        for request in self.resync.messages(due, store.block_number):
            try:
                await self.ctx.publish(subj.POOL_RESYNC, request)
            except MevbotError as exc:
                self.resync.forget(request.pools)
                stats.RESYNC_REQUESTS.labels("failed").inc(len(request.pools))
                self.ctx.log.warning("resync request not sent (will retry)", pools=len(request.pools), error=str(exc))
                continue
            sent += len(request.pools)
            stats.RESYNC_REQUESTS.labels("sent").inc(len(request.pools))
            self.ctx.log.info("resync requested", pools=len(request.pools), first=request.pools[0],
                              reason=request.reason[:200])
        return sent

    async def _resync_loop(self) -> None:
        interval_s = max(0.05, self.cfg.resync_interval_ms / 2000)
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.request_resyncs()
            except Exception as exc:  # never let the loop die: staleness would be forever
                self.ctx.log.exception("resync request failed", error=str(exc)[:300])

    # --- replicas -------------------------------------------------------------------------------

    async def on_heartbeat(self, heartbeat: m.DetectorHeartbeat) -> None:
        if heartbeat.replica_id == self.ctx.replica_id:
            return
        now = time.time_ns()
        changed = (self.membership.leave(heartbeat.replica_id) if heartbeat.stopping
                   else self.membership.observe(heartbeat.replica_id, now))
        if changed:
            self._apply_membership()

    def _apply_membership(self) -> None:
        members = self.membership.members()
        if self.core.set_members(members):
            stats.REPLICAS.set(len(members))
            self.ctx.log.info("detector replicas changed: rebalanced", members=list(members))

    async def _heartbeat_loop(self) -> None:
        interval_s = self.cfg.heartbeat_interval_ms / 1000
        last_tick = time.monotonic()
        while True:
            await asyncio.sleep(interval_s)
            now = time.monotonic()
            lag_s, last_tick = now - last_tick - interval_s, now
            await self._send_heartbeat()
            if self._started:
                self._freeze_heap(full=False)
            if lag_s > interval_s / 2:
                # this loop was blocked (a long evaluation): the peers' heartbeats are still queued
                # on our socket, so their silence proves nothing yet
                continue
            if self.membership.expire(time.time_ns()):
                self._apply_membership()

    async def _send_heartbeat(self, stopping: bool = False) -> None:
        ctx = self.ctx
        await ctx.bus.publish_core(subj.DETECTOR_HEARTBEAT, m.DetectorHeartbeat(
            chain_id=ctx.chain_id, replica_id=ctx.replica_id, started_ns=self.started_ns,
            sent_ns=time.time_ns(), stopping=stopping,
        ))
