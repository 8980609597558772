"""Plan builders for the executor's unit tests (no chain)."""

from __future__ import annotations

from typing import Any

from mevbot.messages import CostBreakdown, ExecutionPlan, FlashSource, FlashSourceKind, PlanHop, PoolKind

WETH = "0x" + "11" * 20
USDC = "0x" + "22" * 20
POOL_A = "0x" + "aa" * 20
POOL_B = "0x" + "bb" * 20


def make_plan(**overrides: Any) -> ExecutionPlan:
    hops = [
        PlanHop(pool=POOL_A, kind=PoolKind.UNISWAP_V2, token_in=WETH, token_out=USDC, zero_for_one=True,
                amount_in=10**18, amount_out=3_000 * 10**6, min_amount_out=3_000 * 10**6, fee_pips=3000),
        PlanHop(pool=POOL_B, kind=PoolKind.UNISWAP_V3, token_in=USDC, token_out=WETH, zero_for_one=False,
                amount_in=3_000 * 10**6, amount_out=10**18 + 10**16, min_amount_out=10**18 + 10**16, fee_pips=500),
    ]  # fmt: skip
    fields: dict[str, Any] = dict(  # noqa: C408 - keyword style mirrors the Struct
        chain_id=42161, plan_id="p1", candidate_id="c1", cycle_id="cy1", hops=hops, loan_token=WETH,
        loan_amount=10**18, flash_source=FlashSource(kind=FlashSourceKind.BALANCER_V2, address="0x" + "cc" * 20),
        min_profit=10**16, expected_profit=10**16, expected_net_profit_wei=10**16 - 10**14,
        costs=CostBreakdown(gross_profit=10**16, flash_fee=0, l2_gas_cost_wei=6 * 10**13, l1_gas_cost_wei=4 * 10**13,
                            gas_cost_in_token=10**14, net_profit=10**16 - 10**14, net_profit_wei=10**16 - 10**14),
        gas_limit=400_000, max_fee_per_gas_wei=2 * 10**8, max_priority_fee_per_gas_wei=0, deadline_block=100,
        block_number=95, validated_ns=0,
    )  # fmt: skip
    fields.update(overrides)
    return ExecutionPlan(**fields)
