// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

interface IERC20Min {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function allowance(address owner, address spender) external view returns (uint256);
}

interface IV3PoolMin {
    function token0() external view returns (address);
    function token1() external view returns (address);
    function mint(address recipient, int24 tickLower, int24 tickUpper, uint128 amount, bytes calldata data)
        external
        returns (uint256 amount0, uint256 amount1);
    function burn(int24 tickLower, int24 tickUpper, uint128 amount) external returns (uint256 amount0, uint256 amount1);
    function collect(address recipient, int24 tickLower, int24 tickUpper, uint128 amount0Requested, uint128 amount1Requested)
        external
        returns (uint128 amount0, uint128 amount1);
    function swap(address recipient, bool zeroForOne, int256 amountSpecified, uint160 sqrtPriceLimitX96, bytes calldata data)
        external
        returns (int256 amount0, int256 amount1);
}

/// @notice Test helper that owns Uniswap V3 positions and swaps through V3 pools with exact
/// amounts, so tests and the devnet can shape a pool precisely. It pays the pool in the mint/swap
/// callback from the caller's allowance when that covers the amount, else from its own balance.
/// Positions belong to this contract (one shared owner); `burn` + `collect` give tokens to `recipient`.
contract PoolActor {
    uint160 internal constant MIN_SQRT_RATIO = 4295128739;
    uint160 internal constant MAX_SQRT_RATIO = 1461446703485210103287273052203988822378723970342;

    // the pool we are currently calling and who pays; zero outside a call, so a stray callback fails
    address private _pool;
    address private _payer;

    error UnexpectedCallback(address caller);

    function mint(address pool, int24 tickLower, int24 tickUpper, uint128 liquidity)
        external
        returns (uint256 amount0, uint256 amount1)
    {
        _pool = pool;
        _payer = msg.sender;
        (amount0, amount1) = IV3PoolMin(pool).mint(address(this), tickLower, tickUpper, liquidity, "");
        _pool = address(0);
    }

    function burn(address pool, int24 tickLower, int24 tickUpper, uint128 liquidity, address recipient)
        external
        returns (uint256 amount0, uint256 amount1)
    {
        IV3PoolMin(pool).burn(tickLower, tickUpper, liquidity);
        (uint128 c0, uint128 c1) =
            IV3PoolMin(pool).collect(recipient, tickLower, tickUpper, type(uint128).max, type(uint128).max);
        (amount0, amount1) = (c0, c1);
    }

    /// @param amountSpecified > 0 exact input, < 0 exact output (Uniswap V3 convention)
    /// @param sqrtPriceLimitX96 0 means "no limit"
    function swap(address pool, bool zeroForOne, int256 amountSpecified, uint160 sqrtPriceLimitX96, address recipient)
        external
        returns (int256 amount0, int256 amount1)
    {
        if (sqrtPriceLimitX96 == 0) {
            sqrtPriceLimitX96 = zeroForOne ? MIN_SQRT_RATIO + 1 : MAX_SQRT_RATIO - 1;
        }
        _pool = pool;
        _payer = msg.sender;
        (amount0, amount1) = IV3PoolMin(pool).swap(recipient, zeroForOne, amountSpecified, sqrtPriceLimitX96, "");
        _pool = address(0);
    }

    function uniswapV3MintCallback(uint256 amount0Owed, uint256 amount1Owed, bytes calldata) external {
        _pay(amount0Owed, amount1Owed);
    }

    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata) external {
        _pay(amount0Delta > 0 ? uint256(amount0Delta) : 0, amount1Delta > 0 ? uint256(amount1Delta) : 0);
    }

    function algebraSwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata) external {
        _pay(amount0Delta > 0 ? uint256(amount0Delta) : 0, amount1Delta > 0 ? uint256(amount1Delta) : 0);
    }

    function _pay(uint256 amount0, uint256 amount1) private {
        if (msg.sender != _pool || _pool == address(0)) revert UnexpectedCallback(msg.sender);
        if (amount0 > 0) _payToken(IV3PoolMin(msg.sender).token0(), amount0);
        if (amount1 > 0) _payToken(IV3PoolMin(msg.sender).token1(), amount1);
    }

    function _payToken(address token, uint256 amount) private {
        if (_payer != address(0) && IERC20Min(token).allowance(_payer, address(this)) >= amount) {
            require(IERC20Min(token).transferFrom(_payer, msg.sender, amount), "transferFrom");
        } else {
            require(IERC20Min(token).transfer(msg.sender, amount), "transfer");
        }
    }
}
