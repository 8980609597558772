"""Decode raw JSON-RPC logs into wire events, straight from hex (no eth-abi per log).

Every event we read has a fixed layout: 32-byte words in ``data`` and indexed values in
``topics``. ``data`` is turned into bytes once (``binascii.a2b_hex``: hex digits only) and each
word is ``int.from_bytes`` of its 32-byte slice (``signed=True``: two's complement). Each decoder
checks the topic count, the data length and every value's range (uint112 reserves, uint160
prices, uint128 liquidity, int24 ticks properly sign-extended and inside [MIN_TICK, MAX_TICK],
addresses with 12 zero bytes): anything else raises :class:`~mevbot.errors.DecodeError` with the
reason, and the caller dead-letters the log.

Pure: no I/O. ``decode_log`` (and :func:`decode_at`, the engine's variant once it looked up the
decoder of topic0 in :data:`DECODERS`) is the hot path of the service (see
benchmarks/ingest_bench.py).
"""

from __future__ import annotations

from binascii import a2b_hex as _unhex
from typing import Any, NamedTuple

from mevbot import messages as m
from mevbot.errors import DecodeError

from services.ingest import topics as t

MIN_TICK = -887272
MAX_TICK = 887272
_U112 = 1 << 112
_U128 = 1 << 128
_U160 = 1 << 160
_U255 = 1 << 255
_U256 = 1 << 256
_ZERO_PAD = "0" * 24


def meta_of(log: dict[str, Any], block_number: int | None = None, block_hash: str | None = None,
            log_index: int | None = None) -> m.EventMeta:
    """Where the log sits in the chain; a pending log (no block hash) is refused.

    ``block_number``/``block_hash`` (lower-case)/``log_index`` may be passed when the caller parsed
    them already.
    """
    try:
        if block_hash is None:
            block_hash = log["blockHash"]
            if block_hash is None:
                raise DecodeError("log without blockHash (pending log)")
            block_hash = block_hash.lower()
        return m.EventMeta(
            block_number=int(log["blockNumber"], 16) if block_number is None else block_number,
            block_hash=block_hash,
            tx_hash=(log.get("transactionHash") or "").lower(),
            tx_index=int(log["transactionIndex"], 16),
            log_index=int(log["logIndex"], 16) if log_index is None else log_index,
            removed=bool(log.get("removed", False)),
        )
    except DecodeError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DecodeError(f"log position fields missing or malformed: {type(exc).__name__}: {exc}") from None


def _words(data: str, n: int, name: str) -> str:
    """The hex body of ``data`` (without 0x), checked to hold exactly ``n`` 32-byte words."""
    if not isinstance(data, str) or not data.startswith("0x"):
        raise DecodeError(f"{name}: data is not 0x-prefixed hex")
    body = data[2:]
    if len(body) != 64 * n:
        raise DecodeError(f"{name}: data is {len(body) // 2} bytes, expected {32 * n}")
    return body


def _data(data: str, n: int, name: str) -> bytes:
    """``data`` as bytes, checked to be ``0x`` + exactly ``n`` 32-byte words of hex digits.

    ``binascii.a2b_hex`` refuses anything but hex digits (no whitespace, sign, ``_`` or ``0x``
    can hide inside a word, which ``int(word, 16)`` would take).
    """
    if not isinstance(data, str) or not data.startswith("0x"):
        raise DecodeError(f"{name}: data is not 0x-prefixed hex")
    if len(data) != 2 + 64 * n:
        raise DecodeError(f"{name}: data is {(len(data) - 2) // 2} bytes, expected {32 * n}")
    try:
        return _unhex(data[2:])
    except (ValueError, TypeError):  # binascii.Error is a ValueError
        raise DecodeError(f"{name}: data is not hex") from None


def _word(body: str, i: int, name: str) -> int:
    try:
        return int(body[64 * i : 64 * i + 64], 16)
    except ValueError:
        raise DecodeError(f"{name}: data word {i} is not hex") from None


def _signed(value: int) -> int:
    return value - _U256 if value >= _U255 else value


def _address(word: str, name: str) -> str:
    """A 32-byte topic/word holding an address: the 12 high bytes must be zero."""
    if not isinstance(word, str) or len(word) != 66 or word[2:26] != _ZERO_PAD:
        raise DecodeError(f"{name}: {word!r} is not an ABI-encoded address")
    return "0x" + word[26:].lower()


def _address_word(body: str, i: int, name: str) -> str:
    return _address("0x" + body[64 * i : 64 * i + 64], name)


def _topic_count(topics: list[str], n: int, name: str) -> None:
    if len(topics) != n:
        raise DecodeError(f"{name}: {len(topics)} topics, expected {n}")


def _topic_int(topic: str, name: str) -> int:
    try:
        if len(topic) != 66:
            raise ValueError
        return int(topic, 16)
    except (TypeError, ValueError):
        raise DecodeError(f"{name}: topic {topic!r} is not a 32-byte hex word") from None


# --- one decoder per topic0 --------------------------------------------------------------------
# Each takes (pool, topics, data, chain_id, meta, received_ns, published_ns) and reads the data
# words straight from bytes (``int.from_bytes`` of 32-byte slices; ``signed=True`` is the two's
# complement of int256/int24). The hot path of the service: no helper call per word.

_from_bytes = int.from_bytes


def _v2_sync(pool: str, topics: list[str], data: str, chain_id: int, meta: m.EventMeta, received_ns: int,
             published_ns: int) -> m.PoolEvent:
    if len(topics) != 1:
        _topic_count(topics, 1, "V2 Sync")
    b = _data(data, 2, "V2 Sync")
    r0, r1 = _from_bytes(b[:32], "big"), _from_bytes(b[32:], "big")
    if r0 >= _U112 or r1 >= _U112:
        raise DecodeError(f"V2 Sync: reserve does not fit uint112 ({r0}, {r1})")
    return m.V2Sync(chain_id=chain_id, pool=pool, meta=meta, received_ns=received_ns, published_ns=published_ns,
                    reserve0=r0, reserve1=r1)


def _v2_swap(pool: str, topics: list[str], data: str, chain_id: int, meta: m.EventMeta, received_ns: int,
             published_ns: int) -> m.PoolEvent:
    if len(topics) != 3:
        _topic_count(topics, 3, "V2 Swap")
    b = _data(data, 4, "V2 Swap")
    return m.V2Swap(
        chain_id=chain_id, pool=pool, meta=meta, received_ns=received_ns, published_ns=published_ns,
        sender=_address(topics[1], "V2 Swap sender"), to=_address(topics[2], "V2 Swap to"),
        amount0_in=_from_bytes(b[:32], "big"), amount1_in=_from_bytes(b[32:64], "big"),
        amount0_out=_from_bytes(b[64:96], "big"), amount1_out=_from_bytes(b[96:], "big"),
    )


def _v3_swap(pool: str, topics: list[str], data: str, chain_id: int, meta: m.EventMeta, received_ns: int,
             published_ns: int) -> m.PoolEvent:
    if len(topics) != 3:
        _topic_count(topics, 3, "V3 Swap")
    b = _data(data, 5, "V3 Swap")
    sqrt_price = _from_bytes(b[64:96], "big")
    liquidity = _from_bytes(b[96:128], "big")
    tick = _from_bytes(b[128:], "big", signed=True)
    if not 0 < sqrt_price < _U160:
        raise DecodeError(f"V3 Swap: sqrtPriceX96 {sqrt_price} outside uint160 (or zero)")
    if liquidity >= _U128:
        raise DecodeError(f"V3 Swap: liquidity {liquidity} does not fit uint128")
    if not MIN_TICK <= tick <= MAX_TICK:
        raise DecodeError(f"V3 Swap: tick {tick} outside [{MIN_TICK}, {MAX_TICK}] (or not a sign-extended int24)")
    return m.V3Swap(
        chain_id=chain_id, pool=pool, meta=meta, received_ns=received_ns, published_ns=published_ns,
        sender=_address(topics[1], "V3 Swap sender"), recipient=_address(topics[2], "V3 Swap recipient"),
        amount0=_from_bytes(b[:32], "big", signed=True), amount1=_from_bytes(b[32:64], "big", signed=True),
        sqrt_price_x96=sqrt_price, liquidity=liquidity, tick=tick,
    )


def _topic_tick(topic: str, name: str) -> int:
    """An indexed int24 tick (a 32-byte topic, sign-extended), checked to lie in [MIN_TICK, MAX_TICK]."""
    try:
        if len(topic) != 66 or not topic.startswith("0x"):
            raise ValueError
        tick = _from_bytes(_unhex(topic[2:]), "big", signed=True)
    except (TypeError, ValueError):
        raise DecodeError(f"{name}: topic {topic!r} is not a 32-byte hex word") from None
    if not MIN_TICK <= tick <= MAX_TICK:
        raise DecodeError(f"{name}: tick {tick} outside [{MIN_TICK}, {MAX_TICK}] (or not a sign-extended int24)")
    return tick


def _v3_mint(pool: str, topics: list[str], data: str, chain_id: int, meta: m.EventMeta, received_ns: int,
             published_ns: int) -> m.PoolEvent:
    if len(topics) != 4:
        _topic_count(topics, 4, "V3 Mint")
    b = _data(data, 4, "V3 Mint")
    lower = _topic_tick(topics[2], "V3 Mint tickLower")
    upper = _topic_tick(topics[3], "V3 Mint tickUpper")
    amount = _from_bytes(b[32:64], "big")
    if lower >= upper or not 0 < amount < _U128:
        _check_position(lower, upper, amount, "V3 Mint")
    return m.V3Mint(
        chain_id=chain_id, pool=pool, meta=meta, received_ns=received_ns, published_ns=published_ns,
        owner=_address(topics[1], "V3 Mint owner"), tick_lower=lower, tick_upper=upper, liquidity_amount=amount,
        amount0=_from_bytes(b[64:96], "big"), amount1=_from_bytes(b[96:], "big"),
    )


def _v3_burn(pool: str, topics: list[str], data: str, chain_id: int, meta: m.EventMeta, received_ns: int,
             published_ns: int) -> m.PoolEvent:
    if len(topics) != 4:
        _topic_count(topics, 4, "V3 Burn")
    b = _data(data, 3, "V3 Burn")
    lower = _topic_tick(topics[2], "V3 Burn tickLower")
    upper = _topic_tick(topics[3], "V3 Burn tickUpper")
    amount = _from_bytes(b[:32], "big")
    if lower >= upper or amount >= _U128:
        _check_position(lower, upper, amount, "V3 Burn", allow_zero=True)  # burn(0) pokes fees
    return m.V3Burn(
        chain_id=chain_id, pool=pool, meta=meta, received_ns=received_ns, published_ns=published_ns,
        owner=_address(topics[1], "V3 Burn owner"), tick_lower=lower, tick_upper=upper, liquidity_amount=amount,
        amount0=_from_bytes(b[32:64], "big"), amount1=_from_bytes(b[64:], "big"),
    )


def _algebra_fee(pool: str, topics: list[str], data: str, chain_id: int, meta: m.EventMeta, received_ns: int,
                 published_ns: int) -> m.PoolEvent:
    _topic_count(topics, 1, "Algebra Fee")
    fee = _from_bytes(_data(data, 1, "Algebra Fee"), "big")
    if fee >= 1 << 16:
        raise DecodeError(f"Algebra Fee: {fee} does not fit uint16")
    return m.AlgebraFee(chain_id=chain_id, pool=pool, meta=meta, received_ns=received_ns, published_ns=published_ns,
                        fee_pips=fee)


def _algebra_fee_directional(pool: str, topics: list[str], data: str, chain_id: int, meta: m.EventMeta,
                             received_ns: int, published_ns: int) -> m.PoolEvent:
    _topic_count(topics, 1, "Algebra Fee")
    b = _data(data, 2, "Algebra Fee")
    zto, otz = _from_bytes(b[:32], "big"), _from_bytes(b[32:], "big")
    if zto >= 1 << 16 or otz >= 1 << 16:
        raise DecodeError(f"Algebra Fee: ({zto}, {otz}) does not fit uint16")
    return m.AlgebraFee(chain_id=chain_id, pool=pool, meta=meta, received_ns=received_ns, published_ns=published_ns,
                        fee_pips=zto, fee_otz_pips=otz)


DECODERS: dict[str, Any] = {
    t.V2_SYNC: _v2_sync,
    t.V2_SWAP: _v2_swap,
    t.V3_SWAP: _v3_swap,
    t.V3_MINT: _v3_mint,
    t.V3_BURN: _v3_burn,
    t.ALGEBRA_FEE: _algebra_fee,
    t.ALGEBRA_FEE_DIRECTIONAL: _algebra_fee_directional,
}
"""topic0 (lower-case) -> decoder of that pool event."""


def decode_log(log: dict[str, Any], chain_id: int, received_ns: int = 0, published_ns: int = 0, *,
               block_number: int | None = None, block_hash: str | None = None,
               log_index: int | None = None) -> m.PoolEvent:
    """Decode one pool-event log (V2 Swap/Sync, V3/Algebra Swap/Mint/Burn, Algebra Fee)."""
    try:
        topics = log["topics"]
        topic0 = topics[0].lower() if topics else None
        pool = log["address"].lower()
        data = log["data"]
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        raise DecodeError(f"log is missing address/topics/data: {type(exc).__name__}") from None
    if topic0 is None:
        raise DecodeError("log without topics")
    if len(pool) != 42:
        raise DecodeError(f"emitter {pool!r} is not an address")
    meta = meta_of(log, block_number, block_hash, log_index)
    decoder = DECODERS.get(topic0)
    if decoder is None:
        raise DecodeError(f"unknown topic0 {topic0}")
    return decoder(pool, topics, data, chain_id, meta, received_ns, published_ns)


def decode_at(decoder: Any, log: dict[str, Any], pool: str, topics: list[str], chain_id: int, received_ns: int,
              published_ns: int, block_number: int, block_hash: str, log_index: int) -> m.PoolEvent:
    """:func:`decode_log` for a caller that looked up ``decoder = DECODERS[topics[0]]`` and checked
    the emitter ``pool`` (lower-case address) already, and parsed the log's position (the engine's
    hot path: no second lookup, lower-casing or parse)."""
    meta = meta_of(log, block_number, block_hash, log_index)
    try:
        data = log["data"]
    except (KeyError, TypeError) as exc:
        raise DecodeError(f"log data missing: {type(exc).__name__}") from None
    return decoder(pool, topics, data, chain_id, meta, received_ns, published_ns)


def _check_position(lower: int, upper: int, amount: int, name: str, *, allow_zero: bool = False) -> None:
    if lower >= upper:
        raise DecodeError(f"{name}: tickLower {lower} >= tickUpper {upper}")
    if amount >= _U128 or (amount == 0 and not allow_zero):
        raise DecodeError(f"{name}: liquidity amount {amount} outside uint128 (or zero)")


# --- pool creation ---------------------------------------------------------------------------------


class PoolCreated(NamedTuple):
    """A pool-creation log of a factory: who created what, for which tokens (and fee)."""

    factory: str
    pool: str
    token0: str
    token1: str
    fee_pips: int
    tick_spacing: int


def decode_pool_created(log: dict[str, Any]) -> PoolCreated:
    """PairCreated (V2), PoolCreated (V3) or Pool (Algebra) from a factory log."""
    try:
        topics = log["topics"]
        topic0 = topics[0].lower()
        factory = log["address"].lower()
        data = log["data"]
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        raise DecodeError(f"creation log is missing address/topics/data: {type(exc).__name__}") from None
    if topic0 == t.V2_PAIR_CREATED:
        _topic_count(topics, 3, "PairCreated")
        body = _words(data, 2, "PairCreated")
        return PoolCreated(factory, _address_word(body, 0, "PairCreated pair"), _address(topics[1], "PairCreated"),
                            _address(topics[2], "PairCreated"), 0, 0)
    if topic0 == t.V3_POOL_CREATED:
        _topic_count(topics, 4, "PoolCreated")
        body = _words(data, 2, "PoolCreated")
        fee = _topic_int(topics[3], "PoolCreated fee")
        if fee >= 1 << 24:
            raise DecodeError(f"PoolCreated: fee {fee} does not fit uint24")
        spacing = _signed(_word(body, 0, "PoolCreated"))
        if not 0 < spacing < 1 << 23:
            raise DecodeError(f"PoolCreated: tick spacing {spacing} out of range")
        return PoolCreated(factory, _address_word(body, 1, "PoolCreated pool"), _address(topics[1], "PoolCreated"),
                            _address(topics[2], "PoolCreated"), fee, spacing)
    if topic0 == t.ALGEBRA_POOL_CREATED:
        _topic_count(topics, 3, "Pool")
        body = _words(data, 1, "Pool")
        return PoolCreated(factory, _address_word(body, 0, "Pool pool"), _address(topics[1], "Pool"),
                            _address(topics[2], "Pool"), 0, 0)
    raise DecodeError(f"not a pool-creation topic0: {topic0}")


_CREATION = frozenset(t.CREATION_TOPICS)


def is_creation(log: dict[str, Any]) -> bool:
    topics = log.get("topics")
    return bool(topics) and isinstance(topics[0], str) and topics[0].lower() in _CREATION
