"""Port of v3-core ``contracts/libraries/FullMath.sol`` (and ``UnsafeMath.divRoundingUp``).

Python integers are exact, so the 512-bit trick of the Solidity code reduces to a product and a
floor division; what must survive is the *revert*: Solidity requires ``denominator > 0`` and a
result that fits in 256 bits (``require(denominator > prod1)``), and ``mulDivRoundingUp`` also
reverts when rounding up overflows (``require(result < type(uint256).max)``).
"""

from __future__ import annotations

from mevbot.errors import AmmError

MAX_UINT256 = (1 << 256) - 1
Q96 = 1 << 96  # FixedPoint96.Q96
Q128 = 1 << 128  # FixedPoint128.Q128


def mulDiv(a: int, b: int, denominator: int) -> int:
    """floor(a*b/denominator); reverts when denominator is 0 or the result overflows uint256."""
    if denominator <= 0:
        raise AmmError("FullMath.mulDiv: denominator is 0")
    result = a * b // denominator
    if result > MAX_UINT256:
        raise AmmError("FullMath.mulDiv: result overflows uint256")
    return result


def mulDivRoundingUp(a: int, b: int, denominator: int) -> int:
    """ceil(a*b/denominator); same reverts as mulDiv, plus overflow of the rounding step."""
    if denominator <= 0:
        raise AmmError("FullMath.mulDivRoundingUp: denominator is 0")
    result = -(-(a * b) // denominator)
    if result > MAX_UINT256:
        raise AmmError("FullMath.mulDivRoundingUp: result overflows uint256")
    return result


def divRoundingUp(x: int, y: int) -> int:
    """UnsafeMath.divRoundingUp: ceil(x/y). The EVM returns 0 on division by zero; v3-core never
    divides by zero here (callers require non-zero liquidity / price), so we refuse it instead."""
    if y == 0:
        raise AmmError("UnsafeMath.divRoundingUp: division by 0")
    return -(-x // y)
