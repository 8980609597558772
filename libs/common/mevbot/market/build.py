"""Pool-state objects from ``PoolSnapshot`` messages, and events applied to them (via mevbot.amm).

This module only dispatches: all maths lives in :mod:`mevbot.amm`. A kind the AMM library does not
implement yet raises :class:`StateError` (the pool is then left out, never guessed).
"""

from __future__ import annotations

import importlib
from typing import Any

from mevbot import messages as m
from mevbot.amm.base import PoolState
from mevbot.errors import StateError

# PoolKind -> (module, class) in mevbot.amm; resolved lazily so a kind still being written elsewhere
# does not break the others.
_CLASSES: dict[m.PoolKind, tuple[str, str]] = {
    m.PoolKind.UNISWAP_V2: ("mevbot.amm.v2", "UniswapV2Pool"),
    m.PoolKind.CAMELOT_V2: ("mevbot.amm.camelot_v2", "CamelotV2Pool"),
    m.PoolKind.UNISWAP_V3: ("mevbot.amm.v3_pool", "UniswapV3Pool"),
    m.PoolKind.ALGEBRA: ("mevbot.amm.algebra", "AlgebraPool"),
}
_resolved: dict[m.PoolKind, Any] = {}


def pool_class(kind: m.PoolKind) -> Any:
    cls = _resolved.get(kind)
    if cls is None:
        module_name, class_name = _CLASSES[kind]
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as exc:
            raise StateError(f"pool kind {kind.value}: no AMM implementation ({exc})") from exc
        _resolved[kind] = cls
    return cls


def _complete(snapshot: m.PoolSnapshot) -> bool:
    if snapshot.pool.kind in (m.PoolKind.UNISWAP_V2, m.PoolKind.CAMELOT_V2):
        return snapshot.reserve0 is not None and snapshot.reserve1 is not None
    return None not in (snapshot.sqrt_price_x96, snapshot.tick, snapshot.liquidity)


def pool_from_snapshot(snapshot: m.PoolSnapshot) -> PoolState:
    """A fresh pool-state object at ``snapshot.block_number``; StateError when incomplete."""
    if not _complete(snapshot):
        raise StateError(f"pool {snapshot.pool.address}: snapshot at block {snapshot.block_number} is incomplete")
    return pool_class(snapshot.pool.kind).from_snapshot(snapshot)


def apply_pool_event(pool: PoolState, event: Any) -> bool:
    """Apply one state event; True when the pool state changed.

    ``V2Swap`` carries no state (its ``Sync`` follows in the same transaction) and returns False.
    """
    block = event.meta.block_number
    if isinstance(event, m.V3Swap):
        pool.apply_swap(event.sqrt_price_x96, event.liquidity, event.tick, block_number=block)
    elif isinstance(event, m.V2Sync):
        pool.apply_sync(event.reserve0, event.reserve1, block_number=block)
    elif isinstance(event, m.V3Mint):
        pool.apply_mint(event.tick_lower, event.tick_upper, event.liquidity_amount, block_number=block)
    elif isinstance(event, m.V3Burn):
        pool.apply_burn(event.tick_lower, event.tick_upper, event.liquidity_amount, block_number=block)
    elif isinstance(event, m.AlgebraFee):
        apply_fee = getattr(pool, "apply_fee", None)
        if apply_fee is None:
            raise StateError(f"pool {pool.address}: {type(pool).__name__} has no dynamic fee")
        apply_fee(event.fee_pips, block_number=block)
    elif isinstance(event, m.V2Swap):
        return False
    else:
        raise StateError(f"pool {pool.address}: unsupported event {type(event).__name__}")
    return True
