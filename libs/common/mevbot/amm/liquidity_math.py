"""Port of v3-core ``contracts/libraries/LiquidityMath.sol`` (checked uint128 arithmetic)."""

from __future__ import annotations

from mevbot.errors import AmmError

MAX_UINT128 = (1 << 128) - 1


def addDelta(x: int, y: int) -> int:
    """x + y for uint128 x and int128 y; reverts 'LS' on underflow and 'LA' on overflow."""
    z = x + y
    if y < 0:
        if z < 0:
            raise AmmError(f"LiquidityMath.addDelta: LS (liquidity {x} + {y} underflows)")
    elif z > MAX_UINT128:
        raise AmmError(f"LiquidityMath.addDelta: LA (liquidity {x} + {y} overflows uint128)")
    return z
