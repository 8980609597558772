"""Event signatures ingest subscribes to, and their topic0 (keccak of the canonical signature).

Uniswap V3 and Algebra share Swap/Mint/Burn signatures (hence topic0); Camelot V2 pairs emit the
Uniswap V2 Swap/Sync. Pool-creation events come only from configured factories.
"""

from __future__ import annotations

from eth_utils.crypto import keccak


def topic0(signature: str) -> str:
    return "0x" + keccak(text=signature).hex()


V2_SWAP = topic0("Swap(address,uint256,uint256,uint256,uint256,address)")
V2_SYNC = topic0("Sync(uint112,uint112)")
V3_SWAP = topic0("Swap(address,address,int256,int256,uint160,uint128,int24)")
V3_MINT = topic0("Mint(address,address,int24,int24,uint128,uint256,uint256)")
V3_BURN = topic0("Burn(address,int24,int24,uint128,uint256,uint256)")
ALGEBRA_FEE = topic0("Fee(uint16)")
ALGEBRA_FEE_DIRECTIONAL = topic0("Fee(uint16,uint16)")  # Camelot's Algebra build: feeZtO, feeOtZ

V2_PAIR_CREATED = topic0("PairCreated(address,address,address,uint256)")
V3_POOL_CREATED = topic0("PoolCreated(address,address,uint24,int24,address)")
ALGEBRA_POOL_CREATED = topic0("Pool(address,address,address)")

POOL_EVENT_TOPICS = (V2_SWAP, V2_SYNC, V3_SWAP, V3_MINT, V3_BURN, ALGEBRA_FEE, ALGEBRA_FEE_DIRECTIONAL)
CREATION_TOPICS = (V2_PAIR_CREATED, V3_POOL_CREATED, ALGEBRA_POOL_CREATED)
ALL_TOPICS = POOL_EVENT_TOPICS + CREATION_TOPICS


def log_filter(extra: dict | None = None) -> dict:
    """The ``eth_subscribe``/``eth_getLogs`` filter: any emitter, any of our topic0s."""
    flt: dict = {"topics": [list(ALL_TOPICS)]}
    if extra:
        flt.update(extra)
    return flt
