"""The devnet's own view of the market: exact pool states read from the chain, and the best
arbitrage a dislocation opened (what a perfect searcher would have taken).

V2 reserves, V3 ``slot0`` and ``liquidity`` are read with ``eth_call`` at a given block; V3 tick maps
are the positions the devnet minted (no mints happen during a run); ``check_tick_maps`` compares
the derived in-range liquidity with the chain once at start, so a wrong map cannot go unnoticed.
Sizing uses :func:`mevbot.amm.optimize_cycle` over every 2- and 3-hop cycle through the dislocated
pool that starts at a base token.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import permutations

from mevbot.amm import PoolState, UniswapV2Pool, UniswapV3Pool, optimize_cycle
from mevbot.chain.artifacts import load_artifact
from mevbot.chain.deployment import Deployment
from mevbot.chain.market import MarketSpec, default_positions, raw_price
from mevbot.chain.rpc import RpcClient
from mevbot.errors import AmmError, ChainError


@dataclass(frozen=True)
class PoolMeta:
    address: str  # lower-case
    kind: str  # "uniswap_v2" | "uniswap_v3"
    token0: str
    token1: str
    fee_pips: int
    tick_spacing: int = 0
    ticks: tuple[tuple[int, int], ...] = ()  # V3: (tick, liquidityNet)
    label: str = ""


@dataclass(frozen=True)
class CycleOpportunity:
    pools: tuple[str, ...]
    kinds: tuple[str, ...]
    start_token: str
    amount_in: int
    profit: int  # start-token units
    profit_wei: int  # in WETH wei at the market's reference prices

    @property
    def hops(self) -> int:
        return len(self.pools)


class MarketBook:
    """Every pool of the devnet, with enough metadata to rebuild exact states from the chain."""

    def __init__(self, deployment: Deployment, spec: MarketSpec) -> None:
        self.deployment = deployment
        self.spec = spec
        self.by_symbol = {t.address.lower(): t.symbol for t in deployment.tokens.values()}
        self.decimals = {t.address.lower(): t.decimals for t in deployment.tokens.values()}
        self.usd = {t.address.lower(): Fraction(spec.token(t.symbol).usd_price) for t in deployment.tokens.values()}
        self.weth = deployment.weth.lower()
        self.pools: dict[str, PoolMeta] = {}
        for pair in deployment.v2_pairs:
            label = f"V2 {self.sym(pair.token0)}/{self.sym(pair.token1)}"
            self.pools[pair.address.lower()] = PoolMeta(pair.address.lower(), "uniswap_v2", pair.token0.lower(),
                                                        pair.token1.lower(), pair.fee_pips, label=label)
        for pool in deployment.v3_pools:
            t0, t1 = pool.token0.lower(), pool.token1.lower()
            ticks = self._tick_map(t0, t1, pool.fee_pips)
            label = f"V3 {self.sym(t0)}/{self.sym(t1)} {pool.fee_pips / 10_000:g}%"
            self.pools[pool.address.lower()] = PoolMeta(pool.address.lower(), "uniswap_v3", t0, t1, pool.fee_pips,
                                                        pool.tick_spacing, ticks, label)

    def sym(self, token: str) -> str:
        return self.by_symbol.get(token.lower(), token[:8])

    def _tick_map(self, t0: str, t1: str, fee: int) -> tuple[tuple[int, int], ...]:
        s0, s1 = self.sym(t0), self.sym(t1)
        for p in self.spec.v3_pools:
            if p.fee_pips == fee and {p.symbol_a, p.symbol_b} == {s0, s1}:
                tok0, tok1 = self.spec.token(s0), self.spec.token(s1)
                positions = p.positions or default_positions(raw_price(tok0, tok1), fee, p.depth_usd, tok0)
                net: dict[int, int] = {}
                for pos in positions:
                    net[pos.tick_lower] = net.get(pos.tick_lower, 0) + pos.liquidity
                    net[pos.tick_upper] = net.get(pos.tick_upper, 0) - pos.liquidity
                return tuple(sorted((t, n) for t, n in net.items() if n != 0))
        raise ChainError(f"no spec for V3 pool {s0}/{s1}/{fee}")

    # --- reading the chain -------------------------------------------------------------------------

    def read_states(self, rpc: RpcClient, block: int | str = "latest") -> dict[str, PoolState]:
        tag = hex(block) if isinstance(block, int) else block
        v2 = load_artifact("UniswapV2Pair").codec
        v3 = load_artifact("UniswapV3Pool").codec
        calls: list[tuple[str, list[object]]] = []
        order: list[tuple[str, str]] = []
        for meta in self.pools.values():
            if meta.kind == "uniswap_v2":
                calls.append(("eth_call", [{"to": meta.address, "data": "0x" + v2.encode_call("getReserves").hex()}, tag]))
                order.append((meta.address, "reserves"))
            else:
                for fn in ("slot0", "liquidity"):
                    calls.append(("eth_call", [{"to": meta.address, "data": "0x" + v3.encode_call(fn).hex()}, tag]))
                    order.append((meta.address, fn))
        raw = dict(zip(order, rpc.batch(calls), strict=True))
        number = int(rpc.call("eth_blockNumber"), 16) if tag == "latest" else int(tag, 16)
        states: dict[str, PoolState] = {}
        for meta in self.pools.values():
            a = meta.address
            if meta.kind == "uniswap_v2":
                r0, r1, _ = v2.decode_output("getReserves", bytes.fromhex(raw[(a, "reserves")][2:]))
                states[a] = UniswapV2Pool(a, meta.token0, meta.token1, int(r0), int(r1), meta.fee_pips,
                                          block_number=number)
            else:
                slot0 = v3.decode_output("slot0", bytes.fromhex(raw[(a, "slot0")][2:]))
                (liq,) = v3.decode_output("liquidity", bytes.fromhex(raw[(a, "liquidity")][2:]))
                states[a] = UniswapV3Pool(a, meta.token0, meta.token1, meta.fee_pips, meta.tick_spacing,
                                          int(slot0[0]), int(slot0[1]), int(liq), dict(meta.ticks), block_number=number)
        return states

    def check_tick_maps(self, states: dict[str, PoolState]) -> None:
        for meta in self.pools.values():
            if meta.kind != "uniswap_v3":
                continue
            state = states[meta.address]
            assert isinstance(state, UniswapV3Pool)
            derived = sum(n for t, n in meta.ticks if t <= state.tick)
            if derived != state.liquidity:
                raise ChainError(f"{meta.label}: derived in-range liquidity {derived} != chain {state.liquidity}")

    # --- valuation ---------------------------------------------------------------------------------

    def to_wei(self, token: str, amount: int) -> int:
        """Value of a raw token amount in WETH wei at the market's reference prices."""
        token = token.lower()
        value = Fraction(amount, 10 ** self.decimals[token]) * self.usd[token] / self.usd[self.weth]
        return int(value * 10**18)

    def cycles_through(self, pool: str, base_tokens: list[str], max_hops: int = 3) -> list[list[tuple[str, bool]]]:
        """Every cycle of 2..max_hops distinct pools that contains ``pool`` and starts at a base token."""
        pool = pool.lower()
        metas = list(self.pools.values())
        out: list[list[tuple[str, bool]]] = []
        seen: set[tuple[str, ...]] = set()
        for n in range(2, max_hops + 1):
            for combo in permutations(metas, n):
                if pool not in (m.address for m in combo):
                    continue
                for start in base_tokens:
                    path = _walk(combo, start)
                    if path is None:
                        continue
                    key = (start, *(m.address for m in combo))
                    if key not in seen:
                        seen.add(key)
                        out.append(path)
        return out

    def best_opportunity(self, pool: str, states: dict[str, PoolState], base_tokens: list[str],
                         max_hops: int = 3) -> CycleOpportunity | None:
        best: CycleOpportunity | None = None
        for path in self.cycles_through(pool, base_tokens, max_hops):
            hops = [(states[a], z) for a, z in path]
            start = hops[0][0].token0 if hops[0][1] else hops[0][0].token1
            try:
                result = optimize_cycle(hops, max_input=_max_input(self, start))
            except AmmError:
                continue
            if result is None or result.profit <= 0:
                continue
            opp = CycleOpportunity(tuple(a for a, _ in path), tuple(self.pools[a].kind for a, _ in path), start,
                                   result.amount_in, result.profit, self.to_wei(start, result.profit))
            if best is None or opp.profit_wei > best.profit_wei:
                best = opp
        return best


def _max_input(book: MarketBook, token: str) -> int:
    # flash liquidity is ~$50M per token on the devnet; never size beyond $20M
    return int(Fraction(20_000_000) / book.usd[token] * 10 ** book.decimals[token])


def _walk(combo: tuple[PoolMeta, ...], start: str) -> list[tuple[str, bool]] | None:
    token = start
    path = []
    for meta in combo:
        if token == meta.token0:
            path.append((meta.address, True))
            token = meta.token1
        elif token == meta.token1:
            path.append((meta.address, False))
            token = meta.token0
        else:
            return None
    return path if token == start else None
