"""Port of v3-core ``contracts/libraries/SqrtPriceMath.sol``.

Every rounding direction and every ``require`` is kept; the range checks Solidity gets from
``toUint160()``, checked ``add`` and 256-bit overflow are explicit here and raise AmmError.
"""

from __future__ import annotations

from mevbot.amm.full_math import divRoundingUp, mulDiv, mulDivRoundingUp
from mevbot.errors import AmmError

RESOLUTION = 96
Q96 = 1 << 96
MAX_UINT160 = (1 << 160) - 1
MAX_UINT256 = (1 << 256) - 1


def getNextSqrtPriceFromAmount0RoundingUp(sqrtPX96: int, liquidity: int, amount: int, add: bool) -> int:
    """Price after adding/removing ``amount`` of token0, rounded up."""
    if amount == 0:
        return sqrtPX96
    numerator1 = liquidity << RESOLUTION
    product = amount * sqrtPX96
    if add:
        if product <= MAX_UINT256:
            denominator = numerator1 + product
            if denominator <= MAX_UINT256:  # Solidity: denominator >= numerator1 (no wrap)
                return mulDivRoundingUp(numerator1, sqrtPX96, denominator)
        # (numerator1 / sqrtPX96).add(amount): checked add
        divisor = numerator1 // sqrtPX96 + amount
        if divisor > MAX_UINT256:
            raise AmmError("SqrtPriceMath: add overflow in getNextSqrtPriceFromAmount0RoundingUp")
        return divRoundingUp(numerator1, divisor)
    # if the product overflows, we know the denominator underflows
    if product > MAX_UINT256 or numerator1 <= product:
        raise AmmError("SqrtPriceMath: getNextSqrtPriceFromAmount0RoundingUp denominator underflow")
    result = mulDivRoundingUp(numerator1, sqrtPX96, numerator1 - product)
    if result > MAX_UINT160:
        raise AmmError("SqrtPriceMath: toUint160 overflow")
    return result


def getNextSqrtPriceFromAmount1RoundingDown(sqrtPX96: int, liquidity: int, amount: int, add: bool) -> int:
    """Price after adding/removing ``amount`` of token1, rounded down."""
    if add:
        if amount <= MAX_UINT160:
            quotient = (amount << RESOLUTION) // liquidity
        else:
            quotient = mulDiv(amount, Q96, liquidity)
        result = sqrtPX96 + quotient
        if result > MAX_UINT160:  # .add() then toUint160()
            raise AmmError("SqrtPriceMath: toUint160 overflow")
        return result
    if amount <= MAX_UINT160:
        quotient = divRoundingUp(amount << RESOLUTION, liquidity)
    else:
        quotient = mulDivRoundingUp(amount, Q96, liquidity)
    if sqrtPX96 <= quotient:
        raise AmmError("SqrtPriceMath: getNextSqrtPriceFromAmount1RoundingDown price underflow")
    return sqrtPX96 - quotient


def getNextSqrtPriceFromInput(sqrtPX96: int, liquidity: int, amountIn: int, zeroForOne: bool) -> int:
    if sqrtPX96 <= 0 or liquidity <= 0:
        raise AmmError("SqrtPriceMath: getNextSqrtPriceFromInput needs price > 0 and liquidity > 0")
    if zeroForOne:
        return getNextSqrtPriceFromAmount0RoundingUp(sqrtPX96, liquidity, amountIn, True)
    return getNextSqrtPriceFromAmount1RoundingDown(sqrtPX96, liquidity, amountIn, True)


def getNextSqrtPriceFromOutput(sqrtPX96: int, liquidity: int, amountOut: int, zeroForOne: bool) -> int:
    if sqrtPX96 <= 0 or liquidity <= 0:
        raise AmmError("SqrtPriceMath: getNextSqrtPriceFromOutput needs price > 0 and liquidity > 0")
    if zeroForOne:
        return getNextSqrtPriceFromAmount1RoundingDown(sqrtPX96, liquidity, amountOut, False)
    return getNextSqrtPriceFromAmount0RoundingUp(sqrtPX96, liquidity, amountOut, False)


def getAmount0Delta(sqrtRatioAX96: int, sqrtRatioBX96: int, liquidity: int, roundUp: bool) -> int:
    """Unsigned token0 amount between two prices for ``liquidity`` (uint128)."""
    if sqrtRatioAX96 > sqrtRatioBX96:
        sqrtRatioAX96, sqrtRatioBX96 = sqrtRatioBX96, sqrtRatioAX96
    if sqrtRatioAX96 <= 0:
        raise AmmError("SqrtPriceMath: getAmount0Delta needs sqrtRatioAX96 > 0")
    numerator1 = liquidity << RESOLUTION
    numerator2 = sqrtRatioBX96 - sqrtRatioAX96
    if roundUp:
        return divRoundingUp(mulDivRoundingUp(numerator1, numerator2, sqrtRatioBX96), sqrtRatioAX96)
    return mulDiv(numerator1, numerator2, sqrtRatioBX96) // sqrtRatioAX96


def getAmount1Delta(sqrtRatioAX96: int, sqrtRatioBX96: int, liquidity: int, roundUp: bool) -> int:
    """Unsigned token1 amount between two prices for ``liquidity`` (uint128)."""
    if sqrtRatioAX96 > sqrtRatioBX96:
        sqrtRatioAX96, sqrtRatioBX96 = sqrtRatioBX96, sqrtRatioAX96
    if roundUp:
        return mulDivRoundingUp(liquidity, sqrtRatioBX96 - sqrtRatioAX96, Q96)
    return mulDiv(liquidity, sqrtRatioBX96 - sqrtRatioAX96, Q96)


_MAX_INT256 = (1 << 255) - 1


def _to_int256(x: int) -> int:
    if x > _MAX_INT256:
        raise AmmError("SafeCast: toInt256 overflow")
    return x


def getAmount0DeltaSigned(sqrtRatioAX96: int, sqrtRatioBX96: int, liquidity: int) -> int:
    """Signed overload (int128 liquidity): what a mint (+, rounded up) or burn (-, down) moves."""
    if liquidity < 0:
        return -_to_int256(getAmount0Delta(sqrtRatioAX96, sqrtRatioBX96, -liquidity, False))
    return _to_int256(getAmount0Delta(sqrtRatioAX96, sqrtRatioBX96, liquidity, True))


def getAmount1DeltaSigned(sqrtRatioAX96: int, sqrtRatioBX96: int, liquidity: int) -> int:
    if liquidity < 0:
        return -_to_int256(getAmount1Delta(sqrtRatioAX96, sqrtRatioBX96, -liquidity, False))
    return _to_int256(getAmount1Delta(sqrtRatioAX96, sqrtRatioBX96, liquidity, True))
