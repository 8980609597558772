"""With 1, 2 and 3 replicas on real NATS the union of candidates is the same set, with no duplicates."""

from __future__ import annotations

import asyncio

import pytest

from services.detector.synthetic import SyntheticMarket
from tests.fixtures.servers import _delete_streams
from tests.integration.detector.harness import Replicas

pytestmark = pytest.mark.integration


def market_messages():
    market = SyntheticMarket(n_tokens=24, n_pools=90, v3_share=0.35, seed=5)
    snapshots = list(market.snapshots)
    blocks = list(market.blocks(25, 8, size_fraction=(1e-3, 3e-2)))
    return market, snapshots, blocks


async def run(nats_url: str, namespace: str, n: int, snapshots, blocks):
    # evaluate exactly at every block end, never mid-block, so that runs are comparable
    async with Replicas(nats_url, namespace, n, DETECTOR_MAX_COALESCE_MS="0",
                        DETECTOR_IDLE_FLUSH_MS="60000", DETECTOR_HEARTBEAT_TTL_MS="5000") as replicas:
        for snapshot in snapshots:
            await replicas.publish(snapshot)
        for events, head in blocks:
            for event in events:
                await replicas.publish(event)
            await replicas.publish(head)
        await replicas.settle()
        owned = [sum(s.core.shard.owns(c) for c in s.core.index.cycles) for s in replicas.services]
        total = len(replicas.services[0].core.index)
        assert sum(owned) == total  # the shares cover every cycle exactly once
        assert all(s.core.store.stale_pools() == [] for s in replicas.services)
        return replicas.candidates, owned


def test_union_of_candidates_is_the_same_for_1_2_3_replicas(nats_url: str, namespace: str) -> None:
    _, snapshots, blocks = market_messages()
    results = {}
    try:
        for n in (1, 2, 3):
            candidates, owned = asyncio.run(run(nats_url, f"{namespace}n{n}", n, snapshots, blocks))
            ids = [c.candidate_id for c in candidates]
            assert len(ids) == len(set(ids)), f"{n} replicas emitted duplicates"
            if n > 1:
                assert all(o > 0 for o in owned)
                assert len({c.detector_id for c in candidates}) == n  # everyone did part of the work
            results[n] = {(c.candidate_id, c.cycle_id, c.amount_in, c.amount_out, c.block_number) for c in candidates}
    finally:
        for n in (1, 2, 3):
            asyncio.run(_delete_streams(nats_url, f"{namespace}n{n}"))
    assert len(results[1]) >= 5
    assert results[1] == results[2] == results[3]


def test_a_leaving_replica_hands_its_cycles_over_at_once(nats_url: str, namespace: str) -> None:
    async def scenario() -> None:
        market = SyntheticMarket(n_tokens=12, n_pools=30, v3_share=0.3, seed=9)
        async with Replicas(nats_url, namespace, 2, DETECTOR_HEARTBEAT_TTL_MS="60000") as replicas:
            for snapshot in market.snapshots:
                await replicas.publish(snapshot)
            await replicas.settle(quiet_s=0.1)
            first = replicas.services[0]
            cycles = list(first.core.index.cycles)
            assert 0 < sum(first.core.shard.owns(c) for c in cycles) < len(cycles)
            replicas.stops[1].set()  # graceful stop: its last heartbeat says "stopping"
            await asyncio.wait_for(replicas.tasks[1], 10)
            for _ in range(100):  # far sooner than the 60 s TTL
                if first.core.shard.members == ("det-0",):
                    break
                await asyncio.sleep(0.02)
            assert first.core.shard.members == ("det-0",)
            assert all(first.core.shard.owns(c) for c in cycles)

    asyncio.run(scenario())


def test_a_late_replica_rebuilds_state_from_the_stream_and_reports_only_live_opportunities(
        nats_url: str, namespace: str) -> None:
    async def scenario() -> None:
        market = SyntheticMarket(n_tokens=12, n_pools=30, v3_share=0.3, seed=11)
        history = list(market.blocks(10, 6, size_fraction=(1e-3, 3e-2)))
        from mevbot.nats_bus import NatsBus

        from tests.integration.detector.harness import Replicas as _R

        feeder = NatsBus(nats_url, service="ingest", namespace=namespace, chain_id=42161)
        await feeder.connect()
        await feeder.ensure_streams()
        publish = _R.publish.__get__(type("F", (), {"publisher": feeder})())
        for snapshot in market.snapshots:
            await publish(snapshot)
        for events, head in history:
            for event in events:
                await publish(event)
            await publish(head)
        await feeder.flush()
        await feeder.close()
        async with Replicas(nats_url, namespace, 1) as replicas:
            await replicas.settle(quiet_s=0.2)
            assert replicas.candidates == []  # the past is state, not opportunities
            core = replicas.services[0].core
            for address, shadow in market.shadow.items():
                pool = core.store.ready_pool(address)
                if hasattr(shadow, "reserve0"):
                    assert (pool.reserve0, pool.reserve1) == (shadow.reserve0, shadow.reserve1)
                else:
                    assert (pool.sqrt_price_x96, pool.tick, pool.liquidity) == (
                        shadow.sqrt_price_x96, shadow.tick, shadow.liquidity)
            live = list(market.blocks(3, 6, size_fraction=(1e-3, 3e-2)))
            for events, head in live:
                for event in events:
                    await replicas.publish(event)
                await replicas.publish(head)
            await replicas.settle(quiet_s=0.3)
            assert replicas.candidates
            assert {c.block_number for c in replicas.candidates} <= {h.block_number for _, h in live}

    asyncio.run(scenario())


def test_a_malformed_message_is_dead_lettered_and_the_stream_goes_on(nats_url: str, namespace: str) -> None:
    from mevbot import messages as m
    from mevbot import subjects as subj

    async def scenario() -> None:
        market = SyntheticMarket(n_tokens=12, n_pools=30, v3_share=0.3, seed=13)
        async with Replicas(nats_url, namespace, 1) as replicas:
            js = replicas.publisher.nc.jetstream()
            letters: list[m.DeadLetter] = []

            async def on_letter(msg) -> None:
                letters.append(m.decode(msg.data, m.DeadLetter))

            await js.subscribe(replicas.publisher.wire(subj.dlq_subject("detector")),
                               stream=replicas.publisher.stream_name(subj.STREAM_DLQ), ordered_consumer=True,
                               cb=on_letter)
            for snapshot in market.snapshots:
                await replicas.publish(snapshot)
            await replicas.publisher.nc.publish(replicas.publisher.wire("mev.events.v3_swap"), b'{"type": "v3_swap", "x"')
            (events, head), = list(market.blocks(1, 10, size_fraction=(1e-3, 3e-2)))
            for event in events:
                await replicas.publish(event)
            await replicas.publish(head)
            await replicas.settle(quiet_s=0.3)
            assert len(letters) == 1 and letters[0].error_code == "wire" and letters[0].subject == "mev.events.v3_swap"
            core = replicas.services[0].core
            assert core.store.stale_pools() == []
            for address, shadow in market.shadow.items():  # the valid events after it were applied
                pool = core.store.ready_pool(address)
                state = (pool.reserve0, pool.reserve1) if hasattr(shadow, "reserve0") else (pool.sqrt_price_x96,)
                expected = (shadow.reserve0, shadow.reserve1) if hasattr(shadow, "reserve0") else (shadow.sqrt_price_x96,)
                assert state == expected

    asyncio.run(scenario())
