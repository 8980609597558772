"""One candidate through the whole validation, synchronously: gather the context (chain, market
view), run the pure core, simulate the draft, finalize, simulate the exact final transaction.

``Validator.validate(candidate) -> Outcome`` is what the service calls (in a worker thread) and
what the benchmark times. With ``simulate=False`` the plan is priced with the pre-screen gas
estimate and marked ``simulated=False`` (the executor then must simulate; used to measure the
simulation's cost).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import msgspec
from mevbot.chainconfig import FlashLoanSource
from mevbot.errors import MevbotError
from mevbot.gas.l1 import L1Quote, l1_from_fallback
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
from services.validator.reservations import Reservations

_GAS_RETRY_CAP = 8_000_000


@dataclass
class Outcome:
    plans: list[ExecutionPlan] = field(default_factory=list)
    rejection: Rejection | None = None
    simulations: int = 0


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

    def _fot(self, c: Candidate) -> Callable[[str], bool]:
        holders = {h.token_out: (h.pool, h.amount_out) for h in c.hops}
        self._fot_detail = ""

        def check(token: str) -> bool:
            if token == self.cfg.core.native_token:
                return False
            pool, amount = holders[token]
            bad, detail = self.chain.fee_on_transfer(token, pool, amount)
            if bad:
                self._fot_detail = detail
            return bad

        return check

    def context(self, c: Candidate) -> Context:
        hops = {h.pool for h in c.hops}
        n_v3 = self.cfg.v3_flash_lenders
        v3 = self.market.v3_lenders(c.start_token, hops, n_v3) if self.market is not None and n_v3 else []
        head, base_fee, options = self.chain.head_and_flash_options(c.start_token, self.flash_sources, v3)
        if self._l1_estimate is None or self._l1_estimate.base_fee_wei != base_fee:
            self._l1_estimate = l1_from_fallback(self.cfg.l1_fallback, 79 + 37 * len(c.hops), base_fee) \
                if self._l1_estimate is None else L1Quote(self._l1_estimate.l1_cost_wei, self._l1_estimate.l1_gas_units,
                                                          base_fee, self._l1_estimate.source)
        return Context(head_block=head, base_fee_wei=base_fee, native_rate=self._native_rate(c),
                       flash_options=options, l1_estimate=self._l1_estimate, fee_on_transfer=self._fot(c),
                       pools=self.market, gas_estimate=self.gas_estimate)

    def gas_estimate(self, n_hops: int) -> int:
        """L2 gas of an ``n_hops`` plan: the least a simulation of that size used lately (any lender),
        else the configured pre-screen figure."""
        seen = [gas for (hops, _), gas in self._gas_seen.items() if hops == n_hops]
        core = self.cfg.core
        return min(seen) if seen else core.prescreen_gas_base + core.prescreen_gas_per_hop * n_hops

    # --- validation -----------------------------------------------------------------------------------

    def validate(self, c: Candidate) -> Outcome:
        t0 = time.perf_counter()
        try:
            out = self._validate(c)
        except MevbotError as exc:
            out = Outcome(rejection=reject(c, reasons.INTERNAL_ERROR, f"{exc.code}: {exc}"))
        label = "approved" if out.plans else "rejected"
        vm.VALIDATION_LATENCY.labels(label).observe(time.perf_counter() - t0)
        if out.rejection is not None:
            vm.REJECTIONS.labels(out.rejection.reason).inc()
        return out

    def _validate(self, c: Candidate) -> Outcome:
        core = self.cfg.core
        if self.market is not None:
            moved = self.market.moved_since(c)
            if moved:
                return Outcome(rejection=reject(c, reasons.STALE_STATE, f"pools changed since: {', '.join(moved)}"))
        if self._last_head and c.block_number >= self._last_head - core.max_state_age_blocks:
            # racing an approved plan: decided before any RPC (the head seen last is a safe clock:
            # reservations last a little longer by it, never shorter)
            clash = self.reservations.conflict(c, self._last_head)
            if clash is not None:
                return Outcome(rejection=reject(c, reasons.POOL_RESERVED, clash))
        ctx = self.context(c)
        self._last_head = ctx.head_block
        screened = screen(c, core, ctx)
        if screened.rejection is not None:
            rej = screened.rejection
            if rej.reason == reasons.FEE_ON_TRANSFER and self._fot_detail:
                rej = reject(c, rej.reason, f"{rej.detail}: {self._fot_detail}")
            return Outcome(rejection=rej)
        clash = self.reservations.conflict(c, ctx.head_block)
        if clash is not None:
            return Outcome(rejection=reject(c, reasons.POOL_RESERVED, clash))
        if len(screened.drafts) > 1 or screened.drafts[0].amount_in != c.amount_in:
            vm.SPLITS.labels("split" if len(screened.drafts) > 1 else "downsized").inc()
        outcome = Outcome()
        plans = [draft_plan(d, core, ctx.head_block, ctx.base_fee_wei, self.clock_ns()) for d in screened.drafts]
        approved = self._approve(plans, screened.drafts[0].native_rate, ctx.base_fee_wei, outcome)
        if isinstance(approved, Rejection):
            return Outcome(rejection=approved, simulations=outcome.simulations)
        outcome.plans = approved
        self.reservations.reserve(c, approved)
        return outcome

    def _approve(self, plans: list[ExecutionPlan], rate: NativeRate, base_fee: int,
                 outcome: Outcome) -> list[ExecutionPlan] | Rejection:
        """Price each part with the gas seen last time for its shape (guard, gas limit and fee bid are
        then fixed in the transaction), simulate those exact transactions in order, settle the exact
        costs. The parts that settle, in order up to the first that does not, are approved."""
        core = self.cfg.core
        first = plans[0]
        ids = {"chain_id": first.chain_id, "candidate_id": first.candidate_id, "cycle_id": first.cycle_id,
               "block_number": first.block_number}
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
            results = self.chain.simulate(priced, base_fee)
            outcome.simulations += 1
            settled_all: list[ExecutionPlan] = []
            retry = False
            for plan, (sim, l1) in zip(priced, results):
                vm.SIMULATIONS.labels("ok" if sim.success else "reverted").inc()
                self._l1_estimate = l1
                if sim.success:
                    self._gas_seen[(len(plan.hops), plan.flash_source.kind)] = sim.gas_used
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


def _unsimulated(plan: ExecutionPlan) -> ExecutionPlan:
    return msgspec.structs.replace(plan, simulated=False)
