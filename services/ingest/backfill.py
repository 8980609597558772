"""Backfill planning: cut a block span into ``eth_getLogs`` ranges providers accept.

Providers cap both the block range of one ``eth_getLogs`` and the number of logs it returns
(e.g. "query returned more than 10000 results", "block range is too wide"). The plan starts with
ranges of ``max_span`` blocks; a range refused for its size is split in two and retried, down to
one block. Pure: the engine does the calls.
"""

from __future__ import annotations

import re

from mevbot.errors import RpcError

_CAP_PATTERNS = re.compile(
    r"(more than \d+ results|too many (results|logs)|range (is )?too (wide|large|big)|exceed(s|ed)? (the )?"
    r"(maximum|max)|block range|response size|limit exceeded|query timeout|log response size)",
    re.IGNORECASE,
)


def plan_ranges(first: int, last: int, max_span: int) -> list[tuple[int, int]]:
    """``[first, last]`` cut into inclusive ranges of at most ``max_span`` blocks, in order."""
    if max_span < 1:
        raise ValueError(f"max_span must be >= 1, got {max_span}")
    out = []
    lo = first
    while lo <= last:
        hi = min(last, lo + max_span - 1)
        out.append((lo, hi))
        lo = hi + 1
    return out


def split_range(lo: int, hi: int) -> list[tuple[int, int]]:
    """Halve a refused range; a single block cannot be split (raises ValueError)."""
    if lo >= hi:
        raise ValueError(f"cannot split the single block {lo}")
    mid = (lo + hi) // 2
    return [(lo, mid), (mid + 1, hi)]


def is_range_cap_error(exc: BaseException) -> bool:
    """True when a provider refused ``eth_getLogs`` because the range or result is too big."""
    if not isinstance(exc, RpcError):
        return False
    return _CAP_PATTERNS.search(str(exc)) is not None
