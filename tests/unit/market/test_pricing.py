"""price_in_native: exact mid-price conversion through the deepest ready pool."""

from __future__ import annotations

from mevbot.amm.tick_math import sqrt_ratio_at_tick
from mevbot.market import MarketStore, NativePricer

from tests.unit.market.helpers import v2_info, v2_snapshot, v3_info, v3_pool_with_positions, v3_snapshot_from

WETH, USDC, ARB, XYZ = "0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20, "0x" + "44" * 20


def test_direct_conversion_uses_the_deepest_pool_and_is_exact() -> None:
    store = MarketStore()
    store.add_snapshot(v2_snapshot(v2_info("0x" + "a1" * 20, USDC, WETH), 3_000 * 10**6, 10**18))  # shallow, 3000
    store.add_snapshot(v2_snapshot(v2_info("0x" + "a2" * 20, USDC, WETH), 2_500 * 10**9, 10**21))  # deep, 2500
    pricer = NativePricer(store, WETH)
    assert pricer.price_in_native(WETH, 123) == 123
    assert pricer.price_in_native(USDC, 2_500 * 10**6) == 10**18
    assert pricer.price_in_native(USDC, 7) == 7 * 10**21 // (2_500 * 10**9)
    assert pricer.native_to_token(USDC, 10**18) == 2_500 * 10**6
    store.mark_stale("0x" + "a2" * 20, "test")  # stale pools are never used
    assert pricer.price_in_native(USDC, 3_000 * 10**6) == 10**18


def test_v3_pool_and_two_hop_route_and_unpriceable() -> None:
    store = MarketStore()
    info = v3_info("0x" + "b1" * 20, ARB, WETH, fee_pips=3000, spacing=60)  # token0 = ARB
    pool = v3_pool_with_positions(info, -69082, [(-887220, 887220, 10**24)])  # ~0.001 WETH per ARB
    store.add_snapshot(v3_snapshot_from(info, pool))
    store.add_snapshot(v2_snapshot(v2_info("0x" + "b2" * 20, XYZ, ARB), 10**20, 5 * 10**20))  # 5 ARB per XYZ
    pricer = NativePricer(store, WETH)
    price_x192 = sqrt_ratio_at_tick(-69082) ** 2
    assert pricer.price_in_native(ARB, 10**18) == 10**18 * price_x192 >> 192
    via_arb = 10**18 * 5 * 10**20 // 10**20
    assert pricer.price_in_native(XYZ, 10**18) == via_arb * price_x192 >> 192
    assert pricer.price_in_native("0x" + "55" * 20, 10**18) == 0
