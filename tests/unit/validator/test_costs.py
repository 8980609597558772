"""Cost arithmetic in wei: flash-loan fees as each lender rounds them, gas L2 + L1, conversion
into the profit token, net profit."""

from __future__ import annotations

import pytest
from mevbot.errors import ValidationError
from mevbot.gas.l1 import L1Fallback, l1_from_fallback, l1_from_gas_info_prices, l1_from_node_interface
from mevbot.gas.model import fee_bid, gas_cost, gas_limit_with_margin, priority_fee_for_share
from mevbot.messages import FlashSourceKind

from services.validator.costs import (
    NativeRate,
    aave_flash_premium,
    balancer_flash_fee,
    net_profit,
    uniswap_v3_flash_fee,
)
from services.validator.flash import FlashOption, choose_flash_source
from tests.unit.validator.helpers import AAVE, USDC, VAULT, WETH


@pytest.mark.parametrize(
    ("amount", "premium_bps", "fee"),
    [
        (10**18, 5, 5 * 10**14),  # 5 bps of 1 ETH
        (1999, 5, 1),  # 0.9995 rounds half up to 1
        (999, 5, 0),  # 0.4995 rounds down
        (1000, 5, 1),  # 0.5 exactly: half up
        (0, 5, 0),
        (12345678901234567890, 9, 11111111011111111),  # 11111111011111111.101 -> down
    ],
)
def test_aave_premium_rounds_half_up(amount: int, premium_bps: int, fee: int) -> None:
    assert aave_flash_premium(amount, premium_bps) == fee


@pytest.mark.parametrize(
    ("amount", "fee_pips", "fee"),
    [(10**6, 500, 500), (1, 500, 1), (1999, 500, 1), (2001, 500, 2), (0, 3000, 0), (10**18, 100, 10**14)],
)
def test_uniswap_v3_flash_fee_rounds_up(amount: int, fee_pips: int, fee: int) -> None:
    assert uniswap_v3_flash_fee(amount, fee_pips) == fee


@pytest.mark.parametrize(
    ("amount", "pct_e18", "fee"),
    [(10**18, 0, 0), (10**18, 10**15, 10**15), (3, 10**17, 1), (10, 10**17, 1), (11, 10**17, 2)],
)
def test_balancer_fee_mul_up(amount: int, pct_e18: int, fee: int) -> None:
    assert balancer_flash_fee(amount, pct_e18) == fee


def test_flash_choice_cheapest_then_preference_and_no_locked_pool() -> None:
    pool = "0xpool"
    options = [
        FlashOption(FlashSourceKind.UNISWAP_V3, pool, WETH, 10**22, 100),
        FlashOption(FlashSourceKind.AAVE_V3, AAVE, WETH, 10**22, 5),
        FlashOption(FlashSourceKind.BALANCER_V2, VAULT, WETH, 10**18, 0),
    ]
    # Balancer is free but holds only 1 WETH
    assert choose_flash_source(options, WETH, 10**18, []).kind is FlashSourceKind.BALANCER_V2
    big = choose_flash_source(options, WETH, 2 * 10**18, [pool])
    assert (big.kind, big.fee) == (FlashSourceKind.AAVE_V3, 10**15)
    # Uniswap at 1 bps beats Aave's 5 bps, unless the pool is a hop of the cycle
    cheap = [options[0], options[1]]
    assert choose_flash_source(cheap, WETH, 2 * 10**18, ["0xother"]).kind is FlashSourceKind.UNISWAP_V3
    assert choose_flash_source(cheap, WETH, 2 * 10**18, [pool]).kind is FlashSourceKind.AAVE_V3
    with pytest.raises(ValidationError):
        choose_flash_source(options, USDC, 1, [])


def test_l1_components_exact() -> None:
    # NodeInterface: 1,234 L1 gas units priced at the 0.01 gwei base fee it reports
    q = l1_from_node_interface(1234, 10**7)
    assert (q.l1_cost_wei, q.l1_gas_units, q.source) == (1234 * 10**7, 1234, "node_interface")
    # ArbGasInfo: per-byte price * (calldata + envelope overhead); units rounded up
    q = l1_from_gas_info_prices(16 * 3 * 10**8, 200, 10**7, tx_overhead_bytes=140)
    assert q.l1_cost_wei == 16 * 3 * 10**8 * 340
    assert q.l1_gas_units == -(-q.l1_cost_wei // 10**7)
    q = l1_from_fallback(L1Fallback(wei_per_byte=7, tx_overhead_bytes=3), 10, 2)
    assert (q.l1_cost_wei, q.l1_gas_units) == (91, 0)  # 7 * 13 wei; a cost only, no gas units


def test_gas_cost_tip_bid_and_limit() -> None:
    l1 = l1_from_node_interface(1000, 10**7)
    g = gas_cost(250_000, l1, 10**7, 3)
    assert g.l2_cost_wei == 250_000 * (10**7 + 3)
    assert g.l1_cost_wei == 1000 * 10**7 + 1000 * 3
    assert g.total_wei == g.l2_cost_wei + g.l1_cost_wei
    assert g.total_gas_units == 251_000
    assert gas_limit_with_margin(251_000, 2000) == 301_200
    assert gas_limit_with_margin(3, 5000) == 5  # 4.5 rounds up
    bid = fee_bid(10**7, 3)
    assert (bid.max_fee_per_gas_wei, bid.max_priority_fee_per_gas_wei) == (2 * 10**7 + 3, 3)
    assert priority_fee_for_share(10**15, 1000, 250_000) == 10**14 // 250_000
    assert priority_fee_for_share(-5, 1000, 250_000, floor_wei=7) == 7


def test_net_profit_in_weth_exact() -> None:
    l1 = l1_from_node_interface(2_000, 10**7)
    gas = gas_cost(300_000, l1, 10**7, 0)  # 3.02e12 wei
    b = net_profit(50_000_000_000_000, 25_000_000_000, gas, NativeRate.IDENTITY)
    assert b.gas_cost_in_token == 3_020_000_000_000
    assert b.net_profit == 50_000_000_000_000 - 25_000_000_000 - 3_020_000_000_000
    assert b.net_profit_wei == b.net_profit
    assert (b.l2_gas_cost_wei, b.l1_gas_cost_wei) == (3 * 10**12, 2 * 10**10)


def test_net_profit_in_usdc_through_a_live_price() -> None:
    # 3,000.123456 USDC (6 decimals) per 1 ETH
    rate = NativeRate(3_000_123_456, 10**18)
    gas = gas_cost(400_000, l1_from_node_interface(0, 10**7), 10**7, 0)  # 4e12 wei
    b = net_profit(5_000_000, 0, gas, rate)  # 5 USDC gross
    # 4e12 wei * 3000.123456e6 / 1e18 = 12000.49 -> rounds up to 12001 (a cost)
    assert b.gas_cost_in_token == 12_001
    assert b.net_profit == 5_000_000 - 12_001
    # back into wei rounds down (a gain)
    assert b.net_profit_wei == (4_987_999 * 10**18) // 3_000_123_456
    loss = net_profit(10_000, 0, gas, rate)
    assert loss.net_profit < 0 and loss.net_profit_wei < 0
