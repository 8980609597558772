"""Dev-chain helpers for tests, benchmarks and the devnet (anvil only: they send from unlocked dev
accounts): send and wait, read balances, open dislocations with large V2/V3 trades, quote hops
exactly, and build MevbotArbExecutor calls for a cycle.

Quotes use exact integer math for V2 and the real pool code (``PoolActor.swap`` under
``eth_call``) for V3, so they are independent of the executor and of ``mevbot.amm``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from mevbot.chain.arb_calldata import ArbCall, ArbHop, HopKind, LenderKind, encode_arb_call
from mevbot.chain.artifacts import load_artifact
from mevbot.chain.deploy import DEV_ACCOUNTS
from mevbot.chain.deployment import Deployment
from mevbot.chain.rpc import RevertError, RpcClient

ERC20 = load_artifact("TestERC20").codec
WETH9 = load_artifact("WETH9").codec
PAIR = load_artifact("UniswapV2Pair").codec
V3POOL = load_artifact("UniswapV3Pool").codec
ACTOR = load_artifact("PoolActor").codec
EXECUTOR = load_artifact("MevbotArbExecutor").codec

OWNER, KEEPER, STRANGER = DEV_ACCOUNTS[0], DEV_ACCOUNTS[1], DEV_ACCOUNTS[2]


def send(rpc: RpcClient, sender: str, to: str, data: bytes, gas: int = 3_000_000, value: int = 0) -> dict:
    tx = {"from": sender, "to": to, "input": "0x" + data.hex(), "gas": hex(gas), "value": hex(value)}
    tx_hash = rpc.call("eth_sendTransaction", tx)
    deadline = time.monotonic() + 10
    while (receipt := rpc.call("eth_getTransactionReceipt", tx_hash)) is None:
        assert time.monotonic() < deadline, "automine should have mined it"
        time.sleep(0.002)
    return receipt


def call(rpc: RpcClient, sender: str, to: str, data: bytes) -> bytes:
    out = rpc.call("eth_call", {"from": sender, "to": to, "input": "0x" + data.hex()}, "latest")
    return bytes.fromhex(out[2:])


def call_revert(rpc: RpcClient, sender: str, to: str, data: bytes) -> bytes:
    """eth_call that must revert; returns the revert data."""
    try:
        call(rpc, sender, to, data)
    except RevertError as exc:
        return exc.data
    raise AssertionError("call did not revert")


def balance_of(rpc: RpcClient, token: str, owner: str) -> int:
    return int.from_bytes(call(rpc, OWNER, token, ERC20.encode_call("balanceOf", owner)), "big")


def block_number(rpc: RpcClient) -> int:
    return int(rpc.call("eth_blockNumber"), 16)


def fund(rpc: RpcClient, dep: Deployment, token: str, to: str, amount: int) -> None:
    if token.lower() == dep.weth.lower():
        assert send(rpc, OWNER, token, WETH9.encode_call("transfer", to, amount))["status"] == "0x1"
    else:
        assert send(rpc, OWNER, token, ERC20.encode_call("mint", to, amount))["status"] == "0x1"


def v2_amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee_pips: int = 3000) -> int:
    in_with_fee = amount_in * (1_000_000 - fee_pips)
    return in_with_fee * reserve_out // (reserve_in * 1_000_000 + in_with_fee)


def v2_reserves(rpc: RpcClient, pair: str) -> tuple[int, int]:
    r0, r1, _ = PAIR.decode_output("getReserves", call(rpc, OWNER, pair, PAIR.encode_call("getReserves")))
    return int(r0), int(r1)


def token0_of(rpc: RpcClient, pool: str) -> str:
    return "0x" + call(rpc, OWNER, pool, PAIR.encode_call("token0"))[12:].hex()


@dataclass(frozen=True)
class Leg:
    pool: str
    token_in: str
    is_v3: bool


def zero_for_one(rpc: RpcClient, leg: Leg) -> bool:
    return token0_of(rpc, leg.pool).lower() == leg.token_in.lower()


def quote_leg(rpc: RpcClient, dep: Deployment, leg: Leg, amount_in: int) -> int:
    z = zero_for_one(rpc, leg)
    if leg.is_v3:
        data = ACTOR.encode_call("swap", leg.pool, z, amount_in, 0, OWNER)
        a0, a1 = ACTOR.decode_output("swap", call(rpc, OWNER, dep.pool_actor, data))
        return -int(a1 if z else a0)
    r0, r1 = v2_reserves(rpc, leg.pool)
    return v2_amount_out(amount_in, r0, r1) if z else v2_amount_out(amount_in, r1, r0)


def quote_cycle(rpc: RpcClient, dep: Deployment, legs: list[Leg], amount_in: int) -> list[int]:
    outs, amount = [], amount_in
    for leg in legs:
        amount = quote_leg(rpc, dep, leg, amount)
        outs.append(amount)
    return outs


def best_size(
    rpc: RpcClient, dep: Deployment, legs: list[Leg], sizes: list[int], fee_of
) -> tuple[int, list[int], int]:
    best = (0, [], -(10**80))
    for size in sizes:
        outs = quote_cycle(rpc, dep, legs, size)
        profit = outs[-1] - size - fee_of(size)
        if profit > best[2]:
            best = (size, outs, profit)
    return best


def build_call(
    rpc: RpcClient,
    lender_kind: LenderKind,
    lender: str,
    token: str,
    amount_in: int,
    legs: list[Leg],
    outs: list[int],
    *,
    min_profit: int = 0,
    deadline: int | None = None,
    dry_run: bool = False,
    v2_fee_mode: bool = False,
) -> bytes:
    hops = []
    for leg, out in zip(legs, outs, strict=True):
        z = zero_for_one(rpc, leg)
        if leg.is_v3:
            hops.append(ArbHop(leg.pool, HopKind.V3, z, out))
        elif v2_fee_mode:
            hops.append(ArbHop(leg.pool, HopKind.V2_FEE, z, out, 3000))
        else:
            hops.append(ArbHop(leg.pool, HopKind.V2_EXACT_OUT, z, out))
    dl = deadline if deadline is not None else block_number(rpc) + 20
    return encode_arb_call(
        ArbCall(lender_kind, lender, token, amount_in, min_profit, dl, tuple(hops), dry_run=dry_run)
    )


def swap_v2(rpc: RpcClient, dep: Deployment, pair: str, token_in: str, amount_in: int) -> int:
    """A large trade on a V2 pair by the owner (opens a dislocation). Returns amount out."""
    r0, r1 = v2_reserves(rpc, pair)
    z = token0_of(rpc, pair).lower() == token_in.lower()
    out = v2_amount_out(amount_in, r0, r1) if z else v2_amount_out(amount_in, r1, r0)
    fund(rpc, dep, token_in, pair, amount_in)
    data = PAIR.encode_call("swap", 0 if z else out, out if z else 0, OWNER, b"")
    assert send(rpc, OWNER, pair, data)["status"] == "0x1"
    return out


def swap_v3(rpc: RpcClient, dep: Deployment, pool: str, token_in: str, amount_in: int) -> None:
    z = token0_of(rpc, pool).lower() == token_in.lower()
    data = ACTOR.encode_call("swap", pool, z, amount_in, 0, OWNER)
    assert send(rpc, OWNER, dep.pool_actor, data, gas=5_000_000)["status"] == "0x1"


def deploy_contract(rpc: RpcClient, creation_code: bytes, sender: str = OWNER) -> str:
    """Deploy one contract from an unlocked dev account; returns its address."""
    from mevbot.chain.txbatch import TxBatch

    batch = TxBatch(rpc, sender)
    address = batch.create("contract", creation_code)
    batch.flush()
    return address
