"""Optimal input of an arbitrage cycle (2-4 hops over any mix of pools), exact to the wei.

Profit ``out(x) - x`` of a cycle is concave in the continuous limit (every hop is concave and
increasing), so its maximum is where the composite's slope is 1.

1. **Locate** (floats): every hop is a piecewise Möbius map (:mod:`mevbot.amm.mobius`). The
   composite is walked piece by piece (a piece ends where some hop's input leaves its segment,
   found by inverting the earlier hops); in the first piece whose end has a slope <= 1 the optimum
   (slope 1) is solved by Newton on ``ln f'`` from the closed form ``x = (sqrt(p*s - q*r) - s) / r``
   of the composed 2x2 matrices. Constant-product-only cycles are a single piece. A long walk
   (spacing-1 tick maps, a big dislocation) turns to bisection on the slope after a few dozen
   pieces and resumes piece by piece just before the optimum's piece (:func:`_walk_search`).
2. **Refine** (exact integers): the integer profit is a staircase (each hop floors its output),
   so the best integer input is the *left end* of an output plateau: from the float optimum, the
   exact final output is traced back hop by hop with ``min_amount_in_for`` to the smallest input
   that still yields it; then right neighbours are tried (galloping) while they gain. The result
   satisfies ``profit(x) >= profit(x-1)`` and ``profit(x) >= profit(x+1)``. If the float optimum
   is not profitable in integers (dust: the first wei is eaten by a fee floor, or a pool runs dry
   within a fraction of a wei), an exact scan over ``min_input * 2**k`` takes over (quoting only
   the points that floored float bounds cannot rule out, :func:`_scan_best`), unless a concave
   bound that counts the V3 fee floors already proves that no input profits (most dust: a coarse
   intermediate token whose next hop's fee floor eats the profit, :func:`_dust_ruled_out`).
3. **Polish** (3+ hops): with two or more intermediate tokens the integer profit near the optimum
   is flat up to the floor losses of the middle hops (a unit of a 6-decimal token is worth ~1e8
   wei of WETH; a V3 hop also loses up to a unit of its input to its fee floor). Plateau samples
   around the optimum and a scan of the middle hops' outputs find the plateau that loses least.

Pools without a Möbius model (stable pairs) fall back to a golden-section search on exact quotes
followed by the same refinement.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import gcd, inf, isfinite, isnan, log, nan, nextafter, sqrt

from mevbot.amm.base import PoolState
from mevbot.amm.mobius import V3Curve
from mevbot.errors import AmmError

Hop = tuple[PoolState, bool]  # (pool, zero_for_one)

_MAX_WALK = 4096
_LINEAR_PIECES = 32  # pieces walked one by one before the walk turns to bisection (_walk_search)
_LINEAR_TAIL = 4  # the bisection stops when this many pieces are left to walk


class CycleResult:
    """Outcome of sizing: ``amounts[0]`` is the input, ``amounts[i+1]`` the exact output of hop i."""

    __slots__ = ("amount_in", "amounts", "evaluations", "float_optimum", "profit")

    def __init__(self, amounts: list[int], evaluations: int, float_optimum: float) -> None:
        self.amounts = amounts
        self.amount_in = amounts[0]
        self.profit = amounts[-1] - amounts[0]
        self.evaluations = evaluations  # exact cycle evaluations used by the refinement
        self.float_optimum = float_optimum

    @property
    def amount_out(self) -> int:
        return self.amounts[-1]

    @property
    def profitable(self) -> bool:
        return self.profit > 0

    def __repr__(self) -> str:
        return f"CycleResult(amount_in={self.amount_in}, profit={self.profit}, amounts={self.amounts})"


def cycle_amounts(hops: Sequence[Hop], amount_in: int) -> list[int]:
    """Exact amounts along the cycle: [amount_in, out of hop 0, out of hop 1, ...]."""
    amounts = [amount_in]
    a = amount_in
    for pool, zero_for_one in hops:
        a = pool.quote_exact_in(zero_for_one, a)
        amounts.append(a)
    return amounts


def cycle_profit(hops: Sequence[Hop], amount_in: int) -> int:
    a = amount_in
    for pool, zero_for_one in hops:
        a = pool.quote_exact_in(zero_for_one, a)
    return a - amount_in


def float_optimum(hops: Sequence[Hop], max_input: float = inf) -> float | None:
    """Continuous optimum of the Möbius model, or None when a hop has no model.

    Returns 0.0 when the cycle is unprofitable at the margin.
    """
    found = _float_walk(hops, max_input)
    return None if found is None else found[0]


def _float_walk(hops: Sequence[Hop], max_input: float) -> tuple[float, float] | None:
    """(x_opt, |profit''| at x_opt) of the Möbius model; None when a hop has no model.

    Walks the pieces of the composite (a piece ends where some hop's input leaves its segment):
    if the composite slope at the end of the piece is still > 1 the optimum lies further, else it
    is inside the piece, where it is solved by safeguarded Newton on ``ln f'(x) = 0`` (``f'`` is
    decreasing: the composite is concave), starting from the closed-form optimum of the composed
    matrices. Values, slopes and inverses use the segments' local form (no cancellation).
    """
    curves = []
    for pool, zero_for_one in hops:
        curve = pool.float_segments(zero_for_one)
        if curve is None:
            return None
        curves.append(curve)
    if len(curves) == 2:
        return _walk_two(curves[0], curves[1], max_input)
    if len(curves) == 3:
        return _walk_three(curves[0], curves[1], curves[2], max_input)
    return _walk(curves, max_input, search=True)


def _walk(curves: list, max_input: float, start: tuple[list[int], float] | None = None,
          search: bool = False) -> tuple[float, float]:
    """The piece walk of :func:`_float_walk` for any number of hops.

    ``start``: ``(segment indices, x)``, a state of the walk to resume from (see
    :func:`_walk_search`); ``search``: after :data:`_LINEAR_PIECES` pieces, locate the optimum's
    piece by bisection instead (without it, the plain linear walk: the reference of the tests).
    """
    n = len(curves)
    if start is None:
        idx = [0] * n
        x_cur = 0.0
    else:
        idx = list(start[0])
        x_cur = start[1]
    segs = [c.segment(k) for c, k in zip(curves, idx)]
    seg_lists = [c.segments for c in curves]
    if any(seg is None for seg in segs):
        return 0.0, 0.0
    for piece in range(_MAX_WALK):
        if search and piece == _LINEAR_PIECES:
            return _walk_search(curves, idx, x_cur, max_input)
        # the first x at which some hop's input reaches the end of its segment
        x_break = inf
        which = -1
        for i in range(n):
            hi = segs[i][1]
            if hi == inf:
                continue
            v = hi
            for j in range(i - 1, -1, -1):  # invert the earlier hops' current segments
                x_lo, _, _, _, _, _, y0, a, b, c = segs[j]
                w = v - y0
                den = a - c * w
                if den <= 0.0 or w < 0.0:
                    v = inf  # this output is not reachable inside segment j
                    break
                v = x_lo + b * w / den
            if v < x_break:
                x_break = v
                which = i
        # (conditional expressions: min()/max() calls cost ~6x more in this per-piece loop)
        if x_break < x_cur:  # noqa: PLR1730
            x_break = x_cur
        x_end = x_break if x_break < max_input else max_input  # noqa: FURB136
        if x_end != inf:
            # composite slope at x_end (inline _slope: this check runs once per piece)
            y = x_end
            slope = 1.0
            for x_lo, _, _, _, _, _, y0, a, b, c in segs:
                u = y - x_lo
                den = b + c * u
                if den <= 0.0 or a <= 0.0 or b <= 0.0:
                    slope = 0.0
                    break
                slope *= a * b / (den * den)
                y = y0 + a * u / den
            if slope > 1.0:
                if x_break >= max_input:
                    return max_input, 0.0
                x_cur = x_break
                k = idx[which] + 1
                idx[which] = k
                known = seg_lists[which]
                seg = known[k] if k < len(known) else curves[which].segment(k)
                if seg is None:
                    return x_cur, 0.0
                segs[which] = seg
                continue
        return _solve_unit_slope(segs, x_cur, x_end)
    return min(x_cur, max_input), 0.0


def _walk_two(curve0, curve1, max_input: float) -> tuple[float, float]:
    """:func:`_float_walk` for two hops (two thirds of real arbitrage), with both current segments
    held in locals: the same pieces, breaks and slope test, without the per-piece tuple work."""
    seg0 = curve0.segment(0)
    seg1 = curve1.segment(0)
    if seg0 is None or seg1 is None:
        return 0.0, 0.0
    known0, known1 = curve0.segments, curve1.segments
    k0 = k1 = 0
    x_lo0, hi0, _, _, _, _, y00, a0, b0, c0 = seg0
    x_lo1, hi1, _, _, _, _, _, a1, b1, c1 = seg1
    x_cur = 0.0
    for _ in range(_LINEAR_PIECES):
        # where hop 1's input leaves its segment, mapped back through hop 0's current segment
        v1 = inf
        if hi1 != inf:
            w = hi1 - y00
            den = a0 - c0 * w
            if den > 0.0 and w >= 0.0:
                v1 = x_lo0 + b0 * w / den
        if hi0 != inf and hi0 <= v1:
            x_break, which = hi0, 0
        else:
            x_break, which = v1, 1
        if x_break < x_cur:  # noqa: PLR1730
            x_break = x_cur
        x_end = x_break if x_break < max_input else max_input  # noqa: FURB136
        if x_end != inf:
            slope = 0.0
            u = x_end - x_lo0
            den = b0 + c0 * u
            if den > 0.0 and a0 > 0.0 and b0 > 0.0:
                y = y00 + a0 * u / den
                slope = a0 * b0 / (den * den)
                u = y - x_lo1
                den = b1 + c1 * u
                slope = slope * a1 * b1 / (den * den) if den > 0.0 and a1 > 0.0 and b1 > 0.0 else 0.0
            if slope > 1.0:
                if x_break >= max_input:
                    return max_input, 0.0
                x_cur = x_break
                if which == 0:
                    k0 += 1
                    seg0 = known0[k0] if k0 < len(known0) else curve0.segment(k0)
                    if seg0 is None:
                        return x_cur, 0.0
                    x_lo0, hi0, _, _, _, _, y00, a0, b0, c0 = seg0
                else:
                    k1 += 1
                    seg1 = known1[k1] if k1 < len(known1) else curve1.segment(k1)
                    if seg1 is None:
                        return x_cur, 0.0
                    x_lo1, hi1, _, _, _, _, _, a1, b1, c1 = seg1
                continue
        return _solve_unit_slope([seg0, seg1], x_cur, x_end)
    return _walk_search([curve0, curve1], [k0, k1], x_cur, max_input)


def _walk_three(curve0, curve1, curve2, max_input: float) -> tuple[float, float]:
    """:func:`_float_walk` for three hops (the other third of real arbitrage), the same pieces,
    breaks (first hop wins ties) and slope test as :func:`_walk`, with the segments in locals."""
    seg0, seg1, seg2 = curve0.segment(0), curve1.segment(0), curve2.segment(0)
    if seg0 is None or seg1 is None or seg2 is None:
        return 0.0, 0.0
    known0, known1, known2 = curve0.segments, curve1.segments, curve2.segments
    k0 = k1 = k2 = 0
    x_lo0, hi0, _, _, _, _, y00, a0, b0, c0 = seg0
    x_lo1, hi1, _, _, _, _, y01, a1, b1, c1 = seg1
    x_lo2, hi2, _, _, _, _, _, a2, b2, c2 = seg2
    x_cur = 0.0
    for _ in range(_LINEAR_PIECES):
        x_break, which = inf, -1
        if hi0 != inf:
            x_break, which = hi0, 0
        if hi1 != inf:  # hop 1's segment end, through hop 0
            w = hi1 - y00
            den = a0 - c0 * w
            if den > 0.0 and w >= 0.0:
                v = x_lo0 + b0 * w / den
                if v < x_break:
                    x_break, which = v, 1
        if hi2 != inf:  # hop 2's segment end, through hops 1 and 0
            w = hi2 - y01
            den = a1 - c1 * w
            if den > 0.0 and w >= 0.0:
                w = x_lo1 + b1 * w / den - y00
                den = a0 - c0 * w
                if den > 0.0 and w >= 0.0:
                    v = x_lo0 + b0 * w / den
                    if v < x_break:
                        x_break, which = v, 2
        if x_break < x_cur:  # noqa: PLR1730
            x_break = x_cur
        x_end = x_break if x_break < max_input else max_input  # noqa: FURB136
        if x_end != inf:
            slope = 0.0
            u = x_end - x_lo0
            den = b0 + c0 * u
            if den > 0.0 and a0 > 0.0 and b0 > 0.0:
                slope = a0 * b0 / (den * den)
                u = y00 + a0 * u / den - x_lo1
                den = b1 + c1 * u
                if den > 0.0 and a1 > 0.0 and b1 > 0.0:
                    slope *= a1 * b1 / (den * den)
                    u = y01 + a1 * u / den - x_lo2
                    den = b2 + c2 * u
                    slope = slope * a2 * b2 / (den * den) if den > 0.0 and a2 > 0.0 and b2 > 0.0 else 0.0
                else:
                    slope = 0.0
            if slope > 1.0:
                if x_break >= max_input:
                    return max_input, 0.0
                x_cur = x_break
                if which == 0:
                    k0 += 1
                    seg0 = known0[k0] if k0 < len(known0) else curve0.segment(k0)
                    if seg0 is None:
                        return x_cur, 0.0
                    x_lo0, hi0, _, _, _, _, y00, a0, b0, c0 = seg0
                elif which == 1:
                    k1 += 1
                    seg1 = known1[k1] if k1 < len(known1) else curve1.segment(k1)
                    if seg1 is None:
                        return x_cur, 0.0
                    x_lo1, hi1, _, _, _, _, y01, a1, b1, c1 = seg1
                else:
                    k2 += 1
                    seg2 = known2[k2] if k2 < len(known2) else curve2.segment(k2)
                    if seg2 is None:
                        return x_cur, 0.0
                    x_lo2, hi2, _, _, _, _, _, a2, b2, c2 = seg2
                continue
        return _solve_unit_slope([seg0, seg1, seg2], x_cur, x_end)
    return _walk_search([curve0, curve1, curve2], [k0, k1, k2], x_cur, max_input)


def _locate(curves: list, x: float) -> tuple[list[int] | None, float]:
    """``(segment index of every hop, composite slope)`` at input ``x``: each hop's segment is the
    first whose ``x_hi`` is >= its input (found by bisection, generated as far as needed); the
    indices are None when a curve ends before its input (an exhausted model)."""
    ks = []
    y = x
    slope = 1.0
    for curve in curves:
        k = curve.index_of(y)
        seg = curve.segment(k)
        if seg is None:
            return None, 0.0
        ks.append(k)
        x_lo, _, _, _, _, _, y0, a, b, c = seg
        u = y - x_lo
        den = b + c * u
        if den <= 0.0 or a <= 0.0 or b <= 0.0:
            slope = 0.0
        else:
            slope *= a * b / (den * den)
        if den > 0.0:
            y = y0 + a * u / den
    return ks, slope


def _piece_start(curves: list, ks: list[int]) -> float:
    """Where the walk enters the piece of segments ``ks``: the break at which it advanced the hop
    it advanced last, i.e. the largest of the hops' segment starts mapped back to the cycle input
    through the earlier hops' segments of the piece (a start that maps back outside them was
    passed before an earlier hop advanced: not the last). The same formulas as the walk's breaks."""
    segs = [c.segments[k] for c, k in zip(curves, ks)]
    x_start = 0.0
    for i, k in enumerate(ks):
        if k == 0:
            continue
        v = curves[i].segments[k - 1][1]
        for j in range(i - 1, -1, -1):
            x_lo, _, _, _, _, _, y0, a, b, c = segs[j]
            w = v - y0
            den = a - c * w
            if den <= 0.0 or w < 0.0:
                v = inf
                break
            v = x_lo + b * w / den
        if v != inf and v > x_start:
            x_start = v
    return x_start


def _walk_search(curves: list, ks: list[int], x_cur: float, max_input: float) -> tuple[float, float]:
    """The rest of a long piece walk in O(log n) slope evaluations; the walk is in the piece of
    segments ``ks`` entered at ``x_cur``, with the composite slope still > 1 there.

    The composite slope is non-increasing (every hop is concave): galloping steps from ``x_cur``
    find an input where the walk would have stopped (slope <= 1, ``max_input`` reached or a model
    ended), then bisection narrows that bracket until a few pieces separate its ends. The walk
    resumes from the piece of the bracket's lower end (where the slope is still > 1), so the piece
    of the optimum, its bounds and the solve are the linear walk's own.
    """
    xa, ka = x_cur, ks
    step = x_cur if x_cur > 0.0 else 1.0
    while True:
        xb = xa + step
        if xb >= max_input:
            xb = max_input
        elif xb > 1e300:  # no end in sight: the plain walk decides
            return _walk(curves, max_input, (ka, _piece_start(curves, ka)))
        kb, slope = _locate(curves, xb)
        if kb is None or slope <= 1.0 or xb >= max_input:
            break
        xa, ka = xb, kb
        step *= 2.0
    while kb is None or sum(kb) - sum(ka) > _LINEAR_TAIL:
        xm = 0.5 * (xa + xb)
        if not xa < xm < xb:
            break
        km, slope = _locate(curves, xm)
        if km is not None and slope > 1.0:
            xa, ka = xm, km
        else:
            xb, kb = xm, km
    return _walk(curves, max_input, (ka, x_cur if ka is ks else _piece_start(curves, ka)))


def _slope(segs: list[tuple], x: float) -> tuple[float, float]:
    """(f'(x), d/dx ln f'(x)) of the composite of ``segs`` (local forms) at input ``x``."""
    y = x
    deriv = 1.0  # d(input of the current hop)/dx, then f'(x)
    dlog = 0.0
    for x_lo, _, _, _, _, _, y0, a, b, c in segs:
        u = y - x_lo
        den = b + c * u
        if den <= 0.0 or a <= 0.0 or b <= 0.0:
            return 0.0, 0.0  # a flat (exhausted) hop: the composite slope is 0
        dlog -= 2.0 * c / den * deriv
        deriv *= a * b / (den * den)
        y = y0 + a * u / den
    return deriv, dlog


def _solve_unit_slope(segs: list[tuple], lo: float, hi: float) -> tuple[float, float]:
    """x in [lo, hi] with composite slope 1 (or lo when the slope is <= 1 there already), and
    |f''| there. Safeguarded Newton on ``ln f'`` (decreasing), from the closed-form guess."""
    if _slope(segs, lo)[0] <= 1.0:
        return lo, 0.0
    # closed-form guess from the composed matrices
    a, b, c, d = 1.0, 0.0, 0.0, 1.0
    for seg in segs:
        p, q, r, s_ = seg[2], seg[3], seg[4], seg[5]
        a, b, c, d = p * a + q * c, p * b + q * d, r * a + s_ * c, r * b + s_ * d
        m = max(abs(a), abs(b), abs(c), abs(d))
        if m > 0.0 and (m > 1e150 or m < 1e-150):
            a, b, c, d = a / m, b / m, c / m, d / m
    if c * lo + d < 0.0:
        a, b, c, d = -a, -b, -c, -d
    det = a * d - b * c
    guess = (sqrt(det) - d) / c if c > 0.0 and det > 0.0 and isfinite(det) else nan
    if hi == inf:  # find a finite upper bracket
        hi = max(2.0 * lo, guess if not isnan(guess) and guess > lo else 1.0, 1.0)
        while _slope(segs, hi)[0] > 1.0:
            lo = hi
            hi *= 4.0
            if hi > 1e300:
                return hi, 0.0
    x = guess if not isnan(guess) and lo < guess < hi else 0.5 * (lo + hi)
    dlog = 0.0
    for _ in range(100):
        slope, dlog = _slope(segs, x)
        if slope > 1.0:
            lo = x
        else:
            hi = x
        if hi - lo <= 1e-12 * hi + 0.25:
            break
        step = x - log(slope) / dlog if slope > 0.0 and dlog < 0.0 else nan
        if not isnan(step) and lo < step < hi:
            if abs(step - x) <= 1e-13 * x + 0.01:  # Newton has converged (quadratically)
                x = step
                break
            x = step
        else:
            x = 0.5 * (lo + hi)
    return x, abs(dlog)  # at the optimum f' = 1, so f'' = f' * (ln f')' = (ln f')'


def _min_input_for_output(hops: Sequence[Hop], amount_out: int) -> int:
    """Smallest cycle input whose exact final output is >= ``amount_out`` (hops are monotone)."""
    need = amount_out
    for pool, zero_for_one in reversed(hops):
        need = pool.min_amount_in_for(zero_for_one, need)
    return need


def _golden_search(hops: Sequence[Hop], lo: int, hi: int) -> int:
    """Integer golden-section search on exact profit (fallback for non-Möbius hops)."""
    invphi = (sqrt(5.0) - 1.0) / 2.0
    while hi - lo > 2:
        m1 = hi - int((hi - lo) * invphi)
        m2 = lo + int((hi - lo) * invphi)
        if m1 >= m2:
            m1, m2 = (lo + hi) // 2, (lo + hi) // 2 + 1
        if cycle_profit(hops, m1) < cycle_profit(hops, m2):
            lo = m1
        else:
            hi = m2
    return max(range(lo, hi + 1), key=lambda x: cycle_profit(hops, x))


def _left_end(hops: Sequence[Hop], amounts: list[int], min_input: int) -> list[int]:
    """Amounts at the smallest input giving the same final output (the best point of its plateau).

    Walks back from the last hop: where the forward amounts already sit at a step (one unit less
    input gives less output) a single quote proves it, otherwise ``min_amount_in_for`` finds it.
    The one-quote probe is only tried where it is likely to succeed: when the hop's input token is
    not coarser-grained than its output (``amounts[i] <= amounts[i+1]``); an input much larger than
    its output sits on a wide plateau, where the probe would be a wasted quote.

    When every hop after the first keeps its amount, the smallest input for the first hop's output
    yields exactly the same later amounts: no forward re-quote is needed.
    """
    need = amounts[-1]
    n = len(hops)
    first_changed = n  # lowest hop index > 0 whose input amount moved
    try:
        for i in range(n - 1, -1, -1):
            pool, zero_for_one = hops[i]
            candidate = amounts[i]
            if need == amounts[i + 1] and (
                candidate <= 1
                or (candidate <= amounts[i + 1] and pool.quote_exact_in(zero_for_one, candidate - 1) < need)
            ):
                need = candidate
            else:
                need = pool.min_amount_in_for(zero_for_one, need)
                if i and need != candidate:
                    first_changed = i
    except AmmError:
        return amounts
    if min_input <= need < amounts[0]:
        if first_changed == n:
            # every later hop keeps its input: hop 0 at ``need`` gives >= amounts[1] (min input for
            # it) and <= amounts[1] (need < amounts[0], monotone): the same amounts from there on
            left = amounts.copy()
            left[0] = need
            return left
        left = cycle_amounts(hops, need)
        if left[-1] - left[0] >= amounts[-1] - amounts[0]:
            return left
    return amounts


def _right_neighbour(hops: Sequence[Hop], amounts: list[int]) -> list[int] | None:
    """Amounts at input + 1, or None when the first hop's output does not change (then the profit
    is one unit lower: no need to quote the rest)."""
    x = amounts[0] + 1
    pool, zero_for_one = hops[0]
    first = pool.quote_exact_in(zero_for_one, x)
    if first == amounts[1]:
        return None
    out = [x, first]
    a = first
    for pool, zero_for_one in hops[1:]:
        a = pool.quote_exact_in(zero_for_one, a)
        out.append(a)
    return out


_PHI_FRAC = (sqrt(5.0) - 1.0) / 2.0


def _polish(hops: Sequence[Hop], best: list[int], x_f: float, samples: int, window: float,
            min_input: int, max_input: int) -> tuple[list[int], int]:
    """Staircase polish: sample plateau left ends in ``x_f*(1 +- window)`` (low-discrepancy points).

    With two or more intermediate tokens the integer profit near the optimum is flat up to the
    floor loss of the coarse intermediates (one unit of a 6-decimal token is worth ~1e8 wei of
    WETH), so the best plateau is usually not the one under the continuous optimum.
    """
    span = x_f * window
    evaluations = 0
    for j in range(1, samples + 1):
        u = (j * _PHI_FRAC) % 1.0
        x = int(x_f + span * (2.0 * u - 1.0))
        if x < min_input or x > max_input:
            continue
        amounts = _left_end(hops, cycle_amounts(hops, x), min_input)
        evaluations += 1
        if amounts[-1] - amounts[0] > best[-1] - best[0]:
            best = amounts
    return best, evaluations


def _curve_slope(curve, x: float) -> float:
    """Derivative of a hop's Möbius model at input ``x``."""
    return curve.slope(x)


def _middle_targets(consumer: Hop, o0: int, width: int) -> list[int]:
    """Targets for the amount fed into ``consumer``: all of ``o0 +- width``, and, when the consumer
    is a V3 pool, the amounts just at or below the next multiples of its fee-floor period (the
    exact input loses ``1 - frac`` of a unit to ``mulDiv(remaining, 1e6 - fee, 1e6)`` in its last
    step, nothing when ``remaining*(1e6-fee)`` is a multiple of 1e6)."""
    targets = set(range(max(1, o0 - width), o0 + width + 1))
    pool, zero_for_one = consumer
    fee = getattr(pool, "fee_pips", None)
    if hasattr(pool, "tick_spacing") and fee:
        period = 1_000_000 // gcd(1_000_000, 1_000_000 - fee)
        if period > 2 * width:
            try:
                result = pool.simulate_exact_in(zero_for_one, o0)
            except AmmError:
                return sorted(targets)
            consumed_before = o0 - result.last_step_amount_remaining
            phase = (o0 - consumed_before) % period
            base = o0 - phase  # remaining is a multiple of the period here
            for centre in (base - period, base, base + period):
                for i in range(width // 2):
                    if centre - i > 0:
                        targets.add(centre - i)
    return sorted(targets)


def _min_inputs_sweep(pool: PoolState, zero_for_one: bool, targets: list[int]):
    """``(o, pool.min_amount_in_for(zero_for_one, o))`` for ascending ``targets`` (targets whose
    output is unreachable are skipped), the same integers with fewer quotes on runs of consecutive
    targets: the answer is monotone, so when the previous answer ``m`` already yields ``o`` it is
    the answer again, and when the previous step moved by one unit, ``m + 1`` is tried first (one
    quote instead of an exact-output quote and two checks)."""
    quote = pool.quote_exact_in
    m_prev = -1
    out_prev = -1  # quote(m_prev)
    step_prev = 0
    o_prev = None
    for o in targets:
        if o_prev is not None and o == o_prev + 1:
            if out_prev >= o:
                o_prev = o
                step_prev = 0
                yield o, m_prev
                continue
            if step_prev <= 1:
                out = quote(zero_for_one, m_prev + 1)
                if out >= o:  # quote(m_prev) < o <= quote(m_prev + 1)
                    m_prev += 1
                    out_prev = out
                    o_prev = o
                    step_prev = 1
                    yield o, m_prev
                    continue
        try:
            m = pool.min_amount_in_for(zero_for_one, o)
        except AmmError:
            o_prev = None
            continue
        step_prev = m - m_prev if o_prev is not None else 2
        m_prev = m
        out_prev = quote(zero_for_one, m) if o_prev is not None and step_prev <= 1 else o
        o_prev = o
        yield o, m


def _scan_middle(hops: Sequence[Hop], best: list[int], width: int, min_input: int,
                 max_input: int, only: list[int] | None = None) -> tuple[list[int], int]:
    """Staircase search over the output ``o`` of each hop k whose output is an intermediate token.

    Near the optimum the continuous profit is flat, and what decides the integer optimum is how
    much each hop loses to its own floors: hop k wastes part of a unit of ``o`` unless its input
    ``m = min_amount_in_for(o)`` lands just on a step, and a V3 hop downstream loses up to a unit
    of its input to the rounding of its last step. So for every ``o`` within ``best[k+1] +- width``
    the downstream hops are quoted exactly, the upstream cost of ``m`` is taken from the (smooth,
    fine-grained) float model slope, and the best few targets are then evaluated exactly.
    ``only``: scan just these hops (a re-scan around a moved coarse amount).
    """
    n = len(hops)
    curves = [pool.float_segments(z) for pool, z in hops]
    if any(c is None for c in curves):
        return best, 0
    evaluations = 0
    for k in range(n - 1) if only is None else only:
        pool_k, zfo_k = hops[k]
        upstream = 1.0
        for i in range(k):
            upstream *= _curve_slope(curves[i], float(best[i]))
        if upstream <= 0.0:
            continue
        cost = 1.0 / upstream  # cycle input per unit of hop k's input
        downstream_hops = hops[k + 1:]
        o0 = best[k + 1]
        m_ref = best[k]
        out_ref = best[-1]
        scored = []
        # the first hop's output is scanned narrowly: its cost is exact, and it only matters much
        # when that intermediate is very coarse
        targets = _middle_targets(hops[k + 1], o0, width if k else max(4, width // 4))
        for o, m in _min_inputs_sweep(pool_k, zfo_k, targets):
            a = o
            for pool, z in downstream_hops:
                a = pool.quote_exact_in(z, a)
            scored.append(((a - out_ref) - cost * (m - m_ref), o, m))
        scored.sort(reverse=True)
        for _, o, m in scored[:4]:
            try:
                x = _min_input_for_output(hops[:k], m)
            except AmmError:
                continue
            if not min_input <= x <= max_input:
                continue
            amounts = _left_end(hops, cycle_amounts(hops, x), min_input)
            evaluations += 1
            if amounts[-1] - amounts[0] > best[-1] - best[0]:
                best = amounts
    return best, evaluations


def _moved_to_edge(before: list[int], after: list[int], width: int) -> list[int]:
    """The hops whose output is a *very coarse* middle amount (one unit worth more than 1e-4 of the
    profit) that moved at least to the edge of its scan window (hop 0's window is
    ``max(4, width // 4)`` wide, the others' ``width``; see :func:`_scan_middle`): the best plateau
    may lie further out."""
    profit = max(1, after[-1] - after[0])
    moved = []
    for k in range(1, len(before) - 1):
        reach = max(4, width // 4) if k == 1 else width
        if abs(after[k] - before[k]) >= reach and after[k] > 0 and after[-1] / after[k] > 1e-4 * profit:
            moved.append(k - 1)
    return moved


def _doubling_points(lo: int, hi: int) -> list[int]:
    """The dust scan's inputs: ``lo * 2**k`` below ``hi``, then ``hi``."""
    points = []
    x = lo
    while x < hi:
        points.append(x)
        x *= 2
    points.append(hi)
    return points


def _exact_scan(hops: Sequence[Hop], min_input: int, max_input: int,
                curves: list | None = None) -> tuple[list[int], int]:
    """Best amounts over inputs ``min_input * 2**k`` (and ``max_input``), refined by golden
    section between the neighbours of the best point. Exact quotes only.

    ``curves``: the hops' float models, when every hop has one: the best point is then found with
    fewer exact evaluations (:func:`_scan_best`), the same point and profit.
    """
    points = _doubling_points(min_input, max_input)
    if curves is None:
        profits = [cycle_profit(hops, x) for x in points]
        k = max(range(len(points)), key=profits.__getitem__)
        best = profits[k]
    else:
        k, best = _scan_best(hops, curves, points)
    lo = points[k - 1] if k > 0 else points[k]
    hi = points[k + 1] if k + 1 < len(points) else points[k]
    x = points[k]
    if hi - lo > 2:
        x = _golden_search(hops, lo, hi)
        if cycle_profit(hops, x) < best:
            x = points[k]
    return cycle_amounts(hops, x), len(points) + 2 * max(1, (hi - lo).bit_length())


_MODEL_MARGIN = 1.000001  # exact outputs <= the float model's; this factor covers its float error


def _floor_bound(curves: list, x: int) -> tuple[int, int] | None:
    """Upper bounds on the exact amounts of input ``x``, from the float models: ``(i, 0)`` when the
    exact output of hop i is surely 0, else ``(-1, bound on the final output)``; None when a model
    gives no answer.

    Every exact output is an integer <= the continuous model's output for the same input (every
    rounding favours the pool), and the models are increasing: hop i's exact output is at most
    ``floor(model_i(bound on its exact input))`` (the float error covered by :data:`_MODEL_MARGIN`
    and half a unit), so it is 0 when the model gives less than half a unit.
    """
    y = x
    for i, curve in enumerate(curves):
        seg = curve.find(float(y))
        if seg is None:
            return None
        u = y - seg[0]
        v = seg[6] + seg[7] * u / (seg[8] + seg[9] * u)
        if not 0.0 <= v < 1e300:  # (also false for nan)
            return None
        y = int(v * _MODEL_MARGIN + 0.5)  # (+0.5: half a unit more of slack)
        if y <= 0:
            return i, 0
    return -1, y


def _scan_best(hops: Sequence[Hop], curves: list, points: list[int]) -> tuple[int, int]:
    """``(k, profit)`` of the first of ``points`` with the highest exact profit: the same as
    evaluating every point, with exact quotes only where an upper bound cannot rule a point out.

    * A point whose exact middle output is surely 0 (:func:`_floor_bound`) has the exact profit
      ``tail - x``, where ``tail`` is the cycle's exact output from a zero amount at that hop
      (quoted once). The points are ``min_input * 2**k``: that holds for a prefix of them (the
      models are increasing, and consecutive points differ by a factor of 2, far beyond their float
      error), found by bisection.
    * Any other point cannot be the first maximum when its upper bound (floored model output minus
      the input) is below a profit already known: its exact profit is lower still. The points are
      quoted in decreasing order of their bounds until the next bound is below the best profit.
    """
    tails = set()
    for i in range(len(hops)):
        a = 0
        for pool, zero_for_one in hops[i + 1:]:
            a = pool.quote_exact_in(zero_for_one, a)
        tails.add(a)
    m = len(points)
    profits: list[int | None] = [None] * m
    best = None
    start = 0
    if len(tails) == 1:
        tail = tails.pop()
        lo, hi = 0, m  # the number of leading points whose middle output is surely 0, in [lo, hi]
        while lo < hi:
            mid = (lo + hi) // 2
            bound = _floor_bound(curves, points[mid])
            if bound is not None and bound[0] >= 0:
                lo = mid + 1
            else:
                hi = mid
        start = lo
        for j in range(start):
            profits[j] = tail - points[j]
        if start:
            best = tail - points[0]
    order = []
    for j in range(start, m):
        bound = _floor_bound(curves, points[j])
        # a surely-zero middle output past the prefix (several tails): no bound used, quote it
        order.append((inf if bound is None or bound[0] >= 0 else bound[1] - points[j], j))
    order.sort(reverse=True)
    for upper, j in order:
        if best is not None and upper < best:
            break
        profit = cycle_profit(hops, points[j])
        profits[j] = profit
        if best is None or profit > best:
            best = profit
    return profits.index(best), best


def _profit_root_bound(hops: Sequence[Hop], x_f: float, max_input: int) -> int:
    """An input beyond which no integer input can profit: the first ``x_f * 2**k`` (k >= 1) where
    the continuous model's profit is clearly negative, else ``max_input``.

    Exact outputs never exceed the continuous ones (every rounding favours the pool) and the
    continuous profit is concave with its maximum at ``x_f``: once negative past ``x_f`` it stays
    negative. "Clearly": by more than a millionth of the input plus one unit, far above the float
    error of the model. Bounds the dust fallback's exact scan (else it would quote inputs up to
    ``max_input``, crossing every initialized tick of its V3 hops).
    """
    curves = [pool.float_segments(z) for pool, z in hops]
    x = max(2.0 * x_f, 2.0)
    while x < max_input:
        y = x
        for curve in curves:
            y = curve.value(y)
        if y - x < -1e-6 * x - 1.0:
            return int(x) + 1
        x *= 2.0
    return max_input


def _fee_floored_bound(curves: list, gammas: list[float], x: float) -> tuple[float, float] | None:
    """``(chi(x), chi'(x))``: a concave bound on the exact final output at cycle input ``x`` that
    also counts the V3 fee floors (see :func:`_dust_ruled_out`), and its slope (a supergradient);
    ``(-inf, 0.0)`` left of its domain (the bound on some fee-floored hop's input is below one
    unit: that hop's exact input is 0), None when a model gives no answer.

    Every hop maps its input bound ``y`` to ``model_i(y) * M + 0.5`` (the bound of
    :func:`_floor_bound` without the floor); a hop with ``gammas[i] > 0`` first maps it to
    ``min(y, (y - 1) / gamma)``.
    """
    y = x
    slope = 1.0
    for curve, gamma in zip(curves, gammas):
        if gamma > 0.0:
            if y < 1.0:
                return -inf, 0.0
            shifted = (y - 1.0) / gamma
            if shifted < y:
                y = shifted
                slope /= gamma
        seg = curve.find(y)
        if seg is None:
            return None
        x_lo, _, _, _, _, _, y0, a, b, c = seg
        u = y - x_lo
        den = b + c * u
        if den <= 0.0 or a < 0.0 or b <= 0.0:
            return None
        y = (y0 + a * u / den) * _MODEL_MARGIN + 0.5
        slope *= a * b / (den * den) * _MODEL_MARGIN
        if not 0.0 <= y < 1e300:  # (also false for nan)
            return None
    return y, slope


def _fee_floor_gammas(hops: Sequence[Hop], curves: list, lo: int) -> list[float]:
    """``1 - fee`` of the hops whose fee floor :func:`_fee_floored_bound` may count (V3/Algebra
    pools with a fee), 0.0 for the others. A hop after the first counts only if the cycle's exact
    output from a zero input at that hop (``tail``, quoted) is at most ``lo``: inputs where that
    hop gets nothing then cannot profit (their profit is ``tail - x``); the first hop counts only
    if ``lo >= 1`` (the cycle input is then at least one unit)."""
    gammas = []
    for i, (curve, (pool, zero_for_one)) in enumerate(zip(curves, hops)):
        gamma = 0.0
        if isinstance(curve, V3Curve):
            fee = pool._direction_fee(zero_for_one)
            if 0 < fee < 1_000_000:
                gamma = (1_000_000 - fee) / 1_000_000
        if gamma > 0.0:
            if i == 0:
                ok = lo >= 1
            else:
                tail = 0
                for later, z in hops[i:]:
                    tail = later.quote_exact_in(z, tail)
                ok = tail <= lo
            if not ok:
                gamma = 0.0
        gammas.append(gamma)
    return gammas


def _dust_ruled_out(hops: Sequence[Hop], curves: list, x_f: float, curvature: float,
                    lo: int, hi: int) -> bool:
    """True when no integer input in [lo, hi] can profit, proven with the fee floors of the cycle's
    V3/Algebra hops: the dust scan over [lo, hi] would find nothing. Catches most dust whose
    intermediate token is coarse (the continuous profit is worth less than a unit of it) or whose
    input is a few units: the fee floor of the next hop eats the profit.

    Soundness, for an integer input ``x`` in [lo, hi]:

    * A V3 exact-input swap of ``m >= 1`` units takes its fee first: the final (partial) step
      works on ``mulDiv(remaining, 1e6 - fee, 1e6)`` (floored) and each crossing step's input
      ``amountIn`` satisfies ``amountIn + ceil(amountIn*fee/(1e6-fee)) <= its share``; so the
      total fee-free input is an integer ``E <= floor(m * gamma) <= min(m * gamma, m - 1)``, and
      the output (every step rounds down, every price move rounds in the pool's favour) is at most
      the continuous fee-free output of ``E``: the hop's model at ``E / gamma <= min(m, (m-1) /
      gamma)``. Every hop's exact output is at most ``model * M + 0.5`` of a bound on its exact
      input (:func:`_floor_bound`). Composed, these increasing concave maps bound the exact final
      output by ``chi(x)`` (:func:`_fee_floored_bound`) wherever every counted hop's input bound
      is >= 1 (the domain: an interval up to ``hi``, where ``chi`` is concave).
    * Left of the domain some counted hop's exact input is 0, and the profit is that hop's
      ``tail - x <= lo - x <= 0`` (:func:`_fee_floor_gammas`).
    * A concave function lies below its tangent at any point ``t`` of its domain (with any
      supergradient: the models' left slopes), so ``chi(t) - t + max(0, s * (hi - t),
      s * (lo - t))``, ``s = chi'(t) - 1``, bounds ``chi(x) - x`` on [lo, hi]. The exact profit is
      an integer: a bound < 1 (with an allowance far above the models' float error) proves it <= 0.

    The tangent point moves from ``x_f`` towards the maximum of ``chi(x) - x`` by a few
    Newton/secant steps (only the bound's tightness depends on it, never its soundness); the
    search gives up as soon as ``chi(t) - t`` itself is not below 1 (then no tangent does better).
    """
    gammas = _fee_floor_gammas(hops, curves, lo)
    if not any(gammas):
        return False
    allowance = 1e-9 * hi + 1e-6
    t = min(max(x_f, float(lo)), float(hi))
    t_hi = None  # set once the search has jumped to the end of the range
    prev = None
    for _ in range(5):
        found = _fee_floored_bound(curves, gammas, t)
        if found is None:
            return False
        value, slope = found
        if value == -inf:  # t is left of the domain, and so is every input <= t
            if t >= hi:
                return True  # every input in range: profit <= tail - x <= 0
            if t_hi is not None:
                return False
            t = t_hi = float(hi) if float(hi) >= hi else nextafter(float(hi), inf)
            prev = None
            continue
        d = slope - 1.0  # d/dx (chi(x) - x) at t
        at_t = value - t + allowance
        if at_t >= 1.0:
            return False
        if at_t + max(0.0, d * (hi - t), d * (lo - t)) < 1.0:
            return True
        # next tangent point: secant on the slope (first a Newton step with the walk's curvature)
        if prev is not None and prev[1] != d and prev[0] != t:
            step = -d * (t - prev[0]) / (d - prev[1])
        elif curvature > 0.0:
            step = d / curvature
        else:
            return False
        prev = (t, d)
        nxt = min(max(t + step, float(lo)), float(hi))
        if not isfinite(nxt) or nxt == t:
            return False
        t = nxt
    return False


def _numeric_curvature(hops: Sequence[Hop], x: int, min_input: int, max_input: int) -> float:
    """|profit''| at ``x`` from exact quotes 1% either side (for hops without a float model)."""
    h = max(1, x // 100)
    if x - h < min_input or x + h > max_input:
        return 0.0
    second = cycle_profit(hops, x + h) + cycle_profit(hops, x - h) - 2 * cycle_profit(hops, x)
    return abs(second) / (h * h) if second < 0 else 0.0


def optimize_cycle(hops: Sequence[Hop], max_input: int, *, min_input: int = 1,
                   polish_samples: int | None = None, polish_window: float = 0.1,
                   scan_width: int = 32) -> CycleResult | None:
    """Integer input in [min_input, max_input] maximising exact profit, with every hop's amount.

    Returns None when no input in range makes a profit (including when the cycle is unprofitable
    at the margin. ``hops`` is a sequence of ``(pool, zero_for_one)``; the output token of each
    hop must be the input token of the next and the last must return the first's input token.

    Cycles of 3+ hops get a staircase polish (two intermediates make the integer profit flat up to
    the floor losses of the middle hops): ``polish_samples`` plateau samples within the window
    where the continuous profit drops by less than one intermediate unit (:func:`_polish`, default
    32, 0 disables the polish), then a scan of ``scan_width`` targets either side of each middle
    hop's output, plus the targets that align the next V3 hop's fee floor (:func:`_scan_middle`).
    """
    if not 2 <= len(hops) <= 8:
        raise AmmError(f"cycle of {len(hops)} hops: 2 to 8 supported")
    if max_input < min_input:
        return None
    for pool, zero_for_one in hops:
        pool.warm_quotes(zero_for_one)
    found = _float_walk(hops, float(max_input))
    curvature = 0.0
    if found is None:
        x0 = _golden_search(hops, min_input, max_input)
        x_f = float(x0)
        curvature = _numeric_curvature(hops, x0, min_input, max_input)
    else:
        x_f, curvature = found
        if x_f <= 0.0:
            # unprofitable at the margin; exact outputs never exceed the continuous ones (every
            # rounding favours the pool), so no integer input can profit either
            return None
        x0 = int(x_f)  # may be 0 for dust-sized optima: clamped to min_input below
    x0 = min(max(x0, min_input), max_input)
    evaluations = 0

    amounts = cycle_amounts(hops, x0)
    evaluations += 1
    if amounts[-1] - amounts[0] <= 0:
        # dust-sized optimum (a fee floor or an exhausted pool makes the first wei worthless) or a
        # model miss: search the exact profit instead of trusting the float optimum, over the
        # inputs where the continuous profit is still positive (no integer input beyond can profit)
        scan_max = max_input if found is None else _profit_root_bound(hops, x_f, max_input)
        curves = None if found is None else [pool.float_segments(z) for pool, z in hops]
        if curves is not None and _dust_ruled_out(hops, curves, x_f, curvature, min_input,
                                                  max(min_input, scan_max)):
            # every input the scan would quote is proven unprofitable: it would return None
            return None
        amounts, n = _exact_scan(hops, min_input, max(min_input, scan_max), curves)
        evaluations += n
        if amounts[-1] - amounts[0] <= 0:
            return None
    best = _left_end(hops, amounts, min_input)
    if found is not None and curvature == 0.0 and x_f < max_input:
        # a kink optimum: some pool runs dry at x_f (the model's slope drops to 0 there). The exact
        # swap only drains it a few wei later (every step rounds its input up), and the drained
        # output may be a plateau well above the one under x_f: try the left end of the plateau
        # just past the model's exhaustion point too
        past = min(max_input, int(x_f * (1.0 + 1e-9)) + 64)
        if past > best[0]:
            drained = _left_end(hops, cycle_amounts(hops, past), min_input)
            evaluations += 1
            if drained[-1] - drained[0] > best[-1] - best[0]:
                best = drained
    # staircase polish: always for 3+ hops; for 2 hops only when one unit of the intermediate is
    # worth more than a millionth of the profit (a very coarse intermediate)
    coarse = any(m > 0 and best[-1] / m > 1e-6 * max(1, best[-1] - best[0]) for m in best[1:-1])
    if polish_samples is None:
        polish_samples = 32 if len(hops) > 2 or coarse else 0
    if polish_samples:
        # the floor loss of a coarse intermediate is worth about x / m_k input units; the profit
        # curve drops by that much at distance sqrt(2*N/|f''|) from the optimum: search inside it
        noise = max(best[0] / m for m in best[1:-1] if m > 0) if min(best[1:-1]) > 0 else 0.0
        if curvature > 0.0 and x_f > 0.0:
            window = min(polish_window, sqrt(2.0 * noise / curvature) / x_f)
        else:
            window = polish_window
        best, n = _polish(hops, best, max(x_f, float(best[0])), polish_samples, window, min_input, max_input)
        evaluations += n
        only = None
        for _ in range(2):  # at most one re-scan: each costs a scan of the moved hop
            before = best
            best, n = _scan_middle(hops, best, scan_width, min_input, max_input, only)
            evaluations += n
            # a very coarse intermediate (a few units) can put the best plateau several units
            # away: scan those hops again around the new best while it moves to the window's edge
            only = _moved_to_edge(before, best, scan_width) if best is not before else []
            if not only:
                break
    # from the left end of the plateau, step right while that gains (the slope can still exceed 1
    # where the float model is a few wei off, e.g. at the exact point a pool runs dry): galloping
    # steps 1, 2, 4, ... restarted at 1 after each miss, until a step of 1 gains nothing
    step = 1
    for _ in range(256):
        x = best[0] + step
        if x > max_input:
            if step == 1:
                break
            step = 1
            continue
        right = _right_neighbour(hops, best) if step == 1 else cycle_amounts(hops, x)
        evaluations += 1
        if right is not None and right[-1] - right[0] > best[-1] - best[0]:
            best = _left_end(hops, right, min_input)
            step *= 2
        elif step == 1:
            break
        else:
            step = 1
    if best[-1] - best[0] <= 0:
        return None
    return CycleResult(best, evaluations, x_f)
