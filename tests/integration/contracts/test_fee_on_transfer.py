"""Fee-on-transfer tokens: the executor spends only what a hop actually delivered, so a plan that
ignores the transfer fee fails safe and the contract's own inventory is never used."""

from __future__ import annotations

import pytest
from mevbot.chain.arb_calldata import ArbCall, ArbHop, HopKind, LenderKind, decode_arb_error, encode_arb_call
from mevbot.chain.artifacts import load_artifact
from mevbot.chain.create2 import v2_pair_address
from mevbot.chain.deployment import Deployment
from mevbot.chain.devtools import (
    KEEPER,
    OWNER,
    PAIR,
    balance_of,
    block_number,
    call_revert,
    deploy_contract,
    fund,
    send,
    v2_amount_out,
    v2_reserves,
)
from mevbot.chain.rpc import RpcClient

pytestmark = pytest.mark.integration
E18 = 10**18
FOT = load_artifact("FeeOnTransferToken")
V2F = load_artifact("UniswapV2Factory")


def _pair(
    rpc: RpcClient, dep: Deployment, factory: str, weth: str, fot: str, weth_amount: int, fot_amount: int
) -> str:
    send(rpc, OWNER, factory, V2F.codec.encode_call("createPair", weth, fot))
    out = v2_pair_address(factory, weth, fot)
    fund(rpc, dep, weth, out, weth_amount)
    send(rpc, OWNER, fot, FOT.codec.encode_call("mint", out, fot_amount))  # mint is fee-exempt
    assert send(rpc, OWNER, out, PAIR.encode_call("mint", OWNER))["status"] == "0x1"
    return out


def test_fee_on_transfer_hop_never_spends_inventory(rpc: RpcClient, market: Deployment) -> None:
    weth = market.token("WETH")
    fot = deploy_contract(rpc, FOT.creation_code("Fee token", "FOT", 18, 100))  # 1% per transfer
    fa, fb = deploy_contract(rpc, V2F.creation_code(OWNER)), deploy_contract(rpc, V2F.creation_code(OWNER))
    cheap = _pair(rpc, market, fa, weth, fot, 100 * E18, 12_000 * E18)  # FOT cheap here
    dear = _pair(rpc, market, fb, weth, fot, 100 * E18, 10_000 * E18)
    send(rpc, OWNER, fot, FOT.codec.encode_call("mint", market.executor, 5_000 * E18))  # inventory
    inventory = balance_of(rpc, fot, market.executor)
    z_weth_cheap = int(weth, 16) < int(fot, 16)

    amount_in = 1 * E18
    r0, r1 = v2_reserves(rpc, cheap)
    r_in, r_out = (r0, r1) if z_weth_cheap else (r1, r0)
    naive_out = v2_amount_out(amount_in, r_in, r_out)  # what the pair sends, ignoring the 1% fee
    r0, r1 = v2_reserves(rpc, dear)
    f_in, f_out = (r1, r0) if z_weth_cheap else (r0, r1)
    naive_back = v2_amount_out(naive_out, f_in, f_out)

    naive = ArbCall(
        LenderKind.BALANCER_V2, market.balancer_vault, weth, amount_in, 0, block_number(rpc) + 5,
        (ArbHop(cheap, HopKind.V2_EXACT_OUT, z_weth_cheap, naive_out),
         ArbHop(dear, HopKind.V2_EXACT_OUT, not z_weth_cheap, naive_back)),
    )  # fmt: skip
    err = decode_arb_error(call_revert(rpc, KEEPER, market.executor, encode_arb_call(naive)))
    # the executor received 1% less and refuses the hop before spending anything of its own
    assert err is not None and err.name == "HopOutputTooLow" and err.args[0] == 0

    # aware plan: minimums account for the fee; the second pair's out is computed on what it got
    received = naive_out - naive_out * 100 // 10_000
    arrived = received - received * 100 // 10_000
    back = v2_amount_out(arrived, f_in, f_out)
    aware = ArbCall(
        LenderKind.BALANCER_V2, market.balancer_vault, weth, amount_in, 0, block_number(rpc) + 5,
        (ArbHop(cheap, HopKind.V2_FEE, z_weth_cheap, received, 3000),
         ArbHop(dear, HopKind.V2_FEE, not z_weth_cheap, back, 3000)),
    )  # fmt: skip
    before = balance_of(rpc, weth, market.executor)
    assert send(rpc, KEEPER, market.executor, encode_arb_call(aware), gas=2_000_000)["status"] == "0x1"
    assert balance_of(rpc, weth, market.executor) - before == back - amount_in
    assert balance_of(rpc, fot, market.executor) == inventory  # inventory untouched
