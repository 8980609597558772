"""Net-profit arithmetic in integer token units and wei (pure).

Every rounding follows the contract that charges the amount, or goes against us:

* Balancer V2 flash fee: ``FixedPoint.mulUp(amount, flashLoanFeePercentage)`` (1e18 fixed point;
  the percentage comes from the vault's ProtocolFeesCollector, 0 on Arbitrum).
* Aave V3 ``flashLoanSimple`` premium: ``amount.percentMul(FLASHLOAN_PREMIUM_TOTAL)`` =
  ``(amount * premium_bps + 5000) // 10000`` (PercentageMath rounds half up). 5 bps on Arbitrum.
* Uniswap V3 ``flash``: ``FullMath.mulDivRoundingUp(amount, fee_pips, 1e6)``.
* Gas (wei) into the profit token: rounded up (a cost); net profit into wei: rounded down.

A :class:`NativeRate` says "``token_amount`` units of the token are worth ``native_wei`` wei",
taken from live pool prices; it is exact rational arithmetic, no floats.
"""

from __future__ import annotations

from dataclasses import dataclass

from mevbot.errors import ValidationError
from mevbot.gas.model import GasCost
from mevbot.messages import CostBreakdown

ONE_E18 = 10**18
PERCENTAGE_FACTOR = 10_000
PIPS = 1_000_000


def _ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


def balancer_flash_fee(amount: int, fee_percentage_e18: int) -> int:
    product = amount * fee_percentage_e18
    return 0 if product == 0 else (product - 1) // ONE_E18 + 1


def aave_flash_premium(amount: int, premium_total_bps: int) -> int:
    return (amount * premium_total_bps + PERCENTAGE_FACTOR // 2) // PERCENTAGE_FACTOR


def uniswap_v3_flash_fee(amount: int, fee_pips: int) -> int:
    return _ceil_div(amount * fee_pips, PIPS)


@dataclass(frozen=True)
class NativeRate:
    """``token_amount`` of the token is worth ``native_wei`` wei (a price from live pools)."""

    token_amount: int
    native_wei: int

    IDENTITY: NativeRate = None  # type: ignore[assignment]  # set below

    def __post_init__(self) -> None:
        if self.token_amount <= 0 or self.native_wei <= 0:
            raise ValidationError(f"unusable native rate {self.token_amount} -> {self.native_wei} wei")

    def wei_to_token_ceil(self, wei: int) -> int:
        return _ceil_div(wei * self.token_amount, self.native_wei)

    def token_to_wei_floor(self, amount: int) -> int:
        return (amount * self.native_wei) // self.token_amount

    def token_to_wei_ceil(self, amount: int) -> int:
        return _ceil_div(amount * self.native_wei, self.token_amount)


NativeRate.IDENTITY = NativeRate(1, 1)


def net_profit(gross_profit: int, flash_fee: int, gas: GasCost, rate: NativeRate) -> CostBreakdown:
    """gross - flash fee - gas (converted into the start token), exact."""
    gas_in_token = rate.wei_to_token_ceil(gas.total_wei)
    net = gross_profit - flash_fee - gas_in_token
    net_wei = rate.token_to_wei_floor(net) if net >= 0 else -rate.token_to_wei_ceil(-net)
    return CostBreakdown(
        gross_profit=gross_profit,
        flash_fee=flash_fee,
        l2_gas_cost_wei=gas.l2_cost_wei,
        l1_gas_cost_wei=gas.l1_cost_wei,
        gas_cost_in_token=gas_in_token,
        net_profit=net,
        net_profit_wei=net_wei,
    )
