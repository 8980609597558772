"""EIP-1559 fee bid and gas limit of an arbitrage transaction (pure, integer wei).

* Priority fee per gas = ``priority_share_bps`` of the plan's expected net profit (in wei),
  spread over the gas the transaction is expected to use, clamped to
  ``[min_priority_fee_wei, max_priority_fee_wei]``. (Arbitrum's sequencer is first-come and ignores
  tips; the bid matters on chains that order by tip and costs ~nothing on Arbitrum.)
* Max fee per gas = ``base_fee * base_fee_multiplier + priority`` (survives base-fee rises for a
  few blocks; only the base fee in force is paid), refused above ``max_fee_per_gas_cap_wei``.
* Gas limit = simulated gas (on Arbitrum ``eth_estimateGas`` already includes the L1 data part as
  extra gas units) plus ``gas_margin_bps``, rounded up.
* Money safety: the expected gas bill at the bid must stay below the expected gross profit.
"""

from __future__ import annotations

from dataclasses import dataclass

from mevbot.errors import SafetyError

BPS = 10_000


@dataclass(frozen=True)
class FeePolicy:
    priority_share_bps: int = 1_000  # 10 % of expected net profit
    min_priority_fee_wei: int = 0
    max_priority_fee_wei: int = 2 * 10**9
    base_fee_multiplier: int = 2
    max_fee_per_gas_cap_wei: int = 100 * 10**9
    gas_margin_bps: int = 2_000  # +20 %


@dataclass(frozen=True)
class TxFees:
    gas_limit: int
    max_fee_per_gas_wei: int
    max_priority_fee_per_gas_wei: int

    @property
    def worst_case_cost_wei(self) -> int:
        return self.gas_limit * self.max_fee_per_gas_wei


def gas_limit_with_margin(simulated_gas: int, margin_bps: int) -> int:
    if simulated_gas <= 0:
        raise SafetyError(f"simulated gas {simulated_gas} is not positive")
    return -((-simulated_gas * (BPS + margin_bps)) // BPS)


def priority_fee_per_gas(expected_net_profit_wei: int, expected_gas_units: int, policy: FeePolicy) -> int:
    if expected_gas_units <= 0:
        raise SafetyError(f"expected gas {expected_gas_units} is not positive")
    bid = max(expected_net_profit_wei, 0) * policy.priority_share_bps // BPS // expected_gas_units
    return min(max(bid, policy.min_priority_fee_wei), policy.max_priority_fee_wei)


def fee_bid(
    *,
    base_fee_wei: int,
    expected_net_profit_wei: int,
    expected_gross_profit_wei: int,
    expected_gas_units: int,
    gas_limit: int,
    policy: FeePolicy,
) -> TxFees:
    """The fee fields of the transaction; raises :class:`SafetyError` when the bid cannot pay off."""
    if base_fee_wei < 0:
        raise SafetyError(f"negative base fee {base_fee_wei}")
    priority = priority_fee_per_gas(expected_net_profit_wei, expected_gas_units, policy)
    max_fee = base_fee_wei * policy.base_fee_multiplier + priority
    if max_fee > policy.max_fee_per_gas_cap_wei:
        if base_fee_wei + priority > policy.max_fee_per_gas_cap_wei:
            raise SafetyError(
                f"base fee {base_fee_wei} + priority {priority} exceeds the cap {policy.max_fee_per_gas_cap_wei} wei"
            )
        max_fee = policy.max_fee_per_gas_cap_wei
    expected_bill = expected_gas_units * (base_fee_wei + priority)
    if expected_gross_profit_wei > 0 and expected_bill >= expected_gross_profit_wei:
        raise SafetyError(f"expected gas bill {expected_bill} wei >= expected gross profit {expected_gross_profit_wei} wei")
    return TxFees(gas_limit, max_fee, priority)
