"""Price impact of a hop and of a path, in integer ppm (pure).

Impact = how far the hop moves the pool's marginal price against the trader, as a fraction of
the price before: ``1 - p_after / p_before`` where ``p`` is token_out per token_in. It is the
quantity ticks measure (1 tick ~ 1 bps of price), it ignores the fee (a fee is not impact), and
it is computed with integers and rounded *up*, so a hop exactly on a threshold is decided the same
on every machine and never under-reported.

* V3/Algebra (``sqrt_price_x96`` before/after): price token1/token0 = (sqrtP / 2**96)**2.
  zero_for_one lowers sqrtP, so impact = 1 - (after/before)**2; one_for_zero raises it and the
  trader's price is the inverse, so impact = 1 - (before/after)**2.
* V2-style (reserves of token_in/token_out before the hop): marginal price before = R_out / R_in;
  the reserves after the hop hold the whole input (fee included), so after = (R_out - out) / (R_in + in).

Path impact compounds hops: ``1 - prod(1 - impact_i)``.
"""

from __future__ import annotations

from collections.abc import Sequence

from mevbot.errors import ValidationError
from mevbot.messages import Hop

PPM = 1_000_000


def _ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


def v3_impact_ppm(zero_for_one: bool, sqrt_before_x96: int, sqrt_after_x96: int) -> int:
    if sqrt_before_x96 <= 0 or sqrt_after_x96 <= 0:
        raise ValidationError("V3 hop without sqrt prices: impact unknown")
    hi, lo = (sqrt_before_x96, sqrt_after_x96) if zero_for_one else (sqrt_after_x96, sqrt_before_x96)
    if lo >= hi:
        return 0
    hi2 = hi * hi
    return _ceil_div((hi2 - lo * lo) * PPM, hi2)


def v2_impact_ppm(reserve_in: int, reserve_out: int, amount_in: int, amount_out: int) -> int:
    if reserve_in <= 0 or reserve_out <= 0:
        raise ValidationError("V2 hop without reserves: impact unknown")
    if amount_out >= reserve_out:
        return PPM
    # 1 - [(R_out - out) / (R_in + in)] / [R_out / R_in]
    before = reserve_out * (reserve_in + amount_in)
    after = (reserve_out - amount_out) * reserve_in
    if after >= before:
        return 0
    return _ceil_div((before - after) * PPM, before)


def hop_impact_ppm(hop: Hop) -> int:
    """Impact of one candidate hop from the pool state it was priced on."""
    if hop.sqrt_price_x96_before:
        return v3_impact_ppm(hop.zero_for_one, hop.sqrt_price_x96_before, hop.sqrt_price_x96_after)
    if hop.reserve_in or hop.reserve_out:
        return v2_impact_ppm(hop.reserve_in, hop.reserve_out, hop.amount_in, hop.amount_out)
    raise ValidationError(f"hop on pool {hop.pool} carries no pool state: impact unknown")


def path_impact_ppm(hop_impacts_ppm: Sequence[int]) -> int:
    """Compounded impact of a path, rounded up."""
    remaining_num, remaining_den = 1, 1
    for impact in hop_impacts_ppm:
        remaining_num *= PPM - min(max(impact, 0), PPM)
        remaining_den *= PPM
    return _ceil_div((remaining_den - remaining_num) * PPM, remaining_den)


def reserves_impact_ppm(reserve_in_before: int, reserve_out_before: int,
                        reserve_in_after: int, reserve_out_after: int) -> int:
    """Impact between two reserve states of a V2-style pool (marginal price out per in)."""
    if reserve_in_before <= 0 or reserve_out_before <= 0:
        raise ValidationError("pool without reserves: impact unknown")
    before = reserve_out_before * reserve_in_after
    after = reserve_out_after * reserve_in_before
    if after >= before:
        return 0
    return _ceil_div((before - after) * PPM, before)


def pool_impact_ppm(before, after, zero_for_one: bool) -> int:  # noqa: ANN001 - mevbot.amm PoolState
    """Impact between two states of the same ``mevbot.amm`` pool for a trade in one direction."""
    sqrt_before = getattr(before, "sqrt_price_x96", None)
    if sqrt_before is not None:
        return v3_impact_ppm(zero_for_one, sqrt_before, after.sqrt_price_x96)
    if zero_for_one:
        return reserves_impact_ppm(before.reserve0, before.reserve1, after.reserve0, after.reserve1)
    return reserves_impact_ppm(before.reserve1, before.reserve0, after.reserve1, after.reserve0)
