"""Algebra v1 pool (Camelot V3 on Arbitrum): ``globalState()`` instead of ``slot0()``, dynamic fee.

What differs from Uniswap V3 and what does not (Algebra v1 ``AlgebraPool.sol``,
``PriceMovementMath.sol``, ``TickTable.sol``):

* The fee is not a constant of the pool: ``globalState.fee`` changes with volatility and is
  announced by the ``Fee(uint16 fee)`` event (pips, 1e-6): :meth:`AlgebraPool.apply_fee`. Camelot's
  build keeps one fee per direction (``feeZto``/``feeOtz``); pass both when they differ.
* ``TickTable.nextTickInTheSameRow`` is v3-core's ``nextInitializedTickWithinOneWord`` with a
  tick spacing of 60 and the result bounded to [MIN_TICK, MAX_TICK]: same rows of 256 compressed
  ticks, so the same step boundaries (the spacing is a parameter here, 60 by default).
* ``PriceMovementMath.movePriceTowardsTarget`` rounds exactly like ``SwapMath.computeSwapStep``
  (fee taken from the input with ``mulDiv(amount, 1e6 - fee, 1e6)``, remainder-as-fee when the
  target is not reached, ``mulDivRoundingUp(input, fee, 1e6 - fee)`` otherwise).
* The protocol's cut is the *community fee* in 1/1000 of the fee (``communityFee*``): it only
  changes fee growth, never the amounts.

So the swap loop is the V3 one with the current fee of the swap's direction.
"""

from __future__ import annotations

from mevbot.amm.v3_pool import UniswapV3Pool
from mevbot.errors import AmmError

ALGEBRA_TICK_SPACING = 60


class AlgebraPool(UniswapV3Pool):
    kind = "algebra"

    def __init__(self, address: str, token0: str, token1: str, fee_pips: int, tick_spacing: int,
                 sqrt_price_x96: int, tick: int, liquidity: int, ticks=(), *,
                 fee_otz_pips: int | None = None, community_fee0: int = 0, community_fee1: int = 0,
                 **kwargs) -> None:
        super().__init__(address, token0, token1, fee_pips, tick_spacing or ALGEBRA_TICK_SPACING,
                         sqrt_price_x96, tick, liquidity, ticks, **kwargs)
        # fee_pips is the zero-to-one fee (and the only fee when the build has one)
        self.fee_otz_pips = fee_otz_pips
        self.community_fee0 = community_fee0  # per mille of the fee
        self.community_fee1 = community_fee1

    @classmethod
    def from_snapshot(cls, snapshot) -> AlgebraPool:
        info = snapshot.pool
        return cls(info.address, info.token0, info.token1,
                   snapshot.fee_pips if snapshot.fee_pips is not None else info.fee_pips,
                   info.tick_spacing or ALGEBRA_TICK_SPACING, snapshot.sqrt_price_x96, snapshot.tick,
                   snapshot.liquidity, snapshot.ticks, block_number=snapshot.block_number)

    def _direction_fee(self, zero_for_one: bool) -> int:
        if zero_for_one or self.fee_otz_pips is None:
            return self.fee_pips
        return self.fee_otz_pips

    def apply_fee(self, fee_pips: int, *, block_number: int, fee_otz_pips: int | None = None) -> None:
        """The Fee event: the pool's current fee (both directions unless ``fee_otz_pips`` is given)."""
        if not 0 <= fee_pips < 1_000_000:
            raise AmmError(f"pool {self.address}: fee {fee_pips} out of range")
        self._begin_mutation(block_number)
        self.fee_pips = fee_pips
        if fee_otz_pips is not None:
            self.fee_otz_pips = fee_otz_pips
        elif self.fee_otz_pips is not None:
            self.fee_otz_pips = fee_pips

    def _scalars(self) -> tuple:
        return super()._scalars() + (self.fee_otz_pips,)

    def _restore_scalars(self, scalars: tuple) -> None:
        super()._restore_scalars(scalars[:-1])
        self.fee_otz_pips = scalars[-1]
