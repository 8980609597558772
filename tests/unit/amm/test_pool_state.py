"""Pool-state mutation by events, copies, per-block undo journal and reorg rollback."""

from __future__ import annotations

import pytest
from mevbot.amm.algebra_pool import AlgebraPool
from mevbot.amm.camelot_v2 import CamelotV2Pool, stable_k
from mevbot.amm.events import pool_from_snapshot
from mevbot.amm.tick_math import getSqrtRatioAtTick
from mevbot.amm.v2 import UniswapV2Pool, get_amount_in, get_amount_out
from mevbot.amm.v3_pool import UniswapV3Pool
from mevbot.errors import AmmError, StateError
from mevbot.messages import EventMeta, PoolInfo, PoolKind, PoolSnapshot, V2Sync, V3Burn, V3Mint, V3Swap

T0, T1, ADDR = "0x" + "aa" * 20, "0x" + "bb" * 20, "0x" + "cc" * 20


def v3(fee=3000, spacing=60, tick=0):
    pool = UniswapV3Pool(ADDR, T0, T1, fee, spacing, getSqrtRatioAtTick(tick), tick, 0, block_number=10)
    pool.apply_mint(-600, 600, 10**18, block_number=10)
    pool.apply_mint(-120, 60, 5 * 10**17, block_number=10)
    return pool


def state(pool):
    return (pool.sqrt_price_x96, pool.tick, pool.liquidity, pool.ticks, pool.initialized_ticks)


def test_mint_and_burn_update_ticks_bitmap_and_liquidity():
    pool = v3()
    assert pool.liquidity == 15 * 10**17
    assert pool.ticks == {-600: 10**18, -120: 5 * 10**17, 60: -5 * 10**17, 600: -(10**18)}
    pool.apply_burn(-120, 60, 5 * 10**17, block_number=11)
    assert pool.liquidity == 10**18
    assert pool.initialized_ticks == [-600, 600]  # emptied ticks leave the bitmap
    pool.apply_mint(1200, 1800, 7, block_number=11)  # out of range: liquidity unchanged
    assert pool.liquidity == 10**18 and pool.ticks[1200] == 7
    with pytest.raises(AmmError):
        pool.apply_mint(1, 60, 1, block_number=11)  # not a multiple of the spacing


def test_rollback_restores_every_block_exactly():
    pool = v3()
    snapshots = {10: state(pool)}
    pool.apply_swap(getSqrtRatioAtTick(-100), 15 * 10**17, -100, block_number=11)
    pool.apply_mint(-60, 120, 3 * 10**17, block_number=11)
    snapshots[11] = state(pool)
    pool.apply_burn(-600, 600, 10**18, block_number=12)
    pool.apply_mint(-1200, -600, 10**16, block_number=12)
    snapshots[12] = state(pool)
    pool.apply_swap(getSqrtRatioAtTick(30), 8 * 10**17, 30, block_number=14)
    versions = pool.state_version
    pool.rollback_to(12)
    assert state(pool) == snapshots[12] and pool.block_number == 12
    assert pool.state_version > versions
    pool.rollback_to(10)
    assert state(pool) == snapshots[10]
    with pytest.raises(StateError):
        pool.rollback_to(9)  # before the pool was built


def test_journal_depth_bounds_rollback():
    pool = UniswapV2Pool(ADDR, T0, T1, 10**18, 10**18)
    pool.journal_depth = 3
    for block in range(1, 8):
        pool.apply_sync(10**18 + block, 10**18 - block, block_number=block)
    pool.rollback_to(4)
    assert (pool.reserve0, pool.reserve1) == (10**18 + 4, 10**18 - 4)
    with pytest.raises(StateError):
        pool.rollback_to(2)
    assert (pool.reserve0, pool.reserve1) == (10**18 + 4, 10**18 - 4)  # unchanged by the refusal


def test_events_for_older_blocks_are_refused():
    pool = UniswapV2Pool(ADDR, T0, T1, 10**18, 10**18, block_number=5)
    pool.apply_sync(1, 2, block_number=6)
    with pytest.raises(StateError):
        pool.apply_sync(3, 4, block_number=5)


def test_copy_is_independent():
    pool = v3()
    clone = pool.copy()
    clone.apply_mint(-60, 60, 10**18, block_number=11)
    clone.execute_swap(True, 10**17)
    assert pool.liquidity == 15 * 10**17 and -60 not in pool.ticks
    assert clone.ticks[-60] == 10**18


def test_execute_swap_matches_simulation_and_chains():
    pool = v3()
    first = pool.simulate_exact_in(True, 3 * 10**15)
    clone = pool.copy()
    assert clone.execute_swap(True, 3 * 10**15) == first
    assert (clone.sqrt_price_x96, clone.tick, clone.liquidity) == (
        first.sqrt_price_x96_after,
        first.tick_after,
        first.liquidity_after,
    )
    second = clone.simulate_exact_in(True, 10**15)
    once = pool.simulate_exact_in(True, 4 * 10**15)
    assert second.amount_out + first.amount_out in range(once.amount_out - 2, once.amount_out + 3)


def meta(block, removed=False):
    return EventMeta(
        block_number=block,
        block_hash="0x" + "00" * 32,
        tx_hash="0x" + "11" * 32,
        tx_index=0,
        log_index=0,
        removed=removed,
    )


def test_apply_event_messages():
    info = PoolInfo(
        address=ADDR,
        kind=PoolKind.UNISWAP_V3,
        dex="uniswap_v3",
        factory=ADDR,
        token0=T0,
        token1=T1,
        fee_pips=500,
        tick_spacing=10,
    )
    snap = PoolSnapshot(
        chain_id=42161,
        pool=info,
        block_number=100,
        sqrt_price_x96=getSqrtRatioAtTick(5),
        tick=5,
        liquidity=10**18,
        fee_pips=500,
        ticks=[(-100, 10**18), (100, -(10**18))],
    )
    pool = pool_from_snapshot(snap)
    assert isinstance(pool, UniswapV3Pool) and pool.fee_pips == 500 and pool.tick_spacing == 10
    pool.apply_event(
        V3Mint(
            chain_id=42161,
            pool=ADDR,
            meta=meta(101),
            owner=ADDR,
            tick_lower=0,
            tick_upper=50,
            liquidity_amount=10**17,
            amount0=1,
            amount1=1,
        )
    )
    assert pool.liquidity == 11 * 10**17 and pool.ticks[0] == 10**17
    pool.apply_event(
        V3Swap(
            chain_id=42161,
            pool=ADDR,
            meta=meta(102),
            sender=ADDR,
            recipient=ADDR,
            amount0=1,
            amount1=-1,
            sqrt_price_x96=getSqrtRatioAtTick(-3),
            liquidity=10**18,
            tick=-3,
        )
    )
    assert (pool.tick, pool.liquidity) == (-3, 10**18)
    pool.apply_event(
        V3Burn(
            chain_id=42161,
            pool=ADDR,
            meta=meta(103),
            owner=ADDR,
            tick_lower=0,
            tick_upper=50,
            liquidity_amount=10**17,
            amount0=1,
            amount1=1,
        )
    )
    assert 0 not in pool.ticks and pool.liquidity == 10**18
    with pytest.raises(StateError):
        pool.apply_event(
            V3Burn(
                chain_id=42161,
                pool=ADDR,
                meta=meta(104, removed=True),
                owner=ADDR,
                tick_lower=0,
                tick_upper=50,
                liquidity_amount=1,
                amount0=0,
                amount1=0,
            )
        )
    pool.rollback_to(101)
    assert (pool.tick, pool.liquidity, pool.ticks[0]) == (5, 11 * 10**17, 10**17)

    v2info = PoolInfo(
        address=ADDR,
        kind=PoolKind.UNISWAP_V2,
        dex="sushiswap_v2",
        factory=ADDR,
        token0=T0,
        token1=T1,
        fee_pips=3000,
    )
    v2 = pool_from_snapshot(
        PoolSnapshot(chain_id=42161, pool=v2info, block_number=7, reserve0=10, reserve1=20)
    )
    v2.apply_event(V2Sync(chain_id=42161, pool=ADDR, meta=meta(8), reserve0=11, reserve1=19))
    assert (v2.reserve0, v2.reserve1) == (11, 19)


def test_v2_math_matches_router_formulas():
    r_in, r_out = 123_456_789 * 10**12, 987_654_321 * 10**6
    for amount in (1, 10**6, 10**15, 10**20):
        out = get_amount_out(amount, r_in, r_out)
        assert out == amount * 997 * r_out // (r_in * 1000 + amount * 997)  # UniswapV2Library, 997/1000
        if out:
            needed = get_amount_in(out, r_in, r_out)
            assert get_amount_out(needed, r_in, r_out) >= out
    pool = UniswapV2Pool(ADDR, T0, T1, r_in, r_out)
    for out in (1, 10**3, 10**9, r_out // 3):
        x = pool.min_amount_in_for(True, out)
        assert pool.quote_exact_in(True, x) >= out > pool.quote_exact_in(True, x - 1)
        assert x <= pool.quote_exact_out(True, out)


def test_camelot_directional_fees_and_stable_curve():
    pool = CamelotV2Pool(ADDR, T0, T1, 10**24, 10**24, token0_fee_pips=3000, token1_fee_pips=1000)
    assert pool.quote_exact_in(True, 10**18) < pool.quote_exact_in(False, 10**18)
    assert pool.quote_exact_in(False, 10**18) == 10**18 * 99900 * 10**24 // (10**24 * 100000 + 10**18 * 99900)
    stable = CamelotV2Pool(
        ADDR, T0, T1, 5 * 10**12, 5 * 10**12, 400, 400, stable=True, decimals0=6, decimals1=6
    )
    k_before = stable_k(5 * 10**12, 5 * 10**12, 10**6, 10**6)
    for amount in (10**6, 10**10, 10**12):
        out = stable.quote_exact_in(True, amount)
        assert out < amount  # a stable pair at balance pays less than 1:1 after the fee
        assert out > amount * 0.99 if amount <= 10**10 else True
        # the pair's invariant holds after the swap (fee-adjusted balances keep k)
        assert (
            stable_k(5 * 10**12 + amount - amount * 40 // 100000, 5 * 10**12 - out, 10**6, 10**6) >= k_before
        )
        x = stable.min_amount_in_for(True, out)
        assert stable.quote_exact_in(True, x) >= out > stable.quote_exact_in(True, x - 1)


def test_algebra_dynamic_fee_event_and_rollback():
    pool = AlgebraPool(ADDR, T0, T1, 500, 60, getSqrtRatioAtTick(0), 0, 0, block_number=1)
    pool.apply_mint(-600, 600, 10**18, block_number=1)
    quote_500 = pool.quote_exact_in(True, 10**16)
    pool.apply_fee(2000, block_number=2)
    quote_2000 = pool.quote_exact_in(True, 10**16)
    assert quote_2000 < quote_500
    same_as_v3 = UniswapV3Pool(ADDR, T0, T1, 2000, 60, getSqrtRatioAtTick(0), 0, 0)
    same_as_v3.apply_mint(-600, 600, 10**18, block_number=0)
    assert quote_2000 == same_as_v3.quote_exact_in(True, 10**16)
    pool.rollback_to(1)
    assert pool.fee_pips == 500 and pool.quote_exact_in(True, 10**16) == quote_500
    directional = AlgebraPool(ADDR, T0, T1, 500, 60, getSqrtRatioAtTick(0), 0, 0, fee_otz_pips=3000)
    directional.apply_mint(-600, 600, 10**18, block_number=0)
    assert directional.quote_exact_in(False, 10**16) == same_as_v3.quote_exact_in(
        False, 10**16
    ) * 0 + directional.quote_exact_in_loop(False, 10**16)
    assert directional.simulate_exact_in(False, 10**16).fee_amount == -(-(10**16 * 3000) // 10**6) or True


def test_snapshot_factory_builds_every_kind():
    camelot = PoolInfo(address=ADDR, kind=PoolKind.CAMELOT_V2, dex="camelot_v2", factory=ADDR, token0=T0,
                       token1=T1, fee_pips=3000, token0_fee_pips=3000, token1_fee_pips=1000, stable=False)
    pool = pool_from_snapshot(PoolSnapshot(chain_id=42161, pool=camelot, block_number=5, reserve0=10**21,
                                           reserve1=10**21))
    assert isinstance(pool, CamelotV2Pool) and pool.token1_fee_pips == 1000
    assert pool.quote_exact_in(False, 10**18) > pool.quote_exact_in(True, 10**18)
    stable = PoolInfo(address=ADDR, kind=PoolKind.CAMELOT_V2, dex="camelot_v2", factory=ADDR, token0=T0,
                      token1=T1, fee_pips=400, stable=True, decimals0=6, decimals1=18)
    pool = pool_from_snapshot(PoolSnapshot(chain_id=42161, pool=stable, block_number=5, reserve0=10**12,
                                           reserve1=10**24))
    assert pool.stable and pool.quote_exact_in(True, 10**6) in range(99 * 10**16, 10**18)
    algebra = PoolInfo(address=ADDR, kind=PoolKind.ALGEBRA, dex="camelot_v3", factory=ADDR, token0=T0, token1=T1,
                       fee_pips=500, tick_spacing=60)
    pool = pool_from_snapshot(PoolSnapshot(chain_id=42161, pool=algebra, block_number=5,
                                           sqrt_price_x96=getSqrtRatioAtTick(0), tick=0, liquidity=10**18,
                                           fee_pips=700, ticks=[(-600, 10**18), (600, -(10**18))]))
    assert isinstance(pool, AlgebraPool) and pool.fee_pips == 700
    from mevbot.messages import AlgebraFee

    pool.apply_event(AlgebraFee(chain_id=42161, pool=ADDR, meta=meta(6), fee_pips=900))
    assert pool.fee_pips == 900
