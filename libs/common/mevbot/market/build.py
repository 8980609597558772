"""Pool-state objects from ``PoolSnapshot`` messages, and events applied to them (via mevbot.amm).

This module only dispatches: all maths and the kind -> class table live in :mod:`mevbot.amm`
(``mevbot.amm.events``). It adds what the store needs on top: a snapshot with missing fields is
refused (never guessed), and the two events that make up nearly all traffic (V3 Swap, V2 Sync) skip
the generic dispatch.
"""

from __future__ import annotations

from typing import Any

from mevbot import messages as m
from mevbot.amm import events as amm_events
from mevbot.amm.base import PoolState
from mevbot.errors import StateError


def _complete(snapshot: m.PoolSnapshot) -> bool:
    if snapshot.pool.kind in (m.PoolKind.UNISWAP_V2, m.PoolKind.CAMELOT_V2):
        return snapshot.reserve0 is not None and snapshot.reserve1 is not None
    return None not in (snapshot.sqrt_price_x96, snapshot.tick, snapshot.liquidity)


def pool_from_snapshot(snapshot: m.PoolSnapshot) -> PoolState:
    """A fresh pool-state object at ``snapshot.block_number``; StateError when incomplete."""
    if not _complete(snapshot):
        raise StateError(f"pool {snapshot.pool.address}: snapshot at block {snapshot.block_number} is incomplete")
    return amm_events.pool_from_snapshot(snapshot)


def _v3_swap(pool: PoolState, event: Any) -> bool:
    pool.apply_swap(event.sqrt_price_x96, event.liquidity, event.tick, block_number=event.meta.block_number)
    return True


def _v2_sync(pool: PoolState, event: Any) -> bool:
    pool.apply_sync(event.reserve0, event.reserve1, block_number=event.meta.block_number)
    return True


def _no_state(pool: PoolState, event: Any) -> bool:
    return False  # V2 Swap: the Sync of the same transaction carries the reserves


_FAST = {m.V3Swap: _v3_swap, m.V2Sync: _v2_sync, m.V2Swap: _no_state}


def apply_pool_event(pool: PoolState, event: Any) -> bool:
    """Apply one state event; True when the pool state changed."""
    fast = _FAST.get(type(event))
    if fast is not None:
        return fast(pool, event)
    amm_events.apply_event(pool, event)
    return True
