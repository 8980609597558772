"""The bytes-based decoders (``int.from_bytes`` on ``a2b_hex`` of the data) against eth-abi.

Random values of every field's full ABI range plus the edge values (0, 1, max, min, -1, range
limits), encoded with eth-abi the way a node emits them (non-indexed values in ``data``, indexed
ones as 32-byte topics), must decode to exactly the values eth-abi decodes; ``decode_at`` (the
engine's hot-path entry) must give the same events as ``decode_log``.
"""

from __future__ import annotations

import random

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from mevbot import messages as m
from mevbot.errors import DecodeError

from services.ingest import topics as t
from services.ingest.decode import DECODERS, MAX_TICK, MIN_TICK, decode_at, decode_log
from tests.unit.ingest.logs import BLOCK_HASH, POOL, raw_log

SEED = 20261124
ROUNDS = 300


def _uint(rnd: random.Random, bits: int, edges: bool = True) -> int:
    top = (1 << bits) - 1
    if edges and rnd.random() < 0.3:
        return rnd.choice([0, 1, top, top - 1, 1 << (bits - 1), (1 << (bits - 1)) - 1])
    return rnd.randrange(0, top + 1) >> rnd.randrange(0, bits)  # all magnitudes


def _int(rnd: random.Random, bits: int) -> int:
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if rnd.random() < 0.3:
        return rnd.choice([lo, hi, -1, 0, 1, lo + 1, hi - 1])
    value = rnd.randrange(0, hi + 1) >> rnd.randrange(0, bits - 1)
    return -value if rnd.random() < 0.5 else value


def _tick(rnd: random.Random) -> int:
    if rnd.random() < 0.3:
        return rnd.choice([MIN_TICK, MAX_TICK, -1, 0, 1, MIN_TICK + 1, MAX_TICK - 1])
    return rnd.randint(MIN_TICK, MAX_TICK)


def _address(rnd: random.Random) -> str:
    return "0x" + format(_uint(rnd, 160), "040x")


def _data(types: list[str], values: list) -> str:
    return "0x" + abi_encode(types, values).hex()


def _topic(abi_type: str, value: object) -> str:
    return "0x" + abi_encode([abi_type], [value]).hex()


def _both(log: dict) -> m.PoolEvent:
    """``decode_log`` and ``decode_at`` (as the engine calls it) agree; returns the event."""
    event = decode_log(log, 42161, 5, 6, block_number=100, block_hash=BLOCK_HASH, log_index=3)
    fast = decode_at(DECODERS[log["topics"][0]], log, log["address"], log["topics"], 42161, 5, 6, 100,
                     BLOCK_HASH, 3)
    assert fast == event
    assert (event.received_ns, event.published_ns, event.meta.log_index, event.pool) == (5, 6, 3, POOL)
    return event


def test_v2_sync_and_swap_equal_eth_abi_on_random_and_edge_values() -> None:
    rnd = random.Random(SEED)
    for _ in range(ROUNDS):
        r0, r1 = _uint(rnd, 112), _uint(rnd, 112)
        data = _data(["uint112", "uint112"], [r0, r1])
        ev = _both(raw_log([t.V2_SYNC], data))
        assert (ev.reserve0, ev.reserve1) == abi_decode(["uint112", "uint112"], bytes.fromhex(data[2:])) == (r0, r1)

        amounts = [_uint(rnd, 256) for _ in range(4)]
        sender, to = _address(rnd), _address(rnd)
        data = _data(["uint256"] * 4, amounts)
        ev = _both(raw_log([t.V2_SWAP, _topic("address", sender), _topic("address", to)], data))
        assert isinstance(ev, m.V2Swap)
        assert [ev.amount0_in, ev.amount1_in, ev.amount0_out, ev.amount1_out] == list(
            abi_decode(["uint256"] * 4, bytes.fromhex(data[2:]))) == amounts
        assert (ev.sender, ev.to) == (sender, to)


def test_v3_swap_equals_eth_abi_on_random_and_edge_values() -> None:
    rnd = random.Random(SEED + 1)
    types = ["int256", "int256", "uint160", "uint128", "int24"]
    for _ in range(ROUNDS):
        values = [_int(rnd, 256), _int(rnd, 256), max(1, _uint(rnd, 160)), _uint(rnd, 128), _tick(rnd)]
        sender, recipient = _address(rnd), _address(rnd)
        data = _data(types, values)
        ev = _both(raw_log([t.V3_SWAP, _topic("address", sender), _topic("address", recipient)], data))
        assert isinstance(ev, m.V3Swap)
        decoded = (ev.amount0, ev.amount1, ev.sqrt_price_x96, ev.liquidity, ev.tick)
        assert decoded == abi_decode(types, bytes.fromhex(data[2:])) == tuple(values)
        assert (ev.sender, ev.recipient) == (sender, recipient)


def test_v3_mint_and_burn_equal_eth_abi_on_random_and_edge_values() -> None:
    rnd = random.Random(SEED + 2)
    for _ in range(ROUNDS):
        lower, upper = sorted(rnd.sample(range(MIN_TICK, MAX_TICK + 1), 2))
        if rnd.random() < 0.2:
            lower, upper = MIN_TICK, MAX_TICK
        owner, sender = _address(rnd), _address(rnd)
        amount, a0, a1 = max(1, _uint(rnd, 128)), _uint(rnd, 256), _uint(rnd, 256)
        topics = [t.V3_MINT, _topic("address", owner), _topic("int24", lower), _topic("int24", upper)]
        data = _data(["address", "uint128", "uint256", "uint256"], [sender, amount, a0, a1])
        ev = _both(raw_log(topics, data))
        assert isinstance(ev, m.V3Mint)
        assert (ev.tick_lower, ev.tick_upper) == (abi_decode(["int24"], bytes.fromhex(topics[2][2:]))[0],
                                                  abi_decode(["int24"], bytes.fromhex(topics[3][2:]))[0])
        assert (ev.owner, ev.tick_lower, ev.tick_upper, ev.liquidity_amount, ev.amount0, ev.amount1) == (
            owner, lower, upper, amount, a0, a1)

        amount = _uint(rnd, 128)  # burn(0) is allowed (fee poke)
        topics[0] = t.V3_BURN
        data = _data(["uint128", "uint256", "uint256"], [amount, a0, a1])
        ev = _both(raw_log(topics, data))
        assert isinstance(ev, m.V3Burn)
        assert (ev.tick_lower, ev.tick_upper, ev.liquidity_amount, ev.amount0, ev.amount1) == (
            lower, upper, amount, a0, a1) == (lower, upper, *abi_decode(["uint128", "uint256", "uint256"],
                                                                         bytes.fromhex(data[2:])))


def test_algebra_fees_on_edge_values() -> None:
    for fee in (0, 1, 500, 2**16 - 1):
        assert _both(raw_log([t.ALGEBRA_FEE], [fee])).fee_pips == fee
        both = _both(raw_log([t.ALGEBRA_FEE_DIRECTIONAL], [fee, 2**16 - 1 - fee]))
        assert (both.fee_pips, both.fee_otz_pips) == (fee, 2**16 - 1 - fee)


@pytest.mark.parametrize("bad_word", [
    "-" + "0" * 63,  # int(word, 16) would read a sign
    "+" + "0" * 63,
    "0x" + "0" * 62,  # ... or a 0x prefix
    "0_" + "0" * 62,  # ... or an underscore
    " " + "0" * 63,  # ... or whitespace
    "0" * 63 + "g",
    "0" * 63 + "\u0660",  # a non-ASCII digit
])
def test_a_data_word_that_is_not_hex_digits_is_refused(bad_word: str) -> None:
    data = "0x" + "0" * 63 + "1" + bad_word
    assert len(data) == 2 + 128
    with pytest.raises(DecodeError, match="not hex"):
        decode_log(raw_log([t.V2_SYNC], data), 1)


def test_upper_case_hex_data_is_read() -> None:
    data = "0x" + format(0xABCDEF, "064X") + format(2**100, "064x")
    ev = decode_log(raw_log([t.V2_SYNC], data), 1)
    assert (ev.reserve0, ev.reserve1) == (0xABCDEF, 2**100)


@pytest.mark.parametrize(("tick_word", "reason"), [
    (format(MAX_TICK + 1, "064x"), "outside"),
    (format((MIN_TICK - 1) % 2**256, "064x"), "outside"),
    (format(2**24 - 1, "064x"), "outside"),  # int24 -1 without sign extension
    ("0" * 63 + "z", "not a 32-byte hex word"),
    ("0" * 62, "not a 32-byte hex word"),
])
def test_mint_tick_topics_are_checked(tick_word: str, reason: str) -> None:
    topics = [t.V3_MINT, _topic("address", POOL), "0x" + tick_word, _topic("int24", MAX_TICK)]
    data = _data(["address", "uint128", "uint256", "uint256"], [POOL, 1, 2, 3])
    with pytest.raises(DecodeError, match=reason):
        decode_log(raw_log(topics, data), 1)


def test_v3_swap_tick_not_sign_extended_is_refused() -> None:
    data = _data(["int256", "int256", "uint160", "uint128", "uint256"], [1, -1, 2**96, 1, 2**24 - 1])
    with pytest.raises(DecodeError, match="outside"):
        decode_log(raw_log([t.V3_SWAP, _topic("address", POOL), _topic("address", POOL)], data), 1)
