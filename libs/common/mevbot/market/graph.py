"""The token graph: which pools connect which tokens.

Undirected multigraph: a node per token, an edge per pool (parallel pools between the same pair are
kept as separate edges, in insertion order so iteration is deterministic). Pure and cheap to grow
one pool at a time; the cycle index and the native-price conversion read it.
"""

from __future__ import annotations


class TokenGraph:
    """Tokens as nodes, pools as edges; addresses are lower-case hex strings."""

    __slots__ = ("_adjacency", "_pools")

    def __init__(self) -> None:
        # token -> neighbour token -> pools joining the two (insertion order)
        self._adjacency: dict[str, dict[str, list[str]]] = {}
        self._pools: dict[str, tuple[str, str]] = {}

    def __contains__(self, pool: str) -> bool:
        return pool in self._pools

    def __len__(self) -> int:
        return len(self._pools)

    def add_pool(self, pool: str, token0: str, token1: str) -> bool:
        """Add an edge; False (and nothing changes) when the pool is already known."""
        if pool in self._pools:
            return False
        if token0 == token1:
            raise ValueError(f"pool {pool}: token0 == token1 ({token0})")
        self._pools[pool] = (token0, token1)
        adjacency = self._adjacency
        adjacency.setdefault(token0, {}).setdefault(token1, []).append(pool)
        adjacency.setdefault(token1, {}).setdefault(token0, []).append(pool)
        return True

    def tokens_of(self, pool: str) -> tuple[str, str]:
        """``(token0, token1)`` of a known pool (KeyError otherwise)."""
        return self._pools[pool]

    def neighbours(self, token: str) -> dict[str, list[str]]:
        """Neighbour token -> pools; empty for an unknown token. Do not mutate the result."""
        return self._adjacency.get(token, _EMPTY)

    def pools_between(self, token_a: str, token_b: str) -> list[str]:
        """Pools joining two tokens (either order)."""
        return self._adjacency.get(token_a, _EMPTY).get(token_b, [])

    def tokens(self) -> list[str]:
        return list(self._adjacency)

    def pools(self) -> list[str]:
        return list(self._pools)


_EMPTY: dict[str, list[str]] = {}
