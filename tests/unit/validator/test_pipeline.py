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


# --- VALIDATOR_EXACT_CHECK=executor and the async path ------------------------------------------------


class FallbackOracle:
    source = "fallback"

    def parse(self, result, calldata_bytes, base_fee):
        return L1Quote(calldata_bytes * 16 * base_fee, calldata_bytes * 16, base_fee, "fallback")


def test_exact_check_in_the_executor_skips_the_simulation_of_a_known_shape_priced_on_its_gas_bound() -> None:
    env = dict(ENV, VALIDATOR_EXACT_CHECK="executor")
    cfg = load_validator_config(load_settings(env=env), WETH, env=env)
    chain = ScriptedChain([exact(200_000)])
    chain.oracle = FallbackOracle()
    chain.calldata = lambda plan: b"\x01" * 500
    v = Validator(cfg, chain, [], None)  # type: ignore[arg-type]
    first = v.validate(candidate())  # a new shape: simulated here, and its gas learned
    assert first.simulations == 1 and first.plans[0].simulated
    v.reservations = type(v.reservations)()  # the same opportunity again, not a race with itself
    second = v.validate(candidate())
    (plan,) = second.plans
    assert second.simulations == 0 and len(chain.rounds) == 1 and not plan.simulated
    bound = 200_000 * 2  # the most gas seen, plus twice the margin (50 %): the transaction's limit
    assert plan.gas_limit == bound + 500 * 16  # (+ the L1 units of the exact calldata, priced on top)
    # the costs are those of the whole limit: an upper bound of what the transaction can cost
    assert plan.costs.l2_gas_cost_wei == bound * BASE_FEE and plan.costs.l1_gas_cost_wei == 500 * 16 * BASE_FEE
    assert plan.expected_net_profit_wei < first.plans[0].expected_net_profit_wei
    assert plan.min_profit >= 1 and plan.expected_profit == first.plans[0].expected_profit


def test_exact_check_in_the_executor_still_rejects_below_the_minimum_profit() -> None:
    env = dict(ENV, VALIDATOR_EXACT_CHECK="executor", VALIDATOR_MIN_NET_PROFIT_WEI="10000 ether")
    cfg = load_validator_config(load_settings(env=env), WETH, env=env)
    chain = ScriptedChain([exact(200_000)])
    chain.oracle = FallbackOracle()
    chain.calldata = lambda plan: b"\x01" * 500
    v = Validator(cfg, chain, [], None)  # type: ignore[arg-type]
    v._gas_max[(tuple(h.kind for h in candidate().hops), FlashSourceKind.BALANCER_V2)] = 200_000  # a known shape
    out = v.validate(candidate())
    assert out.rejection is not None and out.rejection.reason == reasons.BELOW_MIN_PROFIT and not chain.rounds


class AsyncChain(ScriptedChain):
    """ScriptedChain's answers over the async interface; a simulation takes ``delay_s``."""

    def __init__(self, script, delay_s: float = 0.05) -> None:
        super().__init__(script)
        self.delay_s = delay_s
        self.in_flight = 0
        self.most_in_flight = 0

    async def head_and_flash_options_async(self, token, sources, v3, head):
        return self.head_and_flash_options(token, sources, v3)

    async def fee_on_transfer_async(self, token, holder, amount):
        return False, ""

    async def simulate_async(self, plans, base_fee):
        import asyncio

        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(self.delay_s)
        self.in_flight -= 1
        return self.simulate(plans, base_fee)


async def test_candidates_on_distinct_pools_are_simulated_concurrently_and_sharing_ones_in_turn() -> None:
    import asyncio

    from tests.unit.validator.test_core import pools as make_pools

    cfg = load_validator_config(load_settings(env=ENV), WETH, env=ENV)
    chain = AsyncChain([exact(200_000)] * 3)
    v = Validator(cfg, chain, [], None)  # type: ignore[arg-type]
    a, b = make_pools()
    c1 = v2_cycle_candidate(a, b, 5 * 10**18)
    c2 = msgspec.structs.replace(c1, candidate_id="other-state")  # same pools: must wait, then race
    moved = [msgspec.structs.replace(h, pool=h.pool[:-1] + "9") for h in c1.hops]
    c3 = msgspec.structs.replace(c1, candidate_id="elsewhere", hops=moved)  # distinct pools
    out1, out2, out3 = await asyncio.gather(*(v.validate_async(c) for c in (c1, c2, c3)))
    assert out1.plans and out3.plans
    assert out2.rejection is not None and out2.rejection.reason == reasons.POOL_RESERVED  # decided as in turn
    assert chain.most_in_flight == 2 and len(chain.rounds) == 2


async def test_a_candidate_on_a_newer_state_of_the_shared_pools_does_not_wait_for_an_earlier_simulation() -> None:
    import asyncio

    from tests.unit.validator.test_core import pools as make_pools

    cfg = load_validator_config(load_settings(env=ENV), WETH, env=ENV)
    chain = AsyncChain([exact(200_000)] * 2, delay_s=0.2)
    v = Validator(cfg, chain, [], None)  # type: ignore[arg-type]
    a, b = make_pools()
    old = v2_cycle_candidate(a, b, 5 * 10**18)  # block 100: an approval reserves its pools to its end
    newer = msgspec.structs.replace(old, candidate_id="next-block", block_number=101)  # the state after it
    out_old, out_newer = await asyncio.gather(v.validate_async(old), v.validate_async(newer))
    # its verdict cannot depend on the earlier one (whose reservation only covers older states):
    # both are simulated at once, and both approved, as one at a time would
    assert out_old.plans and out_newer.plans
    assert chain.most_in_flight == 2 and len(chain.rounds) == 2


class SlowHeadChain(AsyncChain):
    """The first candidate's context read (head, flash options) takes ``head_delay_s``."""

    def __init__(self, script, head_delay_s: float) -> None:
        super().__init__(script, delay_s=0.0)
        self.head_delay_s = head_delay_s
        self.heads = 0
        self.decided: list[str] = []

    async def head_and_flash_options_async(self, token, sources, v3, head):
        import asyncio

        self.heads += 1
        if self.heads == 1:
            await asyncio.sleep(self.head_delay_s)
        return self.head_and_flash_options(token, sources, v3)


async def test_a_later_candidates_reservation_does_not_reject_an_earlier_one_still_under_way() -> None:
    import asyncio

    from tests.unit.validator.test_core import pools as make_pools

    cfg = load_validator_config(load_settings(env=ENV), WETH, env=ENV)
    chain = SlowHeadChain([exact(200_000)] * 2, head_delay_s=0.2)
    v = Validator(cfg, chain, [], None)  # type: ignore[arg-type]
    a, b = make_pools()
    old = v2_cycle_candidate(a, b, 5 * 10**18)
    newer = msgspec.structs.replace(old, candidate_id="next-block", block_number=101)
    finished: list[str] = []

    async def run(c):
        out = await v.validate_async(c)
        finished.append(c.candidate_id)
        return out

    out_old, out_newer = await asyncio.gather(run(old), run(newer))
    assert finished == ["next-block", old.candidate_id]  # the newer one was approved (and reserved) first
    # in arrival order the older one was decided before the newer existed: its reservation (on the
    # newer state, which covers the older) must not reject it
    assert out_newer.plans and out_old.plans, out_old.rejection
    # and a third, arriving after both, on the older state, races both approved plans
    third = msgspec.structs.replace(old, candidate_id="third")
    out_third = await v.validate_async(third)
    assert out_third.rejection is not None and out_third.rejection.reason == reasons.POOL_RESERVED


def test_reservations_count_only_earlier_arrivals_and_every_unexpired_plan() -> None:
    from services.validator.reservations import Reservations
    from tests.unit.validator.test_core import pools as make_pools

    a, b = make_pools()
    c100 = v2_cycle_candidate(a, b, 5 * 10**18)
    c101 = msgspec.structs.replace(c100, candidate_id="c101", block_number=101)
    v, _ = validator([exact(200_000)])
    (plan,) = v.validate(c100).plans
    r = Reservations()
    r.reserve(c101, [msgspec.structs.replace(plan, plan_id="late", deadline_block=plan.deadline_block + 1)], ticket=5)
    r.reserve(c100, [plan], ticket=3)
    # the ticket-5 reservation (state of block 101) is invisible to arrivals up to 5, visible after
    assert r.conflict(c101, head_block=100, ticket=5) is None
    assert "late" in r.conflict(c101, head_block=100, ticket=6)
    # both reservations are kept (a newer one does not erase an older one): the ticket-3 one still
    # rejects a ticket-4 arrival on the block-100 state
    assert plan.plan_id in r.conflict(c100, head_block=100, ticket=4)
    assert r.conflict(c100, head_block=100, ticket=3) is None
    # expiry: each at its own deadline
    assert "late" in r.conflict(c100, head_block=plan.deadline_block + 1, ticket=9)
    assert r.conflict(c100, head_block=plan.deadline_block + 2, ticket=9) is None
    assert len(r) == 0
