"""The pipeline's simulation loop with a scripted chain (no node): out-of-gas retries with twice
the gas, a real revert is not retried, split parts are approved up to the first that fails, the
exact costs come from the simulated gas."""

from __future__ import annotations

import msgspec
from mevbot.config import load_settings
from mevbot.gas.l1 import L1Quote
from mevbot.messages import FlashSourceKind

from services.validator import reasons
from services.validator.config import load_validator_config
from services.validator.core import SimulationOutcome
from services.validator.flash import FlashOption
from services.validator.pipeline import Validator
from tests.unit.validator.helpers import VAULT, WETH, v2_cycle_candidate
from tests.unit.validator.test_core import pools

ENV = {
    "MIN_PROFIT_THRESHOLD": "0",
    "MAX_POSITION_SIZE": "1000 ether",
    "VALIDATOR_PROFILE": "aggressive",
    "EXECUTOR_CONTRACT_ADDRESS": "0x" + "ee" * 20,
    "EXECUTOR_SENDER_ADDRESS": "0x" + "dd" * 20,
    "EXECUTOR_CONTRACT_FILE": "/nonexistent",
    "GAS_ESTIMATE_INCLUDES_L1": "false",
    "VALIDATOR_PRIORITY_FEE_SHARE_BPS": "0",
}
BASE_FEE = 10**7


class ScriptedChain:
    """Answers like ChainAccess; ``script`` gives each simulation round's outcomes."""

    def __init__(self, script) -> None:
        self.script = list(script)
        self.rounds: list[list] = []

    def head_and_flash_options(self, token, sources, v3):
        return 100, BASE_FEE, [FlashOption(FlashSourceKind.BALANCER_V2, VAULT, WETH, 10**24, 0)]

    def fee_on_transfer(self, token, holder, amount):
        return False, ""

    def simulate(self, plans, base_fee):
        self.rounds.append(list(plans))
        outcomes = self.script.pop(0)(plans)
        return [(o, L1Quote(0, 0, base_fee, "test")) for o in outcomes]


def exact(gas: int):
    return lambda plans: [
        SimulationOutcome(True, tuple(h.amount_out for h in p.hops), p.expected_profit, gas) for p in plans
    ]


def validator(script) -> tuple[Validator, ScriptedChain]:
    cfg = load_validator_config(load_settings(env=ENV), WETH, env=ENV)
    chain = ScriptedChain(script)
    return Validator(cfg, chain, [], None), chain  # type: ignore[arg-type]


def candidate():
    a, b = pools()
    return v2_cycle_candidate(a, b, 5 * 10**18)


def test_exact_costs_from_the_simulated_gas() -> None:
    v, chain = validator([exact(200_000)])
    out = v.validate(candidate())
    (plan,) = out.plans
    assert out.simulations == 1 and plan.simulated
    assert plan.costs.l2_gas_cost_wei == 200_000 * BASE_FEE
    assert plan.gas_limit == chain.rounds[0][0].gas_limit  # the simulated transaction, unchanged


def test_out_of_gas_is_retried_with_twice_the_gas() -> None:
    def oog(plans):
        return [
            SimulationOutcome(False, gas_used=p.gas_limit - p.gas_limit // 64, error="failed") for p in plans
        ]

    v, chain = validator([oog, exact(300_000)])
    out = v.validate(candidate())
    assert out.plans and out.simulations == 2
    assert chain.rounds[1][0].gas_limit == 2 * chain.rounds[0][0].gas_limit


def test_a_revert_with_a_reason_is_not_retried() -> None:
    def shortfall(plans):
        return [
            SimulationOutcome(False, gas_used=90_000, error="InsufficientProfit(5,)", decoded=True)
            for _ in plans
        ]

    v, _ = validator([shortfall])
    out = v.validate(candidate())
    assert out.rejection.reason == reasons.SIMULATION_REVERTED and out.simulations == 1


def test_mismatch_is_rejected() -> None:
    def moved(plans):
        return [
            SimulationOutcome(True, tuple(h.amount_out - 1 for h in p.hops), p.expected_profit - 1, 200_000)
            for p in plans
        ]

    v, _ = validator([moved])
    out = v.validate(candidate())
    assert out.rejection.reason == reasons.SIMULATION_MISMATCH


def test_more_gas_than_the_limit_allows_is_simulated_again() -> None:
    v, chain = validator([exact(2_000_000), exact(2_000_000)])
    out = v.validate(candidate())
    (plan,) = out.plans
    assert out.simulations == 2 and plan.gas_limit == chain.rounds[1][0].gas_limit >= 3_000_000


def test_split_parts_are_approved_up_to_the_first_failure() -> None:
    from services.validator.core import draft_plan, screen
    from services.validator.pipeline import Outcome

    v, _ = validator([])
    c = candidate()
    ctx = v.context(c)
    d = screen(c, v.cfg.core, ctx).drafts[0]
    base = draft_plan(d, v.cfg.core, 100, BASE_FEE)
    parts = [msgspec.structs.replace(base, split_index=i, split_count=3) for i in range(3)]

    def second_fails(plans):
        ok = exact(200_000)(plans)
        ok[1] = SimulationOutcome(False, gas_used=50_000, error="HopOutputTooLow(1,)", decoded=True)
        return ok

    v.chain.script = [second_fails]
    approved = v._approve(parts, d.native_rate, BASE_FEE, Outcome())
    assert [p.split_index for p in approved] == [0] and approved[0].split_count == 1
