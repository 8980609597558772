"""MarketStore: exact state from snapshot + events, versions, reorg rollback, staleness."""

from __future__ import annotations

import random

import pytest
from mevbot.market import MarketStore, PoolStatus, end_of_block, position

from tests.unit.market.helpers import (
    burn,
    head,
    meta,
    mint,
    sync,
    v2_info,
    v2_snapshot,
    v3_info,
    v3_pool_with_positions,
    v3_snapshot_from,
    v3_state,
    v3_swap_event,
)

WETH, USDC = "0x" + "11" * 20, "0x" + "22" * 20
V2 = "0x" + "a2" * 20
V3 = "0x" + "a3" * 20
POSITIONS = [(-887220, 887220, 10**20), (-6000, 6000, 10**21), (-600, 1200, 5 * 10**20), (-120, 60, 2 * 10**20), (600, 3000, 10**20)]


def v3_setup(block: int = 100):
    info = v3_info(V3, WETH, USDC)
    truth = v3_pool_with_positions(info, 0, POSITIONS)
    store = MarketStore()
    entry, is_new = store.add_snapshot(v3_snapshot_from(info, truth, block))
    assert entry is not None and is_new
    return info, truth, store


def random_v3_events(truth, rng: random.Random, start_block: int, n_blocks: int):
    """Mutate ``truth`` like the chain would and return the events it would log, per block."""
    blocks = []
    for block in range(start_block, start_block + n_blocks):
        events = []
        for log in range(rng.randint(1, 4)):
            m_ = meta(block, tx=log, log=log)
            roll = rng.random()
            if roll < 0.6:
                zero_for_one = rng.random() < 0.5
                result = truth.execute_swap(zero_for_one, rng.randint(10**15, 5 * 10**19), block_number=block)
                events.append(v3_swap_event(V3, result, m_))
            else:
                lower = rng.randrange(-100, 0) * 60
                upper = lower + rng.randrange(1, 100) * 60
                amount = rng.randint(10**15, 10**19)
                if roll < 0.85:
                    truth.apply_mint(lower, upper, amount, block_number=block)
                    events.append(mint(V3, lower, upper, amount, m_))
                else:
                    truth.apply_mint(lower, upper, 2 * amount, block_number=block)
                    events.append(mint(V3, lower, upper, 2 * amount, m_))
                    truth.apply_burn(lower, upper, amount, block_number=block)
                    events.append(burn(V3, lower, upper, amount, meta(block, tx=log, log=log + 50)))
        blocks.append((block, events))
    return blocks


@pytest.mark.parametrize("seed", range(5))
def test_v3_state_after_events_equals_the_reference(seed: int) -> None:
    rng = random.Random(seed)
    _, truth, store = v3_setup()
    for block, events in random_v3_events(truth, rng, 101, 40):
        for event in events:
            store.apply_event(event)
        assert store.end_block(head(block, len(events))) == 0
    pool = store.ready_pool(V3)
    assert pool is not None
    assert v3_state(pool) == v3_state(truth)
    last = events[-1].meta
    assert store.version(V3) == position(last.block_number, last.tx_index, last.log_index)


def test_reversal_restores_the_earlier_state_and_version() -> None:
    rng = random.Random(7)
    _, truth, store = v3_setup()
    blocks = random_v3_events(truth, rng, 101, 6)
    states = {}
    versions = {}
    for block, events in blocks:
        for event in events:
            store.apply_event(event)
        states[block] = v3_state(store.ready_pool(V3))
        versions[block] = store.version(V3)
    # blocks 105 and 106 reorged out: ingest publishes their logs again with removed=True
    for block, events in reversed(blocks[-2:]):
        for event in reversed(events):
            reversal = type(event)(**{**{f: getattr(event, f) for f in event.__struct_fields__},
                                      "meta": meta(block, event.meta.tx_index, event.meta.log_index, removed=True)})
            store.apply_event(reversal)
    assert v3_state(store.ready_pool(V3)) == states[104]
    assert store.version(V3) == versions[104]
    # a late duplicate reversal of 105 after the replacement block 105' was applied changes nothing
    result = store.ready_pool(V3).copy()
    swap = result.execute_swap(True, 10**18, block_number=105)
    replacement = v3_swap_event(V3, swap, meta(105, fork="f"))
    assert store.apply_event(replacement) == V3
    after_replacement = v3_state(store.ready_pool(V3))
    store.apply_event(type(blocks[-2][1][0])(**{**{f: getattr(blocks[-2][1][0], f)
                                                   for f in blocks[-2][1][0].__struct_fields__},
                                                "meta": meta(105, 0, 0, removed=True)}))
    assert v3_state(store.ready_pool(V3)) == after_replacement


def test_v2_reorg_and_redelivery() -> None:
    store = MarketStore()
    store.add_snapshot(v2_snapshot(v2_info(V2, WETH, USDC), 10**20, 3 * 10**11, block=100))
    assert store.version(V2) == end_of_block(100)
    assert store.apply_event(sync(V2, 11 * 10**19, 29 * 10**10, meta(101, 2, 5))) == V2
    assert store.apply_event(sync(V2, 11 * 10**19, 29 * 10**10, meta(101, 2, 5))) is None  # redelivered
    assert store.apply_event(sync(V2, 1, 1, meta(100, 9, 9))) is None  # inside the snapshot
    assert store.apply_event(sync(V2, 12 * 10**19, 28 * 10**10, meta(102, 0, 1))) == V2
    assert store.apply_event(sync(V2, 12 * 10**19, 28 * 10**10, meta(102, 0, 1, removed=True))) == V2
    pool = store.ready_pool(V2)
    assert (pool.reserve0, pool.reserve1) == (11 * 10**19, 29 * 10**10)
    assert store.version(V2) == position(101, 2, 5)
    # reorg below the snapshot: the store cannot undo it -> stale, resync requested
    store.apply_event(sync(V2, 1, 1, meta(100, 0, 0, removed=True)))
    assert store.ready_pool(V2) is None
    assert V2 in store.take_resync_requests()
    assert store.take_resync_requests() == {}


def test_events_before_the_snapshot_are_buffered_and_replayed() -> None:
    store = MarketStore()
    info = v2_info(V2, WETH, USDC)
    store.apply_event(sync(V2, 5, 6, meta(99)))  # older than the snapshot: dropped at replay
    store.apply_event(sync(V2, 7, 8, meta(101)))
    assert V2 not in store
    entry, is_new = store.add_snapshot(v2_snapshot(info, 1, 2, block=100))
    assert is_new and (entry.state.reserve0, entry.state.reserve1) == (7, 8)
    # an older snapshot for a ready pool is ignored
    entry2, is_new2 = store.add_snapshot(v2_snapshot(info, 1, 2, block=100))
    assert entry2 is entry and not is_new2 and entry.state.reserve0 == 7


def test_missed_mint_is_detected_and_a_resync_snapshot_recovers() -> None:
    info, truth, store = v3_setup()
    truth.apply_mint(-1200, 1200, 10**21, block_number=101)  # the store never hears of this Mint
    swap = truth.execute_swap(True, 10**19, block_number=102)  # ends inside the missed range
    store.apply_event(v3_swap_event(V3, swap, meta(102)))
    assert store.entry(V3).status is PoolStatus.STALE
    assert store.ready_pool(V3) is None
    assert V3 in store.take_resync_requests()
    later = truth.execute_swap(False, 10**18, block_number=103)
    store.apply_event(v3_swap_event(V3, later, meta(103)))  # buffered while stale
    entry, is_new = store.add_snapshot(v3_snapshot_from(info, truth.copy(), block=102).__class__(
        **{**{f: getattr(v3_snapshot_from(info, truth, 102), f) for f in ("chain_id", "pool", "block_number",
                                                                       "block_hash")},
           "sqrt_price_x96": swap.sqrt_price_x96_after, "tick": swap.tick_after,
           "liquidity": swap.liquidity_after, "fee_pips": 3000,
           "ticks": sorted(truth.ticks.items()), "reason": "resync"}))
    assert entry is not None and not is_new and entry.status is PoolStatus.READY
    assert v3_state(store.ready_pool(V3)) == v3_state(truth)  # the buffered block-103 swap was replayed


def test_block_with_missing_events_makes_every_pool_stale() -> None:
    _, _, store = v3_setup()
    store.add_snapshot(v2_snapshot(v2_info(V2, WETH, USDC), 10**20, 3 * 10**11))
    store.apply_event(sync(V2, 11 * 10**19, 29 * 10**10, meta(101)))
    assert store.end_block(head(101, 1)) == 0
    store.apply_event(sync(V2, 12 * 10**19, 28 * 10**10, meta(102)))
    assert store.end_block(head(102, 2)) == 1
    assert store.stale_pools() == [V3, V2]
    assert set(store.take_resync_requests()) == {V2, V3}


def test_incomplete_snapshot_is_refused() -> None:
    store = MarketStore()
    snap = v2_snapshot(v2_info(V2, WETH, USDC), 1, 2)
    entry, _ = store.add_snapshot(snap.__class__(**{**{f: getattr(snap, f) for f in snap.__struct_fields__},
                                                    "reserve1": None}))
    assert entry is None and V2 in store.rejected and V2 not in store


def test_resync_snapshot_replaces_a_stale_pool_and_later_events_apply_on_top() -> None:
    import msgspec

    store = MarketStore()
    info = v2_info(V2, WETH, USDC)
    store.add_snapshot(v2_snapshot(info, 10**20, 3 * 10**11, block=100))
    store.apply_event(sync(V2, 11 * 10**19, 29 * 10**10, meta(101)))
    assert store.end_block(head(101, 2)) == 1  # an event of block 101 never arrived: stale
    assert store.ready_pool(V2) is None and V2 in store.take_resync_requests()
    stale_version = store.version(V2)
    store.apply_event(sync(V2, 1, 1, meta(102)))  # buffered while stale; inside the resync snapshot
    assert store.end_block(head(102, 1)) == 0
    # ingest's answer: the chain's state at block 102, published after block 102's end marker
    resync = msgspec.structs.replace(v2_snapshot(info, 13 * 10**19, 27 * 10**10, block=102), reason="resync")
    entry, is_new = store.add_snapshot(resync)
    assert entry is not None and not is_new and entry.ready and entry.stale_reason == ""
    pool = store.ready_pool(V2)
    assert (pool.reserve0, pool.reserve1) == (13 * 10**19, 27 * 10**10)  # not the buffered block-102 Sync
    assert store.version(V2) == end_of_block(102) != stale_version
    assert store.stale_pools() == [] and store.take_resync_requests() == {}
    # the next block's events apply on top of the snapshot
    assert store.apply_event(sync(V2, 14 * 10**19, 26 * 10**10, meta(103, 1, 4))) == V2
    assert store.end_block(head(103, 1)) == 0
    assert (store.ready_pool(V2).reserve0, store.version(V2)) == (14 * 10**19, position(103, 1, 4))


def test_pools_known_only_from_events_are_listed_as_orphans() -> None:
    store = MarketStore()
    store.apply_event(sync(V2, 7, 8, meta(101)))  # its snapshot is not in the stream (retention)
    assert store.orphan_pools() == [V2]
    store.add_snapshot(v2_snapshot(v2_info(V2, WETH, USDC), 1, 2, block=101))
    assert store.orphan_pools() == [] and store.is_ready(V2)
