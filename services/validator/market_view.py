"""Read-only view of the shared pool-state store (``mevbot.market``) for the validator: pools for
resizing/splitting, parallel pools of a pair, live native prices, Uniswap V3 flash lenders, and
the cheap staleness check on state versions (no RPC)."""

from __future__ import annotations

from collections.abc import Sequence

from mevbot.amm.base import PoolState
from mevbot.market import MarketStore, NativePricer
from mevbot.messages import Candidate

from services.validator.costs import NativeRate


class MarketView:
    def __init__(self, store: MarketStore, native_token: str) -> None:
        self.store = store
        self.pricer = NativePricer(store, native_token)
        self.native_token = native_token.lower()

    # PoolLookup ---------------------------------------------------------------------------------
    def pool(self, address: str) -> PoolState | None:
        return self.store.ready_pool(address)

    def parallel(self, token_in: str, token_out: str) -> Sequence[tuple[PoolState, bool]]:
        out = []
        for address in self.store.graph.pools_between(token_in, token_out):
            pool = self.store.ready_pool(address)
            if pool is not None:
                out.append((pool, pool.token0 == token_in))
        return out

    # prices ---------------------------------------------------------------------------------------
    def native_rate(self, token: str, reference_amount: int) -> NativeRate | None:
        """What ``reference_amount`` of ``token`` is worth in wei at live mid prices."""
        if token.lower() == self.native_token:
            return NativeRate.IDENTITY
        if reference_amount <= 0:
            return None
        wei = self.pricer.price_in_native(token, reference_amount)
        return NativeRate(reference_amount, wei) if wei > 0 else None

    # lenders --------------------------------------------------------------------------------------
    def v3_lenders(self, token: str, exclude: set[str], limit: int = 2) -> list[str]:
        """Ready Uniswap V3 pools holding ``token`` that are not hops, lowest fee first."""
        found = []
        for pools in self.store.graph.neighbours(token).values():
            for address in pools:
                if address in exclude:
                    continue
                pool = self.store.ready_pool(address)
                if pool is not None and hasattr(pool, "sqrt_price_x96") and getattr(pool, "kind", "") == "uniswap_v3":
                    found.append((pool.fee_pips, address))
        return [a for _, a in sorted(found)[:limit]]

    # freshness ------------------------------------------------------------------------------------
    def moved_since(self, candidate: Candidate) -> list[str]:
        """Pools whose state changed after the version the candidate was computed on."""
        moved = []
        for pv in candidate.state_versions:
            entry = self.store.entry(pv.pool)
            if entry is not None and entry.version > pv.version:
                moved.append(pv.pool)
        return moved
