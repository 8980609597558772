"""Evaluate one cycle on the current pool states: screen, size exactly, describe every hop.

1. **Screen** (floats, ~1 µs per hop): the product of the hops' marginal rates at zero size
   (mid price x (1 - fee), :func:`marginal_rate_bound`). Every hop's output is concave in its
   input, so when the product is <= 1 no input makes a profit and the exact sizing is skipped. A
   small tolerance keeps float rounding from hiding a real (tiny) opportunity: the exact step
   decides.
2. **Size** (exact integers): :func:`mevbot.amm.cycle.optimize_cycle` gives the integer input that
   maximises profit and the exact output of every hop. The detector's hot path (``sizing="fast"``,
   the default) skips its staircase polish (``polish_samples=0``): the result is still a local
   integer optimum (profit at x >= profit at x +- 1) with exact hop amounts, 50-70 µs for 3 hops
   instead of 0.7-1.1 ms, within ~2e-7 relative of the polished profit on real-size cycles. The
   validator re-sizes every candidate with the full search under its own limits anyway. (A *dust*
   cycle, whose exact profit at the continuous optimum is not positive, falls back to an exact
   scan that the library bounds where the continuous profit turns negative.)
3. **Describe**: each hop's exact swap summary on the unchanged pool (cycles never reuse a pool),
   from the V3 step cache the sizing filled, for the price-impact fields of
   :class:`mevbot.messages.Hop`; a hop that could not take its whole input (V3 price limit
   reached) makes the cycle unexecutable as sized: refused.
"""

from __future__ import annotations

from mevbot import messages as m
from mevbot.amm.base import PoolState
from mevbot.amm.cycle import optimize_cycle
from mevbot.errors import AmmError

from services.detector.cycles import Cycle

#: Float screening tolerance on the product of marginal rates (exact sizing decides above it).
SCREEN_TOLERANCE = 1e-9
#: Upper bound of a cycle's input for sizing (the optimum is found well below it).
DEFAULT_MAX_INPUT = 1 << 120


class Opportunity:
    """A sized profitable cycle (what a Candidate is built from)."""

    __slots__ = ("amounts", "cycle", "hops", "profit")

    def __init__(self, cycle: Cycle, amounts: list[int], hops: list[m.Hop]) -> None:
        self.cycle = cycle
        self.amounts = amounts
        self.hops = hops
        self.profit = amounts[-1] - amounts[0]


class EvaluationStats:
    __slots__ = ("errors", "evaluated", "profitable", "refused", "screened_out", "unprofitable")

    def __init__(self) -> None:
        self.evaluated = self.screened_out = self.unprofitable = self.profitable = 0
        self.refused = self.errors = 0


_Q192 = float(1 << 192)


def marginal_rate_bound(pool: PoolState, zero_for_one: bool) -> float:
    """An upper bound of the hop's output per unit of input at any size: mid price x (1 - fee).

    Exact at zero size for constant-product and for V3/Algebra with liquidity in range; an upper
    bound otherwise (out(x)/x only falls as x grows, and an empty range cannot beat the mid price).
    Stable pairs (not price-based) ask the AMM library. About 1 µs, where building the pool's
    float curve (``spot_rate``) costs ~100 µs after each state change.
    """
    fee = _fee_of(pool, zero_for_one)
    sqrt_price = getattr(pool, "sqrt_price_x96", None)
    if sqrt_price is not None:
        price = sqrt_price * sqrt_price / _Q192  # token1 per token0
        rate = price if zero_for_one else (1.0 / price if price > 0.0 else 0.0)
    elif not getattr(pool, "stable", False):
        r0, r1 = pool.reserve0, pool.reserve1
        if r0 <= 0 or r1 <= 0:
            return 0.0
        rate = r1 / r0 if zero_for_one else r0 / r1
    else:
        return pool.spot_rate(zero_for_one)
    return rate * (1_000_000 - fee) / 1_000_000


def marginal_rate_product(pools: list[PoolState], cycle: Cycle) -> float:
    """Upper bound of the cycle's output per unit of input: <= 1 means no size makes a profit."""
    rate = 1.0
    for pool, zero_for_one in zip(pools, cycle.zero_for_one):
        rate *= marginal_rate_bound(pool, zero_for_one)
        if rate == 0.0:
            break
    return rate


#: ``optimize_cycle(polish_samples=...)`` per sizing mode: "fast" = no staircase polish,
#: "full" = the library default (polish on 3+ hops and coarse 2-hop cycles)
POLISH_SAMPLES = {"fast": 0, "full": None}
def evaluate_cycle(cycle: Cycle, pools: list[PoolState], kinds: list[m.PoolKind], stats: EvaluationStats,
                   max_input: int = DEFAULT_MAX_INPUT, *, screen: bool = True,
                   sizing: str = "fast") -> Opportunity | None:
    """The cycle's optimal exact trade on ``pools`` (one state per hop, of ``kinds``), or None.

    ``screen=False`` when the caller already screened (and counted) the cycle; ``sizing`` is
    ``"fast"`` (exact local integer optimum, no polish) or ``"full"`` (see the module docstring).
    """
    try:
        if screen and marginal_rate_product(pools, cycle) <= 1.0 - SCREEN_TOLERANCE:
            stats.screened_out += 1
            return None
        hops_in = list(zip(pools, cycle.zero_for_one))
        result = optimize_cycle(hops_in, max_input, polish_samples=POLISH_SAMPLES[sizing])
        if result is None or result.profit <= 0:
            stats.unprofitable += 1
            return None
        hops = describe_hops(cycle, pools, kinds, result.amounts)
    except AmmError:
        stats.errors += 1
        return None
    if hops is None:
        stats.refused += 1
        return None
    stats.profitable += 1
    return Opportunity(cycle, result.amounts, hops)


def describe_hops(cycle: Cycle, pools: list[PoolState], kinds: list[m.PoolKind],
                  amounts: list[int]) -> list[m.Hop] | None:
    """Per-hop exact swap summary (input used, output, V3 price after and ticks crossed); None when a
    hop would not consume its whole input or its output differs from the sizing's."""
    hops: list[m.Hop] = []
    append = hops.append
    Hop = m.Hop
    cycle_pools, tokens = cycle.pools, cycle.tokens
    for i, (pool, zero_for_one) in enumerate(zip(pools, cycle.zero_for_one)):
        amount_in = amounts[i]
        amount_out = amounts[i + 1]
        summary = getattr(pool, "swap_exact_in_summary", None)
        if summary is not None:
            # V3/Algebra: from the step cache sizing just filled (the loop would walk every tick)
            used, out, price_after, ticks_crossed = summary(zero_for_one, amount_in)
        else:
            sim = pool.simulate_exact_in(zero_for_one, amount_in)
            used, out, price_after, ticks_crossed = sim.amount_in, sim.amount_out, sim.sqrt_price_x96_after, 0
        if used != amount_in or out != amount_out:
            return None
        # keywords spelled out (a ``**dict`` call builds the struct several times slower)
        if hasattr(pool, "reserve0"):
            if zero_for_one:
                reserve_in, reserve_out = pool.reserve0, pool.reserve1
            else:
                reserve_in, reserve_out = pool.reserve1, pool.reserve0
            append(Hop(pool=cycle_pools[i], kind=kinds[i], token_in=tokens[i], token_out=tokens[i + 1],
                       zero_for_one=zero_for_one, amount_in=amount_in, amount_out=amount_out,
                       fee_pips=_fee_of(pool, zero_for_one), reserve_in=reserve_in, reserve_out=reserve_out))
        else:
            append(Hop(pool=cycle_pools[i], kind=kinds[i], token_in=tokens[i], token_out=tokens[i + 1],
                       zero_for_one=zero_for_one, amount_in=amount_in, amount_out=amount_out,
                       fee_pips=_fee_of(pool, zero_for_one), sqrt_price_x96_before=pool.sqrt_price_x96,
                       sqrt_price_x96_after=price_after, ticks_crossed=ticks_crossed, liquidity=pool.liquidity))
    return hops


#: pool class -> the name of its per-direction fee method (None: a plain ``fee_pips``), found once
#: per class: probing the instance with getattr each time raised and caught an AttributeError per
#: miss (V3 pools have no ``_fee_for``), on every hop of every sizing and screen
_FEE_METHOD: dict[type, str | None] = {}
_FEE_METHOD_NAMES = ("_fee_for", "_direction_fee")


def _fee_of(pool: PoolState, zero_for_one: bool) -> int:
    """The fee (pips) this direction pays: Camelot V2 and Algebra fees depend on the direction."""
    cls = type(pool)
    try:
        name = _FEE_METHOD[cls]
    except KeyError:
        name = _FEE_METHOD[cls] = next((n for n in _FEE_METHOD_NAMES if getattr(cls, n, None) is not None), None)
    if name is not None:
        return getattr(pool, name)(zero_for_one)
    # no method on the class: probe the instance as before (an object may carry its own)
    for name in _FEE_METHOD_NAMES:
        fee_for = getattr(pool, name, None)
        if fee_for is not None:
            return fee_for(zero_for_one)
    return getattr(pool, "fee_pips", 0)
