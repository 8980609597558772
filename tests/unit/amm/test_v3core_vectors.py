"""The 240 swap cases of v3-core's UniswapV3Pool.swaps.spec.ts reproduce exactly.

Each case: a pool set up with positions at a price, then one swap. Expected: the pool balance
deltas, the tick after, the fee-growth deltas, or the revert (all 50 expected reverts are 'SPL').
"""

from __future__ import annotations

import json

import pytest
from mevbot.amm.tick_math import getTickAtSqrtRatio
from mevbot.amm.v3_pool import UniswapV3Pool
from mevbot.errors import AmmError

from tests.shared_data import V3_VECTORS

VECTORS = V3_VECTORS
CASES = json.loads(VECTORS.read_text())["cases"]


def build_pool(spec: dict) -> UniswapV3Pool:
    sqrt_price = int(spec["sqrtPriceX96"])
    pool = UniswapV3Pool(
        "0x" + "00" * 20, "0x" + "00" * 19 + "01", "0x" + "00" * 19 + "02",
        spec["fee"], spec["tickSpacing"], sqrt_price, getTickAtSqrtRatio(sqrt_price), 0,
    )
    for position in spec["positions"]:
        pool.apply_mint(position["tickLower"], position["tickUpper"], int(position["liquidity"]), block_number=0)
    return pool


def test_vector_file_has_240_cases():
    assert len(CASES) == 240
    assert sum("expected_error" in c for c in CASES) == 50


@pytest.mark.parametrize("case", CASES, ids=[c["test_name"] for c in CASES])
def test_swap_vector(case):
    pool = build_pool(case["pool"])
    swap = case["swap"]
    before = (pool.sqrt_price_x96, pool.tick, pool.liquidity)
    amount = int(swap["amountSpecified"])
    limit = int(swap["sqrtPriceLimitX96"])
    if "expected_error" in case:
        assert "SPL" in case["expected_error"]["swapError"]
        with pytest.raises(AmmError, match="SPL"):
            pool.swap(swap["zeroForOne"], amount, limit)
        return
    expected = case["expected"]
    assert pool.tick == expected["tickBefore"]
    result = pool.swap(swap["zeroForOne"], amount, limit)
    assert result.amount0 == int(expected["amount0Delta"])
    assert result.amount1 == int(expected["amount1Delta"])
    assert result.tick_after == expected["tickAfter"]
    growth0 = result.fee_growth_global_x128_delta if swap["zeroForOne"] else 0
    growth1 = 0 if swap["zeroForOne"] else result.fee_growth_global_x128_delta
    assert growth0 == int(expected["feeGrowthGlobal0X128Delta"])
    assert growth1 == int(expected["feeGrowthGlobal1X128Delta"])
    assert (pool.sqrt_price_x96, pool.tick, pool.liquidity) == before  # quoting never mutates
