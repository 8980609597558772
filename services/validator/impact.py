"""Price impact of a hop and of a path, in integer ppm (pure).

Impact is the usual one (what a DEX front end shows): how much worse the hop's execution price
is than the pool's mid price before the trade, fee excluded (a fee is a cost, not impact)::

    impact = 1 - amount_out / (amount_in_after_fee * mid_before)

with ``mid_before`` in token_out per token_in and ``amount_in_after_fee = amount_in * (1e6 - fee_pips)
/ 1e6``. For a constant-product pool this is ``in_f / (R_in + in_f)``, half of how far the hop moves
the marginal price. Integers throughout, rounded *up*: a hop exactly on a threshold is decided the
same on every machine and never under-reported.

* V3/Algebra: mid = (sqrtP / 2**96)**2 token1 per token0 (its inverse for one_for_zero).
* V2-style: mid = R_out / R_in (reserves before the hop).

For the parts of a split (``pool_impact_ppm``) the mid is the pool's price *before the first
part*, so later parts, which trade on prices the earlier ones moved, carry the impact of all.
Path impact compounds hops: ``1 - prod(1 - impact_i)``.
"""

from __future__ import annotations

from collections.abc import Sequence

from mevbot.errors import ValidationError
from mevbot.messages import Hop

PPM = 1_000_000
Q192 = 1 << 192


def _ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


def _impact(out_num: int, out_den: int) -> int:
    """``1 - out_num / out_den`` in ppm, rounded up, clamped to [0, 1e6]."""
    if out_den <= 0:
        raise ValidationError("impact of an empty trade is undefined")
    if out_num >= out_den:
        return 0
    return min(PPM, _ceil_div((out_den - out_num) * PPM, out_den))


def v3_impact_terms(zero_for_one: bool, sqrt_price_x96: int, amount_in: int, amount_out: int,
                    fee_pips: int) -> tuple[int, int]:
    """``(num, den)`` with impact = ``1 - num / den`` for a V3/Algebra hop (unrounded)."""
    if sqrt_price_x96 <= 0:
        raise ValidationError("V3 hop without a sqrt price: impact unknown")
    in_f = amount_in * (PPM - fee_pips)  # scaled by 1e6
    p2 = sqrt_price_x96 * sqrt_price_x96
    if zero_for_one:  # mid = p2 / 2**192 token1 per token0
        return amount_out * Q192 * PPM, in_f * p2
    return amount_out * p2 * PPM, in_f * Q192


def v3_impact_ppm(zero_for_one: bool, sqrt_price_x96: int, amount_in: int, amount_out: int, fee_pips: int) -> int:
    """Execution vs mid for a V3/Algebra hop; ``sqrt_price_x96`` is the price before the hop."""
    return _impact(*v3_impact_terms(zero_for_one, sqrt_price_x96, amount_in, amount_out, fee_pips))


def v2_impact_terms(reserve_in: int, reserve_out: int, amount_in: int, amount_out: int,
                    fee_pips: int) -> tuple[int, int]:
    """``(num, den)`` with impact = ``1 - num / den`` for a constant-product hop (unrounded)."""
    if reserve_in <= 0 or reserve_out <= 0:
        raise ValidationError("V2 hop without reserves: impact unknown")
    return amount_out * reserve_in * PPM, amount_in * (PPM - fee_pips) * reserve_out


def v2_impact_ppm(reserve_in: int, reserve_out: int, amount_in: int, amount_out: int, fee_pips: int) -> int:
    """Execution vs mid for a constant-product hop (reserves before the hop)."""
    return _impact(*v2_impact_terms(reserve_in, reserve_out, amount_in, amount_out, fee_pips))


def impact_ppm_float(out_num: int, out_den: int) -> float:
    """``1 - out_num / out_den`` in ppm, unrounded (a float, for searches only: every decision
    uses the rounded-up integer of :func:`_impact`)."""
    if out_den <= 0 or out_num >= out_den:
        return 0.0
    return min(float(PPM), (out_den - out_num) * PPM / out_den)


def hop_impact_ppm(hop: Hop) -> int:
    """Impact of one candidate hop from the pool state it was priced on."""
    if hop.sqrt_price_x96_before:
        return v3_impact_ppm(hop.zero_for_one, hop.sqrt_price_x96_before, hop.amount_in, hop.amount_out, hop.fee_pips)
    if hop.reserve_in or hop.reserve_out:
        return v2_impact_ppm(hop.reserve_in, hop.reserve_out, hop.amount_in, hop.amount_out, hop.fee_pips)
    raise ValidationError(f"hop on pool {hop.pool} carries no pool state: impact unknown")


def path_impact_ppm(hop_impacts_ppm: Sequence[int]) -> int:
    """Compounded impact of a path, rounded up."""
    remaining_num, remaining_den = 1, 1
    for impact in hop_impacts_ppm:
        remaining_num *= PPM - min(max(impact, 0), PPM)
        remaining_den *= PPM
    return _ceil_div((remaining_den - remaining_num) * PPM, remaining_den)


def pool_impact_terms(original, zero_for_one: bool, amount_in: int, amount_out: int) -> tuple[int, int]:
    """``(num, den)`` of :func:`pool_impact_ppm`, unrounded."""
    fee = original._fee_for(zero_for_one) if hasattr(original, "_fee_for") else getattr(original, "fee_pips", 0)
    sqrt_p = getattr(original, "sqrt_price_x96", None)
    if sqrt_p is not None:
        return v3_impact_terms(zero_for_one, sqrt_p, amount_in, amount_out, fee)
    r_in, r_out = (original.reserve0, original.reserve1) if zero_for_one else (original.reserve1, original.reserve0)
    return v2_impact_terms(r_in, r_out, amount_in, amount_out, fee)


def pool_impact_ppm(original, zero_for_one: bool, amount_in: int, amount_out: int) -> int:
    """Impact of a trade against the mid of ``original`` (a ``mevbot.amm`` pool before any part)."""
    return _impact(*pool_impact_terms(original, zero_for_one, amount_in, amount_out))
