"""Wire contract: every message type round-trips exactly, and schema evolution works."""

from __future__ import annotations

import typing

import msgspec
import pytest
from mevbot import messages as m
from mevbot.errors import SchemaVersionError, WireError

U256_MAX = 2**256 - 1
I256_MIN = -(2**255)
ADDR = "0x" + "ab" * 20
HASH = "0x" + "cd" * 32
META = m.EventMeta(block_number=123, block_hash=HASH, tx_hash=HASH, tx_index=1, log_index=7)
POOL = m.PoolInfo(
    address=ADDR,
    kind=m.PoolKind.UNISWAP_V3,
    dex="uniswap_v3",
    factory=ADDR,
    token0=ADDR,
    token1=ADDR,
    fee_pips=500,
    tick_spacing=10,
    decimals0=18,
    decimals1=6,
)
HOP = m.Hop(
    pool=ADDR,
    kind=m.PoolKind.UNISWAP_V3,
    token_in=ADDR,
    token_out=ADDR,
    zero_for_one=True,
    amount_in=U256_MAX,
    amount_out=U256_MAX - 1,
    sqrt_price_x96_before=2**160 - 1,
    liquidity=2**128 - 1,
)
PLAN_HOP = m.PlanHop(
    pool=ADDR,
    kind=m.PoolKind.ALGEBRA,
    token_in=ADDR,
    token_out=ADDR,
    zero_for_one=False,
    amount_in=U256_MAX,
    amount_out=1,
    min_amount_out=1,
)
COSTS = m.CostBreakdown(
    gross_profit=U256_MAX,
    flash_fee=0,
    l2_gas_cost_wei=1,
    l1_gas_cost_wei=2,
    gas_cost_in_token=3,
    net_profit=-5,
    net_profit_wei=I256_MIN,
)

SAMPLES: list[m.Message] = [
    m.V2Sync(chain_id=42161, pool=ADDR, meta=META, reserve0=2**112 - 1, reserve1=0),
    m.V2Swap(
        chain_id=42161,
        pool=ADDR,
        meta=META,
        sender=ADDR,
        to=ADDR,
        amount0_in=U256_MAX,
        amount1_in=0,
        amount0_out=0,
        amount1_out=U256_MAX,
    ),
    m.V3Swap(
        chain_id=42161,
        pool=ADDR,
        meta=META,
        sender=ADDR,
        recipient=ADDR,
        amount0=I256_MIN,
        amount1=2**255 - 1,
        sqrt_price_x96=2**160 - 1,
        liquidity=2**128 - 1,
        tick=-887272,
    ),
    m.V3Mint(
        chain_id=42161,
        pool=ADDR,
        meta=META,
        owner=ADDR,
        tick_lower=-887272,
        tick_upper=887272,
        liquidity_amount=2**128 - 1,
        amount0=U256_MAX,
        amount1=1,
    ),
    m.V3Burn(
        chain_id=42161,
        pool=ADDR,
        meta=META,
        owner=ADDR,
        tick_lower=-60,
        tick_upper=60,
        liquidity_amount=1,
        amount0=0,
        amount1=U256_MAX,
    ),
    m.AlgebraFee(
        chain_id=42161,
        pool=ADDR,
        meta=m.EventMeta(
            block_number=1, block_hash=HASH, tx_hash=HASH, tx_index=0, log_index=0, removed=True
        ),
        fee_pips=100,
    ),
    m.PoolSnapshot(
        chain_id=42161,
        pool=POOL,
        block_number=5,
        sqrt_price_x96=2**96,
        tick=0,
        liquidity=2**128 - 1,
        fee_pips=500,
        ticks=[(-887270, 2**127 - 1), (887270, -(2**127))],
    ),
    m.BlockHead(
        chain_id=42161,
        block_number=2**63,
        block_hash=HASH,
        parent_hash=HASH,
        timestamp=1,
        base_fee_wei=U256_MAX,
        event_count=3,
    ),
    m.PoolRejected(chain_id=42161, address=ADDR, reason="bait"),
    m.ResyncRequest(chain_id=42161, pools=[ADDR], reason="missed Mint", requested_by="detector-1",
                    block_number=123_456_789),
    m.Candidate(
        chain_id=42161,
        candidate_id="c1",
        cycle_id="cy",
        start_token=ADDR,
        hops=[HOP, HOP],
        amount_in=U256_MAX,
        amount_out=U256_MAX,
        gross_profit=U256_MAX,
        gross_profit_wei=U256_MAX,
        block_number=9,
        state_versions=[m.PoolVersion(ADDR, 3)],
    ),
    m.ExecutionPlan(
        chain_id=42161,
        plan_id="p",
        candidate_id="c1",
        cycle_id="cy",
        hops=[PLAN_HOP],
        loan_token=ADDR,
        loan_amount=U256_MAX,
        flash_source=m.FlashSource(kind=m.FlashSourceKind.BALANCER_V2, address=ADDR),
        min_profit=1,
        expected_profit=U256_MAX,
        expected_net_profit_wei=-1,
        costs=COSTS,
        gas_limit=10**6,
        max_fee_per_gas_wei=U256_MAX,
        max_priority_fee_per_gas_wei=0,
        deadline_block=10,
        block_number=9,
    ),
    m.Rejection(chain_id=42161, candidate_id="c1", cycle_id="cy", reason="unprofitable", detail="x"),
    m.ExecutionResult(
        chain_id=42161,
        plan_id="p",
        candidate_id="c1",
        status=m.ExecutionStatus.REVERTED,
        predicted_profit=U256_MAX,
        realized_profit=I256_MIN,
        nonce=0,
        gas_used=21000,
    ),
    m.ControlCommand(chain_id=42161, command="pause", reason="test"),
    m.DetectorHeartbeat(chain_id=42161, replica_id="d-0", started_ns=1, sent_ns=2),
    m.DeadLetter(
        chain_id=42161,
        service="detector",
        subject="mev.events.v2_sync",
        error_code="decode",
        error="bad",
        payload='{"x": "\\u00ff"}',
    ),
]


def test_every_message_type_has_a_sample() -> None:
    assert {type(s) for s in SAMPLES} == set(typing.get_args(m.AnyMessage))


@pytest.mark.parametrize("message", SAMPLES, ids=lambda s: type(s).__name__)
def test_round_trip_exact(message: m.Message) -> None:
    data = m.encode(message)
    assert m.decode(data) == message  # through the AnyMessage union (tag dispatch)
    assert m.decode(data, type(message)) == message  # through the concrete type
    assert b'"schema_version":1' in data and b'"chain_id":42161' in data


def test_big_integers_are_exact_json_numbers() -> None:
    swap = SAMPLES[2]
    data = m.encode(swap)
    assert str(I256_MIN).encode() in data and str(2**160 - 1).encode() in data
    assert m.decode(data).amount0 == I256_MIN


def test_newer_producer_with_extra_field_and_version_2_is_read() -> None:
    class V3SwapV2(m.PoolEvent, frozen=True, kw_only=True, tag="v3_swap"):
        sender: str
        recipient: str
        amount0: int
        amount1: int
        sqrt_price_x96: int
        liquidity: int
        tick: int
        protocol_fee_pips: int = 0  # a field this build does not know

    newer = V3SwapV2(
        chain_id=42161,
        schema_version=2,
        pool=ADDR,
        meta=META,
        sender=ADDR,
        recipient=ADDR,
        amount0=-1,
        amount1=U256_MAX >> 1,
        sqrt_price_x96=2**96,
        liquidity=1,
        tick=5,
        protocol_fee_pips=250,
    )
    decoded = m.decode(m.encode(newer))
    assert isinstance(decoded, m.V3Swap)
    assert decoded.schema_version == 2 and decoded.amount1 == U256_MAX >> 1 and decoded.tick == 5


def test_older_than_min_schema_version_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    old = msgspec.structs.replace(SAMPLES[0], schema_version=1)
    monkeypatch.setattr(m, "MIN_SCHEMA_VERSION", 2)
    with pytest.raises(SchemaVersionError, match="older than the oldest supported"):
        m.decode(m.encode(old))


def test_schema_version_zero_rejected_by_this_build() -> None:
    data = m.encode(SAMPLES[0]).replace(b'"schema_version":1', b'"schema_version":0')
    with pytest.raises(SchemaVersionError):
        m.decode(data)


@pytest.mark.parametrize("data", [b"{", b'{"type":"nope","chain_id":1}', b'{"type":"v2_sync"}', b"[]"])
def test_malformed_payloads_raise_wire_error(data: bytes) -> None:
    with pytest.raises(WireError):
        m.decode(data)
