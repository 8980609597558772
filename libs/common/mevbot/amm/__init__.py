"""Exact AMM maths: pool states that agree with the contracts to the wei, and cycle sizing.

Pool kinds (one class each, all :class:`mevbot.amm.base.PoolState`)
--------------------------------------------------------------------
* :class:`mevbot.amm.v2.UniswapV2Pool`: constant product, ``fee_pips`` (Uniswap/Sushi V2 = 3000).
* :class:`mevbot.amm.camelot_v2.CamelotV2Pool`: directional fees, optional stable curve.
* :class:`mevbot.amm.v3_pool.UniswapV3Pool`: Uniswap/Sushi/PancakeSwap V3, tick crossing exact.
* :class:`mevbot.amm.algebra_pool.AlgebraPool`: Algebra v1 (Camelot V3), dynamic fee.

Build them from plain data (no network): the constructors, ``Cls.from_snapshot(PoolSnapshot)``,
:func:`mevbot.amm.events.pool_from_snapshot` (picks the class from ``snapshot.pool.kind``) or
:func:`mevbot.amm.loaders.pool_from_dict`.

The interface the detector and validator call (``zero_for_one=True``: token0 in)
---------------------------------------------------------------------------------
``quote_exact_in(zero_for_one, amount_in) -> int``
    amount out; 0 for amount_in <= 0. Fast path (no result object). Never mutates.
``quote_exact_out(zero_for_one, amount_out) -> int``
    amount in (fee included) the pool charges; AmmError if it cannot deliver.
``min_amount_in_for(zero_for_one, amount_out) -> int``
    smallest exact input whose ``quote_exact_in`` is >= amount_out.
``simulate_exact_in(zero_for_one, amount_in, sqrt_price_limit_x96=None) -> SwapResult``
``simulate_exact_out(zero_for_one, amount_out, sqrt_price_limit_x96=None) -> SwapResult``
    full result: amount_in, amount_out, fee_amount, sqrt_price_x96_after, tick_after,
    liquidity_after, ticks_crossed, steps, fee_growth_global_x128_delta, protocol_fee,
    reserve0_after/reserve1_after (V2), amount0/amount1 (signed pool deltas as in the Swap event).
    A swap the contract would revert raises :class:`mevbot.errors.AmmError`.
``execute_swap(...)``
    run a swap *and* move the state (for multi-hop plans through the same pool, on a ``copy()``).
``apply_sync(reserve0, reserve1, *, block_number)`` (V2 kinds)
``apply_swap(sqrt_price_x96, liquidity, tick, *, block_number)`` (V3/Algebra: the Swap event)
``apply_mint(tick_lower, tick_upper, amount, *, block_number)``, ``apply_burn(...)`` (V3/Algebra)
``apply_fee(fee_pips, *, block_number)`` (Algebra)
``apply_event(msg)``
    any ``mevbot.messages`` pool event (V2Sync, V3Swap, V3Mint, V3Burn, AlgebraFee).
``state_version`` (int, bumped by every mutation and rollback), ``block_number``
``copy()`` / ``snapshot()`` independent deep copy; ``rollback_to(block_number)`` undo newer blocks (reorg; keeps
    :data:`mevbot.amm.base.DEFAULT_JOURNAL_DEPTH` blocks, StateError beyond);
    ``forget_before(block_number)`` drop undo data of final blocks.
``float_segments(zero_for_one)`` / ``spot_rate(zero_for_one)`` float models for sizing/screening.

Speed: V3 quotes go through a per-state step cache (:mod:`mevbot.amm.v3_steps`): complete swap
steps depend only on the state, so after the first quote of a state every exact-input quote is a
bisect plus one partial step, whatever the number of ticks crossed. Any mutation drops the cache.
The first quote of a new state runs the plain swap loop (cheaper for a single quote).

Cycle sizing (:mod:`mevbot.amm.cycle`)
--------------------------------------
``optimize_cycle(hops: list[tuple[PoolState, bool]], max_input: int, *, min_input=1) -> CycleResult | None``
    ``hops`` = [(pool, zero_for_one), ...], 2 to 4 hops (up to 8 accepted), output token of the
    last hop = input token of the first. Returns None when nothing in [min_input, max_input] is
    profitable, else ``CycleResult`` with ``amount_in``, ``amounts`` ([in, out hop0, out hop1, ...]
    exact), ``amount_out``, ``profit`` (exact integer, start-token units).
``cycle_amounts(hops, amount_in) -> list[int]``, ``cycle_profit(hops, amount_in) -> int``.

The Solidity ports (Solidity names and rounding, each citing its v3-core source):
:mod:`~mevbot.amm.full_math`, :mod:`~mevbot.amm.bit_math`, :mod:`~mevbot.amm.tick_math`,
:mod:`~mevbot.amm.sqrt_price_math`, :mod:`~mevbot.amm.swap_math`, :mod:`~mevbot.amm.tick_bitmap`,
:mod:`~mevbot.amm.liquidity_math`.
"""

from mevbot.amm.base import DEFAULT_JOURNAL_DEPTH, PoolState, SwapResult
from mevbot.amm.cycle import CycleResult, cycle_amounts, cycle_profit, optimize_cycle
from mevbot.amm.events import apply_event, pool_from_snapshot
from mevbot.amm.v2 import UniswapV2Pool
from mevbot.amm.v3_pool import UniswapV3Pool

__all__ = [
    "DEFAULT_JOURNAL_DEPTH",
    "CycleResult",
    "PoolState",
    "SwapResult",
    "UniswapV2Pool",
    "UniswapV3Pool",
    "apply_event",
    "cycle_amounts",
    "cycle_profit",
    "optimize_cycle",
    "pool_from_snapshot",
]
