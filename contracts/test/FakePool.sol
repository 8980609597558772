// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

interface ISwapCallbacks {
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata data) external;
    function algebraSwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata data) external;
}

/// @notice Attack helper: calls a victim's V3/Algebra swap callback directly, claiming to be a pool
/// that is owed tokens. A correct victim rejects it (wrong caller, no swap in progress).
contract FakePool {
    address public token0;
    address public token1;

    constructor(address token0_, address token1_) {
        token0 = token0_;
        token1 = token1_;
    }

    function attackUniswap(address victim, int256 amount0Delta, int256 amount1Delta, bytes calldata data) external {
        ISwapCallbacks(victim).uniswapV3SwapCallback(amount0Delta, amount1Delta, data);
    }

    function attackAlgebra(address victim, int256 amount0Delta, int256 amount1Delta, bytes calldata data) external {
        ISwapCallbacks(victim).algebraSwapCallback(amount0Delta, amount1Delta, data);
    }

    /// Pretends to be a V3 pool in a plan: when the victim calls swap, demand `demand` of token0/1
    /// via the callback and pay nothing back.
    uint256 public demand;

    function setDemand(uint256 demand_) external {
        demand = demand_;
    }

    function swap(address, bool zeroForOne, int256, uint160, bytes calldata data)
        external
        returns (int256 amount0, int256 amount1)
    {
        (amount0, amount1) = zeroForOne ? (int256(demand), int256(0)) : (int256(0), int256(demand));
        ISwapCallbacks(msg.sender).uniswapV3SwapCallback(amount0, amount1, data);
    }
}
