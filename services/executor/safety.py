"""Money-safety checks on an incoming plan, before anything is signed (pure).

The validator applied the same rules; they are enforced again here because the executor is the
last line before money moves: ``MAX_POSITION_SIZE`` (loan value in wei), ``MIN_PROFIT_THRESHOLD``
(expected net profit in wei), the chain, the deadline block, the plan's age and its shape (a cycle
closing on the borrowed token, an on-chain minimum profit that is positive and not above the
expected profit).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from mevbot.messages import ExecutionPlan

from services.executor import reasons


@dataclass(frozen=True)
class Limits:
    chain_id: int
    max_position_size_wei: int
    min_profit_threshold_wei: int
    max_plan_age_ns: int = 2_000_000_000  # 0 disables the age check
    native_token: str = ""  # wrapped native token (WETH): valued 1:1 in wei


@dataclass(frozen=True)
class Refusal:
    reason: str
    detail: str = ""


def _ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


def loan_value_wei(plan: ExecutionPlan, native_token: str = "") -> int | None:
    """The loan's value in wei: 1:1 for the native token, else through the validator's own price
    of the start token (net profit in token units vs in wei, or gas cost in token vs in wei).
    Rounded up (a limit check must not under-value). ``None`` when it cannot be priced."""
    if native_token and plan.loan_token.lower() == native_token.lower():
        return plan.loan_amount
    c = plan.costs
    if c.net_profit > 0 and c.net_profit_wei > 0:
        return _ceil_div(plan.loan_amount * c.net_profit_wei, c.net_profit)
    gas_wei = c.l2_gas_cost_wei + c.l1_gas_cost_wei
    if c.gas_cost_in_token > 0 and gas_wei > 0:
        return _ceil_div(plan.loan_amount * gas_wei, c.gas_cost_in_token)
    return None


def shape_problem(plan: ExecutionPlan) -> str | None:
    hops = plan.hops
    if not 2 <= len(hops) <= 4:
        return f"{len(hops)} hops (2..4 allowed)"
    if plan.loan_amount <= 0:
        return "loan amount is not positive"
    token = plan.loan_token.lower()
    if hops[0].token_in.lower() != token or hops[-1].token_out.lower() != token:
        return "cycle does not start and end on the loan token"
    for a, b in itertools.pairwise(hops):
        if a.token_out.lower() != b.token_in.lower():
            return f"hop {a.pool} output does not feed hop {b.pool}"
    if plan.min_profit <= 0:
        return "on-chain minimum profit is not positive"
    if plan.min_profit > plan.expected_profit:
        return f"minimum profit {plan.min_profit} above expected profit {plan.expected_profit}"
    if plan.split_count < 1 or not 0 <= plan.split_index < plan.split_count:
        return f"split {plan.split_index}/{plan.split_count}"
    return None


def check_plan(plan: ExecutionPlan, limits: Limits, *, head_block: int | None, now_ns: int) -> Refusal | None:
    """``None`` when the plan may go on to signing, else why not."""
    if plan.chain_id != limits.chain_id:
        return Refusal(reasons.WRONG_CHAIN, f"plan for chain {plan.chain_id}, executor on {limits.chain_id}")
    problem = shape_problem(plan)
    if problem:
        return Refusal(reasons.MALFORMED_PLAN, problem)
    if head_block is not None and head_block > plan.deadline_block:
        return Refusal(reasons.DEADLINE_PASSED, f"head block {head_block} > deadline {plan.deadline_block}")
    stamp = plan.validated_ns or plan.detected_ns
    if limits.max_plan_age_ns and stamp and now_ns - stamp > limits.max_plan_age_ns:
        return Refusal(reasons.STALE_PLAN, f"plan is {(now_ns - stamp) // 1_000_000} ms old")
    if plan.expected_net_profit_wei < limits.min_profit_threshold_wei:
        return Refusal(
            reasons.PROFIT_BELOW_THRESHOLD,
            f"expected net profit {plan.expected_net_profit_wei} wei < MIN_PROFIT_THRESHOLD {limits.min_profit_threshold_wei}",
        )
    value = loan_value_wei(plan, limits.native_token)
    if value is None:
        return Refusal(reasons.UNPRICEABLE, f"cannot value {plan.loan_amount} of {plan.loan_token} in wei")
    if value > limits.max_position_size_wei:
        return Refusal(
            reasons.POSITION_TOO_LARGE, f"loan worth {value} wei > MAX_POSITION_SIZE {limits.max_position_size_wei}"
        )
    return None


def once_key(plan: ExecutionPlan) -> str:
    """The identity of an opportunity: the candidate (cycle + pool state versions) and the split."""
    return f"{plan.chain_id}:{plan.candidate_id}:{plan.split_index}"
