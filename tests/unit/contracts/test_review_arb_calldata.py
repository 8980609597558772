"""Review findings in the Python encoder/decoder of the executor's packed calldata
(docs/contract_review.md, R3 and R4)."""

from __future__ import annotations

import pytest
from mevbot.chain.arb_calldata import (
    HEADER_LEN,
    ArbCall,
    ArbHop,
    HopKind,
    LenderKind,
    decode_arb_call,
    encode_arb_call,
    hop_from_plan,
)
from mevbot.errors import ValidationError
from mevbot.messages import PlanHop, PoolKind

A, B = "0x" + "aa" * 20, "0x" + "bb" * 20
P1, P2 = "0x" + "01" * 20, "0x" + "02" * 20


def _hop(kind: PoolKind) -> PlanHop:
    return PlanHop(pool=P1, kind=kind, token_in=A, token_out=B, zero_for_one=True, amount_in=1000,
                   amount_out=990, min_amount_out=980, fee_pips=500)  # fmt: skip


def test_r3_camelot_pairs_are_always_exact_out() -> None:
    # a PlanHop does not say whether a Camelot pair is stable; the contract's V2_FEE formula is
    # constant-product only, so a stable pair must never be encoded as V2_FEE
    assert hop_from_plan(_hop(PoolKind.CAMELOT_V2), v2_exact=False) == ArbHop(
        P1, HopKind.V2_EXACT_OUT, True, 990
    )
    assert hop_from_plan(_hop(PoolKind.CAMELOT_V2), v2_exact=True) == ArbHop(
        P1, HopKind.V2_EXACT_OUT, True, 990
    )
    # plain constant-product pairs keep the tolerant mode
    assert hop_from_plan(_hop(PoolKind.UNISWAP_V2), v2_exact=False) == ArbHop(
        P1, HopKind.V2_FEE, True, 980, 500
    )


def _plan() -> bytes:
    return encode_arb_call(
        ArbCall(LenderKind.BALANCER_V2, A, B, 10**18, 0, 99,
                (ArbHop(P1, HopKind.V3, True, 1), ArbHop(P2, HopKind.V2_FEE, False, 1, 3000)))
    )  # fmt: skip


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d[:1] + bytes([(d[1] & 0x0F) | (0 << 4)]) + d[2:HEADER_LEN],  # 0 hops, header only
        lambda d: d[:1] + bytes([(d[1] & 0x0F) | (1 << 4)]) + d[2 : HEADER_LEN + 37],  # 1 hop
        lambda d: d[:1] + bytes([(d[1] & 0x0F) | (5 << 4)]) + d[2:],  # 5 hops
        lambda d: d[:1] + bytes([d[1] | 0x03]) + d[2:],  # lender kind 3
        lambda d: d[: HEADER_LEN + 20] + bytes([0x07]) + d[HEADER_LEN + 21 :],  # hop kind 3
        lambda d: d[:-1],  # truncated V2_FEE fee
    ],
    ids=["0-hops", "1-hop", "5-hops", "lender-3", "hop-kind-3", "truncated-fee"],
)
def test_r4_decoder_refuses_what_the_contract_refuses(mutate) -> None:  # type: ignore[no-untyped-def]
    data = mutate(_plan())
    with pytest.raises(ValidationError):
        decode_arb_call(data)


def test_r4_decoder_still_round_trips() -> None:
    assert encode_arb_call(decode_arb_call(_plan())) == _plan()
