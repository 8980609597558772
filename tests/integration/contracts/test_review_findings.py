"""Findings of the adversarial review of MevbotArbExecutor (docs/contract_review.md), each shown
on anvil with the real executor bytecode. Every test here failed before its fix."""

from __future__ import annotations

import pytest
from mevbot.chain.arb_calldata import LenderKind, decode_arb_result
from mevbot.chain.deployment import Deployment
from mevbot.chain.devtools import KEEPER, STRANGER, balance_of, call, call_revert, deploy_contract, fund, send
from mevbot.chain.precompiles import ARBSYS, install_precompile_stand_ins
from mevbot.chain.rpc import RpcClient

from tests.integration.contracts.review_kit import (
    E18,
    PANCAKE,
    _executor_mutant,  # noqa: F401  (autouse fixture, opt-in mutants)
    cycle_outs,
    err,
    fixed_cycle,
)

pytestmark = pytest.mark.integration

REVERTING = "0x60006000fd"  # PUSH1 0 PUSH1 0 REVERT
SILENT = "0x00"  # STOP: succeeds with no return data


@pytest.mark.parametrize("arbsys_code", [REVERTING, SILENT], ids=["reverts", "returns-nothing"])
def test_r1_deadline_fails_closed_when_arbsys_does_not_answer(
    rpc: RpcClient, market: Deployment, arbsys_code: str
) -> None:
    """R1: with code at 0x64 (as on Arbitrum, where ArbSys has code 0xFE) but no usable answer, the
    executor used to fall back to block.number - on Arbitrum the *L1* block number, far below the
    L2 numbering of the plan's deadline - i.e. the deadline silently stopped applying."""
    cyc = fixed_cycle(rpc, market)
    data = cyc.call(rpc, LenderKind.BALANCER_V2, market.balancer_vault, E18)
    call(rpc, KEEPER, market.executor, data)  # fine with a working ArbSys
    rpc.call("anvil_setCode", ARBSYS, arbsys_code)
    try:
        assert err(call_revert(rpc, KEEPER, market.executor, data)) == ("ArbBlockNumberUnavailable", ())
    finally:
        install_precompile_stand_ins(rpc)
    call(rpc, KEEPER, market.executor, data)
    # no code at 0x64 at all (a plain EVM chain): block.number is the right clock
    rpc.call("anvil_setCode", ARBSYS, "0x")
    try:
        call(rpc, KEEPER, market.executor, data)
    finally:
        install_precompile_stand_ins(rpc)


def test_r2_pancakeswap_v3_pool_can_lend(rpc: RpcClient, market: Deployment) -> None:
    """R2: PancakeSwap V3 pools are ``uniswap_v3`` pools to the validator and may be chosen as the
    flash lender, but PancakeV3Pool.flash calls ``pancakeV3FlashCallback``: the executor had no such
    function, so the call fell into ``fallback`` and every such plan reverted NotAllowed(pool)."""
    cyc = fixed_cycle(rpc, market)
    lender = deploy_contract(rpc, PANCAKE.creation_code(cyc.weth, cyc.token, 500))
    fund(rpc, market, cyc.weth, lender, 50 * E18)
    amount = 10 * E18
    fee = -(-amount * 500 // 1_000_000)
    _, back = cycle_outs(amount)
    data = cyc.call(rpc, LenderKind.UNISWAP_V3_FLASH, lender, amount, min_profit=back - amount - fee)
    res = decode_arb_result(call(rpc, KEEPER, market.executor, data))
    assert res.profit_wei == back - amount - fee
    before = balance_of(rpc, cyc.weth, market.executor)
    assert send(rpc, KEEPER, market.executor, data)["status"] == "0x1"
    assert balance_of(rpc, cyc.weth, market.executor) - before == back - amount - fee
    assert balance_of(rpc, cyc.weth, lender) == 50 * E18 + fee
    # the new callback has the same guards as the others: nobody else may call it
    attack = PANCAKE.codec.encode_call("attack", market.executor, data)
    assert err(call_revert(rpc, STRANGER, lender, attack)) == ("UnexpectedCallback", (lender.lower(),))
