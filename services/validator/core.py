"""The validator's decision, pure: candidate + context -> draft plans or a rejection, then
draft + simulation -> approved plan or rejection. No I/O here; adapters gather the context
(head block, base fee, live prices, lenders, token checks, pool states) and run the simulations.

Order of checks (cheapest first, so most rejections cost no RPC):
1. well-formed, fresh (``max_state_age_blocks``), tokens allowed;
2. price impact per hop and path, ticks crossed, risk category, position: within the profile the
   candidate goes as detected, otherwise it is downsized or split (``services.validator.split``)
   or rejected;
3. flash source (cheapest able to lend; a V3 lender may not be a hop) and a pre-screen of net
   profit with a gas *estimate*: hopeless candidates stop before simulation;
4. (adapter) simulate the draft: per-hop amounts and profit must equal the prediction, to the wei;
5. exact costs from the simulated gas and the chain's L1 quote, the fee bid, the contract's
   ``min_profit`` guard; approve only at/above the min net profit and at/below the max position;
6. (adapter) simulate the *final* transaction once more, exactly as the executor will send it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Protocol

import msgspec
from mevbot.amm.base import PoolState
from mevbot.errors import ValidationError
from mevbot.gas.l1 import L1Quote
from mevbot.gas.model import fee_bid, gas_cost, gas_limit_with_margin, priority_fee_for_share
from mevbot.messages import (
    Candidate,
    CostBreakdown,
    ExecutionPlan,
    FlashSource,
    Hop,
    PlanHop,
    PoolKind,
    Rejection,
)

from services.validator import reasons
from services.validator.costs import NativeRate, net_profit
from services.validator.flash import FlashOption, choose_flash_source
from services.validator.impact import hop_impact_ppm, path_impact_ppm
from services.validator.profiles import ImpactProfile, RiskCategory, categorize
from services.validator.split import Limits, Part, recommend

BPS = 10_000


@dataclass(frozen=True)
class CoreSettings:
    profile: ImpactProfile  # global MIN_PROFIT_THRESHOLD / MAX_POSITION_SIZE already applied
    native_token: str
    max_state_age_blocks: int = 2
    deadline_blocks: int = 8
    gas_limit_margin_bps: int = 5_000  # gas used after refunds can be ~20 % under the limit needed
    hop_slippage_bps: int = 0
    base_fee_multiplier: int = 2
    priority_fee_floor_wei: int = 0
    priority_fee_share_bps: int = 0
    prescreen_gas_base: int = 100_000  # L2 gas of a flash-loan round trip without hops (estimate)
    prescreen_gas_per_hop: int = 70_000
    max_parts: int = 3
    gas_estimate_includes_l1: bool = True  # Arbitrum: eth_estimateGas already counts the L1 units
    allowed_tokens: frozenset[str] | None = None  # None: every token
    denied_tokens: frozenset[str] = frozenset()


class PoolLookup(Protocol):
    """Read-only pool states (the validator's market mirror) for resizing and splitting."""

    def pool(self, address: str) -> PoolState | None: ...

    def parallel(self, token_in: str, token_out: str) -> Sequence[tuple[PoolState, bool]]: ...


@dataclass
class Context:
    head_block: int
    base_fee_wei: int
    native_rate: NativeRate | None  # value of the start token in wei
    flash_options: Sequence[FlashOption]
    l1_estimate: L1Quote  # for the pre-screen (the final cost uses the quote of the exact calldata)
    fee_on_transfer: Callable[[str], bool] = lambda token: False
    pools: PoolLookup | None = None
    gas_estimate: Callable[[int], int] | None = None  # hops -> L2 gas (learned from simulations)


@dataclass(frozen=True)
class Draft:
    """One part of a plan, before simulation: everything but the final costs and guard."""

    candidate: Candidate
    hops: tuple[PlanHop, ...]
    flash: FlashSource
    risk_category: RiskCategory
    split_index: int
    split_count: int
    prescreen: CostBreakdown
    native_rate: NativeRate

    @property
    def amount_in(self) -> int:
        return self.hops[0].amount_in

    @property
    def gross_profit(self) -> int:
        return self.hops[-1].amount_out - self.hops[0].amount_in


@dataclass(frozen=True)
class SimulationOutcome:
    """What the exact transaction does on the node (eth_call / in-process EVM)."""

    success: bool
    hop_amounts_out: tuple[int, ...] = ()
    profit: int | None = None  # loan-token units after repaying the flash loan
    gas_used: int = 0  # gas used by the simulated transaction (L2 units; see gas_estimate_includes_l1)
    error: str = ""
    decoded: bool = False  # the revert carried a reason (a contract error), not just "failed"


@dataclass
class Screened:
    drafts: list[Draft] = field(default_factory=list)
    rejection: Rejection | None = None


def reject(c: Candidate, reason: str, detail: str = "") -> Rejection:
    return Rejection(
        chain_id=c.chain_id, candidate_id=c.candidate_id, cycle_id=c.cycle_id, reason=reason, detail=detail,
        block_number=c.block_number,
    )


# --- stage 1: form, freshness, tokens -------------------------------------------------------------


def check_form(c: Candidate) -> str | None:
    hops = c.hops
    if not 2 <= len(hops) <= 4:
        return f"{len(hops)} hops (2-4 supported)"
    if hops[0].token_in != c.start_token or hops[-1].token_out != c.start_token:
        return "cycle does not start and end in the start token"
    if hops[0].amount_in != c.amount_in or hops[-1].amount_out != c.amount_out or c.amount_in <= 0:
        return "amounts do not match the hops"
    for a, b in pairwise(hops):
        if a.token_out != b.token_in or a.amount_out != b.amount_in:
            return f"hop {a.pool} does not chain into {b.pool}"
    if c.gross_profit != c.amount_out - c.amount_in:
        return "gross profit is not amount_out - amount_in"
    return None


def check_tokens(c: Candidate, s: CoreSettings, fee_on_transfer: Callable[[str], bool]) -> tuple[str, str] | None:
    tokens = [c.start_token] + [h.token_out for h in c.hops[:-1]]
    for t in tokens:
        if t in s.denied_tokens:
            return reasons.TOKEN_DENIED, t
        if s.allowed_tokens is not None and t not in s.allowed_tokens:
            return reasons.TOKEN_NOT_ALLOWED, t
    for t in tokens:
        if fee_on_transfer(t):
            return reasons.FEE_ON_TRANSFER, t
    return None


# --- stage 2: impact, category, position --------------------------------------------------------


@dataclass(frozen=True)
class ImpactAssessment:
    hop_ppm: tuple[int, ...]
    worst_hop_ppm: int
    path_ppm: int
    max_ticks: int
    category: RiskCategory
    violations: tuple[str, ...]  # which limits are broken (empty: within the profile)

    @property
    def within(self) -> bool:
        return not self.violations


def assess_impact(hops: Sequence[Hop], profile: ImpactProfile) -> ImpactAssessment:
    """Impacts, category and the profile limits a trade breaks (thresholds are inclusive)."""
    impacts = tuple(hop_impact_ppm(h) for h in hops)
    worst = max(impacts)
    category = categorize(worst, profile.category_bounds_ppm)
    path_ppm = path_impact_ppm(impacts)
    ticks = max(h.ticks_crossed for h in hops)
    violations = []
    if not profile.accepts(category):
        violations.append(f"category {category.value}")
    if worst > profile.max_hop_impact_ppm:
        violations.append(f"hop impact {worst} > {profile.max_hop_impact_ppm} ppm")
    if path_ppm > profile.max_path_impact_ppm:
        violations.append(f"path impact {path_ppm} > {profile.max_path_impact_ppm} ppm")
    if ticks > profile.max_ticks_crossed:
        violations.append(f"{ticks} ticks crossed > {profile.max_ticks_crossed}")
    return ImpactAssessment(impacts, worst, path_ppm, ticks, category, tuple(violations))


def hop_limit_ppm(profile: ImpactProfile) -> int:
    """Largest per-hop impact the profile accepts: its threshold, capped by its worst category."""
    limit = profile.max_hop_impact_ppm
    bounds = profile.category_bounds_ppm
    order = list(RiskCategory)
    worst = max((c for c in profile.accepted), key=lambda c: c.rank, default=None)
    if worst is None:
        return -1
    if worst is not RiskCategory.EXTREME:
        limit = min(limit, bounds[order.index(worst)] - 1)
    return limit


def limits_for(profile: ImpactProfile, max_input: int) -> Limits:
    return Limits(hop_limit_ppm(profile), profile.max_path_impact_ppm, profile.max_ticks_crossed, max_input)


def _plan_hops(parts_hops: Sequence[Hop] | Part, c: Candidate, slippage_bps: int) -> tuple[PlanHop, ...]:
    def min_out(amount: int) -> int:
        return amount * (BPS - slippage_bps) // BPS

    if isinstance(parts_hops, Part):
        part = parts_hops
        out = []
        token = c.start_token
        for i, (pool, zfo) in enumerate(zip(part.pools, part.directions)):
            # a parallel pool trades the same pair as the hop it replaces, maybe as another kind
            token_out = c.hops[i].token_out
            out.append(PlanHop(
                pool=pool, kind=PoolKind(part.kinds[i]), token_in=token, token_out=token_out, zero_for_one=zfo,
                amount_in=part.amounts[i], amount_out=part.amounts[i + 1],
                min_amount_out=min_out(part.amounts[i + 1]), fee_pips=part.fees_pips[i],
            ))
            token = token_out
        return tuple(out)
    return tuple(
        PlanHop(
            pool=h.pool, kind=h.kind, token_in=h.token_in, token_out=h.token_out, zero_for_one=h.zero_for_one,
            amount_in=h.amount_in, amount_out=h.amount_out, min_amount_out=min_out(h.amount_out), fee_pips=h.fee_pips,
        )
        for h in parts_hops
    )


def screen(c: Candidate, s: CoreSettings, ctx: Context) -> Screened:
    """Stages 1-3: drafts to simulate, or a rejection."""
    problem = check_form(c)
    if problem:
        return Screened(rejection=reject(c, reasons.MALFORMED, problem))
    age = ctx.head_block - c.block_number
    if age > s.max_state_age_blocks:
        return Screened(rejection=reject(
            c, reasons.STALE_STATE, f"state of block {c.block_number} is {age} blocks old (max {s.max_state_age_blocks})"
        ))
    token_problem = check_tokens(c, s, ctx.fee_on_transfer)
    if token_problem:
        return Screened(rejection=reject(c, token_problem[0], token_problem[1]))

    rate = ctx.native_rate
    if rate is None:
        return Screened(rejection=reject(c, reasons.UNPRICEABLE, f"no live price for {c.start_token}"))
    profile = s.profile
    max_input = (profile.max_position_wei * rate.token_amount) // rate.native_wei

    try:
        impact = assess_impact(c.hops, profile)
    except ValidationError as exc:
        return Screened(rejection=reject(c, reasons.IMPACT_UNKNOWN, str(exc)))
    worst, category, path_ppm, ticks = impact.worst_hop_ppm, impact.category, impact.path_ppm, impact.max_ticks
    over_impact = not impact.within
    over_position = c.amount_in > max_input

    def part_cost(amount_in: int) -> int:
        try:
            flash = choose_flash_source(ctx.flash_options, c.start_token, amount_in, [h.pool for h in c.hops])
        except ValidationError:
            return 1 << 255  # nobody lends this much: never worth it
        gas = gas_cost(_prescreen_gas(s, ctx, len(c.hops)), ctx.l1_estimate, ctx.base_fee_wei, s.priority_fee_floor_wei)
        return flash.fee + rate.wei_to_token_ceil(gas.total_wei)

    if not over_impact and not over_position:
        parts_hops: list[Sequence[Hop] | Part] = [c.hops]
        categories = [category]
    else:
        why = reasons.IMPACT_LIMIT if over_impact else reasons.POSITION_LIMIT
        detail = (
            f"{'; '.join(impact.violations) or 'within impact limits'}; "
            f"worst hop {worst} ppm ({category.value}), path {path_ppm} ppm, {ticks} ticks; "
            f"amount_in {c.amount_in} vs max {max_input}"
        )
        if ctx.pools is None:
            return Screened(rejection=reject(c, why, detail + "; no pool state to resize"))
        path = []
        for h in c.hops:
            pool = ctx.pools.pool(h.pool)
            if pool is None:
                return Screened(rejection=reject(c, why, detail + f"; pool {h.pool} unknown"))
            path.append((pool, h.zero_for_one))
        alternatives = {
            i: [alt for alt in ctx.pools.parallel(h.token_in, h.token_out) if alt[0].address != h.pool]
            for i, h in enumerate(c.hops)
        }
        decision = recommend(path, limits_for(profile, max_input), part_cost, alternatives, s.max_parts,
                             min_part_profit=rate.wei_to_token_ceil(profile.min_net_profit_wei))
        if decision is None:
            return Screened(rejection=reject(c, why, detail + "; no size within the limits earns a net profit"))
        parts_hops = list(decision.parts)
        categories = [categorize(max(p.hop_impacts_ppm), profile.category_bounds_ppm) for p in decision.parts]

    drafts = []
    count = len(parts_hops)
    for index, (ph, cat) in enumerate(zip(parts_hops, categories)):
        hops = _plan_hops(ph, c, s.hop_slippage_bps)
        amount_in = hops[0].amount_in
        try:
            flash = choose_flash_source(ctx.flash_options, c.start_token, amount_in, [h.pool for h in hops])
        except ValidationError as exc:
            if drafts:
                break
            return Screened(rejection=reject(c, reasons.NO_FLASH_SOURCE, str(exc)))
        gas = gas_cost(_prescreen_gas(s, ctx, len(hops)), ctx.l1_estimate, ctx.base_fee_wei, s.priority_fee_floor_wei)
        gross = hops[-1].amount_out - amount_in
        pre = net_profit(gross, flash.fee, gas, rate)
        if pre.net_profit_wei < profile.min_net_profit_wei:
            if drafts:
                break  # a later part of a split that does not pay: keep the parts before it
            return Screened(rejection=reject(
                c, reasons.BELOW_MIN_PROFIT,
                f"part {index}: estimated net {pre.net_profit_wei} wei < {profile.min_net_profit_wei} wei "
                f"(gross {gross}, flash fee {flash.fee}, gas ~{gas.total_wei} wei)",
            ))
        drafts.append(Draft(c, hops, flash, cat, index, count, pre, rate))
    return Screened(drafts=drafts)


def _prescreen_gas(s: CoreSettings, ctx: Context, n_hops: int) -> int:
    if ctx.gas_estimate is not None:
        return ctx.gas_estimate(n_hops)
    return s.prescreen_gas_base + s.prescreen_gas_per_hop * n_hops


# --- stage 4/5: simulation result -> plan ---------------------------------------------------------


def plan_id_for(candidate_id: str, split_index: int) -> str:
    return hashlib.blake2b(f"{candidate_id}:{split_index}".encode(), digest_size=16).hexdigest()


def draft_plan(d: Draft, s: CoreSettings, head_block: int, base_fee_wei: int, validated_ns: int = 0) -> ExecutionPlan:
    """The plan to simulate first: a zero guard, the pre-screen figures (replaced by :func:`finalize`)."""
    c = d.candidate
    fees = fee_bid(base_fee_wei, s.priority_fee_floor_wei, s.base_fee_multiplier)
    return ExecutionPlan(
        chain_id=c.chain_id,
        plan_id=plan_id_for(c.candidate_id, d.split_index),
        candidate_id=c.candidate_id,
        cycle_id=c.cycle_id,
        hops=list(d.hops),
        loan_token=c.start_token,
        loan_amount=d.amount_in,
        flash_source=d.flash,
        min_profit=0,
        expected_profit=d.gross_profit - d.flash.fee,
        expected_net_profit_wei=d.prescreen.net_profit_wei,
        costs=d.prescreen,
        gas_limit=0,
        max_fee_per_gas_wei=fees.max_fee_per_gas_wei,
        max_priority_fee_per_gas_wei=fees.max_priority_fee_per_gas_wei,
        deadline_block=head_block + s.deadline_blocks,
        block_number=c.block_number,
        state_versions=list(c.state_versions),
        profile=s.profile.name,
        risk_category=d.risk_category.value,
        split_index=d.split_index,
        split_count=d.split_count,
        simulated=False,
        event_received_ns=c.event_received_ns,
        detected_ns=c.detected_ns,
        validated_ns=validated_ns,
    )


def compare_simulation(plan: ExecutionPlan, sim: SimulationOutcome) -> tuple[str, str] | None:
    """None when the simulation did exactly what the plan predicts, else (reason, detail)."""
    if not sim.success:
        return reasons.SIMULATION_REVERTED, sim.error or "reverted"
    predicted = tuple(h.amount_out for h in plan.hops)
    if sim.hop_amounts_out and tuple(sim.hop_amounts_out) != predicted:
        return reasons.SIMULATION_MISMATCH, f"hop outputs {tuple(sim.hop_amounts_out)} != predicted {predicted}"
    if sim.profit is not None and sim.profit != plan.expected_profit:
        return reasons.SIMULATION_MISMATCH, f"profit {sim.profit} != predicted {plan.expected_profit}"
    if not sim.hop_amounts_out and sim.profit is None:
        return reasons.SIMULATION_MISMATCH, "simulation returned no amounts to compare"
    return None


def finalize(
    plan: ExecutionPlan, sim: SimulationOutcome, l1: L1Quote, base_fee_wei: int, rate: NativeRate,
    s: CoreSettings, validated_ns: int = 0,
) -> ExecutionPlan | tuple[str, str]:
    """Exact costs from the simulated gas and the L1 quote of the exact calldata; the guard; the bid."""
    mismatch = compare_simulation(plan, sim)
    if mismatch:
        return mismatch
    profile = s.profile
    gross = plan.hops[-1].amount_out - plan.hops[0].amount_in
    flash_fee = plan.flash_source.fee
    l2_units = max(0, sim.gas_used - l1.l1_gas_units) if s.gas_estimate_includes_l1 else sim.gas_used
    # priority bid: a share of the profit left after base-fee gas, spread over the gas units
    base_only = gas_cost(l2_units, l1, base_fee_wei, 0)
    before_tip_wei = rate.token_to_wei_floor(gross - flash_fee) - base_only.total_wei
    tip = priority_fee_for_share(before_tip_wei, s.priority_fee_share_bps, base_only.total_gas_units,
                                 s.priority_fee_floor_wei)
    gas = gas_cost(l2_units, l1, base_fee_wei, tip)
    costs = net_profit(gross, flash_fee, gas, rate)
    if costs.net_profit_wei < profile.min_net_profit_wei:
        return reasons.BELOW_MIN_PROFIT, (
            f"net {costs.net_profit_wei} wei < {profile.min_net_profit_wei} wei (gross {gross}, flash fee {flash_fee}, "
            f"gas {gas.total_wei} wei = L2 {gas.l2_cost_wei} + L1 {gas.l1_cost_wei} [{l1.source}])"
        )
    if rate.token_to_wei_ceil(plan.loan_amount) > profile.max_position_wei:
        return reasons.POSITION_LIMIT, f"loan {plan.loan_amount} over {profile.max_position_wei} wei"
    gas_limit = gas_limit_with_margin(gas.total_gas_units, s.gas_limit_margin_bps)
    bid = fee_bid(base_fee_wei, tip, s.base_fee_multiplier)
    expected_profit = gross - flash_fee
    # the contract's guard: the trade must still pay its worst-case gas and the operator's minimum
    worst_gas_in_token = rate.wei_to_token_ceil(gas_limit * (base_fee_wei + tip))
    guard = min(expected_profit, worst_gas_in_token + rate.wei_to_token_ceil(profile.min_net_profit_wei))
    return msgspec.structs.replace(
        plan,
        min_profit=max(guard, 1),
        expected_profit=expected_profit,
        expected_net_profit_wei=costs.net_profit_wei,
        costs=costs,
        gas_limit=gas_limit,
        max_fee_per_gas_wei=bid.max_fee_per_gas_wei,
        max_priority_fee_per_gas_wei=bid.max_priority_fee_per_gas_wei,
        simulated=True,
        validated_ns=validated_ns or plan.validated_ns,
    )


def settle(plan: ExecutionPlan, sim: SimulationOutcome, l1: L1Quote, base_fee_wei: int, rate: NativeRate,
           s: CoreSettings, validated_ns: int = 0) -> ExecutionPlan | tuple[str, str]:
    """The simulated plan's exact costs; its calldata (guard, deadline, hops) and fee bid stay as
    simulated. The gas limit grows when the simulated gas needs more (the caller re-simulates)."""
    mismatch = compare_simulation(plan, sim)
    if mismatch:
        return mismatch
    profile = s.profile
    gross = plan.hops[-1].amount_out - plan.hops[0].amount_in
    l2_units = max(0, sim.gas_used - l1.l1_gas_units) if s.gas_estimate_includes_l1 else sim.gas_used
    tip = plan.max_priority_fee_per_gas_wei
    gas = gas_cost(l2_units, l1, base_fee_wei, tip)
    costs = net_profit(gross, plan.flash_source.fee, gas, rate)
    if costs.net_profit_wei < profile.min_net_profit_wei:
        return reasons.BELOW_MIN_PROFIT, (
            f"net {costs.net_profit_wei} wei < {profile.min_net_profit_wei} wei (gross {gross}, flash fee "
            f"{plan.flash_source.fee}, gas {gas.total_wei} wei = L2 {gas.l2_cost_wei} + L1 {gas.l1_cost_wei} [{l1.source}])"
        )
    needed = gas_limit_with_margin(gas.total_gas_units, s.gas_limit_margin_bps)
    return msgspec.structs.replace(
        plan, costs=costs, expected_net_profit_wei=costs.net_profit_wei, gas_limit=max(plan.gas_limit, needed),
        simulated=True, validated_ns=validated_ns or plan.validated_ns,
    )
