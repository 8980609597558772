from mevbot.messages import PlanHop, PoolKind

from services.executor import reasons
from services.executor.safety import Limits, check_plan, loan_value_wei, once_key
from tests.unit.executor.plans import USDC, WETH, make_plan

LIMITS = Limits(chain_id=42161, max_position_size_wei=10**19, min_profit_threshold_wei=10**15, max_plan_age_ns=2 * 10**9,
                native_token=WETH)  # fmt: skip


def reason(plan, limits=LIMITS, head=95, now=10**18):
    r = check_plan(plan, limits, head_block=head, now_ns=now)
    return r.reason if r else None


def test_good_plan_passes():
    assert reason(make_plan()) is None


def test_wrong_chain_and_deadline_and_age():
    assert reason(make_plan(chain_id=1)) == reasons.WRONG_CHAIN
    assert reason(make_plan(), head=101) == reasons.DEADLINE_PASSED
    assert reason(make_plan(), head=100) is None  # the deadline block itself is still allowed
    assert reason(make_plan(validated_ns=10**18 - 3 * 10**9)) == reasons.STALE_PLAN
    assert reason(make_plan(validated_ns=10**18 - 10**9)) is None


def test_min_profit_threshold_and_position_size():
    assert reason(make_plan(expected_net_profit_wei=10**15 - 1)) == reasons.PROFIT_BELOW_THRESHOLD
    small = Limits(
        chain_id=42161, max_position_size_wei=10**18 - 1, min_profit_threshold_wei=0, native_token=WETH
    )
    assert reason(make_plan(), small) == reasons.POSITION_TOO_LARGE
    exact = Limits(
        chain_id=42161, max_position_size_wei=10**18, min_profit_threshold_wei=0, native_token=WETH
    )
    assert reason(make_plan(), exact) is None


def test_position_of_non_native_token_priced_through_validator_price():
    # a USDC loan: 3000 USDC, validator says net profit 10 USDC == 0.004 ETH -> 1 USDC = 4e14 wei
    plan = make_plan(loan_token=USDC, loan_amount=3_000 * 10**6,
                     costs=make_plan().costs.__class__(gross_profit=0, flash_fee=0, l2_gas_cost_wei=0, l1_gas_cost_wei=0,
                                                       gas_cost_in_token=0, net_profit=10 * 10**6, net_profit_wei=4 * 10**15))  # fmt: skip
    assert loan_value_wei(plan, WETH) == 3_000 * 4 * 10**14
    unpriced = make_plan(loan_token=USDC, costs=make_plan().costs.__class__(
        gross_profit=0, flash_fee=0, l2_gas_cost_wei=0, l1_gas_cost_wei=0, gas_cost_in_token=0, net_profit=0,
        net_profit_wei=0))  # fmt: skip
    assert loan_value_wei(unpriced, WETH) is None


def test_malformed_shapes():
    p = make_plan()
    assert reason(make_plan(min_profit=0)) == reasons.MALFORMED_PLAN
    assert reason(make_plan(min_profit=p.expected_profit + 1)) == reasons.MALFORMED_PLAN
    assert reason(make_plan(hops=p.hops[:1])) == reasons.MALFORMED_PLAN
    broken = PlanHop(pool=p.hops[1].pool, kind=PoolKind.UNISWAP_V3, token_in=WETH, token_out=WETH, zero_for_one=False,
                     amount_in=1, amount_out=1, min_amount_out=1)  # fmt: skip
    assert reason(make_plan(hops=[p.hops[0], broken])) == reasons.MALFORMED_PLAN
    assert reason(make_plan(split_index=1, split_count=1)) == reasons.MALFORMED_PLAN


def test_once_key_is_candidate_and_split():
    assert once_key(make_plan()) != once_key(make_plan(split_index=1, split_count=2))
    assert once_key(make_plan(plan_id="other")) == once_key(make_plan())
