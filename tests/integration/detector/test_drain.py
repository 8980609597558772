"""Evaluate-on-drain on real NATS: a swap is evaluated as soon as it is applied, before its block ends."""

from __future__ import annotations

import asyncio
import time

import pytest
from mevbot import messages as m

from services.detector.synthetic import CHAIN_ID, SyntheticMarket, block_hash_of
from tests.integration.detector.harness import Replicas

pytestmark = pytest.mark.integration


def dislocation(market: SyntheticMarket, block: int) -> list[m.PoolEvent]:
    """Large swaps on a few pools of ``block`` (no BlockHead): opportunities open mid-block."""
    events = []
    for i, address in enumerate(list(market.pools)[:6]):
        event = market.swap_event(address, block, i, i, 0.05)
        if event is not None:
            events.append(event)
    return events


async def wait_for(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return predicate()


async def _open_dislocation(replicas: Replicas, market: SyntheticMarket) -> tuple[int, int, list, int]:
    """The market's snapshots, settled, then a dislocating block's events without its BlockHead:
    (candidates before it, its block number, its events, the time just before they were sent)."""
    for snapshot in market.snapshots:
        await replicas.publish(snapshot)
    await replicas.settle(quiet_s=0.2)
    before = len(replicas.candidates)
    block = market.block + 1
    events = dislocation(market, block)
    stamp = time.time_ns()
    for event in events:
        await replicas.publish(event)
    await replicas.publisher.flush()
    return before, block, events, stamp


def test_candidates_leave_before_the_block_ends_and_are_not_repeated(nats_url: str, namespace: str) -> None:
    async def scenario() -> None:
        market = SyntheticMarket(n_tokens=12, n_pools=40, v3_share=0.3, seed=4)
        async with Replicas(nats_url, namespace, 1) as replicas:
            before, block, events, stamp = await _open_dislocation(replicas, market)
            # no BlockHead yet: the inbox drained, so the detector evaluates the open block
            assert await wait_for(lambda: len(replicas.candidates) > before, 5.0)
            await replicas.settle(quiet_s=0.3)  # every event applied, every candidate out
            mid_block = replicas.candidates[before:]
            assert all(c.block_number == block and c.gross_profit > 0 for c in mid_block)
            assert all(c.detected_ns >= stamp for c in mid_block)
            service = replicas.services[0]
            assert service._open_block
            # the block's end marker changes no pool: nothing new, nothing repeated
            await replicas.publish(m.BlockHead(chain_id=CHAIN_ID, block_number=block, block_hash=block_hash_of(block),
                                               parent_hash=block_hash_of(block - 1), timestamp=block,
                                               event_count=len(events)))
            await replicas.settle(quiet_s=0.3)
            ids = [c.candidate_id for c in replicas.candidates]
            assert len(ids) == len(set(ids))
            assert replicas.candidates[before:] == mid_block
            assert service.core.store.stale_pools() == []

    asyncio.run(scenario())


def test_idle_flush_ms_restores_evaluation_at_the_block_end(nats_url: str, namespace: str) -> None:
    async def scenario() -> None:
        market = SyntheticMarket(n_tokens=12, n_pools=40, v3_share=0.3, seed=4)
        async with Replicas(nats_url, namespace, 1, DETECTOR_IDLE_FLUSH_MS="60000") as replicas:
            before, block, events, _ = await _open_dislocation(replicas, market)
            assert not await wait_for(lambda: len(replicas.candidates) > before, 0.5)
            await replicas.publish(m.BlockHead(chain_id=CHAIN_ID, block_number=block, block_hash=block_hash_of(block),
                                               parent_hash=block_hash_of(block - 1), timestamp=block,
                                               event_count=len(events)))
            assert await wait_for(lambda: len(replicas.candidates) > before, 5.0)

    asyncio.run(scenario())


def test_events_that_arrive_during_an_evaluation_are_applied_while_it_runs(nats_url: str, namespace: str) -> None:
    """The evaluation runs in its own task and yields between sizings: a burst of events arriving
    meanwhile is applied at once (it used to wait in the inbox for the whole evaluation, e.g. a
    block's 250 logs behind a 20 ms evaluation on the devnet), and the cycles still to be sized
    in that evaluation are sized on the newest state, each emitted once."""
    async def scenario() -> None:
        market = SyntheticMarket(n_tokens=12, n_pools=40, v3_share=0.3, seed=4)
        async with Replicas(nats_url, namespace, 1) as replicas:
            service = replicas.services[0]
            core = service.core
            applied_while_flushing: list[bool] = []
            on_event, size = core.on_event, core._size

            def recording_on_event(event, live=True):
                applied_while_flushing.append(service._flushing)
                on_event(event, live)

            def slow_size(cycle, stamp_ns):
                time.sleep(0.004)  # a long sizing (a dislocation across hundreds of ticks)
                return size(cycle, stamp_ns)

            core.on_event = recording_on_event
            for snapshot in market.snapshots:
                await replicas.publish(snapshot)
            await replicas.settle(quiet_s=0.2)
            core._size = slow_size
            block = market.block + 1
            events = dislocation(market, block)
            for event in events:
                await replicas.publish(event)
            await replicas.publisher.flush()
            assert await wait_for(lambda: service._flushing, 5.0)
            applied_while_flushing.clear()
            later = [e for i, address in enumerate(list(market.pools)[6:16])
                     if (e := market.swap_event(address, block, 10 + i, 10 + i, 0.02)) is not None]
            for event in later:
                await replicas.publish(event)
            await replicas.publisher.flush()
            await replicas.settle(quiet_s=0.3)
            assert len(applied_while_flushing) == len(later)
            assert any(applied_while_flushing), "no event was applied while the evaluation ran"
            ids = [c.candidate_id for c in replicas.candidates]
            assert len(ids) == len(set(ids))
            assert not core.dirty and not service._flushing
            newest = {e.pool: (e.meta.block_number << 40) | (e.meta.tx_index << 20) | e.meta.log_index
                      for e in [*events, *later]}
            # every pool's last event is in the state the detector holds, and in the candidates it sized last
            assert all(core.store.entries[pool].version == version for pool, version in newest.items())

    asyncio.run(scenario())


def test_a_busy_polling_detector_emits_the_same_candidates(nats_url: str, namespace: str) -> None:
    """BUSY_POLL (the loop never sleeps) changes when messages are noticed, not what is computed:
    the same dislocation gives the same candidates on the block's state, mid-block, and nats-py's
    I/O is not starved.

    Compared: the candidates sized on the state after every event of the dislocation. Evaluation
    starts whenever the inbox drains, so how many of the six events a first evaluation sees depends
    on how they arrive (one socket read or several), in either mode: the candidates sized on such
    an intermediate state differ from run to run (seen: two more in one run), those on the final
    state do not."""
    from mevbot import metrics

    from tests.fixtures.servers import _delete_streams

    async def candidates_of(ns: str, **env: str) -> tuple[list[str], float]:
        market = SyntheticMarket(n_tokens=12, n_pools=40, v3_share=0.3, seed=4)
        async with Replicas(nats_url, ns, 1, **env) as replicas:
            before, _, _, _ = await _open_dislocation(replicas, market)
            assert await wait_for(lambda: len(replicas.candidates) > before, 5.0)
            await replicas.settle(quiet_s=0.3)
            polling = metrics.BUSY_POLL.labels("detector")._value.get()
            final = {pool: entry.version for pool, entry in replicas.services[0].core.store.entries.items()}
            on_final = [c.candidate_id for c in replicas.candidates[before:]
                        if all(final[v.pool] == v.version for v in c.state_versions)]
            return sorted(on_final), polling

    async def scenario() -> None:
        try:
            sleeping, polled_sleeping = await candidates_of(f"{namespace}_sleep")
            polling, polled = await candidates_of(f"{namespace}_poll", BUSY_POLL="true")
        finally:
            for ns in (f"{namespace}_sleep", f"{namespace}_poll"):
                await _delete_streams(nats_url, ns)
        assert polled_sleeping == 0 and polled == 1
        assert sleeping and polling == sleeping

    asyncio.run(scenario())
