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
