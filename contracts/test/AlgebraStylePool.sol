// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

interface IERC20Bal {
    function balanceOf(address) external view returns (uint256);
    function transfer(address to, uint256 amount) external returns (bool);
}

interface IAlgebraSwapCallback {
    function algebraSwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata data) external;
}

/// @notice Test pool with Algebra's swap interface and callback (Camelot V3 calls
/// `algebraSwapCallback`, not `uniswapV3SwapCallback`) at a fixed exchange rate: exact input
/// only; sends the output first, then asks to be paid in the callback and checks it was, like
/// the real pools. Fund it with both tokens.
contract AlgebraStylePool {
    address public immutable token0;
    address public immutable token1;
    // output = input * rateNum / rateDen, for token0 -> token1 (the inverse for token1 -> token0)
    uint256 public immutable rateNum;
    uint256 public immutable rateDen;

    constructor(address token0_, address token1_, uint256 rateNum_, uint256 rateDen_) {
        require(token0_ < token1_, "order");
        (token0, token1, rateNum, rateDen) = (token0_, token1_, rateNum_, rateDen_);
    }

    function swap(address recipient, bool zeroToOne, int256 amountRequired, uint160, bytes calldata data)
        external
        returns (int256 amount0, int256 amount1)
    {
        require(amountRequired > 0, "exact input only");
        uint256 amountIn = uint256(amountRequired);
        (address tokenIn, address tokenOut) = zeroToOne ? (token0, token1) : (token1, token0);
        uint256 amountOut = zeroToOne ? (amountIn * rateNum) / rateDen : (amountIn * rateDen) / rateNum;
        require(IERC20Bal(tokenOut).transfer(recipient, amountOut), "out");
        (amount0, amount1) = zeroToOne
            ? (int256(amountIn), -int256(amountOut))
            : (-int256(amountOut), int256(amountIn));
        uint256 balanceBefore = IERC20Bal(tokenIn).balanceOf(address(this));
        IAlgebraSwapCallback(msg.sender).algebraSwapCallback(amount0, amount1, data);
        require(IERC20Bal(tokenIn).balanceOf(address(this)) >= balanceBefore + amountIn, "IIA");
    }
}
