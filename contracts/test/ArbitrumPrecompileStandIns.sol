// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

// Minimal stand-ins for Arbitrum precompiles, installed on anvil with `anvil_setCode` at their
// fixed addresses (ArbSys 0x64, ArbGasInfo 0x6c, NodeInterface 0xc8). No constructor logic: the
// runtime code is copied, so every setting lives in storage and defaults to "behave like L1".

/// @notice ArbSys (0x64). arbBlockNumber() is the L2 block number on Arbitrum; here it is
/// block.number plus a settable offset, so tests can move the "Arbitrum" block independently.
contract ArbSysStandIn {
    int256 public blockOffset; // slot 0

    function setBlockOffset(int256 offset) external {
        blockOffset = offset;
    }

    function arbBlockNumber() external view returns (uint256) {
        return uint256(int256(block.number) + blockOffset);
    }

    function arbChainID() external view returns (uint256) {
        return block.chainid;
    }
}

/// @notice ArbGasInfo (0x6c): price figures read from storage (settable), defaulting to the base fee.
contract ArbGasInfoStandIn {
    uint256 public l1BaseFeeWei; // slot 0
    uint256 public perL1CalldataByteWei; // slot 1 (0 => 16 * l1BaseFee)

    function setL1BaseFee(uint256 wei_) external {
        l1BaseFeeWei = wei_;
    }

    function getL1BaseFeeEstimate() external view returns (uint256) {
        return l1BaseFeeWei;
    }

    /// (perL2Tx, perL1CalldataByte, perStorageAllocation, perArbGasBase, perArbGasCongestion, perArbGasTotal)
    function getPricesInWei() external view returns (uint256, uint256, uint256, uint256, uint256, uint256) {
        uint256 perByte = perL1CalldataByteWei == 0 ? 16 * l1BaseFeeWei : perL1CalldataByteWei;
        return (0, perByte, 0, block.basefee, 0, block.basefee);
    }
}

/// @notice NodeInterface (0xc8). gasEstimateComponents returns the L1 part as extra L2 gas units the
/// way Arbitrum does (bytes * 16 * l1BaseFee / l2BaseFee); the L2 part is left 0 (use eth_estimateGas).
contract NodeInterfaceStandIn {
    uint256 public l1BaseFeeWei; // slot 0

    function setL1BaseFee(uint256 wei_) external {
        l1BaseFeeWei = wei_;
    }

    function gasEstimateComponents(address, bool, bytes calldata data)
        external
        view
        returns (uint64 gasEstimate, uint64 gasEstimateForL1, uint256 baseFee, uint256 l1BaseFeeEstimate)
    {
        baseFee = block.basefee == 0 ? 1 : block.basefee;
        l1BaseFeeEstimate = l1BaseFeeWei;
        gasEstimateForL1 = uint64((data.length * 16 * l1BaseFeeWei) / baseFee);
        gasEstimate = gasEstimateForL1;
    }
}
