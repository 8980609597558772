"""The packed-calldata codec: exact layout, round trip, range checks, ExecutionPlan mapping."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mevbot.chain.abi import selector
from mevbot.chain.arb_calldata import (
    HEADER_LEN,
    HOP_LEN,
    ArbCall,
    ArbHop,
    HopKind,
    LenderKind,
    decode_arb_call,
    decode_arb_error,
    decode_arb_result,
    encode_arb_call,
    encode_plan,
)
from mevbot.errors import ValidationError
from mevbot.messages import CostBreakdown, ExecutionPlan, FlashSource, FlashSourceKind, PlanHop, PoolKind

A = "0x" + "aa" * 20
B = "0x" + "bb" * 20
P1, P2, P3 = "0x" + "01" * 20, "0x" + "02" * 20, "0x" + "03" * 20

addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
u128 = st.integers(min_value=0, max_value=2**128 - 1)
hops = st.builds(
    lambda pool, kind, z, amount, fee: ArbHop(pool, kind, z, amount, fee if kind == HopKind.V2_FEE else 0),
    addresses, st.sampled_from(list(HopKind)), st.booleans(), u128, st.integers(0, 999_999),
)  # fmt: skip


def test_layout_is_exact() -> None:
    call = ArbCall(LenderKind.AAVE_V3, A, B, 10**18, 7, 123_456, (ArbHop(P1, HopKind.V3, True, 5),
                   ArbHop(P2, HopKind.V2_EXACT_OUT, False, 9)), dry_run=True)  # fmt: skip
    data = encode_arb_call(call)
    assert len(data) == HEADER_LEN + 2 * HOP_LEN == 153  # vs ~600 bytes ABI-encoded
    assert data[0] == 0x00 and data[1] == 0x01 | 0x04 | (2 << 4)
    assert data[2:22] == bytes.fromhex("aa" * 20) and data[22:42] == bytes.fromhex("bb" * 20)
    assert int.from_bytes(data[42:58], "big") == 10**18 and int.from_bytes(data[58:74], "big") == 7
    assert int.from_bytes(data[74:79], "big") == 123_456
    assert data[79:99] == bytes.fromhex("01" * 20) and data[99] == 0b101  # V3 (2<<1) | zeroForOne
    assert int.from_bytes(data[100:116], "big") == 5


@given(
    st.sampled_from(list(LenderKind)), addresses, addresses, st.integers(1, 2**128 - 1), u128,
    st.integers(0, 2**40 - 1), st.lists(hops, min_size=2, max_size=4), st.booleans(),
)  # fmt: skip
def test_round_trip(lender_kind, lender, token, amount, min_profit, deadline, hop_list, dry) -> None:  # type: ignore[no-untyped-def]
    call = ArbCall(lender_kind, lender, token, amount, min_profit, deadline, tuple(hop_list), dry)
    assert decode_arb_call(encode_arb_call(call)) == call


@pytest.mark.parametrize(
    "bad",
    [
        {"hops": (ArbHop(P1, HopKind.V3, True, 1),)},  # 1 hop
        {"hops": tuple(ArbHop(P1, HopKind.V3, True, 1) for _ in range(5))},  # 5 hops
        {"amount_in_wei": 2**128},
        {"amount_in_wei": 0},
        {"min_profit_wei": -1},
        {"deadline_block": 2**40},
        {"lender": "0x1234"},
    ],
)
def test_out_of_range_values_are_refused(bad: dict) -> None:
    base = {
        "lender_kind": LenderKind.BALANCER_V2, "lender": A, "token": B, "amount_in_wei": 1, "min_profit_wei": 0,
        "deadline_block": 1, "hops": (ArbHop(P1, HopKind.V3, True, 1), ArbHop(P2, HopKind.V3, False, 1)),
    }  # fmt: skip
    with pytest.raises(ValidationError):
        encode_arb_call(ArbCall(**(base | bad)))


def test_execution_plan_maps_to_packed_call() -> None:
    costs = CostBreakdown(gross_profit=0, flash_fee=0, l2_gas_cost_wei=0, l1_gas_cost_wei=0, gas_cost_in_token=0,
                          net_profit=0, net_profit_wei=0)  # fmt: skip
    plan = ExecutionPlan(
        chain_id=42161, plan_id="p", candidate_id="c", cycle_id="y", loan_token=A, loan_amount=1000,
        hops=[
            PlanHop(pool=P1, kind=PoolKind.UNISWAP_V2, token_in=A, token_out=B, zero_for_one=True, amount_in=1000,
                    amount_out=990, min_amount_out=980, fee_pips=3000),
            PlanHop(pool=P2, kind=PoolKind.ALGEBRA, token_in=B, token_out=A, zero_for_one=False, amount_in=990,
                    amount_out=1010, min_amount_out=1005),
        ],
        flash_source=FlashSource(kind=FlashSourceKind.UNISWAP_V3, address=P3, fee=1), min_profit=3,
        expected_profit=9, expected_net_profit_wei=0, costs=costs, gas_limit=1, max_fee_per_gas_wei=1,
        max_priority_fee_per_gas_wei=1, deadline_block=77, block_number=70,
    )  # fmt: skip
    exact = decode_arb_call(encode_plan(plan))
    assert (
        exact.lender_kind == LenderKind.UNISWAP_V3_FLASH and exact.lender == P3 and exact.deadline_block == 77
    )
    assert exact.hops == (ArbHop(P1, HopKind.V2_EXACT_OUT, True, 990), ArbHop(P2, HopKind.V3, False, 1005))
    tolerant = decode_arb_call(encode_plan(plan, v2_exact=False, dry_run=True))
    assert tolerant.hops[0] == ArbHop(P1, HopKind.V2_FEE, True, 980, 3000) and tolerant.dry_run


def test_result_and_errors_decode() -> None:
    from eth_abi import encode

    assert decode_arb_result(encode(["uint256", "uint256[]"], [5, [1, 2]])).hop_amounts_out_wei == (1, 2)
    err = decode_arb_error(selector("InsufficientProfit(uint256)") + (42).to_bytes(32, "big"))
    assert err is not None and err.name == "InsufficientProfit" and err.args == (42,)
    err = decode_arb_error(selector("Error(string)") + encode(["string"], ["UniswapV2: K"]))
    assert err is not None and err.args == ("UniswapV2: K",)
    assert decode_arb_error(b"\x12\x34\x56\x78") is None
