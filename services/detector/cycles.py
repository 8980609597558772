"""The cycle index: every arbitrage cycle of 2..max_hops pools through a configured base token.

A cycle is a closed path ``t0 -> t1 -> ... -> t0`` over distinct pools and distinct tokens
(``t0`` repeated only at the end). The same loop traversed in the other direction is another
cycle (buy on A / sell on B is not sell on A / buy on B). A loop is indexed once, starting at its
highest-priority base token (the order of ``base_tokens``, e.g. WETH before USDC): its rotations
are the same opportunity and would only compete for the same liquidity. Loops without a base
token are not indexed (the profit would be in a token nobody wants to hold).

The index grows one pool at a time: adding pool ``P = (a, b)`` enumerates exactly the cycles
that contain ``P`` (simple paths from ``b`` back to ``a`` over the pools already indexed, in both
directions), so the work per pool is local to its neighbourhood, never a global search. Each pool
maps to the ids of the cycles through it, so an event re-evaluates only those.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from mevbot.market.graph import TokenGraph

MIN_HOPS = 2
MAX_SUPPORTED_HOPS = 4


class Cycle:
    """One directed cycle: ``pools[i]`` swaps ``tokens[i]`` into ``tokens[i + 1]``."""

    __slots__ = ("cycle_id", "hop_keys", "id_prefix", "pools", "screen_hops", "start_token", "tokens",
                 "version_tags", "zero_for_one")

    def __init__(self, start_token: str, pools: tuple[str, ...], tokens: tuple[str, ...],
                 zero_for_one: tuple[bool, ...]) -> None:
        self.start_token = start_token
        self.pools = pools
        self.tokens = tokens
        self.zero_for_one = zero_for_one
        self.cycle_id = cycle_id_of(start_token, pools)
        # "<pool>:<0|1>" per hop: a str caches its hash, so per-flush rate look-ups stay cheap
        self.hop_keys = tuple(f"{pool}:{int(z)}" for pool, z in zip(pools, zero_for_one))
        # per-cycle constants of the hot path, built once here instead of at every evaluation:
        # (hop key, pool, zero_for_one) per hop for the screen, and the pieces of the candidate
        # id's text (``core.candidate_id_of``: "<cycle_id>|<pool>@<version>;...")
        self.screen_hops = tuple(zip(self.hop_keys, pools, zero_for_one))
        self.id_prefix = self.cycle_id + "|"
        self.version_tags = tuple(pool + "@" for pool in pools)

    @property
    def hops(self) -> int:
        return len(self.pools)

    def key(self) -> tuple[str, tuple[str, ...]]:
        return (self.start_token, self.pools)

    def __repr__(self) -> str:
        return f"Cycle({self.cycle_id}, {' -> '.join(self.tokens)} via {', '.join(self.pools)})"


def cycle_id_of(start_token: str, pools: Sequence[str]) -> str:
    """Deterministic id: the start token and the pool sequence fix the whole cycle."""
    text = start_token + ":" + ",".join(pools)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class CycleIndex:
    """All cycles of ``2..max_hops`` hops, grown incrementally; see the module docstring."""

    def __init__(self, base_tokens: Sequence[str], max_hops: int = 3, graph: TokenGraph | None = None) -> None:
        if not MIN_HOPS <= max_hops <= MAX_SUPPORTED_HOPS:
            raise ValueError(f"max_hops must be in {MIN_HOPS}..{MAX_SUPPORTED_HOPS}, got {max_hops}")
        if not base_tokens:
            raise ValueError("at least one base token is required")
        self.max_hops = max_hops
        self.base_tokens = tuple(t.lower() for t in base_tokens)
        # lower rank = higher priority
        self._rank = {token: rank for rank, token in reversed(list(enumerate(self.base_tokens)))}
        self.graph = graph if graph is not None else TokenGraph()
        self._token0: dict[str, str] = {}
        self.cycles: dict[str, Cycle] = {}
        self._by_pool: dict[str, list[str]] = {}

    def __len__(self) -> int:
        return len(self.cycles)

    def cycles_through(self, pool: str) -> list[str]:
        """Ids of the cycles that use ``pool`` (empty for an unknown pool)."""
        return self._by_pool.get(pool, _NO_CYCLES)

    def add_pool(self, pool: str, token0: str, token1: str) -> list[Cycle]:
        """Index a new pool; returns the cycles it created (none if the pool was already known)."""
        pool, token0, token1 = pool.lower(), token0.lower(), token1.lower()
        if pool in self.graph:
            return []
        self._by_pool.setdefault(pool, [])
        self._token0[pool] = token0
        new: list[Cycle] = []
        # enumerate before inserting, so the paths found never reuse the new pool
        for u, v in ((token0, token1), (token1, token0)):
            for path_tokens, path_pools in self._paths(v, u):
                cycle = self._canonical((u, *path_tokens), (pool, *path_pools))
                if cycle is not None:
                    new.append(cycle)
        self.graph.add_pool(pool, token0, token1)
        for cycle in new:
            self.cycles[cycle.cycle_id] = cycle
            for p in cycle.pools:
                self._by_pool[p].append(cycle.cycle_id)
        return new

    def add_pools(self, pools: Iterable[tuple[str, str, str]]) -> list[Cycle]:
        new: list[Cycle] = []
        for pool, token0, token1 in pools:
            new.extend(self.add_pool(pool, token0, token1))
        return new

    # --- enumeration --------------------------------------------------------------------------

    def _paths(self, source: str, target: str):
        """Simple paths ``source -> ... -> target`` of 1..max_hops-1 pools.

        Yields ``(tokens, pools)`` where ``tokens`` runs from ``source`` to ``target`` inclusive.
        Intermediate tokens differ from each other and from both ends.
        """
        graph = self.graph
        max_len = self.max_hops - 1
        target_neighbours = graph.neighbours(target)
        stack: list[tuple[tuple[str, ...], tuple[str, ...]]] = [((source,), ())]
        while stack:
            tokens, pools = stack.pop()
            here = tokens[-1]
            depth = len(pools)
            for pool in graph.pools_between(here, target):
                yield (*tokens, target), (*pools, pool)
            if depth + 1 >= max_len:
                continue
            remaining = max_len - depth - 1  # hops still allowed after the next one
            for nxt, edge_pools in graph.neighbours(here).items():
                if nxt == target or nxt in tokens:
                    continue
                # prune: with one hop left the next token must touch the target
                if remaining == 1 and nxt not in target_neighbours:
                    continue
                for pool in edge_pools:
                    stack.append(((*tokens, nxt), (*pools, pool)))

    def _canonical(self, loop_tokens: tuple[str, ...], loop_pools: tuple[str, ...]) -> Cycle | None:
        """Rotate a loop (``loop_tokens[i]`` enters ``loop_pools[i]``) to its best base token."""
        rank = self._rank
        best = None
        best_rank = len(rank) + 1
        for i, token in enumerate(loop_tokens[:-1]):
            r = rank.get(token)
            if r is not None and r < best_rank:
                best, best_rank = i, r
        if best is None:
            return None
        hops = len(loop_pools)
        tokens = tuple(loop_tokens[(best + i) % hops] for i in range(hops)) + (loop_tokens[best],)
        pools = tuple(loop_pools[(best + i) % hops] for i in range(hops))
        token0 = self._token0
        zero_for_one = tuple(token0[pools[i]] == tokens[i] for i in range(hops))
        return Cycle(tokens[0], pools, tokens, zero_for_one)


_NO_CYCLES: list[str] = []
