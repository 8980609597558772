"""Direct hex decoding of pool logs: exact values, two's complement, and every malformed case."""

from __future__ import annotations

import pytest
from eth_abi import encode as abi_encode
from mevbot import messages as m
from mevbot.errors import DecodeError

from services.ingest import topics as t
from services.ingest.decode import decode_log, decode_pool_created, is_creation
from tests.unit.ingest.logs import (
    POOL,
    SENDER,
    addr_topic,
    raw_log,
    v2_swap,
    v2_sync,
    v3_burn,
    v3_mint,
    v3_swap,
    word,
)


def test_v2_sync_and_swap() -> None:
    ev = decode_log(v2_sync(2**112 - 1, 5, log_index=7, tx_index=3), 42161, received_ns=9)
    assert isinstance(ev, m.V2Sync)
    assert (ev.reserve0, ev.reserve1, ev.pool, ev.received_ns) == (2**112 - 1, 5, POOL, 9)
    assert (ev.meta.block_number, ev.meta.log_index, ev.meta.tx_index, ev.meta.removed) == (100, 7, 3, False)
    sw = decode_log(v2_swap(1, 0, 0, 2**200), 1)
    assert isinstance(sw, m.V2Swap)
    assert (sw.amount0_in, sw.amount1_in, sw.amount0_out, sw.amount1_out, sw.sender, sw.to) == (1, 0, 0, 2**200, SENDER, SENDER)


def test_v3_swap_signed_values_match_eth_abi() -> None:
    values = (-(2**255), 2**255 - 1, 2**160 - 1, 2**128 - 1, -887272)
    data = "0x" + abi_encode(["int256", "int256", "uint160", "uint128", "int24"], list(values)).hex()
    ev = decode_log(raw_log([t.V3_SWAP, addr_topic(SENDER), addr_topic(SENDER)], data), 1)
    assert isinstance(ev, m.V3Swap)
    assert (ev.amount0, ev.amount1, ev.sqrt_price_x96, ev.liquidity, ev.tick) == values


def test_v3_mint_burn_negative_ticks_in_topics() -> None:
    mint = decode_log(v3_mint(-600, 1200, 10**20, 3, 4), 1)
    assert isinstance(mint, m.V3Mint)
    assert (mint.tick_lower, mint.tick_upper, mint.liquidity_amount, mint.amount0, mint.amount1) == (-600, 1200, 10**20, 3, 4)
    burn = decode_log(v3_burn(-887220, 887220, 0), 1)  # burn(0) pokes fees: allowed
    assert isinstance(burn, m.V3Burn) and burn.tick_lower == -887220 and burn.liquidity_amount == 0


def test_removed_flag_and_algebra_fee() -> None:
    assert decode_log(v2_sync(1, 2, removed=True), 1).meta.removed is True
    fee = decode_log(raw_log([t.ALGEBRA_FEE], [500]), 1)
    assert isinstance(fee, m.AlgebraFee) and fee.fee_pips == 500 and fee.fee_otz_pips is None
    both = decode_log(raw_log([t.ALGEBRA_FEE_DIRECTIONAL], [300, 700]), 1)
    assert (both.fee_pips, both.fee_otz_pips) == (300, 700)
    with pytest.raises(DecodeError, match="uint16"):
        decode_log(raw_log([t.ALGEBRA_FEE_DIRECTIONAL], [300, 2**16]), 1)


@pytest.mark.parametrize(
    ("log", "reason"),
    [
        (raw_log([t.V2_SYNC], [1]), "data is 32 bytes, expected 64"),
        (raw_log([t.V2_SYNC], "0x" + word(1) + word(2)[:-2]), "expected 64"),
        (raw_log([t.V2_SYNC, addr_topic(SENDER)], [1, 2]), "2 topics, expected 1"),
        (raw_log([t.V2_SYNC], [2**112, 1]), "uint112"),
        (raw_log([t.V2_SWAP, addr_topic(SENDER)], [1, 2, 3, 4]), "2 topics, expected 3"),
        (raw_log([t.V2_SWAP, "0x" + "ff" * 32, addr_topic(SENDER)], [1, 2, 3, 4]), "not an ABI-encoded address"),
        (v3_swap(1, -1, 2**160, 1, 0), "uint160"),
        (v3_swap(1, -1, 0, 1, 0), "uint160"),
        (v3_swap(1, -1, 2**96, 2**128, 0), "uint128"),
        (v3_swap(1, -1, 2**96, 1, 887273), "tick 887273 outside"),
        (v3_swap(1, -1, 2**96, 1, 2**23), "outside"),
        (v3_mint(600, -600, 1), "tickLower 600 >= tickUpper -600"),
        (v3_mint(-600, 600, 0), "liquidity amount 0"),
        (raw_log([t.V3_BURN, addr_topic(SENDER)], [1, 2, 3]), "2 topics, expected 4"),
        (raw_log([t.ALGEBRA_FEE], [2**16]), "uint16"),
        (raw_log(["0x" + "00" * 32], [1]), "unknown topic0"),
        (raw_log([], [1]), "without topics"),
        (dict(v2_sync(1, 2), blockHash=None), "pending"),
        (dict(v2_sync(1, 2), data="zz"), "not 0x-prefixed"),
        ({"address": POOL}, "missing"),
    ],
)
def test_malformed_logs_raise_decode_error_with_reason(log: dict, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_log(log, 1)


def test_pool_created_logs() -> None:
    factory = "0x" + "fa" * 20
    t0, t1, pool = "0x" + "01" * 20, "0x" + "02" * 20, "0x" + "03" * 20
    v2 = raw_log([t.V2_PAIR_CREATED, addr_topic(t0), addr_topic(t1)], [int(pool, 16), 7], address=factory)
    assert is_creation(v2)
    assert tuple(decode_pool_created(v2)) == (factory, pool, t0, t1, 0, 0)
    v3 = raw_log([t.V3_POOL_CREATED, addr_topic(t0), addr_topic(t1), "0x" + word(500)], [10, int(pool, 16)],
                 address=factory)
    created = decode_pool_created(v3)
    assert (created.pool, created.fee_pips, created.tick_spacing) == (pool, 500, 10)
    with pytest.raises(DecodeError):
        decode_pool_created(raw_log([t.V3_POOL_CREATED, addr_topic(t0)], [10, 1], address=factory))
