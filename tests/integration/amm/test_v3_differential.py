"""Differential test against the real Uniswap V3 pool bytecode (npm @uniswap/v3-core) on anvil.

Random pools at every fee tier (100/500/3000/10000), random positions (narrow, medium, wide and
full range: many initialized ticks), random exact-input and exact-output swaps in both directions
whose price limits reach 1 to 1500 tick spacings away (so they cross several initialized ticks and
bitmap words). Every swap is executed on chain through PoolActor; its Swap event must equal our
simulation exactly: amount0, amount1, sqrtPriceX96, tick and liquidity after. Zero mismatches.
"""

from __future__ import annotations

import random

import pytest
from mevbot.amm.tick_math import getSqrtRatioAtTick

from tests.integration.amm.v3_lab import TICK_SPACING, V3Lab, random_positions, random_swaps

pytestmark = pytest.mark.integration


def run_differential(lab: V3Lab, seed: int, pools_per_fee: int, swaps_per_pool: int) -> dict:
    rng = random.Random(seed)
    stats = {"swaps": 0, "ticks_crossed": 0, "multi_tick_swaps": 0, "word_boundary_steps": 0, "exact_out": 0}
    for fee in (100, 500, 3000, 10000):
        spacing = TICK_SPACING[fee]
        for _ in range(pools_per_fee):
            centre = rng.randint(-200_000, 200_000) // spacing * spacing
            sqrt_price = getSqrtRatioAtTick(centre + rng.randint(0, spacing * 3)) + rng.randrange(10**6)
            positions = random_positions(rng, fee, centre, rng.randint(20, 70))
            address, model = lab.create_v3_pool(fee, sqrt_price, positions)
            swaps = random_swaps(rng, model, swaps_per_pool, centre)
            events = lab.send_swaps(address, [(z, a, lim) for z, a, lim, _ in swaps])
            for i, ((zfo, amount, limit, expected), got) in enumerate(zip(swaps, events, strict=True)):
                mine = (
                    expected.amount0,
                    expected.amount1,
                    expected.sqrt_price_x96_after,
                    expected.tick_after,
                    expected.liquidity_after,
                )
                chain = (got.amount0, got.amount1, got.sqrt_price_x96, got.tick, got.liquidity)
                assert mine == chain, (
                    f"pool fee {fee} swap #{i} zeroForOne={zfo} amountSpecified={amount} limit={limit}: "
                    f"model {mine} != chain {chain}"
                )
                stats["swaps"] += 1
                stats["ticks_crossed"] += expected.ticks_crossed
                stats["multi_tick_swaps"] += expected.ticks_crossed >= 2
                stats["word_boundary_steps"] += expected.steps - expected.ticks_crossed - 1
                stats["exact_out"] += amount < 0
    return stats


def test_random_pools_and_swaps_match_bytecode(lab):
    stats = run_differential(lab, seed=20261124, pools_per_fee=2, swaps_per_pool=260)
    print(f"\nV3 differential: {stats}")
    assert stats["swaps"] >= 2000
    assert stats["multi_tick_swaps"] >= 300
    assert stats["word_boundary_steps"] >= 300
    assert stats["exact_out"] >= 300


@pytest.mark.slow
def test_random_pools_and_swaps_match_bytecode_100k(lab):
    stats = run_differential(lab, seed=7, pools_per_fee=50, swaps_per_pool=505)
    print(f"\nV3 differential (slow): {stats}")
    assert stats["swaps"] >= 100_000
