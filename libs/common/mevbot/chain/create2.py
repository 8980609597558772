"""Pool addresses from factory + tokens (+ fee) + init-code hash, the way each DEX's factory
deploys them with CREATE2, plus the CREATE (sender, nonce) rule used to predict deploy addresses.

- Uniswap V2 style (and forks: Sushi, Camelot V2):  salt = keccak(token0 ++ token1)  (packed)
- Uniswap V3 style (Sushi V3):                      salt = keccak(abi.encode(token0, token1, fee))
- PancakeSwap V3: as V3, but the CREATE2 deployer is its PoolDeployer, not the factory
- Algebra (Camelot V3):                              salt = keccak(abi.encode(token0, token1)); deployer = PoolDeployer
Tokens are sorted numerically (token0 < token1) first, as every factory does.
"""

from __future__ import annotations

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from mevbot.errors import ConfigError

UNISWAP_V2_INIT_CODE_HASH = "0x96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f"
UNISWAP_V3_INIT_CODE_HASH = "0xe34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54"


def _addr_bytes(address: str) -> bytes:
    raw = bytes.fromhex(address.removeprefix("0x"))
    if len(raw) != 20:
        raise ConfigError("address", f"not a 20-byte address: {address}")
    return raw


def _hash_bytes(init_code_hash: str | bytes) -> bytes:
    raw = (
        init_code_hash
        if isinstance(init_code_hash, bytes)
        else bytes.fromhex(init_code_hash.removeprefix("0x"))
    )
    if len(raw) != 32:
        raise ConfigError("init_code_hash", f"not 32 bytes: {init_code_hash!r}")
    return raw


def sort_tokens(token_a: str, token_b: str) -> tuple[str, str]:
    a, b = _addr_bytes(token_a), _addr_bytes(token_b)
    if a == b:
        raise ConfigError("tokens", f"identical tokens {token_a}")
    return (token_a, token_b) if a < b else (token_b, token_a)


def create2_address(deployer: str, salt: bytes, init_code_hash: str | bytes) -> str:
    digest = keccak(b"\xff" + _addr_bytes(deployer) + salt + _hash_bytes(init_code_hash))
    return to_checksum_address(digest[12:])


def v2_pair_address(
    factory: str, token_a: str, token_b: str, init_code_hash: str = UNISWAP_V2_INIT_CODE_HASH
) -> str:
    t0, t1 = sort_tokens(token_a, token_b)
    return create2_address(factory, keccak(_addr_bytes(t0) + _addr_bytes(t1)), init_code_hash)


def v3_pool_address(
    deployer: str, token_a: str, token_b: str, fee_pips: int, init_code_hash: str = UNISWAP_V3_INIT_CODE_HASH
) -> str:
    """``deployer`` is the factory for Uniswap/Sushi V3, the PoolDeployer for PancakeSwap V3."""
    t0, t1 = sort_tokens(token_a, token_b)
    salt = keccak(
        _addr_bytes(t0).rjust(32, b"\0") + _addr_bytes(t1).rjust(32, b"\0") + fee_pips.to_bytes(32, "big")
    )
    return create2_address(deployer, salt, init_code_hash)


def algebra_pool_address(pool_deployer: str, token_a: str, token_b: str, init_code_hash: str) -> str:
    t0, t1 = sort_tokens(token_a, token_b)
    salt = keccak(_addr_bytes(t0).rjust(32, b"\0") + _addr_bytes(t1).rjust(32, b"\0"))
    return create2_address(pool_deployer, salt, init_code_hash)


def _rlp_int(value: int) -> bytes:
    if value == 0:
        return b"\x80"
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return raw if len(raw) == 1 and raw[0] < 0x80 else bytes([0x80 + len(raw)]) + raw


def create_address(sender: str, nonce: int) -> str:
    """Address of a contract created by ``sender`` with ``nonce`` (contracts start at nonce 1)."""
    body = b"\x94" + _addr_bytes(sender) + _rlp_int(nonce)
    return to_checksum_address(keccak(bytes([0xC0 + len(body)]) + body)[12:])
