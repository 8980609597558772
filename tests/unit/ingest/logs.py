"""Raw JSON-RPC log builders for ingest unit tests and the benchmark (hex exactly as nodes send it)."""

from __future__ import annotations

from services.ingest import topics as t

POOL = "0x" + "ab" * 20
SENDER = "0x" + "11" * 20
BLOCK_HASH = "0x" + "cd" * 32
TX_HASH = "0x" + "ef" * 32


def word(value: int) -> str:
    return format(value % (1 << 256), "064x")


def addr_topic(address: str) -> str:
    return "0x" + address[2:].rjust(64, "0")


def raw_log(topics: list[str], words: list[int] | str, *, address: str = POOL, block: int = 100,
            block_hash: str = BLOCK_HASH, log_index: int = 0, tx_index: int = 0, removed: bool = False) -> dict:
    data = words if isinstance(words, str) else "0x" + "".join(word(w) for w in words)
    return {
        "address": address, "topics": topics, "data": data, "blockNumber": hex(block), "blockHash": block_hash,
        "transactionHash": TX_HASH, "transactionIndex": hex(tx_index), "logIndex": hex(log_index), "removed": removed,
    }


def v2_sync(r0: int, r1: int, **kw: object) -> dict:
    return raw_log([t.V2_SYNC], [r0, r1], **kw)


def v2_swap(a0in: int, a1in: int, a0out: int, a1out: int, **kw: object) -> dict:
    return raw_log([t.V2_SWAP, addr_topic(SENDER), addr_topic(SENDER)], [a0in, a1in, a0out, a1out], **kw)


def v3_swap(amount0: int, amount1: int, sqrt_price: int, liquidity: int, tick: int, **kw: object) -> dict:
    return raw_log([t.V3_SWAP, addr_topic(SENDER), addr_topic(SENDER)],
                   [amount0, amount1, sqrt_price, liquidity, tick], **kw)


def v3_mint(lower: int, upper: int, amount: int, a0: int = 1, a1: int = 2, **kw: object) -> dict:
    return raw_log([t.V3_MINT, addr_topic(SENDER), "0x" + word(lower), "0x" + word(upper)],
                   [int(SENDER, 16), amount, a0, a1], **kw)


def v3_burn(lower: int, upper: int, amount: int, a0: int = 1, a1: int = 2, **kw: object) -> dict:
    return raw_log([t.V3_BURN, addr_topic(SENDER), "0x" + word(lower), "0x" + word(upper)], [amount, a0, a1], **kw)
