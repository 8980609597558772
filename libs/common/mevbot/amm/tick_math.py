"""Port of v3-core ``contracts/libraries/TickMath.sol``.

``getSqrtRatioAtTick`` and ``getTickAtSqrtRatio`` follow the Solidity code step for step (same
magic constants, same shifts, same rounding). The swap hot path uses the memoised
:func:`sqrt_ratio_at_tick` (a tick's ratio never changes) and :func:`tick_at_sqrt_ratio`, which
finds the same answer from a float estimate corrected with exact ratios: by definition (and by
TickMathEchidnaTest) the result is the greatest tick whose ratio is <= the price.
"""

from __future__ import annotations

from math import log

from mevbot.errors import AmmError

MIN_TICK = -887272
MAX_TICK = -MIN_TICK
MIN_SQRT_RATIO = 4295128739
MAX_SQRT_RATIO = 1461446703485210103287273052203988822378723970342

_MAX_UINT256 = (1 << 256) - 1

# (bit, multiplier) pairs of getSqrtRatioAtTick: 1/sqrt(1.0001)^(2^i) as Q128.128
_RATIO_STEPS = (
    (0x2, 0xFFF97272373D413259A46990580E213A),
    (0x4, 0xFFF2E50F5F656932EF12357CF3C7FDCC),
    (0x8, 0xFFE5CACA7E10E4E61C3624EAA0941CD0),
    (0x10, 0xFFCB9843D60F6159C9DB58835C926644),
    (0x20, 0xFF973B41FA98C081472E6896DFB254C0),
    (0x40, 0xFF2EA16466C96A3843EC78B326B52861),
    (0x80, 0xFE5DEE046A99A2A811C461F1969C3053),
    (0x100, 0xFCBE86C7900A88AEDCFFC83B479AA3A4),
    (0x200, 0xF987A7253AC413176F2B074CF7815E54),
    (0x400, 0xF3392B0822B70005940C7A398E4B70F3),
    (0x800, 0xE7159475A2C29B7443B29C7FA6E889D9),
    (0x1000, 0xD097F3BDFD2022B8845AD8F792AA5825),
    (0x2000, 0xA9F746462D870FDF8A65DC1F90E061E5),
    (0x4000, 0x70D869A156D2A1B890BB3DF62BAF32F7),
    (0x8000, 0x31BE135F97D08FD981231505542FCFA6),
    (0x10000, 0x9AA508B5B7A84E1C677DE54F3E99BC9),
    (0x20000, 0x5D6AF8DEDB81196699C329225EE604),
    (0x40000, 0x2216E584F5FA1EA926041BEDFE98),
    (0x80000, 0x48A170391F7DC42444E8FA2),
)


def getSqrtRatioAtTick(tick: int) -> int:
    """sqrt(1.0001^tick) * 2^96 as in Solidity (rounded up from Q128.128); reverts 'T' out of range."""
    abs_tick = -tick if tick < 0 else tick
    if abs_tick > MAX_TICK:
        raise AmmError(f"TickMath: T (tick {tick} out of range)")
    ratio = 0xFFFCB933BD6FAD37AA2D162D1A594001 if abs_tick & 0x1 else 0x100000000000000000000000000000000
    for bit, multiplier in _RATIO_STEPS:
        if abs_tick & bit:
            ratio = (ratio * multiplier) >> 128
    if tick > 0:
        ratio = _MAX_UINT256 // ratio
    return (ratio >> 32) + (0 if ratio % (1 << 32) == 0 else 1)


def getTickAtSqrtRatio(sqrtPriceX96: int) -> int:
    """Greatest tick whose ratio is <= sqrtPriceX96: the Solidity algorithm (msb + 14 squarings)."""
    if not (MIN_SQRT_RATIO <= sqrtPriceX96 < MAX_SQRT_RATIO):
        raise AmmError(f"TickMath: R (sqrtPriceX96 {sqrtPriceX96} out of range)")
    ratio = sqrtPriceX96 << 32
    msb = ratio.bit_length() - 1
    r = ratio >> (msb - 127) if msb >= 128 else ratio << (127 - msb)
    log_2 = (msb - 128) << 64
    for shift in range(63, 49, -1):
        r = (r * r) >> 127
        f = r >> 128
        log_2 |= f << shift
        r >>= f
    log_sqrt10001 = log_2 * 255738958999603826347141  # 128.128 number
    tick_low = (log_sqrt10001 - 3402992956809132418596140100660247210) >> 128
    tick_hi = (log_sqrt10001 + 291339464771989622907027621153398088495) >> 128
    if tick_low == tick_hi:
        return tick_low
    return tick_hi if getSqrtRatioAtTick(tick_hi) <= sqrtPriceX96 else tick_low


# --- fast paths (same results) ------------------------------------------------------------------

_SQRT_RATIO_CACHE: dict[int, int] = {}
_SQRT_RATIO_CACHE_MAX = 400_000


def sqrt_ratio_at_tick(tick: int) -> int:
    """Memoised getSqrtRatioAtTick (ticks repeat: tick boundaries and bitmap word boundaries)."""
    ratio = _SQRT_RATIO_CACHE.get(tick)
    if ratio is None:
        ratio = getSqrtRatioAtTick(tick)
        if len(_SQRT_RATIO_CACHE) >= _SQRT_RATIO_CACHE_MAX:
            _SQRT_RATIO_CACHE.clear()
        _SQRT_RATIO_CACHE[tick] = ratio
    return ratio


_LOG_BASE = log(1.0001)
_LOG_Q96 = 96 * log(2.0)


def tick_at_sqrt_ratio(sqrt_price_x96: int) -> int:
    """Same result as getTickAtSqrtRatio: float estimate, then exact correction with cached ratios."""
    if not (MIN_SQRT_RATIO <= sqrt_price_x96 < MAX_SQRT_RATIO):
        raise AmmError(f"TickMath: R (sqrtPriceX96 {sqrt_price_x96} out of range)")
    tick = int((log(sqrt_price_x96) - _LOG_Q96) * 2.0 / _LOG_BASE)
    if tick > MAX_TICK:
        tick = MAX_TICK
    elif tick < MIN_TICK:
        tick = MIN_TICK
    while tick > MIN_TICK and sqrt_ratio_at_tick(tick) > sqrt_price_x96:
        tick -= 1
    while tick < MAX_TICK and sqrt_ratio_at_tick(tick + 1) <= sqrt_price_x96:
        tick += 1
    return tick
