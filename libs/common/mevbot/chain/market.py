"""What test market to deploy: tokens with USD prices, V2 pairs and V3 pools with a USD depth.

Prices of every pool come from the tokens' USD prices, so a freshly deployed market has no
arbitrage (up to rounding); tests and the devnet open dislocations by trading. Exact V3 positions
(e.g. the real Arbitrum tick maps) can be given per pool in ``V3PoolSpec.positions``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

V3_TICK_SPACING = {100: 1, 500: 10, 3000: 60, 10000: 200}
MIN_TICK = -887272
MAX_TICK = 887272


@dataclass(frozen=True)
class TokenSpec:
    symbol: str
    decimals: int
    usd_price: str  # decimal string, exact (e.g. "3000", "0.8")


@dataclass(frozen=True)
class V2PairSpec:
    symbol_a: str
    symbol_b: str
    depth_usd: int  # total value of both reserves


@dataclass(frozen=True)
class V3Position:
    tick_lower: int
    tick_upper: int
    liquidity: int


@dataclass(frozen=True)
class V3PoolSpec:
    symbol_a: str
    symbol_b: str
    fee_pips: int
    depth_usd: int = 0  # used for the default positions when ``positions`` is empty
    # exact positions (ticks for the sorted token0/token1 pair); overrides depth_usd
    positions: tuple[V3Position, ...] = ()
    sqrt_price_x96: int | None = None  # exact initial price for the sorted pair; default from USD prices


@dataclass(frozen=True)
class MarketSpec:
    tokens: tuple[TokenSpec, ...]
    v2_pairs: tuple[V2PairSpec, ...] = ()
    v3_pools: tuple[V3PoolSpec, ...] = ()
    # flash-loan liquidity, by symbol, in whole tokens (converted with decimals)
    balancer_funding: dict[str, int] = field(default_factory=dict)
    aave_supply: dict[str, int] = field(default_factory=dict)
    aave_premium_bps: int = 5  # Arbitrum's flash-loan premium
    deploy_executor: bool = True
    install_precompile_stand_ins: bool = True

    def token(self, symbol: str) -> TokenSpec:
        for t in self.tokens:
            if t.symbol == symbol:
                return t
        raise KeyError(symbol)


WETH = "WETH"


def default_market() -> MarketSpec:
    """A small Arbitrum-like market: 5 tokens, 6 V2 pairs, V3 pools at every fee tier."""
    tokens = (
        TokenSpec(WETH, 18, "3000"),
        TokenSpec("USDC", 6, "1"),
        TokenSpec("USDT", 6, "1"),
        TokenSpec("ARB", 18, "0.8"),
        TokenSpec("WBTC", 8, "60000"),
    )
    v2 = (
        V2PairSpec(WETH, "USDC", 20_000_000),
        V2PairSpec(WETH, "USDT", 10_000_000),
        V2PairSpec("USDC", "USDT", 10_000_000),
        V2PairSpec(WETH, "ARB", 10_000_000),
        V2PairSpec("ARB", "USDC", 5_000_000),
        V2PairSpec("WBTC", WETH, 10_000_000),
    )
    v3 = (
        V3PoolSpec(WETH, "USDC", 100, 5_000_000),
        V3PoolSpec(WETH, "USDC", 500, 40_000_000),
        V3PoolSpec(WETH, "USDC", 3000, 20_000_000),
        V3PoolSpec(WETH, "USDC", 10000, 5_000_000),
        V3PoolSpec(WETH, "USDT", 500, 20_000_000),
        V3PoolSpec("USDC", "USDT", 100, 20_000_000),
        V3PoolSpec(WETH, "ARB", 500, 10_000_000),
        V3PoolSpec(WETH, "ARB", 3000, 10_000_000),
        V3PoolSpec("ARB", "USDC", 3000, 5_000_000),
        V3PoolSpec("WBTC", WETH, 500, 20_000_000),
    )
    funding = {WETH: 20_000, "USDC": 50_000_000, "USDT": 50_000_000, "ARB": 50_000_000, "WBTC": 1_000}
    return MarketSpec(tokens, v2, v3, balancer_funding=funding, aave_supply=dict(funding))


# --- price helpers (exact integers where it matters) ---------------------------------------------


def raw_price(token0: TokenSpec, token1: TokenSpec) -> Fraction:
    """Price of one raw unit of token0 in raw units of token1."""
    return (
        Fraction(token0.usd_price)
        / Fraction(token1.usd_price)
        * Fraction(10**token1.decimals, 10**token0.decimals)
    )


def sqrt_price_x96(price_raw: Fraction) -> int:
    return math.isqrt(price_raw.numerator * 2**192 // price_raw.denominator)


def tick_at(price_raw: Fraction) -> int:
    return math.floor(math.log(float(price_raw)) / math.log(1.0001))


def default_positions(
    price_raw: Fraction, fee_pips: int, depth_usd: int, token0: TokenSpec
) -> tuple[V3Position, ...]:
    """Two positions: a wide one (~x7 either side, 30% of the depth) and a concentrated one (+-6%).

    The depth is split so each position holds ~half its USD value in token0; liquidity is derived
    from the token0 amount of a position [tick - w, tick + w].
    """
    spacing = V3_TICK_SPACING[fee_pips]
    tick = tick_at(price_raw)
    sqrt_p = math.sqrt(float(price_raw))
    out = []
    for width, share in ((20_000, 0.3), (600, 0.7)):
        lower = max((tick - width) // spacing * spacing, -(MAX_TICK // spacing) * spacing)
        upper = min(-((-(tick + width)) // spacing) * spacing, (MAX_TICK // spacing) * spacing)
        sqrt_b = math.sqrt(1.0001**upper)
        amount0_raw = depth_usd * share / 2 / float(Fraction(token0.usd_price)) * 10**token0.decimals
        liquidity = int(amount0_raw * sqrt_p * sqrt_b / (sqrt_b - sqrt_p))
        out.append(V3Position(lower, upper, liquidity))
    return tuple(out)
