"""Camelot V2 pairs (``CamelotPair.sol``): directional fees and optional stable (Solidly) curve.

* Fees: ``token0FeePercent`` / ``token1FeePercent`` over ``FEE_DENOMINATOR = 100000``, chosen by
  the *input* token. Here they are pips (x10), exact because the formulas are homogeneous.
* Volatile pairs: ``amountIn*(D - f) * R_out / (R_in*D + amountIn*(D - f))`` (constant product).
* Stable pairs: invariant ``x^3*y + y^3*x`` on reserves scaled to 18 decimals
  (``precisionMultiplier = 10**decimals``), fee removed first (``amountIn - amountIn*f/D``), then
  Camelot's integer Newton iteration ``_get_y`` (255 rounds max, stops at a change <= 1).
"""

from __future__ import annotations

from mevbot.amm.base import PoolState, SwapResult
from mevbot.amm.v2 import UniswapV2Pool
from mevbot.errors import AmmError

FEE_DENOMINATOR = 100_000
_E18 = 10**18


def _f(x0: int, y: int) -> int:
    return x0 * (y * y // _E18 * y // _E18) // _E18 + (x0 * x0 // _E18 * x0 // _E18) * y // _E18


def _d(x0: int, y: int) -> int:
    return 3 * x0 * (y * y // _E18) // _E18 + (x0 * x0 // _E18 * x0 // _E18)


def get_y(x0: int, xy: int, y: int) -> int:
    """CamelotPair._get_y: Newton iteration on f(x0, y) = xy, integer, as in Solidity."""
    for _ in range(255):
        y_prev = y
        k = _f(x0, y)
        d = _d(x0, y)
        if d == 0:
            raise AmmError("CamelotPair._get_y: zero derivative")
        if k < xy:
            y = y + (xy - k) * _E18 // d
        else:
            y = y - (k - xy) * _E18 // d
        if y > y_prev:
            if y - y_prev <= 1:
                return y
        elif y_prev - y <= 1:
            return y
    return y


def stable_k(balance0: int, balance1: int, precision0: int, precision1: int) -> int:
    """CamelotPair._k for stable pairs: x^3*y + y^3*x in 18-decimal units."""
    x = balance0 * _E18 // precision0
    y = balance1 * _E18 // precision1
    a = x * y // _E18
    b = x * x // _E18 + y * y // _E18
    return a * b // _E18


class CamelotV2Pool(UniswapV2Pool):
    kind = "camelot_v2"

    def __init__(self, address: str, token0: str, token1: str, reserve0: int, reserve1: int,
                 token0_fee_pips: int = 3000, token1_fee_pips: int | None = None, *,
                 stable: bool = False, decimals0: int = 18, decimals1: int = 18,
                 block_number: int = 0) -> None:
        super().__init__(address, token0, token1, reserve0, reserve1, token0_fee_pips,
                         block_number=block_number)
        self.token0_fee_pips = token0_fee_pips
        self.token1_fee_pips = token0_fee_pips if token1_fee_pips is None else token1_fee_pips
        self.stable = stable
        self.precision0 = 10**decimals0
        self.precision1 = 10**decimals1

    @classmethod
    def from_snapshot(cls, snapshot) -> CamelotV2Pool:
        info = snapshot.pool
        fee0 = info.token0_fee_pips if info.token0_fee_pips is not None else (info.fee_pips or 3000)
        fee1 = info.token1_fee_pips if info.token1_fee_pips is not None else fee0
        return cls(info.address, info.token0, info.token1, snapshot.reserve0, snapshot.reserve1, fee0, fee1,
                   stable=info.stable, decimals0=info.decimals0 or 18, decimals1=info.decimals1 or 18,
                   block_number=snapshot.block_number)

    def _fee_for(self, zero_for_one: bool) -> int:
        return self.token0_fee_pips if zero_for_one else self.token1_fee_pips

    def _stable_out(self, zero_for_one: bool, amount_in: int) -> int:
        fee_percent = self._fee_for(zero_for_one) // 10  # back to FEE_DENOMINATOR units
        amount_in -= amount_in * fee_percent // FEE_DENOMINATOR
        r0, r1, p0, p1 = self.reserve0, self.reserve1, self.precision0, self.precision1
        xy = stable_k(r0, r1, p0, p1)
        s0 = r0 * _E18 // p0
        s1 = r1 * _E18 // p1
        if zero_for_one:
            reserve_a, reserve_b = s0, s1
            amount_in = amount_in * _E18 // p0
        else:
            reserve_a, reserve_b = s1, s0
            amount_in = amount_in * _E18 // p1
        y = reserve_b - get_y(amount_in + reserve_a, xy, reserve_b)
        if y < 0:
            raise AmmError("CamelotPair: SafeMath sub underflow in stable getAmountOut")
        return y * (p1 if zero_for_one else p0) // _E18

    def quote_exact_in(self, zero_for_one: bool, amount_in: int) -> int:
        if amount_in <= 0:
            return 0
        if not self.stable:
            return UniswapV2Pool.quote_exact_in(self, zero_for_one, amount_in)
        if self.reserve0 <= 0 or self.reserve1 <= 0:
            return 0
        return self._stable_out(zero_for_one, amount_in)

    def quote_exact_out(self, zero_for_one: bool, amount_out: int) -> int:
        if not self.stable:
            return UniswapV2Pool.quote_exact_out(self, zero_for_one, amount_out)
        # the pair has no exact-output formula: smallest input that yields amount_out (bisection)
        r_out = self.reserve1 if zero_for_one else self.reserve0
        if amount_out >= r_out:
            raise AmmError("CamelotPair: INSUFFICIENT_LIQUIDITY")
        lo, hi = 0, 1
        while self._stable_out(zero_for_one, hi) < amount_out:
            hi *= 2
            if hi > 1 << 200:
                raise AmmError("CamelotPair: output unreachable")
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._stable_out(zero_for_one, mid) >= amount_out:
                hi = mid
            else:
                lo = mid
        return hi

    def min_amount_in_for(self, zero_for_one: bool, amount_out: int) -> int:
        return PoolState.min_amount_in_for(self, zero_for_one, amount_out)

    def simulate_exact_in(self, zero_for_one: bool, amount_in: int,
                          sqrt_price_limit_x96: int | None = None) -> SwapResult:
        if not self.stable:
            return UniswapV2Pool.simulate_exact_in(self, zero_for_one, amount_in)
        out = self.quote_exact_in(zero_for_one, amount_in)
        if out <= 0:
            raise AmmError("CamelotPair: INSUFFICIENT_OUTPUT_AMOUNT")
        return self._result(zero_for_one, amount_in, out)

    def float_segments(self, zero_for_one: bool):
        if self.stable:
            return None  # not a Möbius map: sizing searches exact quotes
        return UniswapV2Pool.float_segments(self, zero_for_one)
