"""Install stand-ins for Arbitrum precompiles on anvil (``anvil_setCode``), since anvil with chain id
42161 has none: ArbSys (0x64, ``arbBlockNumber``), ArbGasInfo (0x6c) and NodeInterface (0xc8).
Their behaviour is described in ``contracts/test/ArbitrumPrecompileStandIns.sol``."""

from __future__ import annotations

from mevbot.chain.artifacts import load_artifact
from mevbot.chain.rpc import RpcClient

ARBSYS = "0x0000000000000000000000000000000000000064"
ARB_GAS_INFO = "0x000000000000000000000000000000000000006C"
NODE_INTERFACE = "0x00000000000000000000000000000000000000C8"

STAND_INS = {
    ARBSYS: "ArbSysStandIn",
    ARB_GAS_INFO: "ArbGasInfoStandIn",
    NODE_INTERFACE: "NodeInterfaceStandIn",
}


def install_precompile_stand_ins(rpc: RpcClient) -> None:
    rpc.batch([("anvil_setCode", [a, load_artifact(n).deployed_bytecode]) for a, n in STAND_INS.items()])


def set_arbsys_block_offset(rpc: RpcClient, offset: int) -> None:
    """Make ``arbBlockNumber()`` return ``block.number + offset`` (slot 0 of the stand-in)."""
    rpc.call("anvil_setStorageAt", ARBSYS, "0x0", "0x" + (offset % 2**256).to_bytes(32, "big").hex())


def set_l1_base_fee(rpc: RpcClient, l1_base_fee_wei: int) -> None:
    """Set the L1 base fee the ArbGasInfo and NodeInterface stand-ins report (slot 0 of each);
    they start at 0, i.e. no L1 data fee, like a plain anvil."""
    word = "0x" + l1_base_fee_wei.to_bytes(32, "big").hex()
    rpc.batch([("anvil_setStorageAt", [a, "0x0", word]) for a in (ARB_GAS_INFO, NODE_INTERFACE)])
