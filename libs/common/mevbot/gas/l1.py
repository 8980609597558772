"""Arbitrum's L1 data component of a transaction's cost (pure).

On Arbitrum a transaction pays ``gasUsed * effectiveGasPrice`` where ``gasUsed`` already includes
the L1 data component expressed as extra L2 gas units ("poster" gas): the sequencer charges
``L1 price per byte * bytes posted`` and divides it by the L2 base fee. Three sources, best first:

1. NodeInterface ``gasEstimateComponents(to, false, data)`` at 0xC8 (virtual, RPC only): returns
   ``gasEstimateForL1`` (L2 gas units) and the ``baseFee`` it priced them at, so
   ``l1_cost_wei = gasEstimateForL1 * baseFee``.
2. ArbGasInfo ``getPricesInWei()`` at 0x6C: element 1 is the price of one L1 calldata byte in wei
   (``16 * L1 base fee estimate``), so ``l1_cost_wei = bytes * perL1CalldataByte``.
3. Configured fallback (chains without the precompiles, e.g. anvil): a price per byte in wei.

The byte count of 2./3. is the transaction's calldata plus a fixed per-transaction overhead
(signature, nonce, fee fields, addresses: the rest of the signed envelope that is posted too).
Every figure is an integer; the conversion into L2 gas units rounds up (never under-charge).
"""

from __future__ import annotations

from dataclasses import dataclass

#: bytes of a signed EIP-1559 transaction besides its calldata (type, chain id, nonce, fees, gas,
#: to, value, access list, y/r/s): about 110-120 bytes RLP; 140 keeps a margin.
DEFAULT_TX_OVERHEAD_BYTES = 140
#: fallback L1 price per posted byte: 16 * 1 gwei (an L1 base fee of 1 gwei, post-EIP-4844 levels)
DEFAULT_FALLBACK_WEI_PER_BYTE = 16 * 10**9


@dataclass(frozen=True)
class L1Fallback:
    """Configured L1 pricing for chains without the Arbitrum precompiles."""

    wei_per_byte: int = DEFAULT_FALLBACK_WEI_PER_BYTE
    tx_overhead_bytes: int = DEFAULT_TX_OVERHEAD_BYTES


@dataclass(frozen=True)
class L1Quote:
    """The L1 data component of one transaction."""

    l1_cost_wei: int
    l1_gas_units: int  # the same cost as L2 gas units at ``base_fee_wei`` (in the gas limit); 0 for fallback
    base_fee_wei: int
    source: str  # "node_interface" | "arb_gas_info" | "fallback"


def _ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


def _units(cost_wei: int, base_fee_wei: int) -> int:
    return _ceil_div(cost_wei, base_fee_wei) if base_fee_wei > 0 else 0


def l1_from_node_interface(gas_estimate_for_l1: int, base_fee_wei: int) -> L1Quote:
    """From NodeInterface.gasEstimateComponents: ``(gasEstimate, gasEstimateForL1, baseFee, l1BaseFeeEstimate)``."""
    return L1Quote(gas_estimate_for_l1 * base_fee_wei, gas_estimate_for_l1, base_fee_wei, "node_interface")


def l1_from_gas_info_prices(
    per_l1_calldata_byte_wei: int, calldata_bytes: int, base_fee_wei: int,
    tx_overhead_bytes: int = DEFAULT_TX_OVERHEAD_BYTES,
) -> L1Quote:
    """From ArbGasInfo.getPricesInWei()[1] (wei per posted byte)."""
    cost = per_l1_calldata_byte_wei * (calldata_bytes + tx_overhead_bytes)
    return L1Quote(cost, _units(cost, base_fee_wei), base_fee_wei, "arb_gas_info")


def l1_from_fallback(fallback: L1Fallback, calldata_bytes: int, base_fee_wei: int) -> L1Quote:
    """A cost only: a chain without the precompiles does not charge L1 units as gas, so none are
    added to the gas limit (on anvil they would exceed the block gas limit at a few-wei base fee)."""
    cost = fallback.wei_per_byte * (calldata_bytes + fallback.tx_overhead_bytes)
    return L1Quote(cost, 0, base_fee_wei, "fallback")
