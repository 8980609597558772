"""The devnet's market: the chain engineer's default market plus real Arbitrum liquidity shapes.

Three Uniswap V3 pools (WETH/USDC, WETH/ARB, WETH/USDT at 0.30 %) are minted with the real tick
distributions of their Arbitrum counterparts (``data/real_v3_pools.json``, a derived copy shipped in
the package so a clean clone works without ``../shared``). The real map is moved, not rescaled: it
is mirrored when the devnet's token order differs from Arbitrum's, then shifted by whole tick
spacings so the real current tick lands on the devnet's price. Every other pool uses the default
two-position shape. Two pools exist only once (V2 ARB/USDT, V3 WBTC/USDC 0.05 %): a dislocation there
closes only through a triangle, so the market has 3-hop opportunities by construction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import cache
from itertools import pairwise
from pathlib import Path

from mevbot.chain.create2 import create_address
from mevbot.chain.deploy import DEV_ACCOUNTS
from mevbot.chain.market import (
    MAX_TICK,
    V3_TICK_SPACING,
    WETH,
    MarketSpec,
    V2PairSpec,
    V3PoolSpec,
    V3Position,
    default_market,
    raw_price,
    tick_at,
)

REAL_POOLS_PATH = Path(__file__).with_name("data") / "real_v3_pools.json"


@dataclass(frozen=True)
class RealPool:
    source_pool: str
    symbol0: str  # Arbitrum's token0
    symbol1: str
    fee_pips: int
    tick: int
    liquidity: int
    ticks: dict[int, int]  # tick -> liquidityNet (complete map)


@cache
def real_pools() -> tuple[RealPool, ...]:
    doc = json.loads(REAL_POOLS_PATH.read_text())
    return tuple(
        RealPool(p["source_pool"], p["token0"], p["token1"], int(p["fee_pips"]), int(p["tick"]), int(p["liquidity"]),
                 {int(t): int(n) for t, n in p["ticks"].items()})
        for p in doc["pools"]
    )


def positions_from_tick_map(ticks: dict[int, int], spacing: int = 1) -> tuple[V3Position, ...]:
    """One position per segment of constant liquidity: minting them all reproduces the map exactly
    (segments beyond the usable tick range, after a shift, are clipped to it)."""
    usable = MAX_TICK // spacing * spacing
    out: list[V3Position] = []
    running = 0
    ordered = sorted(ticks)
    for lower, upper in pairwise(ordered):
        running += ticks[lower]
        if running < 0:
            raise ValueError(f"tick map goes negative at {lower}")
        lo, hi = max(lower, -usable), min(upper, usable)
        if running > 0 and lo < hi:
            out.append(V3Position(lo, hi, running))
    running += ticks[ordered[-1]]
    if running != 0:
        raise ValueError(f"tick map does not close (net {running})")
    return tuple(out)


def moved_tick_map(pool: RealPool, *, mirrored: bool, target_tick: int) -> dict[int, int]:
    """Mirror (token order flipped: price -> 1/price, tick -> -tick) then shift onto ``target_tick``."""
    spacing = V3_TICK_SPACING[pool.fee_pips]
    ticks = {-t: -n for t, n in pool.ticks.items()} if mirrored else dict(pool.ticks)
    current = -pool.tick - 1 if mirrored else pool.tick
    shift = round((target_tick - current) / spacing) * spacing
    return {t + shift: n for t, n in ticks.items()}


def predicted_token_addresses(spec: MarketSpec, deployer: str = DEV_ACCOUNTS[0], first_nonce: int = 0) -> dict[str, str]:
    """``deploy_market`` creates the tokens first, in spec order, from a fresh deployer: their
    addresses follow from (deployer, nonce). ``chain.py`` checks the prediction after deploying."""
    return {t.symbol: create_address(deployer, first_nonce + i).lower() for i, t in enumerate(spec.tokens)}


def devnet_market(*, real_liquidity: bool = True) -> MarketSpec:
    base = default_market()
    v2 = base.v2_pairs + (V2PairSpec("ARB", "USDT", 4_000_000),)
    v3 = list(base.v3_pools) + [V3PoolSpec(WETH, "USDT", 3000, 10_000_000), V3PoolSpec("WBTC", "USDC", 500, 8_000_000)]
    spec = replace(base, v2_pairs=v2, v3_pools=tuple(v3))
    if not real_liquidity:
        return spec
    addresses = predicted_token_addresses(spec)
    shaped = []
    for pool in spec.v3_pools:
        a, b = pool.symbol_a, pool.symbol_b
        sym0, sym1 = (a, b) if addresses[a] < addresses[b] else (b, a)
        positions = oriented_real_positions(spec, sym0, sym1, pool.fee_pips)
        shaped.append(replace(pool, positions=positions) if positions else pool)
    return replace(spec, v3_pools=tuple(shaped))


def real_shaped_pools(spec: MarketSpec) -> list[tuple[str, str, int]]:
    """(symbol_a, symbol_b, fee) of the pools minted from a real Arbitrum tick map."""
    return [(p.symbol_a, p.symbol_b, p.fee_pips) for p in spec.v3_pools if len(p.positions) > 2]


def oriented_real_positions(spec: MarketSpec, symbol0: str, symbol1: str, fee_pips: int) -> tuple[V3Position, ...] | None:
    """Positions for the devnet pool whose sorted tokens are (symbol0, symbol1), or None."""
    for real in real_pools():
        if real.fee_pips != fee_pips or {real.symbol0, real.symbol1} != {symbol0, symbol1}:
            continue
        target = tick_at(raw_price(spec.token(symbol0), spec.token(symbol1)))
        ticks = moved_tick_map(real, mirrored=real.symbol0 != symbol0, target_tick=target)
        return positions_from_tick_map(ticks, V3_TICK_SPACING[fee_pips])
    return None
