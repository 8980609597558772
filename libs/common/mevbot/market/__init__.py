"""Shared pool-state store (detector writes, validator reads).

* :class:`MarketStore` (``store``): pools by address, built from ``PoolSnapshot``, events applied
  exactly in chain order with deterministic state versions, gap detection -> stale/resync, reorg
  rollback from reversals.
* :class:`TokenGraph` (``graph``): which pools join which tokens.
* :class:`NativePricer` (``pricing``): ``price_in_native(token, amount) -> wei`` through the deepest
  pool to the wrapped native token, and the inverse.
* ``versions``: the version encoding (chain position of the last change).
"""

from mevbot.market.graph import TokenGraph
from mevbot.market.pricing import NativePricer, convert_at_mid
from mevbot.market.store import MarketStore, PoolEntry, PoolStatus
from mevbot.market.versions import end_of_block, position

__all__ = [
    "MarketStore",
    "NativePricer",
    "PoolEntry",
    "PoolStatus",
    "TokenGraph",
    "convert_at_mid",
    "end_of_block",
    "position",
]
