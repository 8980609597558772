"""Gas and Arbitrum L1 data cost model, shared by the validator and the executor.

* :mod:`mevbot.gas.model` (pure): what a transaction costs in wei, the EIP-1559 fee bid and the
  gas limit, from L2 gas units, the L1 component, the base fee and the priority bid.
* :mod:`mevbot.gas.l1` (pure): the L1 data component from NodeInterface ``gasEstimateComponents``
  (0xC8), from ArbGasInfo ``getPricesInWei`` (0x6C), or from configured fallback prices.
* :mod:`mevbot.gas.oracle` (adapter): reads those precompiles and the base fee over JSON-RPC,
  falling back to configuration on chains without them (anvil).
"""

from mevbot.gas.l1 import (
    L1Fallback,
    L1Quote,
    l1_from_fallback,
    l1_from_gas_info_prices,
    l1_from_node_interface,
)
from mevbot.gas.model import FeeBid, GasCost, fee_bid, gas_cost, gas_limit_with_margin, priority_fee_for_share

__all__ = [
    "FeeBid",
    "GasCost",
    "L1Fallback",
    "L1Quote",
    "fee_bid",
    "gas_cost",
    "gas_limit_with_margin",
    "l1_from_fallback",
    "l1_from_gas_info_prices",
    "l1_from_node_interface",
    "priority_fee_for_share",
]
