"""Token amounts in wei of the wrapped native token, through the deepest live pool.

``price_in_native(token, amount)`` values ``amount`` at the mid price (no fee, no price impact) of
the ready pool between ``token`` and the native token with the most native-token liquidity; when
no such pool exists it goes through one intermediate token (the deepest route's bottleneck
decides). The result is an exact integer, floored; 0 when the token cannot be priced.
``native_to_token`` is the inverse (e.g. gas cost in the profit token).

Depth of a pool on the native side: V2-style reserves; V3/Algebra the virtual reserve of the
in-range liquidity (``L / sqrtP`` for token0, ``L * sqrtP`` for token1, in Q96).
"""

from __future__ import annotations

from typing import Any

from mevbot.market.store import MarketStore

Q96 = 1 << 96
Q192 = 1 << 192


def _is_v2_like(pool: Any) -> bool:
    return hasattr(pool, "reserve0")


def _depth_of(pool: Any, token: str) -> int:
    """Liquidity of ``token`` in the pool (its reserve, or V3 virtual reserve)."""
    if _is_v2_like(pool):
        return pool.reserve0 if token == pool.token0 else pool.reserve1
    sqrt_price, liquidity = pool.sqrt_price_x96, pool.liquidity
    if sqrt_price <= 0:
        return 0
    if token == pool.token0:
        return liquidity * Q96 // sqrt_price
    return liquidity * sqrt_price // Q96


def convert_at_mid(pool: Any, token_in: str, amount: int) -> int:
    """``amount`` of ``token_in`` in the pool's other token at the mid price, floored."""
    if amount <= 0:
        return 0
    if _is_v2_like(pool):
        r0, r1 = pool.reserve0, pool.reserve1
        if r0 <= 0 or r1 <= 0:
            return 0
        return amount * r1 // r0 if token_in == pool.token0 else amount * r0 // r1
    sqrt_price = pool.sqrt_price_x96
    price_x192 = sqrt_price * sqrt_price  # token1 per token0, Q192
    if price_x192 == 0:
        return 0
    return amount * price_x192 // Q192 if token_in == pool.token0 else amount * Q192 // price_x192


class NativePricer:
    """Converts token amounts to and from wei of ``native_token`` using a :class:`MarketStore`."""

    def __init__(self, store: MarketStore, native_token: str) -> None:
        self.store = store
        self.native_token = native_token.lower()

    def deepest_pool(self, token_a: str, token_b: str) -> Any | None:
        """Ready pool between two tokens with the most ``token_b`` liquidity."""
        best, best_depth = None, 0
        for address in self.store.graph.pools_between(token_a, token_b):
            pool = self.store.ready_pool(address)
            if pool is None:
                continue
            depth = _depth_of(pool, token_b)
            if depth > best_depth:
                best, best_depth = pool, depth
        return best

    def _route(self, token: str) -> list[tuple[Any, str]]:
        """Hops ``(pool, token_in)`` from ``token`` to native: direct, else via one token."""
        native = self.native_token
        direct = self.deepest_pool(token, native)
        if direct is not None:
            return [(direct, token)]
        best_route: list[tuple[Any, str]] = []
        best_depth = 0
        for middle in self.store.graph.neighbours(token):
            if middle == native:
                continue
            second = self.deepest_pool(middle, native)
            if second is None:
                continue
            first = self.deepest_pool(token, middle)
            if first is None:
                continue
            # bottleneck in native terms: the second hop's native depth vs the first hop's depth
            # of `middle` valued in native
            depth = min(_depth_of(second, native), convert_at_mid(second, middle, _depth_of(first, middle)))
            if depth > best_depth:
                best_route, best_depth = [(first, token), (second, middle)], depth
        return best_route

    def price_in_native(self, token: str, amount: int) -> int:
        """``amount`` of ``token`` in wei of the native token (0 when unpriceable)."""
        token = token.lower()
        if token == self.native_token:
            return amount
        route = self._route(token)
        if not route:
            return 0
        for pool, token_in in route:
            amount = convert_at_mid(pool, token_in, amount)
        return amount

    def native_to_token(self, token: str, amount_wei: int) -> int:
        """``amount_wei`` of native in ``token`` units (0 when unpriceable)."""
        token = token.lower()
        if token == self.native_token:
            return amount_wei
        route = self._route(token)
        if not route:
            return 0
        amount = amount_wei
        for pool, token_in in reversed(route):
            token_out = pool.token1 if token_in == pool.token0 else pool.token0
            amount = convert_at_mid(pool, token_out, amount)
        return amount
