// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

// Helpers for the adversarial review of MevbotArbExecutor (tests/integration/contracts/test_review_*.py).
// Never deploy outside tests.

interface IReviewERC20 {
    function balanceOf(address) external view returns (uint256);
}

interface IReviewReceiver {
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata data) external;
    function executeOperation(address asset, uint256 amount, uint256 premium, address initiator, bytes calldata params)
        external
        returns (bool);
    function pancakeV3FlashCallback(uint256 fee0, uint256 fee1, bytes calldata data) external;
}

library ReviewSafe {
    /// transfer that accepts tokens returning nothing (USDT-style) or true
    function transfer(address token, address to, uint256 amount) internal {
        (bool ok, bytes memory ret) = token.call(abi.encodeWithSelector(0xa9059cbb, to, amount));
        require(ok && (ret.length == 0 || abi.decode(ret, (bool))), "transfer");
    }

    function transferFrom(address token, address from, address to, uint256 amount) internal {
        (bool ok, bytes memory ret) = token.call(abi.encodeWithSelector(0x23b872dd, from, to, amount));
        require(ok && (ret.length == 0 || abi.decode(ret, (bool))), "transferFrom");
    }
}

/// @notice Re-entry attempts made from inside a hop (a pool's swap or a token's transfer hook).
/// Every attempt must FAIL; one that succeeds reverts the whole trade with ReentryAccepted(i).
/// The revert data of each failed attempt is kept so a test can check *why* it was refused.
abstract contract ReviewReenterer {
    error ReentryAccepted(uint256 index);

    address[] internal _targets;
    bytes[] internal _payloads;
    mapping(uint256 => bytes) public lastRevert;
    uint256 public attemptsMade;

    function addAttempt(address target, bytes calldata data) external {
        _targets.push(target);
        _payloads.push(data);
    }

    function _tryAll() internal {
        for (uint256 i = 0; i < _targets.length; ++i) {
            (bool ok, bytes memory ret) = _targets[i].call(_payloads[i]);
            if (ok) revert ReentryAccepted(i);
            lastRevert[i] = ret;
            attemptsMade += 1;
        }
    }
}

/// @notice V3-shaped pool at a fixed rate (exact input only; pays out first, then asks to be
/// paid in `uniswapV3SwapCallback` and checks it was, like the real pools). Fund it with both
/// tokens. Optional misbehaviour: re-entry attempts before asking to be paid, a second payment
/// request after the first (must be refused), or a request for the output token instead of the
/// input token.
contract ReviewPool is ReviewReenterer {
    address public immutable token0;
    address public immutable token1;
    uint256 public immutable rateNum; // token0 -> token1: out = in * rateNum / rateDen
    uint256 public immutable rateDen;
    bool public askTwice;
    bool public askWrongSide;

    constructor(address token0_, address token1_, uint256 rateNum_, uint256 rateDen_) {
        (token0, token1, rateNum, rateDen) = (token0_, token1_, rateNum_, rateDen_);
    }

    function setModes(bool askTwice_, bool askWrongSide_) external {
        (askTwice, askWrongSide) = (askTwice_, askWrongSide_);
    }

    function swap(address recipient, bool zeroForOne, int256 amountSpecified, uint160, bytes calldata data)
        external
        returns (int256 amount0, int256 amount1)
    {
        require(amountSpecified > 0, "exact input only");
        uint256 amountIn = uint256(amountSpecified);
        (address tokenIn, address tokenOut) = zeroForOne ? (token0, token1) : (token1, token0);
        uint256 amountOut = zeroForOne ? (amountIn * rateNum) / rateDen : (amountIn * rateDen) / rateNum;
        ReviewSafe.transfer(tokenOut, recipient, amountOut);
        (amount0, amount1) = zeroForOne
            ? (int256(amountIn), -int256(amountOut))
            : (-int256(amountOut), int256(amountIn));
        if (askWrongSide) (amount0, amount1) = (amount1, amount0); // "pay me in the token I sent you"
        _tryAll();
        uint256 balanceBefore = IReviewERC20(tokenIn).balanceOf(address(this));
        IReviewReceiver(msg.sender).uniswapV3SwapCallback(amount0, amount1, data);
        require(IReviewERC20(tokenIn).balanceOf(address(this)) >= balanceBefore + amountIn, "IIA");
        if (askTwice) {
            (bool ok, bytes memory ret) = msg.sender.call(
                abi.encodeCall(IReviewReceiver.uniswapV3SwapCallback, (amount0, amount1, data))
            );
            if (ok) revert ReentryAccepted(type(uint256).max);
            lastRevert[type(uint256).max] = ret;
            attemptsMade += 1;
        }
    }
}

/// @notice ERC20 whose every transfer (once armed) makes the re-entry attempts from the token's
/// own address, like an ERC777/ERC1363 hook or a malicious token would.
contract ReviewHookToken is ERC20, ReviewReenterer {
    bool public armed;

    constructor() ERC20("Hook", "HOOK") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(bool armed_) external {
        armed = armed_;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (armed && from != address(0) && to != address(0)) _tryAll();
    }
}

/// @notice USDT-style token: `transfer`, `transferFrom` and `approve` return nothing; with
/// `falseFor` set, a `transfer` by that sender returns false without moving anything (tokens
/// of both kinds exist).
contract ReviewNoReturnToken {
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;
    address public falseFor;
    uint8 public constant decimals = 6;

    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
    }

    function setFalseFor(address who) external {
        falseFor = who;
    }

    function transfer(address to, uint256 amount) external {
        if (msg.sender == falseFor) {
            assembly {
                mstore(0, 0)
                return(0, 32)
            }
        }
        balanceOf[msg.sender] -= amount;
        balanceOf[to] += amount;
    }

    function transferFrom(address from, address to, uint256 amount) external {
        allowance[from][msg.sender] -= amount;
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
    }

    function approve(address spender, uint256 amount) external {
        allowance[msg.sender][spender] = amount;
    }
}

/// @notice Aave-shaped lender (flashLoanSimple): really lends, calls executeOperation, pulls
/// amount + premium. `initiatorOverride` (when set) is passed as `initiator` instead of the real
/// caller: the shape of a flash loan someone else started with our contract as the receiver.
/// `tamper` flips the last byte of `params`; `shortBy` lends that much less than it reports.
contract ReviewAaveLikeLender {
    address public initiatorOverride;
    bool public tamper;
    uint256 public shortBy;
    uint256 public constant PREMIUM_BPS = 5;

    function setInitiatorOverride(address who) external {
        initiatorOverride = who;
    }

    function setMisbehaviour(bool tamper_, uint256 shortBy_) external {
        (tamper, shortBy) = (tamper_, shortBy_);
    }

    function flashLoanSimple(address receiver, address asset, uint256 amount, bytes calldata params, uint16)
        external
    {
        uint256 premium = (amount * PREMIUM_BPS + 5_000) / 10_000;
        ReviewSafe.transfer(asset, receiver, amount - shortBy);
        address initiator = initiatorOverride == address(0) ? msg.sender : initiatorOverride;
        bytes memory p = params;
        if (tamper) p[p.length - 1] = bytes1(uint8(p[p.length - 1]) ^ 1);
        require(IReviewReceiver(receiver).executeOperation(asset, amount, premium, initiator, p), "op");
        ReviewSafe.transferFrom(asset, receiver, address(this), amount + premium);
    }
}

/// @notice PancakeSwap V3-shaped lender: `flash` like a Uniswap V3 pool, but the callback is
/// `pancakeV3FlashCallback` (what PancakeV3Pool calls). Fee in pips, rounded up, like the pool.
contract ReviewPancakeFlashPool {
    address public immutable token0;
    address public immutable token1;
    uint24 public immutable fee;

    constructor(address token0_, address token1_, uint24 fee_) {
        (token0, token1, fee) = (token0_, token1_, fee_);
    }

    function flash(address recipient, uint256 amount0, uint256 amount1, bytes calldata data) external {
        uint256 fee0 = (amount0 * fee + 999_999) / 1_000_000;
        uint256 fee1 = (amount1 * fee + 999_999) / 1_000_000;
        uint256 b0 = IReviewERC20(token0).balanceOf(address(this));
        uint256 b1 = IReviewERC20(token1).balanceOf(address(this));
        if (amount0 > 0) ReviewSafe.transfer(token0, recipient, amount0);
        if (amount1 > 0) ReviewSafe.transfer(token1, recipient, amount1);
        IReviewReceiver(msg.sender).pancakeV3FlashCallback(fee0, fee1, data);
        require(IReviewERC20(token0).balanceOf(address(this)) >= b0 + fee0, "F0");
        require(IReviewERC20(token1).balanceOf(address(this)) >= b1 + fee1, "F1");
    }

    /// A stranger-started call of the callback (no flash in progress): must be refused.
    function attack(address victim, bytes calldata data) external {
        IReviewReceiver(victim).pancakeV3FlashCallback(0, 0, data);
    }
}
