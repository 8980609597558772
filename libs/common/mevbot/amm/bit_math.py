"""Port of v3-core ``contracts/libraries/BitMath.sol``."""

from __future__ import annotations

from mevbot.errors import AmmError


def mostSignificantBit(x: int) -> int:
    """Index of the most significant set bit; reverts on 0 (``require(x > 0)``)."""
    if x <= 0:
        raise AmmError("BitMath.mostSignificantBit: x is 0")
    return x.bit_length() - 1


def leastSignificantBit(x: int) -> int:
    """Index of the least significant set bit; reverts on 0."""
    if x <= 0:
        raise AmmError("BitMath.leastSignificantBit: x is 0")
    return (x & -x).bit_length() - 1
