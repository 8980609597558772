"""Evaluate one cycle on the current pool states: screen, size exactly, describe every hop.

1. **Screen** (floats, ~1 µs per hop): the product of the hops' marginal rates at zero size
   (mid price x (1 - fee), :func:`marginal_rate_bound`). Every hop's output is concave in its
   input, so when the product is <= 1 no input makes a profit and the exact sizing is skipped. A
   small tolerance keeps float rounding from hiding a real (tiny) opportunity: the exact step
   decides.
2. **Size** (exact integers): :func:`mevbot.amm.cycle.optimize_cycle` gives the integer input that
   maximises profit and the exact output of every hop.
3. **Describe**: each hop is re-simulated in full on the unchanged pool (cycles never reuse a
   pool) for the price-impact fields of :class:`mevbot.messages.Hop`; a hop that could not take
   its whole input (V3 price limit reached) makes the cycle unexecutable as sized: refused.
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


def evaluate_cycle(cycle: Cycle, pools: list[PoolState], kinds: list[m.PoolKind], stats: EvaluationStats,
                   max_input: int = DEFAULT_MAX_INPUT, *, screen: bool = True) -> Opportunity | None:
    """The cycle's optimal exact trade on ``pools`` (one state per hop, of ``kinds``), or None.

    ``screen=False`` when the caller already screened (and counted) the cycle.
    """
    try:
        if screen and marginal_rate_product(pools, cycle) <= 1.0 - SCREEN_TOLERANCE:
            stats.screened_out += 1
            return None
        hops_in = list(zip(pools, cycle.zero_for_one))
        result = optimize_cycle(hops_in, max_input)
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
    """Full per-hop simulation; None when a hop would not consume its whole input or differs."""
    hops: list[m.Hop] = []
    for i, (pool, zero_for_one) in enumerate(zip(pools, cycle.zero_for_one)):
        amount_in = amounts[i]
        sim = pool.simulate_exact_in(zero_for_one, amount_in)
        if sim.amount_in != amount_in or sim.amount_out != amounts[i + 1]:
            return None
        if hasattr(pool, "reserve0"):
            reserve_in, reserve_out = (pool.reserve0, pool.reserve1) if zero_for_one else (pool.reserve1, pool.reserve0)
            extra = {"reserve_in": reserve_in, "reserve_out": reserve_out}
        else:
            extra = {
                "sqrt_price_x96_before": pool.sqrt_price_x96,
                "sqrt_price_x96_after": sim.sqrt_price_x96_after,
                "ticks_crossed": sim.ticks_crossed,
                "liquidity": pool.liquidity,
            }
        fee_pips = _fee_of(pool, zero_for_one)
        hops.append(m.Hop(
            pool=cycle.pools[i],
            kind=kinds[i],
            token_in=cycle.tokens[i],
            token_out=cycle.tokens[i + 1],
            zero_for_one=zero_for_one,
            amount_in=amount_in,
            amount_out=amounts[i + 1],
            fee_pips=fee_pips,
            **extra,
        ))
    return hops


def _fee_of(pool: PoolState, zero_for_one: bool) -> int:
    """The fee (pips) this direction pays: Camelot V2 and Algebra fees depend on the direction."""
    for name in ("_fee_for", "_direction_fee"):
        fee_for = getattr(pool, name, None)
        if fee_for is not None:
            return fee_for(zero_for_one)
    return getattr(pool, "fee_pips", 0)
