"""Pool-version detection: what an emitter is, decided before any state read.

An emitter is accepted only when its address is the CREATE2 address an **allowed factory** (from
the chain config) derives for the tokens (and fee) the contract itself reports. Anything else is
rejected, in particular contracts that emit Swap-shaped logs and even answer ``factory()``,
``token0()`` and ``token1()`` like a pool (bait): they cannot sit at the factory's CREATE2
address. Probes are plain ``eth_call`` s that may revert (``None`` here); the kind follows from the
factory's registry entry, cross-checked by which probes answered (``fee()`` for V3,
``globalState()`` for Algebra, ``getReserves()`` for V2-style pairs).

Pure: :func:`probe_calls` says what to call, :func:`classify` decides from the answers.
"""

from __future__ import annotations

import msgspec
from eth_utils.crypto import keccak
from mevbot import messages as m
from mevbot.chain.create2 import algebra_pool_address, v2_pair_address, v3_pool_address
from mevbot.chainconfig import ChainConfig, DexConfig
from mevbot.errors import ConfigError
from mevbot.messages import PoolKind


def _selector(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


PROBES: dict[str, str] = {
    "factory": _selector("factory()"),
    "token0": _selector("token0()"),
    "token1": _selector("token1()"),
    "fee": _selector("fee()"),
    "tickSpacing": _selector("tickSpacing()"),
    "getReserves": _selector("getReserves()"),
    "globalState": _selector("globalState()"),
}
CAMELOT_PROBES: dict[str, str] = {
    "token0FeePercent": _selector("token0FeePercent()"),
    "token1FeePercent": _selector("token1FeePercent()"),
    "stableSwap": _selector("stableSwap()"),
}
CAMELOT_FEE_DENOMINATOR = 100_000  # Camelot V2 fees are in 1e-5; pips are 1e-6


class Detection(msgspec.Struct, frozen=True, kw_only=True):
    """The cached answer for one address (shared by replicas through Redis)."""

    address: str
    accepted: bool
    reason: str = ""
    info: m.PoolInfo | None = None


def probe_calls(address: str, names: dict[str, str] = PROBES) -> list[tuple[str, list]]:
    """``eth_call`` requests (method, params) for every probe, in ``names`` order."""
    return [("eth_call", [{"to": address, "data": sel}, "latest"]) for sel in names.values()]


def _word(result: str | None, i: int = 0) -> int | None:
    if not isinstance(result, str) or not result.startswith("0x") or len(result) < 2 + 64 * (i + 1):
        return None
    try:
        return int(result[2 + 64 * i : 2 + 64 * (i + 1)], 16)
    except ValueError:
        return None


def _address(result: str | None) -> str | None:
    value = _word(result)
    if value is None or value >> 160 or value == 0:
        return None
    return "0x" + format(value, "040x")


def _int24(result: str | None, i: int = 0) -> int | None:
    value = _word(result, i)
    if value is None:
        return None
    if value >= 1 << 255:
        value -= 1 << 256
    return value if -(1 << 23) <= value < 1 << 23 else None


def reject(address: str, reason: str) -> Detection:
    return Detection(address=address, accepted=False, reason=reason)


def classify(address: str, answers: dict[str, str | None], chain: ChainConfig,
             extra: dict[str, str | None] | None = None) -> Detection:
    """Decide from the probe answers (``name -> hex result or None``)."""
    address = address.lower()
    factory = _address(answers.get("factory"))
    if factory is None:
        return reject(address, "no factory() answer: not a pool of a known DEX")
    dex = chain.dex_by_factory(factory)
    if dex is None:
        # Algebra pools report their deployer's factory; PancakeSwap V3 pools report the factory too
        return reject(address, f"factory {factory} is not an allowed factory")
    token0, token1 = _address(answers.get("token0")), _address(answers.get("token1"))
    if token0 is None or token1 is None:
        return reject(address, "token0()/token1() did not answer an address")
    if int(token0, 16) >= int(token1, 16):
        return reject(address, f"tokens not sorted ({token0} >= {token1})")
    return _by_kind(address, dex, token0, token1, answers, chain, extra or {})


def _by_kind(address: str, dex: DexConfig, token0: str, token1: str, answers: dict[str, str | None],
             chain: ChainConfig, extra: dict[str, str | None]) -> Detection:
    common = {"address": address, "dex": dex.name, "factory": dex.factory, "token0": token0, "token1": token1,
              "decimals0": chain.decimals(token0), "decimals1": chain.decimals(token1)}
    try:
        if dex.kind in (PoolKind.UNISWAP_V2, PoolKind.CAMELOT_V2):
            expected = v2_pair_address(dex.create2_deployer, token0, token1, dex.init_code_hash)
            if expected.lower() != address:
                return _not_create2(address, dex, expected)
            if _word(answers.get("getReserves"), 2) is None:
                return reject(address, "getReserves() did not answer: not a V2 pair")
            if dex.kind is PoolKind.CAMELOT_V2:
                return _camelot(common, dex, extra)
            return Detection(address=address, accepted=True,
                             info=m.PoolInfo(kind=dex.kind, fee_pips=dex.fee_pips or 3000, **common))
        if dex.kind is PoolKind.UNISWAP_V3:
            fee = _word(answers.get("fee"))
            spacing = _int24(answers.get("tickSpacing"))
            if fee is None or fee >= 1 << 24 or spacing is None or spacing <= 0:
                return reject(address, "fee()/tickSpacing() did not answer: not a V3 pool")
            expected = v3_pool_address(dex.create2_deployer, token0, token1, fee, dex.init_code_hash)
            if expected.lower() != address:
                return _not_create2(address, dex, expected, fee)
            configured = dex.fee_tiers.get(fee)
            if configured is not None and configured != spacing:
                return reject(address, f"tick spacing {spacing} differs from the factory's {configured} for fee {fee}")
            return Detection(address=address, accepted=True,
                             info=m.PoolInfo(kind=dex.kind, fee_pips=fee, tick_spacing=spacing, **common))
        if dex.kind is PoolKind.ALGEBRA:
            fee = _word(answers.get("globalState"), 2)
            if fee is None:
                return reject(address, "globalState() did not answer: not an Algebra pool")
            expected = algebra_pool_address(dex.create2_deployer, token0, token1, dex.init_code_hash)
            if expected.lower() != address:
                return _not_create2(address, dex, expected)
            spacing = _int24(answers.get("tickSpacing")) or dex.tick_spacing or 60
            return Detection(address=address, accepted=True,
                             info=m.PoolInfo(kind=dex.kind, fee_pips=fee & 0xFFFF, tick_spacing=spacing, **common))
    except ConfigError as exc:
        return reject(address, f"CREATE2 derivation failed: {exc}")
    return reject(address, f"DEX kind {dex.kind} not supported")


def _camelot(common: dict, dex: DexConfig, extra: dict[str, str | None]) -> Detection:
    f0, f1 = _word(extra.get("token0FeePercent")), _word(extra.get("token1FeePercent"))
    stable = _word(extra.get("stableSwap"))
    default = dex.fee_pips or 3000
    fee0 = f0 * (1_000_000 // CAMELOT_FEE_DENOMINATOR) if f0 is not None else default
    fee1 = f1 * (1_000_000 // CAMELOT_FEE_DENOMINATOR) if f1 is not None else default
    return Detection(address=common["address"], accepted=True, info=m.PoolInfo(
        kind=PoolKind.CAMELOT_V2, fee_pips=max(fee0, fee1), token0_fee_pips=fee0, token1_fee_pips=fee1,
        stable=bool(stable), **common))


def _not_create2(address: str, dex: DexConfig, expected: str, fee: int | None = None) -> Detection:
    what = f"tokens and fee {fee}" if fee is not None else "tokens"
    return reject(address, f"address is not the CREATE2 address of {dex.name} factory {dex.factory} for its "
                           f"{what} (expected {expected.lower()}): bait or foreign pool")


def from_creation(factory: str, pool: str, token0: str, token1: str, fee_pips: int, tick_spacing: int,
                  chain: ChainConfig) -> Detection:
    """Accept a pool from an allowed factory's creation log, after the same CREATE2 check."""
    pool = pool.lower()
    dex = chain.dex_by_factory(factory)
    if dex is None:
        return reject(pool, f"creation log from {factory}, not an allowed factory")
    answers = {"factory": "0x" + factory[2:].rjust(64, "0"), "token0": "0x" + token0[2:].rjust(64, "0"),
               "token1": "0x" + token1[2:].rjust(64, "0"), "fee": "0x" + format(fee_pips, "064x"),
               "tickSpacing": "0x" + format(tick_spacing, "064x"), "getReserves": "0x" + "0" * 192,
               "globalState": "0x" + "0" * 64 * 3}
    if dex.kind is PoolKind.CAMELOT_V2:
        return reject(pool, "Camelot V2 fees need probes")  # caller probes instead
    return classify(pool, answers, chain)
