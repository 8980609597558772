"""Piecewise Möbius models of ``amount_out(amount_in)`` in floats, for cycle sizing.

A constant-product swap is the Möbius map ``x -> g*R_out*x / (R_in + g*x)``; within one tick
range a Uniswap V3 swap is one too: with ``s`` = sqrt price, ``L`` = liquidity, ``g`` = 1 - fee,
token0 in gives ``out = s^2*L*g*x / (L + s*g*x)`` and token1 in gives
``out = (L*g/s)*x / (s*L + g*x)``. Past a tick the map is the same shape shifted by the amounts
already swapped, i.e. a general Möbius map ``(p*x + q) / (r*x + s)``; composing hops multiplies
their 2x2 matrices. A segment is the tuple ``(x_lo, x_hi, p, q, r, s, y0, a, b, c)`` in the hop's
own input units, valid for ``x_lo <= x <= x_hi``: the matrix form, and the same map in local
coordinates, ``out = y0 + a*u / (b + c*u)`` with ``u = x - x_lo``. The matrix form is only used
for a first guess (its entries cancel badly far from the origin); values, slopes and inverses use
the local form. These floats only *locate* the optimum; every amount the sizing returns comes from
the exact integer quotes.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from math import inf

from mevbot.amm.tick_math import _SQRT_RATIO_CACHE, MAX_SQRT_RATIO, MIN_SQRT_RATIO, sqrt_ratio_at_tick

_Q96F = float(1 << 96)


class SegmentCurve:
    """Lazily generated list of segments (see module docstring).

    ``his`` holds the segments' ``x_hi`` in the same order (non-decreasing: the segments are
    contiguous), appended as segments are generated, so that the segment of an input is found by
    bisection (:meth:`index_of`) instead of a scan from the first segment.
    """

    __slots__ = ("_gen", "his", "segments")

    def __init__(self, segments: list[tuple] | None = None, generator=None) -> None:
        self.segments: list[tuple] = segments if segments is not None else []
        self.his: list[float] = [seg[1] for seg in self.segments]
        self._gen = generator

    def segment(self, k: int) -> tuple | None:
        segments = self.segments
        if k < len(segments):
            return segments[k]
        his = self.his
        while k >= len(segments):
            if self._gen is None:
                return None
            try:
                seg = next(self._gen)
            except StopIteration:
                self._gen = None
                return None
            segments.append(seg)
            his.append(seg[1])
        return segments[k]

    def index_of(self, x: float) -> int:
        """Index of the first segment with ``x <= x_hi`` (the segment :meth:`find` returns),
        generating segments as far as needed; ``len(segments)`` when the curve ends before ``x``."""
        his = self.his
        if his and x <= his[-1]:
            return bisect_left(his, x)
        k = len(his)
        while True:
            seg = self.segment(k)
            if seg is None or x <= seg[1]:
                return k
            k += 1

    def slope_at_zero(self) -> float:
        seg = self.segment(0)
        if seg is None:
            return 0.0
        b = seg[8]
        return seg[7] / b if b else 0.0

    def find(self, x: float) -> tuple | None:
        """The segment containing input ``x``."""
        return self.segment(self.index_of(x))

    def value(self, x: float) -> float:
        """Model output at input ``x``."""
        seg = self.find(x)
        if seg is None:
            return 0.0
        u = x - seg[0]
        return seg[6] + seg[7] * u / (seg[8] + seg[9] * u)

    def slope(self, x: float) -> float:
        """Model derivative d(out)/d(in) at input ``x``."""
        seg = self.find(x)
        if seg is None:
            return 0.0
        den = seg[8] + seg[9] * (x - seg[0])
        return seg[7] * seg[8] / (den * den) if den else 0.0


def make_segment(x_lo: float, x_hi: float, y0: float, a: float, b: float, c: float) -> tuple:
    """Segment of ``x -> y0 + a*(x-x_lo) / (b + c*(x-x_lo))`` on [x_lo, x_hi] (both forms)."""
    d = b - c * x_lo
    return (x_lo, x_hi, y0 * c + a, y0 * d - a * x_lo, c, d, y0, a, b, c)


def single_segment_curve(a: float, b: float, c: float) -> SegmentCurve:
    """One Möbius map ``a*x / (b + c*x)`` for every input (constant product)."""
    return SegmentCurve([make_segment(0.0, inf, 0.0, a, b, c)])


def _v3_segments(pool, zero_for_one: bool):
    gamma = (1_000_000 - pool._direction_fee(zero_for_one)) / 1_000_000
    sorted_ticks = pool._sorted
    net = pool._net
    s = pool.sqrt_price_x96 / _Q96F
    liquidity = pool.liquidity
    x_acc = 0.0
    y_acc = 0.0
    i = bisect_right(sorted_ticks, pool.tick)
    ratio_get = _SQRT_RATIO_CACHE.get  # memoised getSqrtRatioAtTick
    if zero_for_one:
        j = i - 1
        end = (MIN_SQRT_RATIO + 1) / _Q96F
        while True:
            if j >= 0:
                t = sorted_ticks[j]
                r = ratio_get(t)
                b = (sqrt_ratio_at_tick(t) if r is None else r) / _Q96F
            else:
                t = None
                b = end
            if b < s and liquidity > 0:
                lf = float(liquidity)
                dx = lf * (1.0 / b - 1.0 / s) / gamma
                dy = lf * (s - b)
                a = s * s * lf * gamma
                c = s * gamma
                d = lf - c * x_acc
                yield (x_acc, x_acc + dx, y_acc * c + a, y_acc * d - a * x_acc, c, d, y_acc, a, lf, c)
                x_acc += dx
                y_acc += dy
            if b < s:  # noqa: PLR1730 (hot loop: no min() call)
                s = b
            if t is None:
                break
            liquidity -= net[t]
            j -= 1
    else:
        j = i
        n = len(sorted_ticks)
        end = (MAX_SQRT_RATIO - 1) / _Q96F
        while True:
            if j < n:
                t = sorted_ticks[j]
                r = ratio_get(t)
                b = (sqrt_ratio_at_tick(t) if r is None else r) / _Q96F
            else:
                t = None
                b = end
            if b > s and liquidity > 0:
                lf = float(liquidity)
                dx = lf * (b - s) / gamma
                dy = lf * (1.0 / s - 1.0 / b)
                a = lf * gamma / s
                sl = s * lf
                d = sl - gamma * x_acc
                yield (x_acc, x_acc + dx, y_acc * gamma + a, y_acc * d - a * x_acc, gamma, d, y_acc, a, sl, gamma)
                x_acc += dx
                y_acc += dy
            if b > s:  # noqa: PLR1730
                s = b
            if t is None:
                break
            liquidity += net[t]
            j += 1
    # past the last tick the pool is exhausted: the output stays constant
    yield make_segment(x_acc, inf, y_acc, 0.0, 1.0, 0.0)


class V3Curve(SegmentCurve):
    """Segments of a V3 pool's current state, generated tick range by tick range on demand."""

    __slots__ = ()

    def __init__(self, pool, zero_for_one: bool) -> None:
        super().__init__([], _v3_segments(pool, zero_for_one))
