// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/*
 * MevbotArbExecutor: flash-borrow one token, run it through 2-4 pools and back, repay, keep the
 * profit - or revert. Safety first, compact calldata second (Arbitrum bills the L1 data fee per
 * byte, so a trade is one packed byte string sent to `fallback`, not ABI-encoded arguments).
 *
 * Packed plan (big-endian, no padding):
 *   [0]      version, must be 0x00 (no function selector of this contract starts with 0x00, so a
 *            plan can never be mistaken for a function call; a unit test checks this)
 *   [1]      flags: bits 0-1 lender kind (0 Balancer V2 Vault, 1 Aave V3 Pool, 2 Uniswap V3 pool
 *            `flash`), bit 2 dry run (always revert with DryRunResult), bits 4-6 hop count (2..4)
 *   [2:22]   lender address
 *   [22:42]  token borrowed (also the token the profit is measured in)
 *   [42:58]  amount borrowed, uint128
 *   [58:74]  minimum profit, uint128 (after repaying loan + fee)
 *   [74:79]  deadline, uint40: last block (ArbSys.arbBlockNumber on Arbitrum) the plan may run in
 *   hops, each 37 bytes (40 for kind 1):
 *     [0:20]  pool
 *     [20]    bit 0 zeroForOne (token0 in), bits 1-3 kind: 0 V2 pair, exact amount out given;
 *             1 V2 pair, amount out computed here from reserves with the fee given; 2 V3/Algebra pool
 *     [21:37] uint128: kind 0 the exact amount out requested (the pair's K check guards it);
 *             kinds 1 and 2 the minimum amount out
 *     [37:40] kind 1 only: fee in pips (1e-6), uint24, e.g. 3000 for Uniswap V2
 *
 * Guards: only the owner or an allowed key starts a trade; callbacks are accepted only from the
 * lender / the pool of the hop in progress, while this contract's own trade is in progress
 * (transient state), and only with the plan this contract sent (hash check); every hop spends
 * only what the previous hop actually delivered (balance deltas, so fee-on-transfer tokens fail
 * safe and the contract's own inventory is never spent); the cycle must close on the borrowed
 * token; final balance >= initial balance + loan + fee + minProfit, else InsufficientProfit.
 */

interface IERC20Like {
    function balanceOf(address account) external view returns (uint256);
}

interface IBalancerVault {
    function flashLoan(address recipient, address[] memory tokens, uint256[] memory amounts, bytes memory userData)
        external;
}

interface IAavePoolSimple {
    function flashLoanSimple(address receiver, address asset, uint256 amount, bytes calldata params, uint16 referral)
        external;
}

interface IPoolTokens {
    function token0() external view returns (address);
    function token1() external view returns (address);
}

interface IUniswapV3Like {
    function flash(address recipient, uint256 amount0, uint256 amount1, bytes calldata data) external;
    function swap(address recipient, bool zeroForOne, int256 amountSpecified, uint160 sqrtPriceLimitX96, bytes calldata data)
        external
        returns (int256 amount0, int256 amount1);
}

interface IUniswapV2Like {
    function getReserves() external view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast);
    function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes calldata data) external;
}

contract MevbotArbExecutor {
    // --- plan layout -----------------------------------------------------------------------------
    uint256 private constant HEADER_LEN = 79;
    uint256 private constant HOP_LEN = 37;
    uint256 private constant HOP_FEE_LEN = 3;
    uint256 private constant LENDER_BALANCER = 0;
    uint256 private constant LENDER_AAVE = 1;
    uint256 private constant LENDER_UNIV3 = 2;
    uint256 private constant KIND_V2_EXACT = 0;
    uint256 private constant KIND_V2_FEE = 1;
    uint256 private constant KIND_V3 = 2;
    uint256 private constant MIN_HOPS = 2;
    uint256 private constant MAX_HOPS = 4;

    uint160 private constant MIN_SQRT_RATIO_PLUS_ONE = 4295128740;
    uint160 private constant MAX_SQRT_RATIO_MINUS_ONE = 1461446703485210103287273052203988822378723970341;
    address private constant ARBSYS = address(0x64);
    // transient slots for per-hop outputs (returned to eth_call simulations); far from Solidity's layout
    uint256 private constant HOP_OUT_SLOT = uint256(keccak256("mevbot.arb.hopOut"));

    // --- trade state (transient: cleared at the end of every transaction) -------------------------
    uint8 private constant IDLE = 0;
    uint8 private constant AWAIT_LOAN = 1;
    uint8 private constant RUNNING = 2;
    uint8 private constant DONE = 3;

    uint8 private transient _stage;
    address private transient _lender;
    bytes32 private transient _planHash;
    uint256 private transient _balanceBefore;
    uint256 private transient _profit;
    address private transient _swapPool; // pool of the V3 hop in progress, zero otherwise
    address private transient _swapTokenIn;
    uint256 private transient _swapMaxIn;
    bool private transient _swapZeroForOne;
    bool private transient _flashToken0;

    // --- permissions ------------------------------------------------------------------------------
    address public immutable owner;
    mapping(address => bool) public allowed;

    event AllowedSet(address indexed account, bool allowed);
    event Arbitrage(address indexed token, uint256 amountIn, uint256 profit);

    error NotOwner(address caller);
    error NotAllowed(address caller);
    error TradeInProgress();
    error MalformedPlan(uint256 length);
    error DeadlinePassed(uint256 currentBlock, uint256 deadlineBlock);
    error ArbBlockNumberUnavailable();
    error UnexpectedCallback(address caller);
    error PlanMismatch();
    error LoanMismatch(address token, uint256 amount);
    error LoanNotReceived();
    error HopTokenMismatch(uint256 hop, address expectedTokenIn, address poolTokenIn);
    error HopOutputTooLow(uint256 hop, uint256 amountOut, uint256 minAmountOut);
    error SwapPaymentInvalid(int256 requested, uint256 maxAmountIn);
    error CycleNotClosed(address endToken);
    error InsufficientProfit(uint256 shortfall);
    error DryRunResult(int256 profit, uint256[] hopAmountsOut);
    error TransferFailed(address token, address to, uint256 amount);

    constructor(address owner_) {
        owner = owner_;
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    // --- admin ------------------------------------------------------------------------------------

    function setAllowed(address account, bool isAllowed) external onlyOwner {
        allowed[account] = isAllowed;
        emit AllowedSet(account, isAllowed);
    }

    function withdrawToken(address token, address to, uint256 amount) external onlyOwner {
        _transfer(token, to, amount);
    }

    function withdrawEth(address payable to, uint256 amount) external onlyOwner {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(address(0), to, amount);
    }

    receive() external payable {}

    // --- entry ------------------------------------------------------------------------------------

    /// @notice Runs a packed plan (see the header comment). Returns abi.encode(profit, hopAmountsOut)
    /// so an eth_call shows the exact figures.
    fallback(bytes calldata plan) external returns (bytes memory) {
        if (msg.sender != owner && !allowed[msg.sender]) revert NotAllowed(msg.sender);
        if (_stage != IDLE) revert TradeInProgress();
        uint256 nHops = _checkShape(plan);
        uint256 deadline = uint40(bytes5(plan[74:79]));
        uint256 current = _blockNumber();
        if (current > deadline) revert DeadlinePassed(current, deadline);

        address token = address(bytes20(plan[22:42]));
        uint256 amount = uint128(bytes16(plan[42:58]));
        _stage = AWAIT_LOAN;
        _lender = address(bytes20(plan[2:22]));
        _planHash = keccak256(plan);
        _balanceBefore = IERC20Like(token).balanceOf(address(this));
        _borrow(plan, token, amount);
        if (_stage != DONE) revert LoanNotReceived();

        uint256 profit = _profit;
        uint256[] memory outs = _hopOutputs(nHops);
        _stage = IDLE;
        _lender = address(0);
        _planHash = bytes32(0);
        emit Arbitrage(token, amount, profit);
        return abi.encode(profit, outs);
    }

    function _borrow(bytes calldata plan, address token, uint256 amount) private {
        address lender = address(bytes20(plan[2:22]));
        uint256 lenderKind = uint8(plan[1]) & 3;
        if (lenderKind == LENDER_BALANCER) {
            address[] memory tokens = new address[](1);
            uint256[] memory amounts = new uint256[](1);
            tokens[0] = token;
            amounts[0] = amount;
            IBalancerVault(lender).flashLoan(address(this), tokens, amounts, plan);
        } else if (lenderKind == LENDER_AAVE) {
            IAavePoolSimple(lender).flashLoanSimple(address(this), token, amount, plan, 0);
        } else if (lenderKind == LENDER_UNIV3) {
            bool isToken0 = IPoolTokens(lender).token0() == token;
            if (!isToken0 && IPoolTokens(lender).token1() != token) revert LoanMismatch(token, amount);
            _flashToken0 = isToken0;
            IUniswapV3Like(lender).flash(address(this), isToken0 ? amount : 0, isToken0 ? 0 : amount, plan);
        } else {
            revert MalformedPlan(plan.length);
        }
    }

    // --- lender callbacks -------------------------------------------------------------------------

    /// Balancer V2 Vault
    function receiveFlashLoan(
        address[] calldata tokens,
        uint256[] calldata amounts,
        uint256[] calldata feeAmounts,
        bytes calldata plan
    ) external {
        _checkLender(plan);
        if (tokens.length != 1 || amounts.length != 1 || feeAmounts.length != 1) revert LoanMismatch(address(0), 0);
        _checkLoan(plan, tokens[0], amounts[0]);
        _runAndSettle(plan, amounts[0] + feeAmounts[0], LENDER_BALANCER);
    }

    /// Aave V3 Pool (flashLoanSimple)
    function executeOperation(address asset, uint256 amount, uint256 premium, address initiator, bytes calldata plan)
        external
        returns (bool)
    {
        _checkLender(plan);
        if (initiator != address(this)) revert UnexpectedCallback(initiator);
        _checkLoan(plan, asset, amount);
        _runAndSettle(plan, amount + premium, LENDER_AAVE);
        return true;
    }

    /// Uniswap V3 pool `flash` (also Sushi V3, a Uniswap V3 fork)
    function uniswapV3FlashCallback(uint256 fee0, uint256 fee1, bytes calldata plan) external {
        _v3FlashCallback(fee0, fee1, plan);
    }

    /// PancakeSwap V3 pool `flash`: same pool shape, but it calls this name (review finding R2)
    function pancakeV3FlashCallback(uint256 fee0, uint256 fee1, bytes calldata plan) external {
        _v3FlashCallback(fee0, fee1, plan);
    }

    function _v3FlashCallback(uint256 fee0, uint256 fee1, bytes calldata plan) private {
        _checkLender(plan);
        uint256 amount = uint128(bytes16(plan[42:58]));
        _runAndSettle(plan, amount + (_flashToken0 ? fee0 : fee1), LENDER_UNIV3);
    }

    // --- swap callbacks (Uniswap V3, Algebra / Camelot V3, PancakeSwap V3) ------------------------

    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata) external {
        _paySwap(amount0Delta, amount1Delta);
    }

    function algebraSwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata) external {
        _paySwap(amount0Delta, amount1Delta);
    }

    function pancakeV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata) external {
        _paySwap(amount0Delta, amount1Delta);
    }

    function _paySwap(int256 amount0Delta, int256 amount1Delta) private {
        address pool = _swapPool;
        if (_stage != RUNNING || pool == address(0) || msg.sender != pool) revert UnexpectedCallback(msg.sender);
        _swapPool = address(0); // one payment per swap
        int256 owed = _swapZeroForOne ? amount0Delta : amount1Delta;
        uint256 maxIn = _swapMaxIn;
        if (owed <= 0 || uint256(owed) > maxIn) revert SwapPaymentInvalid(owed, maxIn);
        _transfer(_swapTokenIn, pool, uint256(owed));
    }

    // --- internals --------------------------------------------------------------------------------

    function _checkShape(bytes calldata plan) private pure returns (uint256 nHops) {
        if (plan.length < HEADER_LEN || plan[0] != 0x00) revert MalformedPlan(plan.length);
        nHops = (uint8(plan[1]) >> 4) & 7;
        if (nHops < MIN_HOPS || nHops > MAX_HOPS) revert MalformedPlan(plan.length);
    }

    function _checkLender(bytes calldata plan) private view {
        if (_stage != AWAIT_LOAN || msg.sender != _lender) revert UnexpectedCallback(msg.sender);
        if (keccak256(plan) != _planHash) revert PlanMismatch();
    }

    function _checkLoan(bytes calldata plan, address token, uint256 amount) private pure {
        if (token != address(bytes20(plan[22:42])) || amount != uint128(bytes16(plan[42:58]))) {
            revert LoanMismatch(token, amount);
        }
    }

    /// Runs the hops, checks the profit, then repays `owed` to the lender the way it expects.
    function _runAndSettle(bytes calldata plan, uint256 owed, uint256 lenderKind) private {
        _stage = RUNNING;
        address token = address(bytes20(plan[22:42]));
        uint256 nHops = (uint8(plan[1]) >> 4) & 7;
        uint256 amountIn = uint128(bytes16(plan[42:58]));
        uint256 before = _balanceBefore;
        // a "lender" that calls back without lending must not make us trade our own inventory
        if (IERC20Like(token).balanceOf(address(this)) < before + amountIn) revert LoanNotReceived();
        _runHops(plan, token, amountIn, nHops);

        uint256 balance = IERC20Like(token).balanceOf(address(this));
        if ((uint8(plan[1]) & 4) != 0) {
            revert DryRunResult(int256(balance) - int256(owed) - int256(before), _hopOutputs(nHops));
        }
        uint256 required = before + owed + uint128(bytes16(plan[58:74]));
        if (balance < required) revert InsufficientProfit(required - balance);
        _profit = balance - owed - before;
        _stage = DONE;

        if (lenderKind == LENDER_AAVE) {
            _approve(token, msg.sender, owed); // the Aave pool pulls after we return
        } else {
            _transfer(token, msg.sender, owed);
        }
    }

    function _runHops(bytes calldata plan, address token, uint256 amountIn, uint256 nHops) private {
        address tokenIn = token;
        uint256 amount = amountIn;
        uint256 off = HEADER_LEN;
        for (uint256 i = 0; i < nHops; ++i) {
            if (plan.length < off + HOP_LEN) revert MalformedPlan(plan.length);
            address pool = address(bytes20(plan[off:off + 20]));
            uint256 hopFlags = uint8(plan[off + 20]);
            uint256 limit = uint128(bytes16(plan[off + 21:off + 37]));
            bool zeroForOne = (hopFlags & 1) != 0;
            uint256 kind = (hopFlags >> 1) & 7;
            off += HOP_LEN;

            address tokenOut;
            {
                address t0 = IPoolTokens(pool).token0();
                address t1 = IPoolTokens(pool).token1();
                address poolIn = zeroForOne ? t0 : t1;
                if (poolIn != tokenIn) revert HopTokenMismatch(i, tokenIn, poolIn);
                tokenOut = zeroForOne ? t1 : t0;
            }
            uint256 outBefore = IERC20Like(tokenOut).balanceOf(address(this));

            if (kind == KIND_V2_EXACT) {
                _transfer(tokenIn, pool, amount);
                IUniswapV2Like(pool).swap(zeroForOne ? 0 : limit, zeroForOne ? limit : 0, address(this), "");
            } else if (kind == KIND_V2_FEE) {
                if (plan.length < off + HOP_FEE_LEN) revert MalformedPlan(plan.length);
                uint256 feePips = uint24(bytes3(plan[off:off + 3]));
                off += HOP_FEE_LEN;
                _transfer(tokenIn, pool, amount);
                uint256 computed = _v2AmountOut(pool, tokenIn, zeroForOne, feePips);
                if (computed < limit) revert HopOutputTooLow(i, computed, limit);
                IUniswapV2Like(pool).swap(zeroForOne ? 0 : computed, zeroForOne ? computed : 0, address(this), "");
            } else if (kind == KIND_V3) {
                _swapPool = pool;
                _swapTokenIn = tokenIn;
                _swapMaxIn = amount;
                _swapZeroForOne = zeroForOne;
                IUniswapV3Like(pool).swap(
                    address(this),
                    zeroForOne,
                    int256(amount),
                    zeroForOne ? MIN_SQRT_RATIO_PLUS_ONE : MAX_SQRT_RATIO_MINUS_ONE,
                    ""
                );
                if (_swapPool != address(0)) revert UnexpectedCallback(pool); // pool never asked to be paid
            } else {
                revert MalformedPlan(plan.length);
            }

            // what actually arrived, not what the pool or the plan says (fee-on-transfer safe)
            uint256 received = IERC20Like(tokenOut).balanceOf(address(this)) - outBefore;
            if (received < limit) revert HopOutputTooLow(i, received, limit);
            uint256 slot = HOP_OUT_SLOT + i;
            assembly ("memory-safe") {
                tstore(slot, received)
            }
            tokenIn = tokenOut;
            amount = received;
        }
        if (off != plan.length) revert MalformedPlan(plan.length);
        if (tokenIn != token) revert CycleNotClosed(tokenIn);
    }

    /// Uniswap V2 getAmountOut on what the pair actually received, fee in pips (3000 = 0.3%).
    function _v2AmountOut(address pair, address tokenIn, bool zeroForOne, uint256 feePips)
        private
        view
        returns (uint256)
    {
        (uint256 r0, uint256 r1,) = IUniswapV2Like(pair).getReserves();
        (uint256 reserveIn, uint256 reserveOut) = zeroForOne ? (r0, r1) : (r1, r0);
        uint256 amountIn = IERC20Like(tokenIn).balanceOf(pair) - reserveIn;
        uint256 inWithFee = amountIn * (1_000_000 - feePips);
        return (inWithFee * reserveOut) / (reserveIn * 1_000_000 + inWithFee);
    }

    function _hopOutputs(uint256 nHops) private view returns (uint256[] memory outs) {
        outs = new uint256[](nHops);
        for (uint256 i = 0; i < nHops; ++i) {
            uint256 slot = HOP_OUT_SLOT + i;
            uint256 v;
            assembly ("memory-safe") {
                v := tload(slot)
            }
            outs[i] = v;
        }
    }

    /// arbBlockNumber() where ArbSys exists (on Arbitrum block.number is roughly the L1 block),
    /// block.number on chains without it. Arbitrum gives its precompiles one byte of code (0xFE)
    /// so that Solidity can call them; hence the code-size test finds the real ArbSys too.
    /// Fails closed (review finding R1): when 0x64 has code but gives no answer, falling back to
    /// block.number would compare an L2 deadline with the L1 block number and never expire.
    function _blockNumber() private view returns (uint256) {
        if (ARBSYS.code.length == 0) return block.number;
        (bool ok, bytes memory ret) = ARBSYS.staticcall(abi.encodeWithSignature("arbBlockNumber()"));
        if (!ok || ret.length != 32) revert ArbBlockNumberUnavailable();
        return abi.decode(ret, (uint256));
    }

    function _transfer(address token, address to, uint256 amount) private {
        (bool ok, bytes memory ret) = token.call(abi.encodeWithSelector(0xa9059cbb, to, amount));
        if (!ok || (ret.length == 0 ? token.code.length == 0 : !abi.decode(ret, (bool)))) {
            revert TransferFailed(token, to, amount);
        }
    }

    function _approve(address token, address spender, uint256 amount) private {
        (bool ok, bytes memory ret) = token.call(abi.encodeWithSelector(0x095ea7b3, spender, amount));
        if (!ok || (ret.length == 0 ? token.code.length == 0 : !abi.decode(ret, (bool)))) {
            revert TransferFailed(token, spender, amount);
        }
    }
}
