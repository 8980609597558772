"""Cache of the *complete* swap steps of a V3 pool state, for O(log n) exact quotes.

Every ``computeSwapStep`` that reaches its target (a tick or a bitmap-word boundary) consumes
and produces amounts that depend only on the pool state, not on the swap size: input
``A = getAmount{0,1}Delta(target, price, L, roundUp)``, fee ``ceil(A*fee/(1e6-fee))``, output
``getAmount{1,0}Delta(target, price, L, roundDown)``. And an exact-input swap completes step k
iff ``floor(R*(1e6-fee)/1e6) >= A``, i.e. iff ``R >= A + fee`` (``A + ceil(A*f/(1e6-f)) ==
ceil(A*1e6/(1e6-f))``). So with cumulative sums ``C`` (input incl. fee) and ``O`` (output) over
the steps, an exact input ``x`` completes exactly the steps with ``C[k+1] <= x`` (bisect) and
finishes with one partial step from the cached start state: the same integers as the loop.

An exact output ``y`` completes the steps up to the first ``k`` with ``O[k] >= y`` (a step
reaches its target iff the remaining output is >= its full output, and the loop stops when the
remaining output is 0: steps that add no output must not be charged); its partial step can, through rounding, leave a remainder
and continue from a mid-range price: then the caller falls back to the plain loop.

Steps are generated lazily (as far as the largest amount asked so far) and the whole cache is
dropped when the pool's ``state_version`` changes.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from mevbot.amm.liquidity_math import MAX_UINT128, addDelta
from mevbot.amm.sqrt_price_math import getNextSqrtPriceFromInput, getNextSqrtPriceFromOutput
from mevbot.amm.tick_math import (
    _SQRT_RATIO_CACHE,
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    sqrt_ratio_at_tick,
)

Q96 = 1 << 96
_PIPS = 1_000_000
_MAX_UINT160 = (1 << 160) - 1
_MAX_UINT256 = (1 << 256) - 1


class StepCache:
    __slots__ = (
        "_liquidity",
        "_pool",
        "_price",
        "_reuse",
        "_source",
        "_tick",
        "cum_crossed",
        "cum_in",
        "cum_out",
        "done",
        "ends",
        "fee",
        "pool_fee_pips",
        "start_liquidity",
        "start_price",
        "starts",
        "targets",
        "ticks_version",
        "zero_for_one",
    )

    def __init__(self, pool, zero_for_one: bool, fee_pips: int, previous: StepCache | None = None) -> None:
        self._pool = pool
        self.zero_for_one = zero_for_one
        self.fee = fee_pips
        self.pool_fee_pips = pool.fee_pips  # the pool's fee attribute when built (stale-cache check)
        self.cum_in = [0]  # C[k]: input (fee included) consumed by the first k complete steps
        self.cum_out = [0]  # O[k]
        self.starts: list[tuple[int, int]] = []  # (price, liquidity) at the start of step k
        self.targets: list[int] = []  # target price of step k
        self.ends: list[tuple[int, int]] = []  # (tick, liquidity) after step k (its target reached)
        self.cum_crossed = [0]  # initialized ticks crossed by the first k complete steps
        self.done = False  # the last step reaches the price limit: nothing after it
        self._price = self.start_price = pool.sqrt_price_x96
        self._tick = pool.tick
        self._liquidity = self.start_liquidity = pool.liquidity
        self.ticks_version = pool._ticks_version
        # the previous state's cache of this direction, when only the price moved since (a Swap:
        # same tick map and fee): its complete steps past the first boundary both paths stop at
        # are this state's steps too, and are taken over instead of recomputed (see _take_over)
        self._reuse = None
        self._source: list | None = None  # [previous cache, next step of it to copy, offsets]
        if (previous is not None and len(previous.starts) >= 2 and previous._pool is pool
                and previous.zero_for_one == zero_for_one and previous.fee == fee_pips
                and previous.ticks_version == self.ticks_version):
            self._reuse = previous
            # it is dead (its state is gone): only its own steps are read, never its predecessors
            previous._reuse = previous._source = None

    def _extend(self, until_in: int = -1, until_out: int = -1, max_steps: int = 64) -> None:
        """Generate complete steps until C[-1] > until_in and O[-1] > until_out (or the limit)."""
        if self._source is not None:
            self._copy(until_in, until_out)
            if self.done or (self.cum_in[-1] > until_in and self.cum_out[-1] > until_out):
                return
        if self._reuse is not None:
            self._take_over(until_in, until_out)
            if self.done or (self.cum_in[-1] > until_in and self.cum_out[-1] > until_out):
                return
        self._generate(until_in, until_out, max_steps)

    def _take_over(self, until_in: int, until_out: int) -> None:
        """Step until this path stands on a boundary where the previous cache's path stood (the
        start of one of its steps k >= 1), then take that cache's steps from k on, shifted by the
        difference of the cumulative sums there (copied lazily, see :meth:`_copy`).

        Exact: a complete step depends only on its start (price, liquidity, tick) and the tick map
        and fee, which a Swap does not change; both paths stop at every initialized tick and every
        bitmap-word boundary they pass (the same set), and reaching a boundary fixes the tick
        (``tick_next - 1`` going down, ``tick_next`` going up) while the liquidity is checked.
        Paths that do not meet within 64 steps (or disagree) just go on computing their own."""
        old = self._reuse
        self._reuse = None
        old_starts = old.starts
        n_old = len(old_starts)
        direction = 1 if self.zero_for_one else -1  # prices fall going zero_for_one
        first_boundary = old_starts[1][0]
        for _ in range(64):
            if self.done or (self.cum_in[-1] > until_in and self.cum_out[-1] > until_out):
                self._reuse = old  # not needed yet: keep it for a later, larger quote
                return
            self._generate(until_in=self.cum_in[-1], max_steps=1)  # one step, whatever its size
            price = self._price
            # the previous path's step starts run down (zero_for_one) or up from its first boundary
            if (price - first_boundary) * direction > 0:
                continue  # still before the previous path's first boundary
            lo, hi = 1, n_old  # the first start k >= 1 not before price (starts are strictly monotone)
            while lo < hi:
                mid = (lo + hi) // 2
                if (old_starts[mid][0] - price) * direction > 0:
                    lo = mid + 1
                else:
                    hi = mid
            k = lo
            if k < n_old and old_starts[k][0] == price and old_starts[k][1] == self._liquidity:
                self._splice(old, k)
                self._copy(until_in, until_out)
            return
        # far from the previous path's region (a large move against this direction): own steps

    def _splice(self, old: StepCache, k: int) -> None:
        """From here on, this cache's steps are ``old``'s from step k (copied as far as needed)."""
        self._source = [old, k, self.cum_in[-1] - old.cum_in[k], self.cum_out[-1] - old.cum_out[k],
                        self.cum_crossed[-1] - old.cum_crossed[k]]

    def _copy(self, until_in: int, until_out: int) -> None:
        """Copy the source's steps (shifted) until C[-1] > until_in and O[-1] > until_out, a few more
        for the next quotes, or all it has; then this cache goes on from the last copied step."""
        source = self._source
        old, k, off_in, off_out, off_crossed = source
        old_in, old_out = old.cum_in, old.cum_out
        n_old = len(old.starts)
        # step j is needed while C_old[j] (its start) <= until: up to the first C_old[j+1] > until
        end = min(n_old, max(bisect_right(old_in, until_in - off_in), bisect_right(old_out, until_out - off_out),
                             k + 1) + 16)
        self.starts += old.starts[k:end]
        self.targets += old.targets[k:end]
        self.ends += old.ends[k:end]
        self.cum_in += [c + off_in for c in old_in[k + 1:end + 1]]
        self.cum_out += [c + off_out for c in old_out[k + 1:end + 1]]
        self.cum_crossed += [c + off_crossed for c in old.cum_crossed[k + 1:end + 1]]
        self._price = old.targets[end - 1]
        self._tick, self._liquidity = old.ends[end - 1]
        if end < n_old:
            source[1] = end
            return
        self._source = None
        self.done = old.done  # (its last step reached the price limit)

    def _generate(self, until_in: int = -1, until_out: int = -1, max_steps: int = 64) -> None:
        """The steps themselves (``computeSwapStep`` of every complete step, see the module doc)."""
        pool = self._pool
        zero_for_one = self.zero_for_one
        fee = self.fee
        complement = _PIPS - fee
        spacing = pool.tick_spacing
        sorted_ticks = pool._sorted
        n_ticks = len(sorted_ticks)
        net = pool._net
        limit = MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1
        price, tick, liquidity = self._price, self._tick, self._liquidity
        cum_in, cum_out, starts, targets = self.cum_in, self.cum_out, self.starts, self.targets
        cum_crossed = self.cum_crossed
        ends = self.ends
        crossed = cum_crossed[-1]
        ratio_get = _SQRT_RATIO_CACHE.get  # memoised getSqrtRatioAtTick, inline for speed
        c_in, c_out = cum_in[-1], cum_out[-1]
        done = self.done
        steps_left = max_steps
        # (hot loop: locals only, no min/max calls, LiquidityMath.addDelta inlined)
        while not done and (c_in <= until_in or c_out <= until_out) and steps_left:
            steps_left -= 1
            compressed = tick // spacing
            if zero_for_one:
                word_start = ((compressed >> 8) << 8) * spacing
                i = bisect_right(sorted_ticks, compressed * spacing)
                if i and sorted_ticks[i - 1] >= word_start:
                    tick_next, initialized = sorted_ticks[i - 1], True
                elif liquidity == 0:
                    # no liquidity: every step until the next initialized tick (or the price
                    # limit) moves 0 in and 0 out: one step there instead of one per bitmap word
                    tick_next, initialized = (sorted_ticks[i - 1], True) if i else (MIN_TICK, False)
                else:
                    tick_next, initialized = word_start, False
                if tick_next < MIN_TICK:  # noqa: PLR1730
                    tick_next = MIN_TICK
                price_next = ratio_get(tick_next)
                if price_next is None:
                    price_next = sqrt_ratio_at_tick(tick_next)
                target = limit if price_next < limit else price_next  # noqa: FURB136
                diff = price - target
                # getAmount0Delta(.., roundUp=True): divRoundingUp(mulDivRoundingUp(L << 96, diff, price), target)
                amount_in = -(-((liquidity << 96) * diff) // price)  # ceil
                amount_in = -(-amount_in // target)  # ceil
                amount_out = liquidity * diff >> 96
            else:
                nxt = compressed + 1
                word_end = (((nxt >> 8) << 8) + 255) * spacing
                i = bisect_left(sorted_ticks, nxt * spacing)
                if i < n_ticks and sorted_ticks[i] <= word_end:
                    tick_next, initialized = sorted_ticks[i], True
                elif liquidity == 0:  # (as above)
                    tick_next, initialized = (sorted_ticks[i], True) if i < n_ticks else (MAX_TICK, False)
                else:
                    tick_next, initialized = word_end, False
                if tick_next > MAX_TICK:  # noqa: PLR1730
                    tick_next = MAX_TICK
                price_next = ratio_get(tick_next)
                if price_next is None:
                    price_next = sqrt_ratio_at_tick(tick_next)
                target = limit if price_next > limit else price_next  # noqa: FURB136
                diff = target - price
                amount_in = -(-(liquidity * diff) >> 96)
                amount_out = ((liquidity << 96) * diff // target) // price
            c_in += amount_in - (-(amount_in * fee) // complement)  # + fee, rounded up
            c_out += amount_out
            starts.append((price, liquidity))
            targets.append(target)
            cum_in.append(c_in)
            cum_out.append(c_out)
            price = target
            if target == limit:
                cum_crossed.append(crossed)
                ends.append((tick, liquidity))
                done = True
                break
            if initialized:
                crossed += 1
                liquidity_net = net[tick_next]
                updated = liquidity - liquidity_net if zero_for_one else liquidity + liquidity_net
                if updated < 0 or updated > MAX_UINT128:
                    liquidity = addDelta(liquidity, -liquidity_net if zero_for_one else liquidity_net)  # raises
                liquidity = updated
            cum_crossed.append(crossed)
            tick = tick_next - 1 if zero_for_one else tick_next
            ends.append((tick, liquidity))
        self.done = done
        self._price, self._tick, self._liquidity = price, tick, liquidity

    def quote_exact_in(self, amount_in: int) -> int:
        cum_in = self.cum_in
        while cum_in[-1] <= amount_in and not self.done:
            self._extend(until_in=amount_in)
        k = bisect_right(cum_in, amount_in) - 1  # complete steps
        if k >= len(self.starts):  # everything up to the price limit: partial fill
            return self.cum_out[-1]
        remaining = amount_in - cum_in[k]
        out = self.cum_out[k]
        if remaining == 0:
            return out
        price, liquidity = self.starts[k]
        less_fee = remaining * (_PIPS - self.fee) // _PIPS
        # the step does not reach its target (amount_in < C[k+1]); liquidity is > 0 here, since a
        # zero-liquidity step consumes nothing and is always complete. The next price is
        # SqrtPriceMath.getNextSqrtPriceFromInput, inlined for the branches that cannot overflow
        # (the others go through the full port).
        if self.zero_for_one:
            numerator1 = liquidity << 96
            denominator = numerator1 + less_fee * price
            if denominator <= _MAX_UINT256:  # product and sum fit: mulDivRoundingUp(num1, P, den)
                nxt = -(-(numerator1 * price) // denominator)
            else:
                nxt = getNextSqrtPriceFromInput(price, liquidity, less_fee, True)
            return out + (liquidity * (price - nxt) >> 96)
        if less_fee <= _MAX_UINT160:
            nxt = price + (less_fee << 96) // liquidity
        else:
            nxt = getNextSqrtPriceFromInput(price, liquidity, less_fee, False)
        return out + ((liquidity << 96) * (nxt - price) // nxt) // price

    def swap_exact_in(self, amount_in: int) -> tuple[int, int, int, int]:
        """``(amount_in used, amount_out, sqrtPriceX96 after, initialized ticks crossed)`` of an
        exact-input swap without price limit: what the swap loop reports, from the cache.

        The loop stops as soon as nothing remains, so an input that completes step k exactly ends
        at step k's target (having crossed its tick), not after later zero-input steps; past the
        price limit the swap stops there with input left over (``amount_in used`` < ``amount_in``).
        """
        if amount_in <= 0:
            return 0, 0, self.start_price, 0
        cum_in = self.cum_in
        while cum_in[-1] <= amount_in and not self.done:
            self._extend(until_in=amount_in)
        if cum_in[-1] < amount_in and self.done:  # runs into the price limit with input left
            return cum_in[-1], self.cum_out[-1], self.targets[-1], self.cum_crossed[-1]
        j = bisect_left(cum_in, amount_in)
        if cum_in[j] == amount_in:  # exactly j complete steps
            return amount_in, self.cum_out[j], self.targets[j - 1], self.cum_crossed[j]
        k = j - 1  # steps 0..k-1 complete, step k partial
        remaining = amount_in - cum_in[k]
        price, liquidity = self.starts[k]
        less_fee = remaining * (_PIPS - self.fee) // _PIPS
        nxt = getNextSqrtPriceFromInput(price, liquidity, less_fee, self.zero_for_one)
        if self.zero_for_one:
            out = liquidity * (price - nxt) >> 96
        else:
            out = ((liquidity << 96) * (nxt - price) // nxt) // price
        return amount_in, self.cum_out[k] + out, nxt, self.cum_crossed[k]

    def quote_exact_out(self, amount_out: int) -> tuple[int, int] | None:
        """(amount in incl. fee, amount out) or None when the plain loop must decide."""
        cum_out = self.cum_out
        while cum_out[-1] <= amount_out and not self.done:
            self._extend(until_out=amount_out)
        # the loop stops as soon as the remaining output is 0: the first k with O[k] == amount_out
        # (later steps may add nothing to the output but would cost input)
        j = bisect_left(cum_out, amount_out)
        if j < len(cum_out) and cum_out[j] == amount_out:
            return self.cum_in[j], amount_out
        if j >= len(cum_out):  # more than the pool holds up to the price limit
            return self.cum_in[-1], cum_out[-1]
        k = j - 1  # steps 0..k-1 complete, step k partial
        want = amount_out - cum_out[k]
        price, liquidity = self.starts[k]
        fee = self.fee
        nxt = getNextSqrtPriceFromOutput(price, liquidity, want, self.zero_for_one)
        if self.zero_for_one:
            # getAmount0Delta(.., roundUp=True): divRoundingUp(mulDivRoundingUp(L << 96, diff, price), nxt)
            amount_in = -(-((liquidity << 96) * (price - nxt)) // price)
            amount_in = -(-amount_in // nxt)
            got = liquidity * (price - nxt) // Q96
        else:
            amount_in = -(-(liquidity * (nxt - price)) // Q96)
            got = ((liquidity << 96) * (nxt - price) // nxt) // price
        if got < want:
            return None  # the loop would take another step from a mid-range price
        fee_amount = -(-(amount_in * fee) // (_PIPS - fee))
        return self.cum_in[k] + amount_in + fee_amount, amount_out
