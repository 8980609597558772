"""Builders of pools, snapshots and events for market/detector unit tests."""

from __future__ import annotations

from mevbot import messages as m
from mevbot.amm.tick_math import sqrt_ratio_at_tick
from mevbot.amm.v3_pool import UniswapV3Pool

CHAIN_ID = 42161


def block_hash(block: int, fork: str = "") -> str:
    return "0x" + f"{fork}{block:x}".rjust(64, "0")


def meta(block: int, tx: int = 0, log: int = 0, removed: bool = False, fork: str = "") -> m.EventMeta:
    return m.EventMeta(block_number=block, block_hash=block_hash(block, fork), tx_hash="0x" + "ab" * 32,
                       tx_index=tx, log_index=log, removed=removed)


def v2_info(address: str, token0: str, token1: str, fee_pips: int = 3000) -> m.PoolInfo:
    return m.PoolInfo(address=address, kind=m.PoolKind.UNISWAP_V2, dex="uniswap_v2", factory="0xf",
                      token0=token0, token1=token1, fee_pips=fee_pips)


def v3_info(address: str, token0: str, token1: str, fee_pips: int = 3000, spacing: int = 60) -> m.PoolInfo:
    return m.PoolInfo(address=address, kind=m.PoolKind.UNISWAP_V3, dex="uniswap_v3", factory="0xf",
                      token0=token0, token1=token1, fee_pips=fee_pips, tick_spacing=spacing)


def v2_snapshot(info: m.PoolInfo, reserve0: int, reserve1: int, block: int = 100) -> m.PoolSnapshot:
    return m.PoolSnapshot(chain_id=CHAIN_ID, pool=info, block_number=block, block_hash=block_hash(block),
                          reserve0=reserve0, reserve1=reserve1)


def v3_snapshot_from(info: m.PoolInfo, pool: UniswapV3Pool, block: int = 100) -> m.PoolSnapshot:
    return m.PoolSnapshot(chain_id=CHAIN_ID, pool=info, block_number=block, block_hash=block_hash(block),
                          sqrt_price_x96=pool.sqrt_price_x96, tick=pool.tick, liquidity=pool.liquidity,
                          fee_pips=pool.fee_pips, ticks=sorted(pool.ticks.items()))


def v3_pool_with_positions(info: m.PoolInfo, tick: int, positions: list[tuple[int, int, int]]) -> UniswapV3Pool:
    """A V3 pool at ``tick`` with liquidity ``(lower, upper, amount)`` positions minted."""
    pool = UniswapV3Pool(info.address, info.token0, info.token1, info.fee_pips, info.tick_spacing,
                         sqrt_ratio_at_tick(tick), tick, 0, {})
    for lower, upper, amount in positions:
        pool.apply_mint(lower, upper, amount, block_number=0)
    return pool


def sync(pool: str, r0: int, r1: int, m_: m.EventMeta) -> m.V2Sync:
    return m.V2Sync(chain_id=CHAIN_ID, pool=pool, meta=m_, reserve0=r0, reserve1=r1)


def v3_swap_event(pool: str, result, m_: m.EventMeta) -> m.V3Swap:
    return m.V3Swap(chain_id=CHAIN_ID, pool=pool, meta=m_, sender="0x1", recipient="0x1",
                    amount0=result.amount0, amount1=result.amount1,
                    sqrt_price_x96=result.sqrt_price_x96_after, liquidity=result.liquidity_after,
                    tick=result.tick_after)


def mint(pool: str, lower: int, upper: int, amount: int, m_: m.EventMeta) -> m.V3Mint:
    return m.V3Mint(chain_id=CHAIN_ID, pool=pool, meta=m_, owner="0x1", tick_lower=lower, tick_upper=upper,
                    liquidity_amount=amount, amount0=0, amount1=0)


def burn(pool: str, lower: int, upper: int, amount: int, m_: m.EventMeta) -> m.V3Burn:
    return m.V3Burn(chain_id=CHAIN_ID, pool=pool, meta=m_, owner="0x1", tick_lower=lower, tick_upper=upper,
                    liquidity_amount=amount, amount0=0, amount1=0)


def head(block: int, event_count: int, fork: str = "") -> m.BlockHead:
    return m.BlockHead(chain_id=CHAIN_ID, block_number=block, block_hash=block_hash(block, fork),
                       parent_hash=block_hash(block - 1, fork), timestamp=block, event_count=event_count)


def v3_state(pool) -> tuple:
    return (pool.sqrt_price_x96, pool.tick, pool.liquidity, pool.ticks)
