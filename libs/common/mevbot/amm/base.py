"""The one interface every pool-state object offers (V2, Camelot V2, Uniswap V3, Algebra).

The detector quotes and sizes through it, the validator re-simulates through it, ingest-fed
events mutate it. Everything here is pure: no network, no asyncio, plain ints.

Conventions
-----------
* ``zero_for_one=True`` means token0 in, token1 out.
* Amounts are raw integers in the token's smallest unit. Fees are in pips (1e-6).
* Quotes never mutate the pool. ``apply_*`` methods mutate it and take the ``block_number`` the
  event belongs to; they journal what they change so that :meth:`PoolState.rollback_to` can undo
  whole blocks after a reorg (bounded depth, :data:`DEFAULT_JOURNAL_DEPTH` blocks).
* Every mutation bumps :attr:`PoolState.state_version` (monotonic, also bumped by a rollback), so
  caches keyed on ``(address, state_version)`` stay correct.
* Errors: a swap the pool contract would revert raises :class:`mevbot.errors.AmmError`; an event
  that does not fit the state (older block than already applied, reorg deeper than the journal)
  raises :class:`mevbot.errors.StateError`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from mevbot.errors import AmmError, StateError

#: How many blocks of undo information a pool keeps (Arbitrum reorgs are rare and shallow).
DEFAULT_JOURNAL_DEPTH = 64


class SwapResult:
    """Full outcome of one simulated swap (what the pool contract would do).

    ``amount_in`` includes the fee. ``amount0``/``amount1`` are the pool's balance deltas as its
    Swap event reports them (positive = paid into the pool). V2 pools report
    ``sqrt_price_x96_after=0``, ``tick_after=0``, ``liquidity_after=0`` and carry the reserves after.
    """

    __slots__ = (
        "amount_in",
        "amount_out",
        "fee_amount",
        "fee_growth_global_x128_delta",
        "last_step_amount_remaining",
        "liquidity_after",
        "protocol_fee",
        "reserve0_after",
        "reserve1_after",
        "sqrt_price_x96_after",
        "steps",
        "tick_after",
        "ticks_crossed",
        "zero_for_one",
    )

    def __init__(
        self,
        zero_for_one: bool,
        amount_in: int,
        amount_out: int,
        fee_amount: int = 0,
        sqrt_price_x96_after: int = 0,
        tick_after: int = 0,
        liquidity_after: int = 0,
        ticks_crossed: int = 0,
        steps: int = 0,
        fee_growth_global_x128_delta: int = 0,
        protocol_fee: int = 0,
        reserve0_after: int = 0,
        reserve1_after: int = 0,
    ) -> None:
        self.zero_for_one = zero_for_one
        self.amount_in = amount_in
        self.amount_out = amount_out
        self.fee_amount = fee_amount  # total fee charged in token_in units (LP + protocol)
        self.sqrt_price_x96_after = sqrt_price_x96_after
        self.tick_after = tick_after
        self.liquidity_after = liquidity_after
        self.ticks_crossed = ticks_crossed  # initialized ticks crossed
        self.steps = steps  # computeSwapStep iterations (word boundaries included)
        # feeGrowthGlobal{0,1}X128 increase of the input token (the fee growth of the other is 0)
        self.fee_growth_global_x128_delta = fee_growth_global_x128_delta
        self.protocol_fee = protocol_fee
        self.reserve0_after = reserve0_after
        self.reserve1_after = reserve1_after
        # V3: amountSpecifiedRemaining when the last computeSwapStep began (its fee floor is what
        # the exact-input rounding loses; cycle sizing aligns it)
        self.last_step_amount_remaining = 0

    @property
    def amount0(self) -> int:
        """Pool balance delta of token0 (+ paid in), as in the Swap event."""
        return self.amount_in if self.zero_for_one else -self.amount_out

    @property
    def amount1(self) -> int:
        """Pool balance delta of token1 (+ paid in), as in the Swap event."""
        return -self.amount_out if self.zero_for_one else self.amount_in

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"SwapResult({fields})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SwapResult):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)


class _JournalEntry:
    """Undo information for one block: scalar state before the block, and per-key old values."""

    __slots__ = ("block_number", "scalars", "undo")

    def __init__(self, block_number: int, scalars: tuple) -> None:
        self.block_number = block_number
        self.scalars = scalars
        self.undo: dict[Any, Any] = {}  # key -> value before this block (first write wins)


class PoolState(ABC):
    """Common interface; see the module docstring for conventions.

    Subclasses implement the quoting methods and ``_scalars``/``_restore_scalars`` (the small
    mutable state: reserves, price, tick, liquidity, fee) plus ``_restore_key`` for keyed state
    (V3 ticks) that they journal through :meth:`_journal_key`.
    """

    kind: ClassVar[str] = ""

    def __init__(self, address: str, token0: str, token1: str, block_number: int,
                 journal_depth: int = DEFAULT_JOURNAL_DEPTH) -> None:
        self.address = address.lower()
        self.token0 = token0.lower()
        self.token1 = token1.lower()
        self.block_number = block_number  # block of the newest applied state
        self.state_version = 0
        self.journal_depth = journal_depth
        self._journal: list[_JournalEntry] = []
        # oldest block the state can be rolled back to (creation, or the newest forgotten entry)
        self._journal_floor = block_number

    # --- quoting (pure; never mutates) ------------------------------------------------------

    @abstractmethod
    def quote_exact_in(self, zero_for_one: bool, amount_in: int) -> int:
        """Amount out for an exact input (fee included in ``amount_in``). 0 if nothing comes out.

        V3/Algebra: a swap that runs out of liquidity stops at the price limit and returns what it
        got (the contract would only take part of the input): use :meth:`simulate_exact_in` when
        that matters, it reports ``amount_in`` actually consumed.
        """

    @abstractmethod
    def quote_exact_out(self, zero_for_one: bool, amount_out: int) -> int:
        """Amount in (fee included) the pool charges for exactly ``amount_out``.

        Raises AmmError when the pool cannot deliver ``amount_out``.
        """

    @abstractmethod
    def simulate_exact_in(self, zero_for_one: bool, amount_in: int,
                          sqrt_price_limit_x96: int | None = None) -> SwapResult:
        """Full exact-input swap simulation."""

    @abstractmethod
    def simulate_exact_out(self, zero_for_one: bool, amount_out: int,
                           sqrt_price_limit_x96: int | None = None) -> SwapResult:
        """Full exact-output swap simulation."""

    def min_amount_in_for(self, zero_for_one: bool, amount_out: int) -> int:
        """Smallest exact input whose :meth:`quote_exact_in` is >= ``amount_out``.

        Starts from the exact-output quote (within a wei or two of the answer: it rounds in the
        pool's favour, like exact input, but step by step differently) and settles the last wei with
        exact-input quotes: a galloping search, so it costs O(log error) quotes even if the guess is
        far off. Used by cycle sizing to find the left end of a profit plateau.
        """
        if amount_out <= 0:
            return 0
        quote = self.quote_exact_in
        guess = self.quote_exact_out(zero_for_one, amount_out)
        if quote(zero_for_one, guess) >= amount_out:
            hi = guess  # feasible; find the last infeasible below it
            step = 1
            lo = hi - step
            while lo > 0 and quote(zero_for_one, lo) >= amount_out:
                hi = lo
                step *= 2
                lo = hi - step
            lo = max(lo, 0)
        else:
            lo = guess  # infeasible; find a feasible point above it
            step = 1
            hi = lo + step
            while quote(zero_for_one, hi) < amount_out:
                lo = hi
                step *= 2
                hi = lo + step
                if step > 1 << 256:
                    raise AmmError(f"pool {self.address}: output {amount_out} unreachable")
        # invariant: quote(lo) < amount_out <= quote(hi) (lo = 0 counts as infeasible)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if quote(zero_for_one, mid) >= amount_out:
                hi = mid
            else:
                lo = mid
        return hi

    def warm_quotes(self, zero_for_one: bool) -> None:
        """Hint: many quotes of this state and direction follow (sizing); pools with a quote cache
        build it now instead of answering the first quote the slow way."""

    @abstractmethod
    def float_segments(self, zero_for_one: bool):
        """Piecewise Möbius model of ``amount_out(amount_in)`` in floats, for cycle sizing.

        Returns a :class:`mevbot.amm.mobius.SegmentCurve` (lazy list of segments
        ``(x_lo, x_hi, p, q, r, s)`` meaning ``out = (p*x + q) / (r*x + s)`` for ``x_lo <= x <= x_hi``),
        or ``None`` when the curve is not Möbius (stable pairs): sizing then searches exact quotes.
        Cached per ``state_version``.
        """

    def spot_rate(self, zero_for_one: bool) -> float:
        """Marginal amount out per unit in at zero size, fee included (float; for screening)."""
        curve = self.float_segments(zero_for_one)
        if curve is None:
            probe = 10**6
            return self.quote_exact_in(zero_for_one, probe) / probe
        return curve.slope_at_zero()

    # --- state ------------------------------------------------------------------------------

    @abstractmethod
    def copy(self) -> PoolState:
        """Independent deep copy (journal included): mutate it freely, e.g. to simulate a plan."""

    def snapshot(self) -> PoolState:
        """Alias of :meth:`copy` (a frozen view to quote against while the original moves on)."""
        return self.copy()

    @abstractmethod
    def _scalars(self) -> tuple:
        """The small mutable state, for the undo journal."""

    @abstractmethod
    def _restore_scalars(self, scalars: tuple) -> None: ...

    def _restore_key(self, key: Any, value: Any) -> None:
        """Restore one journaled keyed value (``value`` None = key absent)."""
        raise NotImplementedError

    def _begin_mutation(self, block_number: int) -> _JournalEntry:
        """Open (or reuse) the journal entry of ``block_number`` before changing anything."""
        journal = self._journal
        if journal and journal[-1].block_number == block_number:
            entry = journal[-1]
        else:
            if block_number < self.block_number:
                raise StateError(
                    f"pool {self.address}: event for block {block_number} after block "
                    f"{self.block_number} was applied (roll back first)"
                )
            entry = _JournalEntry(block_number, self._scalars())
            journal.append(entry)
            if len(journal) > self.journal_depth:
                self._journal_floor = journal.pop(0).block_number
        self.block_number = block_number
        self.state_version += 1
        return entry

    @staticmethod
    def _journal_key(entry: _JournalEntry, key: Any, old_value: Any) -> None:
        if key not in entry.undo:
            entry.undo[key] = old_value

    def rollback_to(self, block_number: int) -> None:
        """Undo every block newer than ``block_number`` (a reorg replaced them).

        Raises StateError (and changes nothing) when the journal no longer reaches back that far;
        the caller must then re-read the pool from the chain.
        """
        if self.block_number <= block_number:
            return
        if block_number < self._journal_floor:
            raise StateError(
                f"pool {self.address}: reorg to block {block_number} is deeper than the undo journal "
                f"(reaches block {self._journal_floor}); re-read the pool"
            )
        journal = self._journal
        while journal and journal[-1].block_number > block_number:
            entry = journal.pop()
            for key, old in entry.undo.items():
                self._restore_key(key, old)
            self._restore_scalars(entry.scalars)
        self._after_restore()
        self.block_number = block_number
        self.state_version += 1

    def _after_restore(self) -> None:
        """Hook: rebuild caches after a rollback."""

    @property
    def journal_blocks(self) -> list[int]:
        """Blocks the journal can undo, oldest first."""
        return [e.block_number for e in self._journal]

    def forget_before(self, block_number: int) -> None:
        """Drop undo entries of blocks <= ``block_number`` (they are final)."""
        kept = [e for e in self._journal if e.block_number > block_number]
        if len(kept) != len(self._journal):
            self._journal_floor = max(self._journal_floor, block_number)
        self._journal = kept

    # --- events -----------------------------------------------------------------------------

    def apply_event(self, event: Any) -> None:
        """Apply one ``mevbot.messages`` pool event (V2Sync, V3Swap, V3Mint, V3Burn, AlgebraFee).

        A log marked ``removed`` (reorged out) is refused: roll back by block instead.
        """
        from mevbot.amm.events import apply_event

        apply_event(self, event)
