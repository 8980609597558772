"""Port of v3-core ``contracts/libraries/SwapMath.sol``: one step of a swap within a tick range."""

from __future__ import annotations

from mevbot.amm.full_math import mulDiv, mulDivRoundingUp
from mevbot.amm.sqrt_price_math import (
    getAmount0Delta,
    getAmount1Delta,
    getNextSqrtPriceFromInput,
    getNextSqrtPriceFromOutput,
)


def computeSwapStep(
    sqrtRatioCurrentX96: int,
    sqrtRatioTargetX96: int,
    liquidity: int,
    amountRemaining: int,
    feePips: int,
) -> tuple[int, int, int, int]:
    """Returns (sqrtRatioNextX96, amountIn, amountOut, feeAmount).

    ``amountRemaining`` >= 0 means exact input (fee included), < 0 exact output.
    """
    zeroForOne = sqrtRatioCurrentX96 >= sqrtRatioTargetX96
    exactIn = amountRemaining >= 0
    amountIn = 0
    amountOut = 0

    if exactIn:
        amountRemainingLessFee = mulDiv(amountRemaining, 1_000_000 - feePips, 1_000_000)
        if zeroForOne:
            amountIn = getAmount0Delta(sqrtRatioTargetX96, sqrtRatioCurrentX96, liquidity, True)
        else:
            amountIn = getAmount1Delta(sqrtRatioCurrentX96, sqrtRatioTargetX96, liquidity, True)
        if amountRemainingLessFee >= amountIn:
            sqrtRatioNextX96 = sqrtRatioTargetX96
        else:
            sqrtRatioNextX96 = getNextSqrtPriceFromInput(
                sqrtRatioCurrentX96, liquidity, amountRemainingLessFee, zeroForOne
            )
    else:
        if zeroForOne:
            amountOut = getAmount1Delta(sqrtRatioTargetX96, sqrtRatioCurrentX96, liquidity, False)
        else:
            amountOut = getAmount0Delta(sqrtRatioCurrentX96, sqrtRatioTargetX96, liquidity, False)
        if -amountRemaining >= amountOut:
            sqrtRatioNextX96 = sqrtRatioTargetX96
        else:
            sqrtRatioNextX96 = getNextSqrtPriceFromOutput(
                sqrtRatioCurrentX96, liquidity, -amountRemaining, zeroForOne
            )

    reached = sqrtRatioTargetX96 == sqrtRatioNextX96  # Solidity's `max`

    if zeroForOne:
        if not (reached and exactIn):
            amountIn = getAmount0Delta(sqrtRatioNextX96, sqrtRatioCurrentX96, liquidity, True)
        if not (reached and not exactIn):
            amountOut = getAmount1Delta(sqrtRatioNextX96, sqrtRatioCurrentX96, liquidity, False)
    else:
        if not (reached and exactIn):
            amountIn = getAmount1Delta(sqrtRatioCurrentX96, sqrtRatioNextX96, liquidity, True)
        if not (reached and not exactIn):
            amountOut = getAmount0Delta(sqrtRatioCurrentX96, sqrtRatioNextX96, liquidity, False)

    # cap the output amount to not exceed the remaining output amount
    if not exactIn and amountOut > -amountRemaining:
        amountOut = -amountRemaining

    if exactIn and sqrtRatioNextX96 != sqrtRatioTargetX96:
        # we didn't reach the target, so take the remainder of the maximum input as fee
        feeAmount = amountRemaining - amountIn
    else:
        feeAmount = mulDivRoundingUp(amountIn, feePips, 1_000_000 - feePips)

    return sqrtRatioNextX96, amountIn, amountOut, feeAmount
