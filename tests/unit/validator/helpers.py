"""Builders of candidates and hops for the validator's unit tests (pure, exact amounts)."""

from __future__ import annotations

from mevbot.amm.v2 import UniswapV2Pool
from mevbot.gas.l1 import L1Quote
from mevbot.messages import Candidate, FlashSourceKind, Hop, PoolKind

from services.validator.core import Context, CoreSettings
from services.validator.costs import NativeRate
from services.validator.flash import FlashOption
from services.validator.profiles import PROFILES

WETH = "0x82af49447d8a07e3bd95bd0d56f35241523fbab1"
USDC = "0xaf88d065e77c8cc2239327c5edb3a432268e5831"
ARB = "0x912ce59144191c1204e64559fe8253a0e49e6548"
VAULT = "0xba12222222228d8ba445958a75a0704d566bf2c8"
AAVE = "0x794a61358d6845594f94dc1db02a252b5b4814ad"
E18 = 10**18


def impact_hop(impact_ppm: int, ticks: int = 0, token_in: str = WETH, token_out: str = USDC, pool: str = "0x01") -> Hop:
    """A V2-style hop whose impact is exactly ``impact_ppm``: mid 1, no fee, 1e6 in, 1e6 - impact out."""
    return Hop(pool=pool, kind=PoolKind.UNISWAP_V2, token_in=token_in, token_out=token_out, zero_for_one=True,
               amount_in=10**6, amount_out=10**6 - impact_ppm, reserve_in=10**9, reserve_out=10**9,
               ticks_crossed=ticks)


def v2_cycle_candidate(
    pool_a: UniswapV2Pool, pool_b: UniswapV2Pool, amount_in: int, block: int = 100, start: str = WETH
) -> Candidate:
    """start -> other on pool_a, other -> start on pool_b, amounts exact from the pools."""
    hops = []
    a = amount_in
    token = start
    for pool in (pool_a, pool_b):
        zfo = pool.token0 == token
        r_in, r_out = (pool.reserve0, pool.reserve1) if zfo else (pool.reserve1, pool.reserve0)
        out = pool.quote_exact_in(zfo, a)
        token_out = pool.token1 if zfo else pool.token0
        hops.append(
            Hop(
                pool=pool.address,
                kind=PoolKind.UNISWAP_V2,
                token_in=token,
                token_out=token_out,
                zero_for_one=zfo,
                amount_in=a,
                amount_out=out,
                fee_pips=pool.fee_pips,
                reserve_in=r_in,
                reserve_out=r_out,
            )
        )
        a, token = out, token_out
    return Candidate(
        chain_id=42161,
        candidate_id=f"cand-{amount_in}",
        cycle_id="cycle-ab",
        start_token=start,
        hops=hops,
        amount_in=amount_in,
        amount_out=a,
        gross_profit=a - amount_in,
        gross_profit_wei=a - amount_in,
        block_number=block,
    )


def settings(profile: str = "default", **kw) -> CoreSettings:
    return CoreSettings(profile=PROFILES[profile], native_token=WETH, **kw)


def context(head_block: int = 100, base_fee_wei: int = 10**7, l1_cost_wei: int = 0, **kw) -> Context:
    defaults = {
        "native_rate": NativeRate.IDENTITY,
        "flash_options": [
            FlashOption(FlashSourceKind.BALANCER_V2, VAULT, WETH, 10**24, 0),
            FlashOption(FlashSourceKind.AAVE_V3, AAVE, WETH, 10**24, 5),
        ],
        "l1_estimate": L1Quote(
            l1_cost_wei, l1_cost_wei // base_fee_wei if base_fee_wei else 0, base_fee_wei, "test"
        ),
    }
    defaults.update(kw)
    return Context(head_block=head_block, base_fee_wei=base_fee_wei, **defaults)


def v3_full_range_pool(
    address: str,
    price_token1_per_token0: float,
    liquidity: int,
    fee_pips: int = 500,
    tick_spacing: int = 10,
    token0: str = WETH,
    token1: str = USDC,
):
    """A V3 pool with one full-range position (exact state, built from data)."""
    from math import isqrt

    from mevbot.amm.tick_math import MAX_TICK, MIN_TICK, tick_at_sqrt_ratio
    from mevbot.amm.v3_pool import UniswapV3Pool

    # sqrtPriceX96 = sqrt(price) * 2**96, computed in integers from a 1e18-scaled price
    sqrt_p = isqrt(int(price_token1_per_token0 * 10**36) << 192) // 10**18
    lo = -(-MIN_TICK // tick_spacing) * tick_spacing
    hi = (MAX_TICK // tick_spacing) * tick_spacing
    return UniswapV3Pool(
        address,
        token0,
        token1,
        fee_pips,
        tick_spacing,
        sqrt_p,
        tick_at_sqrt_ratio(sqrt_p),
        liquidity,
        {lo: liquidity, hi: -liquidity},
    )
