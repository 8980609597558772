"""The L1 component from each source on anvil: NodeInterface (0xC8), ArbGasInfo (0x6C) and the
configured fallback when the chain has neither (stand-ins removed with anvil_setCode)."""

from __future__ import annotations

import pytest
from mevbot.chain.deployment import Deployment
from mevbot.chain.precompiles import ARB_GAS_INFO, NODE_INTERFACE, install_precompile_stand_ins
from mevbot.chain.rpc import RpcClient
from mevbot.gas.l1 import L1Fallback
from mevbot.gas.oracle import GasOracle

pytestmark = pytest.mark.integration

SENDER = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
TO = "0x" + "12" * 20
CALLDATA = bytes(range(1, 154))  # 153 bytes, the size of a 2-hop plan


def _set_slot0(rpc: RpcClient, address: str, value: int) -> None:
    rpc.call("anvil_setStorageAt", address, "0x0", "0x" + value.to_bytes(32, "big").hex())


def test_l1_sources_in_order(rpc: RpcClient, market: Deployment) -> None:
    try:
        base_fee = 10**7
        fallback = L1Fallback(wei_per_byte=7 * 10**9, tx_overhead_bytes=140)
        _set_slot0(rpc, NODE_INTERFACE, 3 * 10**8)
        _set_slot0(rpc, ARB_GAS_INFO, 2 * 10**8)

        oracle = GasOracle(rpc, fallback)
        q = oracle.l1_quote(SENDER, TO, CALLDATA, base_fee)
        chain_base_fee = q.base_fee_wei  # what NodeInterface priced the units at (the block's base fee)
        assert q.source == "node_interface"
        assert q.l1_gas_units == len(CALLDATA) * 16 * 3 * 10**8 // max(chain_base_fee, 1)
        assert q.l1_cost_wei == q.l1_gas_units * chain_base_fee
        method, params = oracle.request(SENDER, TO, CALLDATA)  # the batched form gives the same quote
        assert oracle.parse(rpc.call(method, *params), len(CALLDATA), base_fee) == q

        rpc.call("anvil_setCode", NODE_INTERFACE, "0x")  # a chain without NodeInterface
        oracle = GasOracle(rpc, fallback)
        q = oracle.l1_quote(SENDER, TO, CALLDATA, base_fee)
        assert q.source == "arb_gas_info"
        assert q.l1_cost_wei == 16 * 2 * 10**8 * (len(CALLDATA) + 140)
        assert q.l1_gas_units == -(-q.l1_cost_wei // base_fee)

        rpc.call("anvil_setCode", ARB_GAS_INFO, "0x")  # plain anvil: neither precompile
        oracle = GasOracle(rpc, fallback)
        q = oracle.l1_quote(SENDER, TO, CALLDATA, base_fee)
        assert (q.source, q.l1_cost_wei, q.l1_gas_units) == ("fallback", 7 * 10**9 * (len(CALLDATA) + 140), 0)
        assert oracle.request(SENDER, TO, CALLDATA) is None
    finally:
        install_precompile_stand_ins(rpc)  # code back; the storage is reverted by the market fixture
