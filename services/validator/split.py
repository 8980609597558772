"""Sizing and splitting a trade so that it respects the profile (pure, exact integers).

When a candidate's size breaks an impact or tick limit, or the maximum position, two remedies:

* **downsize**: the most profitable input no larger than the largest input that keeps every hop
  (and the path) within the limits;
* **split across parallel pools**: the same path, with one hop routed through another pool of the
  same pair (e.g. WETH/USDC at 500 and at 3000), as separate parts executed one after the other.
  Parts are chosen greedily on pool copies: each round sizes every variant on the state left by the
  previous parts, keeps the one with the best *net* profit (each part pays its own flash fee and
  gas, given by ``part_cost``), applies its swaps, and repeats up to ``max_parts``. Impacts are
  measured against the pools' state before the first part, so the parts together stay within the
  limits, not just each part alone (a later part's execution price is compared with the mid
  before the first part).

The split is recommended only when its total net profit beats the single downsized path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mevbot.amm.base import PoolState
from mevbot.amm.cycle import optimize_cycle
from mevbot.errors import AmmError

from services.validator.impact import PPM, _impact, impact_ppm_float, path_impact_ppm, pool_impact_terms

PathHop = tuple[PoolState, bool]  # (pool, zero_for_one)


@dataclass(frozen=True)
class Limits:
    max_hop_impact_ppm: int  # inclusive
    max_path_impact_ppm: int  # inclusive
    max_ticks_crossed: int  # inclusive, per pool over all parts
    max_input: int  # maximum position in start-token units


@dataclass(frozen=True)
class Part:
    pools: tuple[str, ...]
    directions: tuple[bool, ...]
    amounts: tuple[int, ...]  # amounts[0] is the input, amounts[i + 1] the exact output of hop i
    hop_impacts_ppm: tuple[int, ...]  # cumulative, against the state before the first part
    ticks_crossed: tuple[int, ...]
    cost: int  # flash fee + gas, start-token units
    kinds: tuple[str, ...] = ()  # each pool's ``PoolState.kind`` (a parallel pool may be another kind)
    fees_pips: tuple[int, ...] = ()

    @property
    def amount_in(self) -> int:
        return self.amounts[0]

    @property
    def gross_profit(self) -> int:
        return self.amounts[-1] - self.amounts[0]

    @property
    def net_profit(self) -> int:
        return self.gross_profit - self.cost

    @property
    def path_impact_ppm(self) -> int:
        return path_impact_ppm(self.hop_impacts_ppm)


@dataclass(frozen=True)
class SizingDecision:
    kind: str  # "downsized" | "split"
    parts: tuple[Part, ...]
    single_net_profit: int  # the best single-path net profit (what the split is compared with)

    @property
    def net_profit(self) -> int:
        return sum(p.net_profit for p in self.parts)


class _Book:
    """Pool copies that parts mutate, the untouched originals and ticks crossed so far."""

    def __init__(self, pools: Sequence[PoolState]) -> None:
        self.original = {p.address: p for p in pools}
        # copy on write: trials and sizing only read, so a pool is copied the first time a part is
        # committed through it (a V3 copy duplicates its tick map); until then "current" is the
        # original itself, whose quote caches earlier validations of the same state filled
        self.current = dict(self.original)
        self._copied: set[str] = set()
        self.ticks = {p.address: 0 for p in pools}

    def trial(self, path: Sequence[PathHop], amount_in: int, limits: Limits) -> tuple[list[int], list[int], list[int]] | None:
        """Run ``path`` on the current state; the amounts, impacts and ticks, or None if over a limit.

        Nothing is mutated: a path through each pool once (a cycle; a variant replaces a hop by a
        pool not on the path) reads each hop off the current state (:func:`_swap_read_only`), a
        path that used a pool twice would run on scratch copies."""
        return self.probe(path, amount_in, limits, measure=False)[0]

    def probe(self, path: Sequence[PathHop], amount_in: int, limits: Limits, *,
              measure: bool = True) -> tuple[tuple[list[int], list[int], list[int]] | None, float]:
        """:meth:`trial`'s verdict, and with ``measure`` how much of the limits the size uses: the
        largest of each hop's unrounded impact, the path's and the ticks crossed as a fraction of
        its limit (at most 1.0 when the trial passes; ``inf`` when a hop cannot take the input).
        The fraction only steers :func:`max_size_within_limits`; the verdict alone decides."""
        reuse = len({p.address for p, _ in path}) != len(path)
        scratch: dict[str, PoolState] = {}
        amounts = [amount_in]
        impacts: list[int] = []
        ticks: list[int] = []
        load = 0.0
        keep = 1.0  # the path's unrounded 1 - impact (for the measure)
        a = amount_in
        for pool, zfo in path:
            addr = pool.address
            try:
                if reuse:
                    state = scratch.get(addr)
                    if state is None:
                        state = scratch[addr] = self.current[addr].copy()
                    result = state.execute_swap(zfo, a)
                    used, out, crossed_now = result.amount_in, result.amount_out, getattr(result, "ticks_crossed", 0)
                else:
                    used, out, crossed_now = _swap_read_only(self.current[addr], zfo, a)
            except AmmError:
                return None, _INF
            if used != a:  # ran out of liquidity: the contract would not take it all
                return None, _INF
            a = out
            amounts.append(a)
            crossed = self.ticks[addr] + crossed_now
            num, den = pool_impact_terms(self.original[addr], zfo, amounts[-2], a)
            impact = _impact(num, den)
            if measure:
                exact_ppm = impact_ppm_float(num, den)
                keep *= 1.0 - exact_ppm / PPM
                load = max(load, _fraction(exact_ppm, limits.max_hop_impact_ppm),
                           _fraction(crossed, limits.max_ticks_crossed))
            if impact > limits.max_hop_impact_ppm or crossed > limits.max_ticks_crossed:
                return None, load
            impacts.append(impact)
            ticks.append(crossed)
        if measure:
            load = max(load, _fraction((1.0 - keep) * PPM, limits.max_path_impact_ppm))
        if path_impact_ppm(impacts) > limits.max_path_impact_ppm:
            return None, load
        return (amounts, impacts, ticks), load

    def commit(self, path: Sequence[PathHop], amount_in: int, ticks: Sequence[int]) -> None:
        a = amount_in
        for (pool, zfo), crossed in zip(path, ticks):
            addr = pool.address
            if addr not in self._copied:
                self.current[addr] = self.current[addr].copy()
                self._copied.add(addr)
            a = self.current[addr].execute_swap(zfo, a).amount_out
            self.ticks[addr] = crossed

    def path_on_current(self, path: Sequence[PathHop]) -> list[PathHop]:
        return [(self.current[p.address], zfo) for p, zfo in path]


def _swap_read_only(state: PoolState, zero_for_one: bool, amount_in: int) -> tuple[int, int, int]:
    """``(amount_in used, amount_out, initialized ticks crossed)`` of ``state.copy().execute_swap(
    zero_for_one, amount_in)``, without the copy where the pool can tell it read only.

    V3/Algebra: from the pool's step cache (``swap_exact_in_summary``, the swap loop's own
    integers: tests/unit/amm/test_step_cache.py), built once per state and reused by every trial of
    the bisection (each trial of a large input walked every tick on a fresh copy of the tick map);
    a zero input raises as the loop does (``AS``). Other pools: the copy and the swap (a V2 copy is
    a few attributes; its swap also checks the reserves' range).
    """
    summary = getattr(state, "swap_exact_in_summary", None)
    if summary is None:
        result = state.copy().execute_swap(zero_for_one, amount_in)
        return result.amount_in, result.amount_out, getattr(result, "ticks_crossed", 0)
    if amount_in == 0:
        raise AmmError("UniswapV3Pool.swap: AS (amountSpecified is 0)")
    used, out, _, crossed = summary(zero_for_one, amount_in)
    return used, out, crossed


def max_size_within_limits(book: _Book, path: Sequence[PathHop], limits: Limits,
                           fails_at: tuple[int, float] | None = None) -> int:
    """Largest input in [0, limits.max_input] whose trial passes every limit (impact grows with
    the input, up to rounding).

    What a bisection over the trials finds (an input that passes while one wei more fails), in fewer
    trials: once an input passed, each guess interpolates where the used fraction of the limits
    (:meth:`_Book.probe`, smooth in the input where a bisection only sees pass / fail) reaches 1
    between the largest passing and the smallest failing input so far (regula falsi with the
    Illinois correction), and a bisection step follows any guess that did not halve the interval (a
    step-shaped limit such as ticks crossed, or a refused hop), so it never takes more than about
    twice the bisection's ~log2(max_input) trials. The verdict is exact; near the boundary it can
    saw-tooth (an intermediate amount rounds down by one unit, the next hop's impact jumps), and
    there either search may stop at another tooth than the other would, a few units of the
    intermediate token apart (tests/unit/validator/test_split_trial.py).

    ``fails_at``: ``(input, its probe's load)`` of an input known to fail (e.g. the unconstrained
    optimum), searched below instead of from ``limits.max_input``.
    """
    lo, hi = 0, limits.max_input
    if hi <= 0:
        return 0
    if fails_at is not None and fails_at[0] <= hi:
        hi, load_hi = fails_at
    else:
        verdict, load_hi = book.probe(path, hi, limits)
        if verdict is not None:
            return hi
    # until an input passes, aim below the failing end where the limit would be reached (or halve
    # it when its measure cannot say): 0 is not a usable passing end, since a very small input can
    # fail too (its output rounds down to a large impact)
    load_lo = _INF
    moved = 0  # the end the last trial moved: -1 lo, +1 hi
    bisect = False
    while hi - lo > 1:
        width = hi - lo
        if lo == 0 and not bisect and 1.0 < load_hi < _INF:
            # nothing passed yet: impact grows about in proportion to the input, aim just under
            # where the limit would be reached
            x = min(max(int(hi / load_hi * 0.95), 1), hi - 1)
        elif bisect or lo == 0 or not load_lo < 1.0 < load_hi < _INF:
            x = lo + width // 2
        else:
            x = lo + int(width * ((1.0 - load_lo) / (load_hi - load_lo)))
            x = min(max(x, lo + 1), hi - 1)
        verdict, load = book.probe(path, x, limits)
        if verdict is not None:
            lo, load_lo = x, min(load, 1.0)
            if moved == -1:  # Illinois: the end left behind twice pulls half as hard
                load_hi = 1.0 + (load_hi - 1.0) / 2
            moved = -1
        else:
            hi, load_hi = x, max(load, 1.0)
            if moved == 1:
                load_lo = 1.0 - (1.0 - load_lo) / 2
            moved = 1
        bisect = not bisect and hi - lo > width // 2
    return lo


def _fraction(value: float, limit: int) -> float:
    """``value`` as a fraction of ``limit`` (a limit of 0: 0 when nothing is used, else inf)."""
    if limit > 0:
        return value / limit
    return 0.0 if value <= 0 else _INF


_INF = float("inf")


def _best_part(book: _Book, path: Sequence[PathHop], limits: Limits,
               part_cost: Callable[[int], int]) -> Part | None:
    """The most profitable single part on ``path`` within ``limits``: the optimum itself when it
    keeps every limit (no search at all), else the optimum below the largest input that does."""
    if limits.max_input <= 0:
        return None
    on_current = book.path_on_current(path)
    sized = optimize_cycle(on_current, limits.max_input)
    if sized is None:
        return None
    trial, load = book.probe(path, sized.amount_in, limits)
    if trial is None:
        cap = max_size_within_limits(book, path, limits, fails_at=(sized.amount_in, load))
        if cap <= 0:
            return None
        sized = optimize_cycle(on_current, cap)
        if sized is None:
            return None
        trial = book.trial(path, sized.amount_in, limits)
        if trial is None:
            return None
    amounts, impacts, ticks = trial
    return Part(
        pools=tuple(p.address for p, _ in path),
        directions=tuple(z for _, z in path),
        amounts=tuple(amounts),
        hop_impacts_ppm=tuple(impacts),
        ticks_crossed=tuple(ticks),
        cost=part_cost(amounts[0]),
        kinds=tuple(p.kind for p, _ in path),
        fees_pips=tuple(getattr(p, "fee_pips", 0) for p, _ in path),
    )


def variants(path: Sequence[PathHop], alternatives: dict[int, Sequence[PathHop]]) -> list[list[PathHop]]:
    """The path itself, then the path with one hop replaced by a parallel pool of the same pair."""
    out = [list(path)]
    used = {p.address for p, _ in path}
    for k, alts in sorted(alternatives.items()):
        for alt in alts:
            if alt[0].address in used:
                continue
            v = list(path)
            v[k] = alt
            out.append(v)
    return out


def recommend(
    path: Sequence[PathHop],
    limits: Limits,
    part_cost: Callable[[int], int],
    alternatives: dict[int, Sequence[PathHop]] | None = None,
    max_parts: int = 3,
    min_part_profit: int = 1,
) -> SizingDecision | None:
    """The best way to trade ``path`` within ``limits``; None when nothing earns a net profit.

    A part of a split must earn at least ``min_part_profit`` net (start-token units) on its own.
    """
    alternatives = alternatives or {}
    all_paths = variants(path, alternatives)
    pools = {p.address: p for v in all_paths for p, _ in v}
    single = _best_part(_Book(list(pools.values())), path, limits, part_cost)
    single_net = single.net_profit if single is not None else 0

    parts: list[Part] = []
    if len(all_paths) > 1 and max_parts > 1:
        book = _Book(list(pools.values()))
        for _ in range(max_parts):
            best: tuple[Part, list[PathHop]] | None = None
            for v in all_paths:
                part = _best_part(book, v, limits, part_cost)
                if part is not None and part.net_profit >= max(1, min_part_profit) \
                        and (best is None or part.net_profit > best[0].net_profit):
                    best = (part, v)
            if best is None:
                break
            parts.append(best[0])
            book.commit(best[1], best[0].amount_in, best[0].ticks_crossed)

    if len(parts) > 1 and sum(p.net_profit for p in parts) > single_net:
        return SizingDecision("split", tuple(parts), single_net)
    if single is not None and single.net_profit > 0:
        return SizingDecision("downsized", (single,), single_net)
    return None


__all__ = ["PPM", "Limits", "Part", "PathHop", "SizingDecision", "max_size_within_limits", "recommend", "variants"]
