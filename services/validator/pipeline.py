"""One candidate through the whole validation: gather the context (chain, market view), run the
pure core, price the draft, simulate the exact final transaction, settle the exact costs.

The logic is written once, as a coroutine over an I/O adapter:

* ``await Validator.validate_async(candidate, head)`` is what the service runs on its event loop,
  many candidates at once (the RPC is async: :mod:`mevbot.rpc.aio`), decided exactly as one at a
  time in arrival order would: a candidate waits for an earlier one still under way only when that
  one's approval would reserve a pool on a state this candidate saw too (its reservation would
  reject this one: :mod:`services.validator.reservations`); otherwise nothing the earlier one
  decides can change this one's verdict, and both go on at once (a candidate on a newer state of a
  dislocated pool no longer waits ~34 ms behind the simulation of the previous block's). A
  reservation is seen only by the candidates that arrived after the one that made it.
* ``Validator.validate(candidate)`` runs the same coroutine over the synchronous ``ChainAccess``
  (it never suspends): the tests and the benchmarks.

Exact check (``VALIDATOR_EXACT_CHECK``): ``validator`` (default) simulates every plan here, on the
path to the plan. ``executor``: a single-part plan whose shape (hop kinds, lender) was simulated
before goes out at once, priced on the most gas that shape used plus twice the margin, as its gas limit (the
costs are an upper bound: a transaction cannot burn more than its limit) and marked
``simulated=False``; the executor signs it at once and sends it only after its own exact
simulation of the signed transaction gave exactly the plan's hop amounts and profit
(``services.executor.engine``). Splits, new shapes, and chains where the L1 part is neither in
the gas units (``GAS_ESTIMATE_INCLUDES_L1``) nor quoted by the fallback are simulated here as before.

With ``simulate=False`` the plan is priced with the pre-screen gas estimate and marked
``simulated=False`` (measurement of the simulation's cost; the executor's exact check applies).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import msgspec
from mevbot.chainconfig import FlashLoanSource
from mevbot.errors import MevbotError
from mevbot.gas.l1 import L1Quote, l1_from_fallback
from mevbot.gas.model import gas_limit_with_margin
from mevbot.messages import Candidate, ExecutionPlan, Rejection

from services.validator import metrics as vm
from services.validator import reasons
from services.validator.chain import ChainAccess
from services.validator.config import ValidatorConfig
from services.validator.core import (
    Context,
    SimulationOutcome,
    draft_plan,
    finalize,
    reject,
    screen,
    settle,
)
from services.validator.costs import NativeRate
from services.validator.market_view import MarketView
from services.validator.reservations import Reservations, pool_versions, reserved_version

_GAS_RETRY_CAP = 8_000_000
T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (its I/O is synchronous) to its result."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    coro.close()
    raise RuntimeError("the synchronous validation awaited real I/O")


class _SyncIO:
    """The synchronous ``ChainAccess`` seen through the coroutine's interface (never suspends)."""

    def __init__(self, chain: ChainAccess) -> None:
        self.chain = chain

    async def head_and_options(self, token: str, sources: Sequence[FlashLoanSource], v3: Sequence[str],
                               head: tuple[int, int] | None) -> tuple[int, int, list]:
        return self.chain.head_and_flash_options(token, sources, v3)

    async def fee_on_transfer(self, token: str, holder: str, amount: int) -> tuple[bool, str]:
        return self.chain.fee_on_transfer(token, holder, amount)

    async def simulate(self, plans: Sequence[ExecutionPlan], base_fee: int) -> list:
        return self.chain.simulate(plans, base_fee)


class _AsyncIO:
    def __init__(self, chain: ChainAccess) -> None:
        self.chain = chain

    async def head_and_options(self, token: str, sources: Sequence[FlashLoanSource], v3: Sequence[str],
                               head: tuple[int, int] | None) -> tuple[int, int, list]:
        return await self.chain.head_and_flash_options_async(token, sources, v3, head)

    async def fee_on_transfer(self, token: str, holder: str, amount: int) -> tuple[bool, str]:
        return await self.chain.fee_on_transfer_async(token, holder, amount)

    async def simulate(self, plans: Sequence[ExecutionPlan], base_fee: int) -> list:
        return await self.chain.simulate_async(plans, base_fee)


@dataclass
class Outcome:
    plans: list[ExecutionPlan] = field(default_factory=list)
    rejection: Rejection | None = None
    simulations: int = 0


class _UnderWay:
    """A validation under way: its arrival ``ticket``, the version up to which its approval would
    reserve its pools, and an event set when it is decided."""

    __slots__ = ("done", "reserves_to", "ticket")

    def __init__(self, ticket: int, reserves_to: int) -> None:
        self.ticket = ticket
        self.reserves_to = reserves_to
        self.done = asyncio.Event()


class Validator:
    def __init__(self, cfg: ValidatorConfig, chain: ChainAccess, flash_sources: Sequence[FlashLoanSource],
                 market: MarketView | None = None, clock_ns: Callable[[], int] = time.time_ns) -> None:
        self.cfg = cfg
        self.chain = chain
        self.flash_sources = list(flash_sources)
        self.market = market
        self.clock_ns = clock_ns
        self._l1_estimate: L1Quote | None = None
        self._gas_seen: dict[tuple, int] = {}  # (hops, lender kind) -> gas used by the last simulation
        self.reservations = Reservations()
        self._last_head = 0
        self._gas_max: dict[tuple, int] = {}  # (hop kinds, lender kind) -> most gas a simulation of it used
        self._tickets = 0  # arrival order of the validations
        self._under_way: dict[str, list[_UnderWay]] = {}  # pool -> validations under way that may reserve it
        self._sync_io = _SyncIO(chain)
        self._async_io = _AsyncIO(chain)
        #: the executor checks exactly: plans of a simulated shape skip the simulation here
        self.exact_check_in_executor = getattr(cfg, "exact_check", "validator") == "executor"

    # --- context -------------------------------------------------------------------------------------

    def _native_rate(self, c: Candidate) -> NativeRate | None:
        if c.start_token == self.cfg.core.native_token:
            return NativeRate.IDENTITY
        if self.market is not None:
            rate = self.market.native_rate(c.start_token, c.amount_in)
            if rate is not None:
                return rate
        if c.gross_profit > 0 and c.gross_profit_wei > 0:  # the detector's live price, same pools
            return NativeRate(c.gross_profit, c.gross_profit_wei)
        return None

    async def _fee_on_transfer(self, c: Candidate, io: _SyncIO | _AsyncIO) -> tuple[dict[str, bool], str]:
        """The fee-on-transfer verdicts :func:`check_tokens` will ask for, probed in its order (a
        denied or unlisted token stops it before any probe; the first bad token stops it)."""
        core = self.cfg.core
        tokens = [c.start_token] + [h.token_out for h in c.hops[:-1]]
        if any(t in core.denied_tokens or (core.allowed_tokens is not None and t not in core.allowed_tokens)
               for t in tokens):
            return {}, ""
        holders = {h.token_out: (h.pool, h.amount_out) for h in c.hops}
        known: dict[str, bool] = {}
        for token in tokens:
            if token == core.native_token:
                known[token] = False
                continue
            if token not in holders:
                continue  # malformed: check_form rejects it first
            pool, amount = holders[token]
            bad, detail = await io.fee_on_transfer(token, pool, amount)
            known[token] = bad
            if bad:
                return known, detail
        return known, ""

    def context(self, c: Candidate) -> Context:
        return run_sync(self._context(c, self._sync_io, None))[0]

    async def _context(self, c: Candidate, io: _SyncIO | _AsyncIO,
                       head: tuple[int, int] | None) -> tuple[Context, str]:
        hops = {h.pool for h in c.hops}
        n_v3 = self.cfg.v3_flash_lenders
        v3 = self.market.v3_lenders(c.start_token, hops, n_v3) if self.market is not None and n_v3 else []
        head_block, base_fee, options = await io.head_and_options(c.start_token, self.flash_sources, v3, head)
        if self._l1_estimate is None or self._l1_estimate.base_fee_wei != base_fee:
            self._l1_estimate = l1_from_fallback(self.cfg.l1_fallback, 79 + 37 * len(c.hops), base_fee) \
                if self._l1_estimate is None else L1Quote(self._l1_estimate.l1_cost_wei, self._l1_estimate.l1_gas_units,
                                                          base_fee, self._l1_estimate.source)
        fot, fot_detail = await self._fee_on_transfer(c, io)
        return Context(head_block=head_block, base_fee_wei=base_fee, native_rate=self._native_rate(c),
                       flash_options=options, l1_estimate=self._l1_estimate,
                       fee_on_transfer=lambda token: fot.get(token, False),
                       pools=self.market, gas_estimate=self.gas_estimate), fot_detail

    def gas_estimate(self, n_hops: int) -> int:
        """L2 gas of an ``n_hops`` plan: the least a simulation of that size used lately (any lender),
        else the configured pre-screen figure."""
        seen = [gas for (hops, _), gas in self._gas_seen.items() if hops == n_hops]
        core = self.cfg.core
        return min(seen) if seen else core.prescreen_gas_base + core.prescreen_gas_per_hop * n_hops

    # --- validation -----------------------------------------------------------------------------------

    def validate(self, c: Candidate) -> Outcome:
        """Synchronously, over the synchronous chain access (tests, benchmarks)."""
        return run_sync(self._timed(c, self._sync_io, None))

    async def validate_async(self, c: Candidate, head: tuple[int, int] | None = None) -> Outcome:
        """On the event loop over the async chain access; ``head`` = (block, base fee) when known
        (the market mirror's last block) saves reading it."""
        return await self._timed(c, self._async_io, head)

    async def _timed(self, c: Candidate, io: _SyncIO | _AsyncIO, head: tuple[int, int] | None) -> Outcome:
        t0 = time.perf_counter()
        self._tickets += 1
        me = _UnderWay(self._tickets, reserved_version(c))
        seen = pool_versions(c)
        under_way = self._under_way
        # the earlier validations whose approval would reserve a pool on a state this candidate saw
        # too (their reservation would reject it) are waited for; no other earlier validation can
        # change this one's verdict. Waits only go to earlier arrivals: no deadlock
        waits = [other.done for pool, version in seen.items() for other in under_way.get(pool, ())
                 if version <= other.reserves_to]
        for pool in seen:
            under_way.setdefault(pool, []).append(me)
        try:
            for done in waits:
                await done.wait()
            out = await self._validate(c, io, head, me.ticket)
        except MevbotError as exc:
            out = Outcome(rejection=reject(c, reasons.INTERNAL_ERROR, f"{exc.code}: {exc}"))
        finally:
            me.done.set()
            for pool in seen:
                flights = under_way[pool]
                flights.remove(me)
                if not flights:
                    del under_way[pool]
        label = "approved" if out.plans else "rejected"
        vm.VALIDATION_LATENCY.labels(label).observe(time.perf_counter() - t0)
        if out.rejection is not None:
            vm.REJECTIONS.labels(out.rejection.reason).inc()
        return out

    async def _validate(self, c: Candidate, io: _SyncIO | _AsyncIO, head: tuple[int, int] | None,
                        ticket: int) -> Outcome:
        core = self.cfg.core
        if self.market is not None:
            moved = self.market.moved_since(c)
            if moved:
                return Outcome(rejection=reject(c, reasons.STALE_STATE, f"pools changed since: {', '.join(moved)}"))
        if self._last_head and c.block_number >= self._last_head - core.max_state_age_blocks:
            # racing an approved plan: decided before any RPC (the head seen last is a safe clock:
            # reservations last a little longer by it, never shorter)
            clash = self.reservations.conflict(c, self._last_head, ticket)
            if clash is not None:
                return Outcome(rejection=reject(c, reasons.POOL_RESERVED, clash))
        ctx, fot_detail = await self._context(c, io, head)
        self._last_head = max(self._last_head, ctx.head_block)
        if self.market is not None and io is self._async_io:
            moved = self.market.moved_since(c)  # the mirror may have moved while the context was read
            if moved:
                return Outcome(rejection=reject(c, reasons.STALE_STATE, f"pools changed since: {', '.join(moved)}"))
        # from here to the first simulation nothing awaits: the core sees one consistent mirror
        screened = screen(c, core, ctx)
        if screened.rejection is not None:
            rej = screened.rejection
            if rej.reason == reasons.FEE_ON_TRANSFER and fot_detail:
                rej = reject(c, rej.reason, f"{rej.detail}: {fot_detail}")
            return Outcome(rejection=rej)
        clash = self.reservations.conflict(c, ctx.head_block, ticket)
        if clash is not None:
            return Outcome(rejection=reject(c, reasons.POOL_RESERVED, clash))
        if len(screened.drafts) > 1 or screened.drafts[0].amount_in != c.amount_in:
            vm.SPLITS.labels("split" if len(screened.drafts) > 1 else "downsized").inc()
        outcome = Outcome()
        plans = [draft_plan(d, core, ctx.head_block, ctx.base_fee_wei, self.clock_ns()) for d in screened.drafts]
        approved = await self._approve_io(plans, screened.drafts[0].native_rate, ctx.base_fee_wei, outcome, io)
        if isinstance(approved, Rejection):
            return Outcome(rejection=approved, simulations=outcome.simulations)
        outcome.plans = approved
        self.reservations.reserve(c, approved, ticket)
        return outcome

    def _approve(self, plans: list[ExecutionPlan], rate: NativeRate, base_fee: int,
                 outcome: Outcome) -> list[ExecutionPlan] | Rejection:
        return run_sync(self._approve_io(plans, rate, base_fee, outcome, self._sync_io))

    def _speculative(self, plan: ExecutionPlan, rate: NativeRate, base_fee: int) -> ExecutionPlan | tuple[str, str] | None:
        """The plan priced for the executor's exact check, or None when it must be simulated here.

        Priced on the most gas its shape (hop kinds, lender) used in a simulation, plus twice the
        margin, which is also its
        gas limit: the transaction cannot burn more, so the costs (and the net profit checked
        against the minimum) are an upper (lower) bound. The L1 part: Arbitrum counts it in the gas
        units (bounded by the limit) and priced once more on top; the fallback is computed from
        the exact calldata's size."""
        core = self.cfg.core
        seen = self._gas_max.get(_gas_shape(plan))
        l1_exact = self.chain.oracle.source == "fallback"
        if seen is None or not (core.gas_estimate_includes_l1 or l1_exact):
            return None
        # the margin twice over: a V3 hop crossing more ticks than last time costs more gas, and a
        # limit too low only loses the trade (the executor's check runs out of gas), never money
        units = gas_limit_with_margin(seen, 2 * core.gas_limit_margin_bps)
        l1 = self._l1_estimate
        if l1_exact:
            l1 = self.chain.oracle.parse("0x", len(self.chain.calldata(plan)), base_fee)
        predicted = SimulationOutcome(True, tuple(h.amount_out for h in plan.hops), plan.expected_profit, units)
        spec = replace(core, gas_limit_margin_bps=0, gas_estimate_includes_l1=False)
        priced = finalize(plan, predicted, l1, base_fee, rate, spec, self.clock_ns())
        if isinstance(priced, tuple):
            return priced
        return msgspec.structs.replace(priced, simulated=False)

    async def _approve_io(self, plans: list[ExecutionPlan], rate: NativeRate, base_fee: int,
                          outcome: Outcome, io: _SyncIO | _AsyncIO) -> list[ExecutionPlan] | Rejection:
        """Price each part with the gas seen last time for its shape (guard, gas limit and fee bid are
        then fixed in the transaction), simulate those exact transactions in order, settle the exact
        costs. The parts that settle, in order up to the first that does not, are approved."""
        core = self.cfg.core
        first = plans[0]
        ids = {"chain_id": first.chain_id, "candidate_id": first.candidate_id, "cycle_id": first.cycle_id,
               "block_number": first.block_number}
        if self.cfg.simulate and self.exact_check_in_executor and len(plans) == 1:
            spec = self._speculative(first, rate, base_fee)
            if isinstance(spec, tuple):
                return Rejection(reason=spec[0], detail=spec[1], **ids)
            if spec is not None:
                vm.SIMULATIONS.labels("left_to_executor").inc()
                return [spec]
        priced: list[ExecutionPlan] = []
        for plan in plans:
            shape = (len(plan.hops), plan.flash_source.kind)
            est_gas = self._gas_seen.get(shape, core.prescreen_gas_base + core.prescreen_gas_per_hop * len(plan.hops))
            predicted = SimulationOutcome(True, tuple(h.amount_out for h in plan.hops), plan.expected_profit, est_gas)
            p = finalize(plan, predicted, self._l1_estimate, base_fee, rate, core, self.clock_ns())
            if isinstance(p, tuple):
                if not priced:
                    return Rejection(reason=p[0], detail=p[1], **ids)
                break
            priced.append(p)
        if not self.cfg.simulate:
            return [_unsimulated(p) for p in priced]
        rejection: Rejection | None = None
        for _ in range(4):
            results = await io.simulate(priced, base_fee)
            outcome.simulations += 1
            settled_all: list[ExecutionPlan] = []
            retry = False
            for plan, (sim, l1) in zip(priced, results):
                vm.SIMULATIONS.labels("ok" if sim.success else "reverted").inc()
                self._l1_estimate = l1
                if sim.success:
                    shape = (len(plan.hops), plan.flash_source.kind)
                    self._gas_seen[shape] = sim.gas_used
                    self._gas_max[_gas_shape(plan)] = max(self._gas_max.get(_gas_shape(plan), 0), sim.gas_used)
                elif not sim.decoded and sim.gas_used * 64 >= plan.gas_limit * 56 and plan.gas_limit < _GAS_RETRY_CAP:
                    # out of gas: no reason and (nearly) all the gas used; a sub-call that runs out
                    # leaves each outer frame 1/64 to revert with (nested lenders: >= 7/8 used). Twice the gas
                    # this part and every later one (simulated on a state without it) get twice the gas
                    settled_all += [msgspec.structs.replace(p, gas_limit=p.gas_limit * 2)
                                    for p in priced[len(settled_all):]]
                    retry = True
                    break
                settled = settle(plan, sim, l1, base_fee, rate, core, self.clock_ns())
                if isinstance(settled, tuple):
                    rejection = Rejection(reason=settled[0], detail=f"part {plan.split_index}: {settled[1]}", **ids)
                    break
                retry = retry or settled.gas_limit != plan.gas_limit  # more gas needed: simulate again
                settled_all.append(settled)
            if not retry:
                break
            priced = [msgspec.structs.replace(p, gas_limit=settled_all[i].gas_limit) if i < len(settled_all) else p
                      for i, p in enumerate(priced)]
            rejection = None
        else:
            return Rejection(reason=reasons.SIMULATION_MISMATCH, detail="gas limit did not converge", **ids)
        if not settled_all:
            return rejection or Rejection(reason=reasons.INTERNAL_ERROR, detail="nothing simulated", **ids)
        count = len(settled_all)
        return [msgspec.structs.replace(p, split_count=count) for p in settled_all]


def _gas_shape(plan: ExecutionPlan) -> tuple:
    return tuple(h.kind for h in plan.hops), plan.flash_source.kind


def _unsimulated(plan: ExecutionPlan) -> ExecutionPlan:
    return msgspec.structs.replace(plan, simulated=False)
