"""Codec for MevbotArbExecutor's packed calldata, its return value and its custom errors.

The layout is documented at the top of ``contracts/src/MevbotArbExecutor.sol``; this module is its
only Python encoder. A transaction's ``data`` is ``encode_arb_call(...)`` as is (no selector: the
contract's ``fallback`` reads it). Simulate with ``eth_call`` and read ``decode_arb_result`` on
success or ``decode_arb_error`` on revert; with ``dry_run=True`` the contract always reverts with
``DryRunResult(profit, hopAmountsOut)``, which shows the signed profit even of a losing plan.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cache

from eth_abi import decode as abi_decode

from mevbot.chain.abi import ContractAbi, DecodedError
from mevbot.errors import ValidationError
from mevbot.messages import ExecutionPlan, FlashSourceKind, PlanHop, PoolKind

VERSION = 0x00
HEADER_LEN = 79
HOP_LEN = 37
HOP_FEE_LEN = 3
MIN_HOPS, MAX_HOPS = 2, 4
_U128 = 2**128
_U40 = 2**40


class LenderKind(enum.IntEnum):
    BALANCER_V2 = 0
    AAVE_V3 = 1
    UNISWAP_V3_FLASH = 2


class HopKind(enum.IntEnum):
    V2_EXACT_OUT = 0  # amount = exact amount out (pair's K check guards it)
    V2_FEE = 1  # amount = minimum out; contract computes out from reserves with fee_pips
    V3 = 2  # Uniswap V3 / Sushi V3 / PancakeSwap V3 / Algebra; amount = minimum out


@dataclass(frozen=True)
class ArbHop:
    pool: str
    kind: HopKind
    zero_for_one: bool
    amount_out_wei: int  # exact out (V2_EXACT_OUT) or minimum out (others)
    fee_pips: int = 0  # V2_FEE only


@dataclass(frozen=True)
class ArbCall:
    lender_kind: LenderKind
    lender: str
    token: str
    amount_in_wei: int
    min_profit_wei: int
    deadline_block: int
    hops: tuple[ArbHop, ...]
    dry_run: bool = False


def _addr(value: str, what: str) -> bytes:
    try:
        raw = bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        raw = b""
    if len(raw) != 20:
        raise ValidationError(f"{what}: not an address: {value!r}")
    return raw


def _uint(value: int, bound: int, what: str) -> int:
    if not 0 <= value < bound:
        raise ValidationError(f"{what} out of range: {value}")
    return value


def encode_arb_call(call: ArbCall) -> bytes:
    n = len(call.hops)
    if not MIN_HOPS <= n <= MAX_HOPS:
        raise ValidationError(f"hop count {n} not in [{MIN_HOPS}, {MAX_HOPS}]")
    flags = int(call.lender_kind) | (4 if call.dry_run else 0) | (n << 4)
    out = bytearray([VERSION, flags])
    out += _addr(call.lender, "lender")
    out += _addr(call.token, "token")
    out += _uint(call.amount_in_wei, _U128, "amount_in").to_bytes(16, "big")
    out += _uint(call.min_profit_wei, _U128, "min_profit").to_bytes(16, "big")
    out += _uint(call.deadline_block, _U40, "deadline_block").to_bytes(5, "big")
    if call.amount_in_wei == 0:
        raise ValidationError("amount_in is zero")
    for i, hop in enumerate(call.hops):
        out += _addr(hop.pool, f"hop {i} pool")
        out.append((1 if hop.zero_for_one else 0) | (int(hop.kind) << 1))
        out += _uint(hop.amount_out_wei, _U128, f"hop {i} amount").to_bytes(16, "big")
        if hop.kind == HopKind.V2_FEE:
            out += _uint(hop.fee_pips, 1_000_000, f"hop {i} fee_pips").to_bytes(3, "big")
    return bytes(out)


def decode_arb_call(data: bytes) -> ArbCall:
    """Inverse of ``encode_arb_call`` (for logs, tests and audits)."""
    if len(data) < HEADER_LEN or data[0] != VERSION:
        raise ValidationError(f"not an arb plan ({len(data)} bytes)")
    flags = data[1]
    n = (flags >> 4) & 7
    # refuse exactly what the contract refuses (MalformedPlan), with ValidationError only
    if not MIN_HOPS <= n <= MAX_HOPS:
        raise ValidationError(f"hop count {n} not in [{MIN_HOPS}, {MAX_HOPS}]")
    if flags & 3 not in iter(LenderKind):
        raise ValidationError(f"unknown lender kind {flags & 3}")
    hops = []
    off = HEADER_LEN
    for i in range(n):
        if len(data) < off + HOP_LEN:
            raise ValidationError("truncated hop")
        pool = "0x" + data[off : off + 20].hex()
        hf = data[off + 20]
        amount = int.from_bytes(data[off + 21 : off + 37], "big")
        if (hf >> 1) & 7 not in iter(HopKind):
            raise ValidationError(f"hop {i}: unknown kind {(hf >> 1) & 7}")
        kind = HopKind((hf >> 1) & 7)
        off += HOP_LEN
        fee = 0
        if kind == HopKind.V2_FEE:
            if len(data) < off + HOP_FEE_LEN:
                raise ValidationError("truncated hop fee")
            fee = int.from_bytes(data[off : off + 3], "big")
            off += HOP_FEE_LEN
        hops.append(ArbHop(pool, kind, bool(hf & 1), amount, fee))
    if off != len(data):
        raise ValidationError("trailing bytes after the last hop")
    return ArbCall(
        lender_kind=LenderKind(flags & 3),
        lender="0x" + data[2:22].hex(),
        token="0x" + data[22:42].hex(),
        amount_in_wei=int.from_bytes(data[42:58], "big"),
        min_profit_wei=int.from_bytes(data[58:74], "big"),
        deadline_block=int.from_bytes(data[74:79], "big"),
        hops=tuple(hops),
        dry_run=bool(flags & 4),
    )


# --- from the validator's ExecutionPlan ------------------------------------------------------------

_LENDERS = {
    FlashSourceKind.BALANCER_V2: LenderKind.BALANCER_V2,
    FlashSourceKind.AAVE_V3: LenderKind.AAVE_V3,
    FlashSourceKind.UNISWAP_V3: LenderKind.UNISWAP_V3_FLASH,
}


def hop_from_plan(hop: PlanHop, *, v2_exact: bool = True) -> ArbHop:
    """V2-style hops: exact amount out (default) or on-chain amount with the fee and a minimum
    (``v2_exact=False``, tolerant to small state changes). Camelot pairs are always exact: the
    contract only knows the constant-product formula, and a ``PlanHop`` does not say whether a
    Camelot pair is stable (review finding R3)."""
    if hop.kind in (PoolKind.UNISWAP_V3, PoolKind.ALGEBRA):
        return ArbHop(hop.pool, HopKind.V3, hop.zero_for_one, hop.min_amount_out)
    if v2_exact or hop.kind is PoolKind.CAMELOT_V2:
        return ArbHop(hop.pool, HopKind.V2_EXACT_OUT, hop.zero_for_one, hop.amount_out)
    return ArbHop(hop.pool, HopKind.V2_FEE, hop.zero_for_one, hop.min_amount_out, hop.fee_pips)


def arb_call_from_plan(plan: ExecutionPlan, *, dry_run: bool = False, v2_exact: bool = True) -> ArbCall:
    return ArbCall(
        lender_kind=_LENDERS[plan.flash_source.kind],
        lender=plan.flash_source.address,
        token=plan.loan_token,
        amount_in_wei=plan.loan_amount,
        min_profit_wei=plan.min_profit,
        deadline_block=plan.deadline_block,
        hops=tuple(hop_from_plan(h, v2_exact=v2_exact) for h in plan.hops),
        dry_run=dry_run,
    )


def encode_plan(plan: ExecutionPlan, *, dry_run: bool = False, v2_exact: bool = True) -> bytes:
    return encode_arb_call(arb_call_from_plan(plan, dry_run=dry_run, v2_exact=v2_exact))


# --- results and errors -------------------------------------------------------------------------


@dataclass(frozen=True)
class ArbResult:
    profit_wei: int  # signed for dry runs; >= min profit for a successful call
    hop_amounts_out_wei: tuple[int, ...]


def decode_arb_result(return_data: bytes) -> ArbResult:
    """The ``eth_call`` return value of a successful plan: abi.encode(uint256, uint256[])."""
    profit, outs = abi_decode(["uint256", "uint256[]"], return_data)
    return ArbResult(int(profit), tuple(int(x) for x in outs))


@cache
def _executor_abi() -> ContractAbi:
    from mevbot.chain.artifacts import load_artifact

    return load_artifact("MevbotArbExecutor").codec


def decode_arb_error(revert_data: bytes) -> DecodedError | None:
    """Decode any revert of the executor (its custom errors, Error(string) from a pool, Panic)."""
    return _executor_abi().decode_error(revert_data)


def dry_run_result(revert_data: bytes) -> ArbResult | None:
    err = decode_arb_error(revert_data)
    if err is None or err.name != "DryRunResult":
        return None
    profit, outs = err.args
    return ArbResult(int(profit), tuple(int(x) for x in outs))


def shortfall_wei(revert_data: bytes) -> int | None:
    """For ``InsufficientProfit(shortfall)`` reverts: the missing amount in loan-token units."""
    err = decode_arb_error(revert_data)
    return int(err.args[0]) if err is not None and err.name == "InsufficientProfit" else None
