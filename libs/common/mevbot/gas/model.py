"""What a transaction costs, its EIP-1559 fee bid and gas limit (pure, integer wei).

Cost model (all integers, nothing rounded to a guess):

* L2 execution: ``l2_gas_units * (base_fee + priority_fee)``: the priority bid is charged on every
  unit. (Arbitrum's sequencer ignores tips, so there this is an upper bound; on an L1-style node
  such as anvil it is exact when ``max_fee >= base_fee + priority_fee``.)
* L1 data: the :class:`mevbot.gas.l1.L1Quote` cost in wei (on Arbitrum it appears as extra gas
  units at the base fee; the tip is not charged on them by Arbitrum, but the units are in ``gasUsed``
  so a tip would be: they are charged the priority fee too, again an upper bound).

Fee bid: ``max_fee_per_gas = base_fee * base_fee_multiplier + priority``, so the transaction
survives base-fee rises for a few blocks; the sender pays only the base fee actually in force.
Gas limit: (L2 units + L1 units) plus a margin in basis points, rounded up.
"""

from __future__ import annotations

from dataclasses import dataclass

from mevbot.gas.l1 import L1Quote

BPS = 10_000


@dataclass(frozen=True)
class FeeBid:
    max_fee_per_gas_wei: int
    max_priority_fee_per_gas_wei: int


@dataclass(frozen=True)
class GasCost:
    l2_gas_units: int
    l1_gas_units: int
    base_fee_wei: int
    priority_fee_wei: int
    l2_cost_wei: int
    l1_cost_wei: int

    @property
    def total_wei(self) -> int:
        return self.l2_cost_wei + self.l1_cost_wei

    @property
    def total_gas_units(self) -> int:
        return self.l2_gas_units + self.l1_gas_units


def gas_cost(l2_gas_units: int, l1: L1Quote, base_fee_wei: int, priority_fee_wei: int) -> GasCost:
    """Exact cost in wei of a transaction using ``l2_gas_units`` plus the L1 component ``l1``."""
    if l2_gas_units < 0 or base_fee_wei < 0 or priority_fee_wei < 0:
        raise ValueError("gas units and fees must be >= 0")
    l2_cost = l2_gas_units * (base_fee_wei + priority_fee_wei)
    l1_cost = l1.l1_cost_wei + l1.l1_gas_units * priority_fee_wei
    return GasCost(l2_gas_units, l1.l1_gas_units, base_fee_wei, priority_fee_wei, l2_cost, l1_cost)


def fee_bid(base_fee_wei: int, priority_fee_wei: int, base_fee_multiplier: int = 2) -> FeeBid:
    return FeeBid(base_fee_wei * base_fee_multiplier + priority_fee_wei, priority_fee_wei)


def gas_limit_with_margin(gas_units: int, margin_bps: int) -> int:
    return -((-gas_units * (BPS + margin_bps)) // BPS)


def priority_fee_for_share(profit_before_tip_wei: int, share_bps: int, gas_units: int,
                           floor_wei: int = 0, cap_wei: int | None = None) -> int:
    """Priority fee per gas that spends ``share_bps`` of the profit on the tip (rounded down)."""
    if gas_units <= 0 or profit_before_tip_wei <= 0 or share_bps <= 0:
        tip = floor_wei
    else:
        tip = max(floor_wei, profit_before_tip_wei * share_bps // BPS // gas_units)
    return tip if cap_wei is None else min(tip, cap_wei)
