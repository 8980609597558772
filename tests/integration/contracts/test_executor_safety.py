"""MevbotArbExecutor refuses everything but its own trades: strangers, fake pools and fake lenders
calling its callbacks, real lenders used by someone else, stale plans; only the owner withdraws."""

from __future__ import annotations

import pytest
from mevbot.chain.arb_calldata import ArbCall, ArbHop, HopKind, LenderKind, decode_arb_error, encode_arb_call
from mevbot.chain.artifacts import load_artifact
from mevbot.chain.deployment import Deployment
from mevbot.chain.devtools import (
    EXECUTOR,
    KEEPER,
    OWNER,
    STRANGER,
    Leg,
    balance_of,
    block_number,
    build_call,
    call,
    call_revert,
    deploy_contract,
    fund,
    quote_cycle,
    send,
    swap_v2,
)
from mevbot.chain.precompiles import ARBSYS, install_precompile_stand_ins, set_arbsys_block_offset
from mevbot.chain.rpc import RpcClient

pytestmark = pytest.mark.integration
E18 = 10**18
FAKE_POOL = load_artifact("FakePool")
FAKE_LENDER = load_artifact("FakeLender")
BALANCER = load_artifact("BalancerVault").codec
AAVE = load_artifact("AavePool").codec


def _err(data: bytes) -> tuple[str, tuple]:
    err = decode_arb_error(data)
    assert err is not None, f"undecodable revert 0x{data.hex()}"
    return err.name, err.args


def _profitable_call(rpc: RpcClient, dep: Deployment, **kw) -> bytes:
    weth, usdc = dep.token("WETH"), dep.token("USDC")
    swap_v2(rpc, dep, dep.v2_pair("WETH", "USDC").address, usdc, 600_000 * 10**6)
    legs = [
        Leg(dep.v2_pair("WETH", "USDC").address, weth, False),
        Leg(dep.v3_pool("WETH", "USDC", 500).address, usdc, True),
    ]
    outs = quote_cycle(rpc, dep, legs, 20 * E18)
    assert outs[-1] > 20 * E18
    return build_call(rpc, LenderKind.BALANCER_V2, dep.balancer_vault, weth, 20 * E18, legs, outs, **kw)


def test_only_owner_and_allowed_keys_start_a_trade(rpc: RpcClient, market: Deployment) -> None:
    data = _profitable_call(rpc, market)
    assert _err(call_revert(rpc, STRANGER, market.executor, data)) == ("NotAllowed", (STRANGER.lower(),))
    assert send(rpc, STRANGER, market.executor, data, gas=2_000_000)["status"] == "0x0"
    call(rpc, OWNER, market.executor, data)  # the owner may
    call(rpc, KEEPER, market.executor, data)  # and the allowed key
    # allowance is the owner's alone to grant, and can be withdrawn
    grant = EXECUTOR.encode_call("setAllowed", STRANGER, True)
    assert _err(call_revert(rpc, STRANGER, market.executor, grant)) == ("NotOwner", (STRANGER.lower(),))
    revoke = EXECUTOR.encode_call("setAllowed", KEEPER, False)
    assert send(rpc, OWNER, market.executor, revoke)["status"] == "0x1"
    assert _err(call_revert(rpc, KEEPER, market.executor, data))[0] == "NotAllowed"


def test_fake_pool_calling_the_swap_callbacks_is_rejected(rpc: RpcClient, market: Deployment) -> None:
    weth, usdc = market.token("WETH"), market.token("USDC")
    fund(rpc, market, weth, market.executor, 5 * E18)  # something worth stealing
    fake = deploy_contract(rpc, FAKE_POOL.creation_code(weth, usdc))
    for attack in ("attackUniswap", "attackAlgebra"):
        data = FAKE_POOL.codec.encode_call(attack, market.executor, 5 * E18, 0, b"")
        assert _err(call_revert(rpc, STRANGER, fake, data)) == ("UnexpectedCallback", (fake.lower(),))
    # even a real pool cannot call it outside a swap we started
    pool = market.v3_pool("WETH", "USDC", 500).address
    cb = EXECUTOR.encode_call("uniswapV3SwapCallback", 5 * E18, 5 * E18, b"")
    assert _err(call_revert(rpc, pool, market.executor, cb))[0] == "UnexpectedCallback"
    assert balance_of(rpc, weth, market.executor) == 5 * E18


def test_fake_pool_as_a_hop_cannot_take_more_than_the_hop_input(rpc: RpcClient, market: Deployment) -> None:
    weth, usdc = market.token("WETH"), market.token("USDC")
    fund(rpc, market, weth, market.executor, 50 * E18)  # inventory a fake pool would love to drain
    t0, t1 = sorted([weth, usdc], key=lambda a: int(a, 16))
    fake = deploy_contract(rpc, FAKE_POOL.creation_code(t0, t1))
    v2 = market.v2_pair("WETH", "USDC").address
    z_fake = t0.lower() == weth.lower()
    for demand, expected in ((40 * E18, "SwapPaymentInvalid"), (1 * E18, "HopOutputTooLow")):
        send(rpc, OWNER, fake, FAKE_POOL.codec.encode_call("setDemand", demand))
        call_ = ArbCall(
            LenderKind.BALANCER_V2, market.balancer_vault, weth, 1 * E18, 0, block_number(rpc) + 5,
            (ArbHop(fake, HopKind.V3, z_fake, 1), ArbHop(v2, HopKind.V2_EXACT_OUT, not z_fake, 1)),
        )  # fmt: skip
        data = encode_arb_call(call_)
        assert _err(call_revert(rpc, KEEPER, market.executor, data))[0] == expected
    assert balance_of(rpc, weth, market.executor) == 50 * E18


def test_fake_lender_calling_the_flash_callbacks_is_rejected(rpc: RpcClient, market: Deployment) -> None:
    weth = market.token("WETH")
    fund(rpc, market, weth, market.executor, 5 * E18)
    fake = deploy_contract(rpc, FAKE_LENDER.creation_code())
    plan = _profitable_call(rpc, market)
    attacks = [
        FAKE_LENDER.codec.encode_call("attackBalancer", market.executor, weth, E18, plan),
        FAKE_LENDER.codec.encode_call("attackAave", market.executor, weth, E18, market.executor, plan),
        FAKE_LENDER.codec.encode_call("attackUniswapFlash", market.executor, plan),
    ]
    for data in attacks:
        assert _err(call_revert(rpc, STRANGER, fake, data)) == ("UnexpectedCallback", (fake.lower(),))
    # a plan naming the fake lender: it calls back without lending; we must still not pay out
    bad = bytearray(plan)
    bad[2:22] = bytes.fromhex(fake[2:])
    assert _err(call_revert(rpc, KEEPER, market.executor, bytes(bad))) == ("LoanNotReceived", ())
    assert balance_of(rpc, weth, market.executor) == 5 * E18


def test_real_lenders_used_by_a_stranger_cannot_trigger_our_callbacks(
    rpc: RpcClient, market: Deployment
) -> None:
    weth = market.token("WETH")
    plan = _profitable_call(rpc, market)
    flash = BALANCER.encode_call("flashLoan", market.executor, [weth], [E18], plan)
    assert _err(call_revert(rpc, STRANGER, market.balancer_vault, flash))[0] == "UnexpectedCallback"
    assert market.aave is not None
    simple = AAVE.encode_call("flashLoanSimple", market.executor, weth, E18, plan, 0)
    assert _err(call_revert(rpc, STRANGER, market.aave.pool, simple))[0] == "UnexpectedCallback"
    # (a Uniswap V3 pool calls back msg.sender, never the recipient: a stranger's flash cannot reach us)


def test_deadline_uses_arbsys_block_number_with_block_number_fallback(
    rpc: RpcClient, market: Deployment
) -> None:
    now = block_number(rpc)
    stale = _profitable_call(rpc, market, deadline=now - 1)
    name, (current, deadline) = _err(call_revert(rpc, KEEPER, market.executor, stale))
    assert name == "DeadlinePassed" and deadline == now - 1
    fresh = _profitable_call(rpc, market, deadline=block_number(rpc) + 3)
    call(rpc, KEEPER, market.executor, fresh)
    # ArbSys says the chain is far ahead (as arbBlockNumber is on Arbitrum): the plan is stale
    set_arbsys_block_offset(rpc, 1_000)
    name, (current, _) = _err(call_revert(rpc, KEEPER, market.executor, fresh))
    assert name == "DeadlinePassed" and current >= block_number(rpc) + 1_000
    # no ArbSys at all (a plain EVM chain): block.number is used
    rpc.call("anvil_setCode", ARBSYS, "0x")
    call(rpc, KEEPER, market.executor, fresh)
    install_precompile_stand_ins(rpc)  # evm_revert does not undo anvil_setCode everywhere; be tidy


def test_only_owner_withdraws_tokens_and_eth(rpc: RpcClient, market: Deployment) -> None:
    usdc = market.token("USDC")
    fund(rpc, market, usdc, market.executor, 1_000 * 10**6)
    send(rpc, OWNER, market.executor, b"", value=3 * E18)  # receive()
    take = EXECUTOR.encode_call("withdrawToken", usdc, STRANGER, 1_000 * 10**6)
    assert _err(call_revert(rpc, STRANGER, market.executor, take))[0] == "NotOwner"
    assert _err(call_revert(rpc, KEEPER, market.executor, take))[0] == "NotOwner"  # trading key cannot
    assert (
        send(rpc, OWNER, market.executor, EXECUTOR.encode_call("withdrawToken", usdc, KEEPER, 600 * 10**6))[
            "status"
        ]
        == "0x1"
    )
    assert balance_of(rpc, usdc, market.executor) == 400 * 10**6
    eth_before = int(rpc.call("eth_getBalance", STRANGER, "latest"), 16)
    assert (
        _err(call_revert(rpc, STRANGER, market.executor, EXECUTOR.encode_call("withdrawEth", STRANGER, E18)))[
            0
        ]
        == "NotOwner"
    )
    assert (
        send(rpc, OWNER, market.executor, EXECUTOR.encode_call("withdrawEth", STRANGER, 2 * E18))["status"]
        == "0x1"
    )
    assert int(rpc.call("eth_getBalance", STRANGER, "latest"), 16) == eth_before + 2 * E18


def test_malformed_plans_are_refused(rpc: RpcClient, market: Deployment) -> None:
    plan = _profitable_call(rpc, market)
    # (empty calldata is receive(): plain ETH deposits are accepted)
    for bad in (plan[:-1], plan + b"\x00", b"\x01" + plan[1:], plan[:50], plan[:4]):
        assert _err(call_revert(rpc, KEEPER, market.executor, bad))[0] == "MalformedPlan"
    # a cycle that does not come back to the borrowed token
    weth, usdc = market.token("WETH"), market.token("USDC")
    legs = [
        Leg(market.v2_pair("WETH", "USDC").address, weth, False),
        Leg(market.v3_pool("USDC", "USDT", 100).address, usdc, True),
    ]
    outs = quote_cycle(rpc, market, legs, E18)
    data = build_call(rpc, LenderKind.BALANCER_V2, market.balancer_vault, weth, E18, legs, outs)
    assert _err(call_revert(rpc, KEEPER, market.executor, data)) == (
        "CycleNotClosed",
        (market.token("USDT").lower(),),
    )
