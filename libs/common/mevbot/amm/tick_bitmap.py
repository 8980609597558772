"""Port of v3-core ``contracts/libraries/TickBitmap.sol`` over a sorted list of initialized ticks.

The pool keeps its initialized ticks (multiples of tickSpacing) in a sorted Python list; the
bitmap word of a compressed tick ``c`` is ``c >> 8``. ``nextInitializedTickWithinOneWord``
returns exactly what the Solidity function returns on the equivalent bitmap, in particular the
*word boundary* (initialized=False) when the word holds no initialized tick in the search
direction: the swap loop must stop there, because each step's rounding depends on it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from mevbot.errors import AmmError


def position(tick: int) -> tuple[int, int]:
    """(wordPos, bitPos) of a compressed tick."""
    return tick >> 8, tick % 256


def compress(tick: int, tickSpacing: int) -> int:
    """tick / tickSpacing rounded towards negative infinity (Solidity's compressed tick)."""
    return tick // tickSpacing


def nextInitializedTickWithinOneWord(
    sorted_ticks: list[int], tick: int, tickSpacing: int, lte: bool
) -> tuple[int, bool]:
    """(next, initialized) as in Solidity; ``sorted_ticks`` are the initialized ticks, ascending."""
    compressed = tick // tickSpacing
    if lte:
        word_start = ((compressed >> 8) << 8) * tickSpacing
        i = bisect_right(sorted_ticks, compressed * tickSpacing)
        if i and sorted_ticks[i - 1] >= word_start:
            return sorted_ticks[i - 1], True
        return word_start, False
    nxt = compressed + 1
    word_end = (((nxt >> 8) << 8) + 255) * tickSpacing
    i = bisect_left(sorted_ticks, nxt * tickSpacing)
    if i < len(sorted_ticks) and sorted_ticks[i] <= word_end:
        return sorted_ticks[i], True
    return word_end, False


def flipTick(sorted_ticks: list[int], tick: int, tickSpacing: int) -> None:
    """Toggle ``tick`` in the sorted list (Solidity requires it to be a multiple of tickSpacing)."""
    if tick % tickSpacing != 0:
        raise AmmError(f"TickBitmap.flipTick: tick {tick} not a multiple of tickSpacing {tickSpacing}")
    i = bisect_left(sorted_ticks, tick)
    if i < len(sorted_ticks) and sorted_ticks[i] == tick:
        del sorted_ticks[i]
    else:
        sorted_ticks.insert(i, tick)


def to_words(sorted_ticks: list[int], tickSpacing: int) -> dict[int, int]:
    """The Solidity bitmap ({wordPos: uint256}) of a sorted tick list (for tests and tooling)."""
    words: dict[int, int] = {}
    for t in sorted_ticks:
        word, bit = position(t // tickSpacing)
        words[word] = words.get(word, 0) | (1 << bit)
    return words
