"""Constant-product pools: Uniswap V2, SushiSwap V2 and forks (``UniswapV2Library``/``UniswapV2Pair``).

The fee is a parameter in pips (1e-6): Uniswap/Sushi V2 charge 3000 (997/1000). The pair's
invariant check is ``(b0*1000 - in0*3) * (b1*1000 - in1*3) >= r0*r1*1000**2``; expressing the
fee as n/1e6 instead of 3/1000 gives the same integers because both formulas are homogeneous in
(n, d). Any fork whose denominator divides 1e6 (1000, 10000, 100000) is exact.
"""

from __future__ import annotations

from mevbot.amm.base import PoolState, SwapResult
from mevbot.amm.mobius import single_segment_curve
from mevbot.errors import AmmError

_PIPS = 1_000_000
_MAX_UINT112 = (1 << 112) - 1


def get_amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee_pips: int = 3000) -> int:
    """UniswapV2Library.getAmountOut: floor(a*(1-f)*R_out / (R_in + a*(1-f)))."""
    if amount_in <= 0:
        raise AmmError("UniswapV2Library: INSUFFICIENT_INPUT_AMOUNT")
    if reserve_in <= 0 or reserve_out <= 0:
        raise AmmError("UniswapV2Library: INSUFFICIENT_LIQUIDITY")
    amount_in_with_fee = amount_in * (_PIPS - fee_pips)
    return amount_in_with_fee * reserve_out // (reserve_in * _PIPS + amount_in_with_fee)


def get_amount_in(amount_out: int, reserve_in: int, reserve_out: int, fee_pips: int = 3000) -> int:
    """UniswapV2Library.getAmountIn: floor(R_in*out*d / ((R_out-out)*(d-n))) + 1."""
    if amount_out <= 0:
        raise AmmError("UniswapV2Library: INSUFFICIENT_OUTPUT_AMOUNT")
    if reserve_in <= 0 or reserve_out <= 0 or amount_out >= reserve_out:
        raise AmmError("UniswapV2Library: INSUFFICIENT_LIQUIDITY")
    return reserve_in * amount_out * _PIPS // ((reserve_out - amount_out) * (_PIPS - fee_pips)) + 1


class UniswapV2Pool(PoolState):
    """Reserves-only state of a constant-product pair."""

    kind = "uniswap_v2"

    def __init__(self, address: str, token0: str, token1: str, reserve0: int, reserve1: int,
                 fee_pips: int = 3000, *, block_number: int = 0) -> None:
        super().__init__(address, token0, token1, block_number)
        if not 0 <= fee_pips < _PIPS:
            raise AmmError(f"pool {address}: fee {fee_pips} pips out of range")
        self.fee_pips = fee_pips
        self.reserve0 = reserve0
        self.reserve1 = reserve1
        self._curve_cache: dict = {}
        self._curve_version = -1

    @classmethod
    def from_snapshot(cls, snapshot) -> UniswapV2Pool:
        info = snapshot.pool
        return cls(info.address, info.token0, info.token1, snapshot.reserve0, snapshot.reserve1,
                   info.fee_pips or 3000, block_number=snapshot.block_number)

    # fee for an input token; Camelot overrides with directional fees
    def _fee_for(self, zero_for_one: bool) -> int:
        return self.fee_pips

    def quote_exact_in(self, zero_for_one: bool, amount_in: int) -> int:
        if amount_in <= 0:
            return 0
        if zero_for_one:
            r_in = self.reserve0
            r_out = self.reserve1
        else:
            r_in = self.reserve1
            r_out = self.reserve0
        if r_in <= 0:
            return 0
        with_fee = amount_in * (_PIPS - self._fee_for(zero_for_one))
        return with_fee * r_out // (r_in * _PIPS + with_fee)

    def quote_exact_out(self, zero_for_one: bool, amount_out: int) -> int:
        if amount_out <= 0:
            return 0
        r_in, r_out = (self.reserve0, self.reserve1) if zero_for_one else (self.reserve1, self.reserve0)
        return get_amount_in(amount_out, r_in, r_out, self._fee_for(zero_for_one))

    def min_amount_in_for(self, zero_for_one: bool, amount_out: int) -> int:
        """Closed form: floor(a*g*Ro/(Ri*D + a*g)) >= o  <=>  a*g*(Ro - o) >= o*Ri*D, so the smallest
        input is ceil(o*Ri*D / (g*(Ro - o))) with g = D - fee (exact; getAmountIn's "+1" can be one
        more than needed)."""
        if amount_out <= 0:
            return 0
        r_in, r_out = (self.reserve0, self.reserve1) if zero_for_one else (self.reserve1, self.reserve0)
        if amount_out >= r_out or r_in <= 0:
            raise AmmError("UniswapV2Library: INSUFFICIENT_LIQUIDITY")
        g = _PIPS - self._fee_for(zero_for_one)
        return -(-(amount_out * r_in * _PIPS) // (g * (r_out - amount_out)))

    def _result(self, zero_for_one: bool, amount_in: int, amount_out: int) -> SwapResult:
        fee = self._fee_for(zero_for_one)
        if zero_for_one:
            r0, r1 = self.reserve0 + amount_in, self.reserve1 - amount_out
        else:
            r0, r1 = self.reserve0 - amount_out, self.reserve1 + amount_in
        if r0 > _MAX_UINT112 or r1 > _MAX_UINT112:
            raise AmmError("UniswapV2Pair: OVERFLOW (reserve exceeds uint112)")
        return SwapResult(zero_for_one, amount_in, amount_out, fee_amount=-(-amount_in * fee // _PIPS),
                          reserve0_after=r0, reserve1_after=r1)

    def simulate_exact_in(self, zero_for_one: bool, amount_in: int,
                          sqrt_price_limit_x96: int | None = None) -> SwapResult:
        r_in, r_out = (self.reserve0, self.reserve1) if zero_for_one else (self.reserve1, self.reserve0)
        out = get_amount_out(amount_in, r_in, r_out, self._fee_for(zero_for_one))
        if out <= 0:
            raise AmmError("UniswapV2Pair: INSUFFICIENT_OUTPUT_AMOUNT")
        return self._result(zero_for_one, amount_in, out)

    def simulate_exact_out(self, zero_for_one: bool, amount_out: int,
                           sqrt_price_limit_x96: int | None = None) -> SwapResult:
        amount_in = self.quote_exact_out(zero_for_one, amount_out)
        return self._result(zero_for_one, amount_in, amount_out)

    def execute_swap(self, zero_for_one: bool, amount_in: int, *, block_number: int | None = None) -> SwapResult:
        """Exact-input swap that moves the reserves as the pair's Sync would."""
        result = self.simulate_exact_in(zero_for_one, amount_in)
        self.apply_sync(result.reserve0_after, result.reserve1_after,
                        block_number=self.block_number if block_number is None else block_number)
        return result

    def apply_sync(self, reserve0: int, reserve1: int, *, block_number: int) -> None:
        """A Sync event carries the new reserves."""
        if not (0 <= reserve0 <= _MAX_UINT112 and 0 <= reserve1 <= _MAX_UINT112):
            raise AmmError(f"pool {self.address}: Sync reserves out of uint112 range")
        self._begin_mutation(block_number)
        self.reserve0 = reserve0
        self.reserve1 = reserve1

    def _scalars(self) -> tuple:
        return (self.reserve0, self.reserve1)

    def _restore_scalars(self, scalars: tuple) -> None:
        self.reserve0, self.reserve1 = scalars

    def copy(self) -> UniswapV2Pool:
        from mevbot.amm.v3_pool import _copy_entry

        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._journal = [_copy_entry(e) for e in self._journal]
        clone._curve_cache = {}
        clone._curve_version = -1
        return clone

    def float_segments(self, zero_for_one: bool):
        if self._curve_version != self.state_version:
            self._curve_cache = {}
            self._curve_version = self.state_version
        curve = self._curve_cache.get(zero_for_one)
        if curve is None:
            r_in, r_out = (self.reserve0, self.reserve1) if zero_for_one else (self.reserve1, self.reserve0)
            gamma = (_PIPS - self._fee_for(zero_for_one)) / _PIPS
            # out = gamma*R_out*x / (R_in + gamma*x)
            curve = single_segment_curve(gamma * r_out, float(r_in), gamma)
            self._curve_cache[zero_for_one] = curve
        return curve

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.address}, r0={self.reserve0}, r1={self.reserve1}, "
                f"fee={self.fee_pips}, block={self.block_number})")
