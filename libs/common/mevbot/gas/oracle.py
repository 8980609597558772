"""Read gas prices and the L1 component from the chain (adapter over a JSON-RPC client).

``GasOracle(rpc, fallback)`` works with any object offering ``call(method, *params)`` (for example
:class:`mevbot.chain.rpc.RpcClient`). It tries NodeInterface (0xC8) first, then ArbGasInfo (0x6C),
then the configured fallback; which source answers is probed once and remembered, since a chain
does not grow precompiles at run time. RPC errors become :class:`mevbot.errors.RpcError`.
"""

from __future__ import annotations

from typing import Any, Protocol

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils.crypto import keccak

from mevbot.errors import MevbotError
from mevbot.gas.l1 import (
    L1Fallback,
    L1Quote,
    l1_from_fallback,
    l1_from_gas_info_prices,
    l1_from_node_interface,
)

NODE_INTERFACE_ADDRESS = "0x00000000000000000000000000000000000000c8"
ARB_GAS_INFO_ADDRESS = "0x000000000000000000000000000000000000006c"
_GAS_ESTIMATE_COMPONENTS = keccak(text="gasEstimateComponents(address,bool,bytes)")[:4]
_GET_PRICES_IN_WEI = keccak(text="getPricesInWei()")[:4]


class JsonRpc(Protocol):
    def call(self, method: str, *params: Any) -> Any: ...


def encode_gas_estimate_components(to: str, calldata: bytes) -> bytes:
    return _GAS_ESTIMATE_COMPONENTS + abi_encode(["address", "bool", "bytes"], [to, False, calldata])


class GasOracle:
    def __init__(self, rpc: JsonRpc, fallback: L1Fallback | None = None) -> None:
        self.rpc = rpc
        self.fallback = fallback or L1Fallback()
        self.source: str | None = None  # decided by the first successful probe

    def base_fee_wei(self, block: str = "latest") -> int:
        head = self.rpc.call("eth_getBlockByNumber", block, False)
        return int(head.get("baseFeePerGas") or "0x0", 16)

    def l1_quote(self, sender: str, to: str, calldata: bytes, base_fee_wei: int) -> L1Quote:
        """The L1 component of sending ``calldata`` to ``to`` from ``sender``."""
        if self.source in (None, "node_interface"):
            quote = self._node_interface(sender, to, calldata)
            if quote is not None:
                self.source = "node_interface"
                return quote
        if self.source in (None, "arb_gas_info"):
            quote = self._arb_gas_info(len(calldata), base_fee_wei)
            if quote is not None:
                self.source = "arb_gas_info"
                return quote
        self.source = "fallback"
        return l1_from_fallback(self.fallback, len(calldata), base_fee_wei)

    # --- batching: the request of the known source, and its parser ------------------------------

    def request(self, sender: str, to: str, calldata: bytes) -> tuple[str, list[Any]] | None:
        """The JSON-RPC call that quotes L1 for ``calldata`` once the source is known (for a batch);
        None before the first probe or when the source is the configured fallback."""
        if self.source == "node_interface":
            data = encode_gas_estimate_components(to, calldata)
            return "eth_call", [{"from": sender, "to": NODE_INTERFACE_ADDRESS, "data": "0x" + data.hex()}, "latest"]
        if self.source == "arb_gas_info":
            return "eth_call", [{"to": ARB_GAS_INFO_ADDRESS, "data": "0x" + _GET_PRICES_IN_WEI.hex()}, "latest"]
        return None

    def parse(self, result: Any, calldata_bytes: int, base_fee_wei: int) -> L1Quote:
        """The quote from the result of :meth:`request` (its source must not have changed)."""
        raw = bytes.fromhex(str(result).removeprefix("0x"))
        if self.source == "node_interface" and len(raw) >= 128:
            _est, gas_for_l1, base_fee, _l1 = abi_decode(["uint64", "uint64", "uint256", "uint256"], raw)
            return l1_from_node_interface(gas_for_l1, base_fee)
        if self.source == "arb_gas_info" and len(raw) >= 192:
            prices = abi_decode(["uint256"] * 6, raw)
            return l1_from_gas_info_prices(prices[1], calldata_bytes, base_fee_wei, self.fallback.tx_overhead_bytes)
        return l1_from_fallback(self.fallback, calldata_bytes, base_fee_wei)

    def _eth_call(self, sender: str, to: str, data: bytes) -> bytes | None:
        try:
            out = self.rpc.call("eth_call", {"from": sender, "to": to, "data": "0x" + data.hex()}, "latest")
        except MevbotError:
            return None
        raw = bytes.fromhex(str(out).removeprefix("0x"))
        return raw or None

    def _node_interface(self, sender: str, to: str, calldata: bytes) -> L1Quote | None:
        raw = self._eth_call(sender, NODE_INTERFACE_ADDRESS, encode_gas_estimate_components(to, calldata))
        if raw is None or len(raw) < 128:
            return None
        _gas_estimate, gas_for_l1, base_fee, _l1_base_fee = abi_decode(["uint64", "uint64", "uint256", "uint256"], raw)
        return l1_from_node_interface(gas_for_l1, base_fee)

    def _arb_gas_info(self, calldata_bytes: int, base_fee_wei: int) -> L1Quote | None:
        raw = self._eth_call(NODE_INTERFACE_ADDRESS, ARB_GAS_INFO_ADDRESS, _GET_PRICES_IN_WEI)
        if raw is None or len(raw) < 192:
            return None
        prices = abi_decode(["uint256"] * 6, raw)
        return l1_from_gas_info_prices(prices[1], calldata_bytes, base_fee_wei, self.fallback.tx_overhead_bytes)
