"""Glue between wire messages (``mevbot.messages``) and pool-state objects: build and mutate."""

from __future__ import annotations

from typing import Any

from mevbot.amm.base import PoolState
from mevbot.errors import StateError


def pool_from_snapshot(snapshot: Any) -> PoolState:
    """Build the right pool-state class from a ``mevbot.messages.PoolSnapshot``."""
    from mevbot.amm.algebra_pool import AlgebraPool
    from mevbot.amm.camelot_v2 import CamelotV2Pool
    from mevbot.amm.v2 import UniswapV2Pool
    from mevbot.amm.v3_pool import UniswapV3Pool

    kind = getattr(snapshot.pool.kind, "value", snapshot.pool.kind)
    cls = {
        "uniswap_v2": UniswapV2Pool,
        "camelot_v2": CamelotV2Pool,
        "uniswap_v3": UniswapV3Pool,
        "algebra": AlgebraPool,
    }.get(kind)
    if cls is None:
        raise StateError(f"no pool model for kind {kind!r}")
    return cls.from_snapshot(snapshot)


def apply_event(pool: PoolState, event: Any) -> None:
    """Apply a V2Sync / V3Swap / V3Mint / V3Burn / AlgebraFee message to ``pool``.

    V2Swap carries no state (the Sync that precedes it in the same transaction does): ignored.
    """
    if getattr(event.meta, "removed", False):
        raise StateError(f"pool {pool.address}: removed log (reorg): roll back to the fork block instead")
    block_number = event.meta.block_number
    tag = type(event).__name__
    if tag == "V2Sync":
        pool.apply_sync(event.reserve0, event.reserve1, block_number=block_number)
    elif tag == "V3Swap":
        pool.apply_swap(event.sqrt_price_x96, event.liquidity, event.tick, block_number=block_number)
    elif tag == "V3Mint":
        pool.apply_mint(event.tick_lower, event.tick_upper, event.liquidity_amount, block_number=block_number)
    elif tag == "V3Burn":
        pool.apply_burn(event.tick_lower, event.tick_upper, event.liquidity_amount, block_number=block_number)
    elif tag == "AlgebraFee":
        pool.apply_fee(event.fee_pips, block_number=block_number)
    elif tag == "V2Swap":
        return
    else:
        raise StateError(f"pool {pool.address}: unsupported event {tag}")
