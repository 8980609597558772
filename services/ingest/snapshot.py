"""Exact pool snapshots read over JSON-RPC batches.

* V2-style: ``getReserves()``.
* V3: ``slot0()`` + ``liquidity()`` + every ``tickBitmap(word)`` word that can hold a tick
  (``MIN_TICK..MAX_TICK`` compressed by the spacing), then ``ticks(t)`` for every set bit to get
  its ``liquidityNet``. Algebra: ``globalState()``, ``tickTable(word)``, ``ticks(t)`` (same
  compressed bitmap, ``liquidityDelta`` is the second word).

Every call of one snapshot reads the same block (``block_number``), so the state is consistent.
The pure helpers (call lists, word ranges, bitmap decoding) are unit tested; :func:`read_snapshot`
is the adapter.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from eth_utils.crypto import keccak
from mevbot import messages as m
from mevbot.errors import RpcError, StateError
from mevbot.messages import PoolKind
from mevbot.rpc.client import ProviderUnavailable

from services.ingest.decode import MAX_TICK, MIN_TICK

BATCH_SIZE = 500
MAX_PARALLEL_BATCHES = 4


def _sel(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


SEL_GET_RESERVES = _sel("getReserves()")
SEL_SLOT0 = _sel("slot0()")
SEL_GLOBAL_STATE = _sel("globalState()")
SEL_LIQUIDITY = _sel("liquidity()")
SEL_TICK_BITMAP = _sel("tickBitmap(int16)")
SEL_TICK_TABLE = _sel("tickTable(int16)")
SEL_TICKS = _sel("ticks(int24)")


class Rpc(Protocol):
    async def batch(self, calls: list[tuple[str, list]]) -> list[Any]: ...


def _arg(value: int) -> str:
    return format(value % (1 << 256), "064x")


def _word(result: Any, i: int, what: str) -> int:
    if isinstance(result, BaseException):
        raise StateError(f"{what} failed: {result}")
    if not isinstance(result, str) or len(result) < 2 + 64 * (i + 1):
        raise StateError(f"{what}: short answer {str(result)[:80]!r}")
    return int(result[2 + 64 * i : 2 + 64 * (i + 1)], 16)


def _signed(value: int) -> int:
    return value - (1 << 256) if value >= 1 << 255 else value


def bitmap_words(tick_spacing: int) -> range:
    """Every word position of the tick bitmap that can hold an initialized tick."""
    if tick_spacing <= 0:
        raise StateError(f"tick spacing must be positive, got {tick_spacing}")
    lo = (MIN_TICK // tick_spacing) >> 8
    hi = (MAX_TICK // tick_spacing) >> 8
    return range(lo, hi + 1)


def ticks_in_word(word_pos: int, bitmap: int, tick_spacing: int) -> list[int]:
    """The initialized ticks a bitmap word encodes (bit b of word w = compressed tick 256*w + b)."""
    out = []
    while bitmap:
        low = bitmap & -bitmap
        bit = low.bit_length() - 1
        out.append(((word_pos << 8) + bit) * tick_spacing)
        bitmap ^= low
    return out


def _call(address: str, data: str, block_tag: Any) -> tuple[str, list]:
    return ("eth_call", [{"to": address, "data": data}, block_tag])


async def _batched(rpc: Rpc, calls: list[tuple[str, list]]) -> list[Any]:
    chunks = [calls[i : i + BATCH_SIZE] for i in range(0, len(calls), BATCH_SIZE)]
    sem = asyncio.Semaphore(MAX_PARALLEL_BATCHES)

    async def run(chunk: list[tuple[str, list]]) -> list[Any]:
        async with sem:
            return await rpc.batch(chunk)

    results = await asyncio.gather(*(run(c) for c in chunks))
    flat = [r for chunk in results for r in chunk]
    for r in flat:  # a provider failure is retried by the caller, never read as "no state"
        if isinstance(r, ProviderUnavailable) or (isinstance(r, RpcError) and "no reply" in str(r)):
            raise r
    return flat


async def read_snapshot(rpc: Rpc, info: m.PoolInfo, block_number: int, *, block_hash: str = "",
                        chain_id: int, reason: str = "initial", received_ns: int = 0) -> m.PoolSnapshot:
    """The exact state of ``info`` at the end of ``block_number``.

    With ``block_hash`` every call names the block by hash (EIP-1898): a reorg between the calls
    makes them fail instead of mixing two forks' states.
    """
    tag: Any = {"blockHash": block_hash} if block_hash else hex(block_number)
    address = info.address
    common = {"chain_id": chain_id, "pool": info, "block_number": block_number, "block_hash": block_hash,
              "reason": reason, "received_ns": received_ns}
    if info.kind in (PoolKind.UNISWAP_V2, PoolKind.CAMELOT_V2):
        (reserves,) = await _batched(rpc, [_call(address, SEL_GET_RESERVES, tag)])
        return m.PoolSnapshot(reserve0=_word(reserves, 0, f"{address} getReserves"),
                              reserve1=_word(reserves, 1, f"{address} getReserves"), fee_pips=info.fee_pips, **common)
    algebra = info.kind is PoolKind.ALGEBRA
    state_sel = SEL_GLOBAL_STATE if algebra else SEL_SLOT0
    bitmap_sel = SEL_TICK_TABLE if algebra else SEL_TICK_BITMAP
    spacing = info.tick_spacing
    words = list(bitmap_words(spacing))
    calls = [_call(address, state_sel, tag), _call(address, SEL_LIQUIDITY, tag)]
    calls += [_call(address, bitmap_sel + _arg(w), tag) for w in words]
    results = await _batched(rpc, calls)
    sqrt_price = _word(results[0], 0, f"{address} slot0")
    tick = _signed(_word(results[0], 1, f"{address} slot0"))
    fee = _word(results[0], 2, f"{address} globalState") & 0xFFFF if algebra else info.fee_pips
    liquidity = _word(results[1], 0, f"{address} liquidity")
    if sqrt_price == 0:
        raise StateError(f"{address}: pool not initialized at block {block_number}")
    initialized: list[int] = []
    for w, result in zip(words, results[2:], strict=True):
        bitmap = _word(result, 0, f"{address} tickBitmap({w})")
        if bitmap:
            initialized.extend(ticks_in_word(w, bitmap, spacing))
    tick_results = await _batched(rpc, [_call(address, SEL_TICKS + _arg(t), tag) for t in initialized])
    ticks = []
    for t, result in zip(initialized, tick_results, strict=True):
        ticks.append((t, _signed(_word(result, 1, f"{address} ticks({t})"))))
    ticks.sort()
    return m.PoolSnapshot(sqrt_price_x96=sqrt_price, tick=tick, liquidity=liquidity, fee_pips=fee, ticks=ticks,
                          **common)

