"""Uniswap V3 pool state and swap simulation, bit-exact with ``UniswapV3Pool.swap``.

Covers Uniswap V3, SushiSwap V3 and PancakeSwap V3 (same swap maths; PancakeSwap's fee tiers
100/1, 500/10, 2500/50, 10000/200 are just other ``fee_pips``/``tick_spacing`` pairs).

The swap loop is v3-core's (``UniswapV3Pool.sol`` ``swap``): one ``computeSwapStep`` per
``nextInitializedTickWithinOneWord`` result, so a step ends at every initialized tick *and* at
every bitmap word boundary, exactly like the contract. The loop is written out inline (local
variables, memoised ``getSqrtRatioAtTick``, bisect on a sorted tick list) because it is the hot
path of detection and sizing; ``swap_math.computeSwapStep`` is the readable reference it must equal
(the v3-core vectors and the anvil differential tests check both).

Ticks: ``_net`` maps every initialized tick to liquidityNet, ``_gross`` to liquidityGross,
``_sorted`` is the ascending list of initialized ticks (the bitmap). Snapshots usually carry only
liquidityNet; then liquidityGross is taken as ``|liquidityNet|`` (swaps never read it; only a burn
that empties a tick needs it, see ``apply_burn``).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping

from mevbot.amm.base import PoolState, SwapResult
from mevbot.amm.liquidity_math import addDelta
from mevbot.amm.mobius import V3Curve
from mevbot.amm.sqrt_price_math import (
    getNextSqrtPriceFromInput,
    getNextSqrtPriceFromOutput,
)
from mevbot.amm.tick_math import (
    _SQRT_RATIO_CACHE,
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    sqrt_ratio_at_tick,
    tick_at_sqrt_ratio,
)
from mevbot.amm.v3_steps import StepCache
from mevbot.errors import AmmError

Q96 = 1 << 96
Q128 = 1 << 128
_MAX_UINT256 = (1 << 256) - 1
_MAX_INT256 = (1 << 255) - 1
_MAX_UINT160 = (1 << 160) - 1
_PIPS = 1_000_000


class UniswapV3Pool(PoolState):
    """Exact Uniswap V3 pool state (see module docstring)."""

    kind = "uniswap_v3"

    def __init__(
        self,
        address: str,
        token0: str,
        token1: str,
        fee_pips: int,
        tick_spacing: int,
        sqrt_price_x96: int,
        tick: int,
        liquidity: int,
        ticks: Mapping[int, int] | Iterable[tuple[int, int]] = (),
        *,
        liquidity_gross: Mapping[int, int] | None = None,
        block_number: int = 0,
        fee_protocol: int = 0,
        fee_growth_global0_x128: int = 0,
        fee_growth_global1_x128: int = 0,
    ) -> None:
        super().__init__(address, token0, token1, block_number)
        if not 0 <= fee_pips < _PIPS:
            raise AmmError(f"pool {address}: fee {fee_pips} pips out of range")
        if tick_spacing <= 0:
            raise AmmError(f"pool {address}: tick spacing {tick_spacing} must be > 0")
        self.fee_pips = fee_pips
        self.tick_spacing = tick_spacing
        self.sqrt_price_x96 = sqrt_price_x96
        self.tick = tick
        self.liquidity = liquidity
        # slot0.feeProtocol: low 4 bits for token0 fees, high 4 bits for token1 fees
        self.fee_protocol = fee_protocol
        self.fee_growth_global0_x128 = fee_growth_global0_x128
        self.fee_growth_global1_x128 = fee_growth_global1_x128
        items = ticks.items() if isinstance(ticks, Mapping) else ticks
        net: dict[int, int] = {}
        for t, n in items:
            t = int(t)
            if t % tick_spacing:
                raise AmmError(f"pool {address}: tick {t} not a multiple of tick spacing {tick_spacing}")
            net[t] = int(n)
        self._net = net
        if liquidity_gross is not None:
            self._gross = {int(t): int(g) for t, g in liquidity_gross.items()}
        else:
            self._gross = {t: abs(n) for t, n in net.items()}
        # a tick is initialized when its gross liquidity is > 0 (or it was given explicitly)
        self._sorted = sorted(net)  # every given tick is initialized (snapshots list only those)
        self._curve_cache: dict = {}
        self._curve_version = -1
        self._step_caches: list = [None, None]
        self._steps_version = -1
        # the step caches of the state before (reused after a Swap, see v3_steps) and a version of
        # the tick map (liquidity net per tick), bumped whenever a tick changes
        self._prev_step_caches: list = [None, None]
        self._ticks_version = 0

    # --- construction helpers ---------------------------------------------------------------

    @classmethod
    def from_snapshot(cls, snapshot) -> UniswapV3Pool:
        """Build from a ``mevbot.messages.PoolSnapshot``."""
        info = snapshot.pool
        return cls(
            info.address, info.token0, info.token1,
            snapshot.fee_pips if snapshot.fee_pips is not None else info.fee_pips,
            info.tick_spacing, snapshot.sqrt_price_x96, snapshot.tick, snapshot.liquidity,
            snapshot.ticks, block_number=snapshot.block_number,
        )

    @property
    def ticks(self) -> dict[int, int]:
        """Initialized ticks -> liquidityNet (a copy, ascending)."""
        net = self._net
        return {t: net[t] for t in self._sorted}

    @property
    def initialized_ticks(self) -> list[int]:
        return list(self._sorted)

    def liquidity_net_between(self, lower_tick: int, upper_tick: int) -> int:
        """Sum of liquidityNet over the initialized ticks t with ``lower_tick < t <= upper_tick``:
        the in-range liquidity change of a price move from ``lower_tick`` up to ``upper_tick``.
        O(log n + ticks in between)."""
        ticks = self._sorted
        net = self._net
        return sum(net[ticks[i]] for i in range(bisect_right(ticks, lower_tick), bisect_right(ticks, upper_tick)))

    # --- the swap -------------------------------------------------------------------------------

    def _swap(self, zero_for_one: bool, amount_specified: int, limit: int | None, full: bool):
        """v3-core ``swap`` without the token transfers. Returns a tuple:
        (amount0, amount1, sqrt_price, tick, liquidity, crossed, steps, fee_total, fee_growth, protocol_fee,
        amount remaining at the start of the last step).
        With ``full=False`` the tick is only computed when the loop needs it (quotes)."""
        if amount_specified == 0:
            raise AmmError("UniswapV3Pool.swap: AS (amountSpecified is 0)")
        sqrt_price = self.sqrt_price_x96
        if limit is None:
            limit = MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1
        if zero_for_one:
            if not (MIN_SQRT_RATIO < limit < sqrt_price):
                raise AmmError(f"UniswapV3Pool.swap: SPL (limit {limit}, price {sqrt_price})")
        elif not (sqrt_price < limit < MAX_SQRT_RATIO):
            raise AmmError(f"UniswapV3Pool.swap: SPL (limit {limit}, price {sqrt_price})")

        exact_in = amount_specified > 0
        remaining = amount_specified
        calculated = 0
        tick = self.tick
        liquidity = self.liquidity
        fee = self._direction_fee(zero_for_one)
        fee_complement = _PIPS - fee
        spacing = self.tick_spacing
        sorted_ticks = self._sorted
        n_ticks = len(sorted_ticks)
        net = self._net
        fee_protocol = (self.fee_protocol % 16) if zero_for_one else (self.fee_protocol >> 4)
        fee_growth = 0
        protocol_fee = 0
        fee_total = 0
        crossed = 0
        steps = 0
        tick_stale = False
        last_remaining = remaining
        ratio_get = _SQRT_RATIO_CACHE.get

        while remaining != 0 and sqrt_price != limit:
            steps += 1
            last_remaining = remaining
            start = sqrt_price
            # TickBitmap.nextInitializedTickWithinOneWord on the sorted list
            compressed = tick // spacing
            if zero_for_one:
                word_start = ((compressed >> 8) << 8) * spacing
                i = bisect_right(sorted_ticks, compressed * spacing)
                if i and sorted_ticks[i - 1] >= word_start:
                    tick_next = sorted_ticks[i - 1]
                    initialized = True
                else:
                    tick_next = word_start
                    initialized = False
                if tick_next < MIN_TICK:  # noqa: PLR1730 (hot loop: no min/max calls)
                    tick_next = MIN_TICK
            else:
                nxt = compressed + 1
                word_end = (((nxt >> 8) << 8) + 255) * spacing
                i = bisect_left(sorted_ticks, nxt * spacing)
                if i < n_ticks and sorted_ticks[i] <= word_end:
                    tick_next = sorted_ticks[i]
                    initialized = True
                else:
                    tick_next = word_end
                    initialized = False
                if tick_next > MAX_TICK:  # noqa: PLR1730
                    tick_next = MAX_TICK
            price_next = ratio_get(tick_next)  # memoised getSqrtRatioAtTick, inline for speed
            if price_next is None:
                price_next = sqrt_ratio_at_tick(tick_next)
            if zero_for_one:
                target = limit if price_next < limit else price_next  # noqa: FURB136
            else:
                target = limit if price_next > limit else price_next  # noqa: FURB136

            # --- SwapMath.computeSwapStep, inlined (see swap_math.py for the reference port) ---
            if exact_in:
                less_fee = remaining * fee_complement // _PIPS
                if zero_for_one:
                    # getAmount0Delta(target, price, L, roundUp=True)
                    num1 = liquidity << 96
                    # getAmount0Delta(.., roundUp=True): divRoundingUp(mulDivRoundingUp(L << 96, diff, sqrt_price), target)
                    amount_in = -(-(num1 * (sqrt_price - target)) // sqrt_price)
                    amount_in = -(-amount_in // target)
                else:
                    amount_in = -(-(liquidity * (target - sqrt_price)) // Q96)
                if less_fee >= amount_in:
                    sqrt_next = target
                else:
                    sqrt_next = getNextSqrtPriceFromInput(sqrt_price, liquidity, less_fee, zero_for_one)
                reached = sqrt_next == target
                if zero_for_one:
                    if not reached:
                        num1 = liquidity << 96
                        # getAmount0Delta(.., roundUp=True): divRoundingUp(mulDivRoundingUp(L << 96, diff, sqrt_price), sqrt_next)
                        amount_in = -(-(num1 * (sqrt_price - sqrt_next)) // sqrt_price)
                        amount_in = -(-amount_in // sqrt_next)
                    amount_out = liquidity * (sqrt_price - sqrt_next) // Q96
                else:
                    if not reached:
                        amount_in = -(-(liquidity * (sqrt_next - sqrt_price)) // Q96)
                    amount_out = ((liquidity << 96) * (sqrt_next - sqrt_price) // sqrt_next) // sqrt_price
                if not reached:
                    fee_amount = remaining - amount_in
                else:
                    fee_amount = -(-(amount_in * fee) // fee_complement)
                remaining -= amount_in + fee_amount
                calculated -= amount_out
            else:
                want = -remaining
                if zero_for_one:
                    amount_out = liquidity * (sqrt_price - target) // Q96
                else:
                    if target == 0:
                        raise AmmError("SqrtPriceMath: getAmount0Delta needs sqrtRatioAX96 > 0")
                    amount_out = ((liquidity << 96) * (target - sqrt_price) // target) // sqrt_price
                if want >= amount_out:
                    sqrt_next = target
                else:
                    sqrt_next = getNextSqrtPriceFromOutput(sqrt_price, liquidity, want, zero_for_one)
                reached = sqrt_next == target
                if zero_for_one:
                    num1 = liquidity << 96
                    # getAmount0Delta(.., roundUp=True): divRoundingUp(mulDivRoundingUp(L << 96, diff, sqrt_price), sqrt_next)
                    amount_in = -(-(num1 * (sqrt_price - sqrt_next)) // sqrt_price)
                    amount_in = -(-amount_in // sqrt_next)
                    if not reached:
                        amount_out = liquidity * (sqrt_price - sqrt_next) // Q96
                else:
                    amount_in = -(-(liquidity * (sqrt_next - sqrt_price)) // Q96)
                    if not reached:
                        amount_out = ((liquidity << 96) * (sqrt_next - sqrt_price) // sqrt_next) // sqrt_price
                if amount_out > want:  # noqa: PLR1730
                    amount_out = want
                fee_amount = -(-(amount_in * fee) // fee_complement)
                remaining += amount_out
                calculated += amount_in + fee_amount
            sqrt_price = sqrt_next
            # --- end of computeSwapStep ---

            fee_total += fee_amount
            if fee_protocol > 0:
                delta = fee_amount // fee_protocol
                fee_amount -= delta
                protocol_fee += delta
            if liquidity > 0:
                fee_growth += fee_amount * Q128 // liquidity

            if sqrt_price == price_next:
                if initialized:
                    liquidity_net = net[tick_next]
                    if zero_for_one:
                        liquidity_net = -liquidity_net
                    liquidity = addDelta(liquidity, liquidity_net)
                    crossed += 1
                tick = tick_next - 1 if zero_for_one else tick_next
                tick_stale = False
            elif sqrt_price != start:
                if full or (remaining != 0 and sqrt_price != limit):
                    tick = tick_at_sqrt_ratio(sqrt_price)
                else:
                    tick_stale = True

        if tick_stale and full:
            tick = tick_at_sqrt_ratio(sqrt_price)
        if zero_for_one == exact_in:
            amount0, amount1 = amount_specified - remaining, calculated
        else:
            amount0, amount1 = calculated, amount_specified - remaining
        # the pool casts amounts to int256 (toInt256) on every step; unreachable with real tokens
        if amount0 > _MAX_INT256 or amount1 > _MAX_INT256:
            raise AmmError("UniswapV3Pool.swap: amount overflows int256")
        return (amount0, amount1, sqrt_price, tick, liquidity, crossed, steps, fee_total, fee_growth,
                protocol_fee, last_remaining)

    def swap(self, zero_for_one: bool, amount_specified: int, sqrt_price_limit_x96: int) -> SwapResult:
        """``UniswapV3Pool.swap`` semantics (signed ``amount_specified``: > 0 exact in, < 0 exact out)."""
        a0, a1, price, tick, liquidity, crossed, steps, fee_total, growth, pfee, last = self._swap(
            zero_for_one, amount_specified, sqrt_price_limit_x96, True
        )
        amount_in, amount_out = (a0, -a1) if zero_for_one else (a1, -a0)
        result = SwapResult(zero_for_one, amount_in, amount_out, fee_total, price, tick, liquidity,
                            crossed, steps, growth, pfee)
        result.last_step_amount_remaining = last
        return result

    def _direction_fee(self, zero_for_one: bool) -> int:
        """Fee (pips) of a swap in this direction (Algebra builds may differ per direction)."""
        return self.fee_pips

    def _new_state_caches(self) -> None:
        """The state changed: start new step caches, keeping each direction's last one (the newest
        non-empty) for :class:`StepCache` to take over what is still valid."""
        prev = self._prev_step_caches
        for i, cache in enumerate(self._step_caches):
            if cache is not None and len(cache.starts) >= 2:
                prev[i] = cache
        self._step_caches = [None, None]
        self._steps_version = self.state_version

    def _new_step_cache(self, zero_for_one: bool) -> StepCache:
        cache = StepCache(self, zero_for_one, self._direction_fee(zero_for_one), self._prev_step_caches[zero_for_one])
        self._prev_step_caches[zero_for_one] = None
        self._step_caches[zero_for_one] = cache
        return cache

    def warm_quotes(self, zero_for_one: bool) -> None:
        if self._steps_version != self.state_version:
            self._new_state_caches()
        if self._step_caches[zero_for_one] is None:
            self._new_step_cache(zero_for_one)

    def _steps(self, zero_for_one: bool) -> StepCache | None:
        """The step cache of this state and direction; None on the first quote of a state (a
        single quote is cheaper through the loop; the cache pays from the second on)."""
        if self._steps_version != self.state_version:
            self._new_state_caches()
            return None
        cache = self._step_caches[zero_for_one]
        # defensive: besides the version, the cache must start from the current price/liquidity
        # and fee (a stale cache would misprice every quote)
        if (cache is None or cache.fee != self._direction_fee(zero_for_one)
                or cache.start_price != self.sqrt_price_x96 or cache.start_liquidity != self.liquidity
                or cache.ticks_version != self._ticks_version):
            cache = self._new_step_cache(zero_for_one)
        return cache

    def quote_exact_in(self, zero_for_one: bool, amount_in: int) -> int:
        """Exact output for ``amount_in`` (no price limit), from the step cache (see v3_steps)."""
        if amount_in <= 0:
            return 0
        if self._steps_version == self.state_version:
            # fast path (sizing quotes one state hundreds of times): the same defensive checks as
            # _steps, on plain attributes
            cache = self._step_caches[zero_for_one]
            if (cache is not None and cache.start_price == self.sqrt_price_x96
                    and cache.start_liquidity == self.liquidity and cache.pool_fee_pips == self.fee_pips):
                return cache.quote_exact_in(amount_in)
        steps = self._steps(zero_for_one)
        if steps is None:
            r = self._swap(zero_for_one, amount_in, None, False)
            return -(r[1] if zero_for_one else r[0])
        return steps.quote_exact_in(amount_in)

    def swap_exact_in_summary(self, zero_for_one: bool, amount_in: int) -> tuple[int, int, int, int]:
        """``(amount_in used, amount_out, sqrtPriceX96 after, initialized ticks crossed)`` of an
        exact-input swap without price limit, as :meth:`simulate_exact_in` reports them, from the
        step cache (O(log n) once the cache covers the amount, instead of the full loop)."""
        self.warm_quotes(zero_for_one)
        steps = self._steps(zero_for_one)
        assert steps is not None
        return steps.swap_exact_in(amount_in)

    def quote_exact_in_loop(self, zero_for_one: bool, amount_in: int) -> int:
        """Same as quote_exact_in, through the plain swap loop (no cache)."""
        if amount_in <= 0:
            return 0
        r = self._swap(zero_for_one, amount_in, None, False)
        return -(r[1] if zero_for_one else r[0])

    def quote_exact_out(self, zero_for_one: bool, amount_out: int) -> int:
        if amount_out <= 0:
            return 0
        steps = self._steps(zero_for_one)
        cached = None if steps is None else steps.quote_exact_out(amount_out)
        if cached is not None:
            amount_in, got = cached
            if got < amount_out:
                raise AmmError(f"pool {self.address}: cannot deliver {amount_out} (only {got} before the price limit)")
            return amount_in
        r = self._swap(zero_for_one, -amount_out, None, False)
        got = -(r[1] if zero_for_one else r[0])
        if got < amount_out:
            raise AmmError(f"pool {self.address}: cannot deliver {amount_out} (only {got} before the price limit)")
        return r[0] if zero_for_one else r[1]

    def simulate_exact_in(self, zero_for_one: bool, amount_in: int,
                          sqrt_price_limit_x96: int | None = None) -> SwapResult:
        return self.swap(zero_for_one, amount_in, sqrt_price_limit_x96)

    def simulate_exact_out(self, zero_for_one: bool, amount_out: int,
                           sqrt_price_limit_x96: int | None = None) -> SwapResult:
        return self.swap(zero_for_one, -amount_out, sqrt_price_limit_x96)

    def execute_swap(self, zero_for_one: bool, amount_specified: int,
                     sqrt_price_limit_x96: int | None = None, *, block_number: int | None = None) -> SwapResult:
        """Run the swap and move the pool to the resulting state, as the contract does (price, tick,
        liquidity, fee growth). For simulating a plan on a copy, or several hops through one pool."""
        result = self.swap(zero_for_one, amount_specified, sqrt_price_limit_x96)
        self._begin_mutation(self.block_number if block_number is None else block_number)
        self.sqrt_price_x96 = result.sqrt_price_x96_after
        self.tick = result.tick_after
        self.liquidity = result.liquidity_after
        if zero_for_one:
            self.fee_growth_global0_x128 = (self.fee_growth_global0_x128 + result.fee_growth_global_x128_delta) \
                & _MAX_UINT256
        else:
            self.fee_growth_global1_x128 = (self.fee_growth_global1_x128 + result.fee_growth_global_x128_delta) \
                & _MAX_UINT256
        return result

    # --- events -----------------------------------------------------------------------------------

    def apply_swap(self, sqrt_price_x96: int, liquidity: int, tick: int, *, block_number: int) -> None:
        """A Swap event: the pool's new sqrtPriceX96, liquidity and tick are in the event."""
        if not (MIN_SQRT_RATIO <= sqrt_price_x96 <= MAX_SQRT_RATIO and MIN_TICK <= tick <= MAX_TICK):
            raise AmmError(f"pool {self.address}: Swap event out of range (price {sqrt_price_x96}, tick {tick})")
        self._begin_mutation(block_number)
        self.sqrt_price_x96 = sqrt_price_x96
        self.liquidity = liquidity
        self.tick = tick

    def apply_mint(self, tick_lower: int, tick_upper: int, amount: int, *, block_number: int) -> None:
        """A Mint event: ``amount`` liquidity added to [tick_lower, tick_upper) (``_modifyPosition``)."""
        self._modify_position(tick_lower, tick_upper, amount, block_number)

    def apply_burn(self, tick_lower: int, tick_upper: int, amount: int, *, block_number: int) -> None:
        """A Burn event: ``amount`` liquidity removed. A tick whose gross liquidity reaches 0 is
        cleared from the bitmap. With gross unknown (taken as |net|), a tick whose net becomes 0 is
        treated as cleared too, and one whose net stays non-zero stays initialized."""
        self._modify_position(tick_lower, tick_upper, -amount, block_number)

    def _modify_position(self, tick_lower: int, tick_upper: int, delta: int, block_number: int) -> None:
        if not (tick_lower < tick_upper and tick_lower >= MIN_TICK and tick_upper <= MAX_TICK):
            raise AmmError(f"pool {self.address}: bad position ticks [{tick_lower}, {tick_upper})")
        spacing = self.tick_spacing
        if tick_lower % spacing or tick_upper % spacing:
            raise AmmError(f"pool {self.address}: position ticks not multiples of {spacing}")
        if delta == 0:
            return  # a poke: fees only, no liquidity change
        entry = self._begin_mutation(block_number)
        self._update_tick(entry, tick_lower, delta, upper=False)
        self._update_tick(entry, tick_upper, delta, upper=True)
        if tick_lower <= self.tick < tick_upper:
            self.liquidity = addDelta(self.liquidity, delta)

    def _update_tick(self, entry, tick: int, delta: int, upper: bool) -> None:
        """Tick.update + TickBitmap.flipTick."""
        self._ticks_version += 1
        net = self._net
        gross = self._gross
        old_gross = gross.get(tick, 0)
        old_net = net.get(tick)
        self._journal_key(entry, tick, (old_gross, old_net))
        new_net = (old_net or 0) + (-delta if upper else delta)
        new_gross = old_gross + delta
        was_initialized = old_net is not None
        if new_gross <= 0 and new_net != 0:
            new_gross = abs(new_net)  # gross was unknown and under-estimated: keep the tick
        if new_gross <= 0:
            net.pop(tick, None)
            gross.pop(tick, None)
            if was_initialized:
                self._flip(tick)
        else:
            net[tick] = new_net
            gross[tick] = new_gross
            if not was_initialized:
                self._flip(tick)

    def _flip(self, tick: int) -> None:
        s = self._sorted
        i = bisect_left(s, tick)
        if i < len(s) and s[i] == tick:
            del s[i]
        else:
            s.insert(i, tick)

    def _restore_key(self, key, value) -> None:
        old_gross, old_net = value
        self._ticks_version += 1
        was = key in self._net
        if old_net is None:
            self._net.pop(key, None)
            self._gross.pop(key, None)
            if was:
                self._flip(key)
        else:
            self._net[key] = old_net
            self._gross[key] = old_gross
            if not was:
                self._flip(key)

    def _scalars(self) -> tuple:
        return (self.sqrt_price_x96, self.tick, self.liquidity, self.fee_pips,
                self.fee_growth_global0_x128, self.fee_growth_global1_x128)

    def _restore_scalars(self, scalars: tuple) -> None:
        (self.sqrt_price_x96, self.tick, self.liquidity, self.fee_pips,
         self.fee_growth_global0_x128, self.fee_growth_global1_x128) = scalars

    def copy(self) -> UniswapV3Pool:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._net = dict(self._net)
        clone._gross = dict(self._gross)
        clone._sorted = list(self._sorted)
        clone._journal = [_copy_entry(e) for e in self._journal]
        clone._curve_cache = {}
        clone._curve_version = -1
        clone._step_caches = [None, None]
        clone._steps_version = -1
        clone._prev_step_caches = [None, None]
        return clone

    # --- sizing model -----------------------------------------------------------------------------

    def float_segments(self, zero_for_one: bool):
        if self._curve_version != self.state_version:
            self._curve_cache = {}
            self._curve_version = self.state_version
        curve = self._curve_cache.get(zero_for_one)
        if curve is None:
            curve = V3Curve(self, zero_for_one)
            self._curve_cache[zero_for_one] = curve
        return curve

    def __repr__(self) -> str:
        return (f"UniswapV3Pool({self.address}, fee={self.fee_pips}, spacing={self.tick_spacing}, "
                f"price={self.sqrt_price_x96}, tick={self.tick}, L={self.liquidity}, "
                f"ticks={len(self._sorted)}, block={self.block_number})")


def _copy_entry(entry):
    from mevbot.amm.base import _JournalEntry

    clone = _JournalEntry(entry.block_number, entry.scalars)
    clone.undo = dict(entry.undo)
    return clone
