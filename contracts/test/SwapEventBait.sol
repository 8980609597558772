// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice Emits logs shaped exactly like Uniswap V2 Swap/Sync and V3 Swap without being a pool.
/// Ingest and pool detection must refuse to treat it as a pool (attack/poisoning tests).
contract SwapEventBait {
    // same signatures (hence topic0) as UniswapV2Pair and UniswapV3Pool
    event Swap(
        address indexed sender, uint256 amount0In, uint256 amount1In, uint256 amount0Out, uint256 amount1Out, address indexed to
    );
    event Sync(uint112 reserve0, uint112 reserve1);
    event Swap(
        address indexed sender,
        address indexed recipient,
        int256 amount0,
        int256 amount1,
        uint160 sqrtPriceX96,
        uint128 liquidity,
        int24 tick
    );

    // optional impersonation: answer token0/token1/factory like a pool would
    address public token0;
    address public token1;
    address public factory;

    function setIdentity(address token0_, address token1_, address factory_) external {
        token0 = token0_;
        token1 = token1_;
        factory = factory_;
    }

    function emitV2(uint256 a0In, uint256 a1In, uint256 a0Out, uint256 a1Out, uint112 r0, uint112 r1) external {
        emit Sync(r0, r1);
        emit Swap(msg.sender, a0In, a1In, a0Out, a1Out, msg.sender);
    }

    function emitV3(int256 amount0, int256 amount1, uint160 sqrtPriceX96, uint128 liquidity, int24 tick) external {
        emit Swap(msg.sender, msg.sender, amount0, amount1, sqrtPriceX96, liquidity, tick);
    }
}
