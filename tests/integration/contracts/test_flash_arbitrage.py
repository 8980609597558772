"""MevbotArbExecutor on anvil with the real Uniswap V2/V3, Balancer V2 Vault and Aave V3 bytecode:
for each flash source, a dislocation opened by a large trade is arbitraged over 2-hop and 3-hop
cycles (V2 and V3 mixed) and the realized profit equals the prediction to the wei."""

from __future__ import annotations

import pytest
from mevbot.chain.arb_calldata import (
    LenderKind,
    decode_arb_error,
    decode_arb_result,
    dry_run_result,
    shortfall_wei,
)
from mevbot.chain.deployment import Deployment
from mevbot.chain.devtools import (
    EXECUTOR,
    KEEPER,
    Leg,
    balance_of,
    best_size,
    build_call,
    call,
    call_revert,
    send,
    swap_v2,
)
from mevbot.chain.rpc import RpcClient

pytestmark = pytest.mark.integration

E18 = 10**18
SIZES = [s * E18 // 10 for s in (5, 10, 20, 50, 100, 200, 500, 1000, 2000)]
ARBITRAGE_TOPIC = "0x" + __import__("eth_utils").keccak(text="Arbitrage(address,uint256,uint256)").hex()


def _lender(dep: Deployment, kind: LenderKind) -> tuple[str, object]:
    if kind == LenderKind.BALANCER_V2:
        return dep.balancer_vault, lambda amount: 0
    if kind == LenderKind.AAVE_V3:
        assert dep.aave is not None
        bps = dep.aave.flash_premium_bps
        return dep.aave.pool, lambda amount: (amount * bps + 5_000) // 10_000  # Aave percentMul
    pool = dep.v3_pool("WETH", "USDC", 3000)  # lends WETH; not a hop of any cycle below
    return pool.address, lambda amount: -(-amount * pool.fee_pips // 1_000_000)  # mulDivRoundingUp


def _cycle(dep: Deployment, hops: int) -> list[Leg]:
    weth, usdc, usdt = dep.token("WETH"), dep.token("USDC"), dep.token("USDT")
    v2 = dep.v2_pair("WETH", "USDC").address
    if hops == 2:
        return [Leg(v2, weth, False), Leg(dep.v3_pool("WETH", "USDC", 500).address, usdc, True)]
    return [
        Leg(v2, weth, False),
        Leg(dep.v3_pool("USDC", "USDT", 100).address, usdc, True),
        Leg(dep.v3_pool("WETH", "USDT", 500).address, usdt, True),
    ]


def _dislocate(rpc: RpcClient, dep: Deployment) -> None:
    # someone buys WETH with 600k USDC on the V2 pair: WETH becomes ~12% dearer there
    swap_v2(rpc, dep, dep.v2_pair("WETH", "USDC").address, dep.token("USDC"), 600_000 * 10**6)


@pytest.mark.parametrize("hops", [2, 3])
@pytest.mark.parametrize("lender_kind", list(LenderKind), ids=lambda k: k.name.lower())
def test_dislocation_is_captured_with_exact_profit(
    rpc: RpcClient, market: Deployment, lender_kind: LenderKind, hops: int
) -> None:
    dep, weth, executor = market, market.token("WETH"), market.executor
    assert executor is not None
    _dislocate(rpc, dep)
    legs = _cycle(dep, hops)
    lender, fee_of = _lender(dep, lender_kind)
    amount_in, outs, predicted = best_size(rpc, dep, legs, SIZES, fee_of)
    assert predicted > 10**15, f"dislocation too small to test: {predicted}"

    data = build_call(rpc, lender_kind, lender, weth, amount_in, legs, outs, min_profit=predicted)
    # the eth_call simulation shows the exact figures the validator reads
    sim = decode_arb_result(call(rpc, KEEPER, executor, data))
    assert sim.profit_wei == predicted
    assert list(sim.hop_amounts_out_wei) == outs

    lender_weth_before = balance_of(rpc, weth, lender)
    before = balance_of(rpc, weth, executor)
    receipt = send(rpc, KEEPER, executor, data, gas=2_000_000)
    assert receipt["status"] == "0x1"
    realized = balance_of(rpc, weth, executor) - before
    assert realized == predicted  # to the wei, with min_profit set to exactly the prediction

    event = [lg for lg in receipt["logs"] if lg["topics"][0] == ARBITRAGE_TOPIC]
    assert len(event) == 1 and int(event[0]["data"][-64:], 16) == predicted
    if lender_kind != LenderKind.AAVE_V3:  # Aave keeps the underlying in the aToken, not the pool
        assert balance_of(rpc, weth, lender) == lender_weth_before + fee_of(amount_in)


def test_v2_hops_with_on_chain_amounts_match_exact_mode(rpc: RpcClient, market: Deployment) -> None:
    dep, weth = market, market.token("WETH")
    _dislocate(rpc, dep)
    legs = _cycle(dep, 3)
    amount_in, outs, predicted = best_size(rpc, dep, legs, SIZES, lambda a: 0)
    exact = build_call(rpc, LenderKind.BALANCER_V2, dep.balancer_vault, weth, amount_in, legs, outs)
    fee_mode = build_call(
        rpc, LenderKind.BALANCER_V2, dep.balancer_vault, weth, amount_in, legs, outs, v2_fee_mode=True
    )
    assert decode_arb_result(call(rpc, KEEPER, dep.executor, exact)).profit_wei == predicted
    assert decode_arb_result(call(rpc, KEEPER, dep.executor, fee_mode)).profit_wei == predicted
    before = balance_of(rpc, weth, dep.executor)
    assert send(rpc, KEEPER, dep.executor, fee_mode, gas=2_000_000)["status"] == "0x1"
    assert balance_of(rpc, weth, dep.executor) - before == predicted


def test_profit_one_wei_short_reverts_with_the_shortfall(rpc: RpcClient, market: Deployment) -> None:
    dep, weth = market, market.token("WETH")
    _dislocate(rpc, dep)
    legs = _cycle(dep, 2)
    amount_in, outs, predicted = best_size(rpc, dep, legs, SIZES, lambda a: 0)
    data = build_call(rpc, LenderKind.BALANCER_V2, dep.balancer_vault, weth, amount_in, legs, outs,
                      min_profit=predicted + 1)  # fmt: skip
    assert shortfall_wei(call_revert(rpc, KEEPER, dep.executor, data)) == 1


def test_losing_plan_reverts_with_the_loss_and_changes_nothing(rpc: RpcClient, market: Deployment) -> None:
    dep, weth = market, market.token("WETH")  # no dislocation: the round trip pays two pool fees
    legs = _cycle(dep, 2)
    amount_in, outs, predicted = best_size(rpc, dep, legs, [10 * E18], lambda a: 0)
    assert predicted < 0
    for lender_kind in LenderKind:
        lender, fee_of = _lender(dep, lender_kind)
        data = build_call(rpc, lender_kind, lender, weth, amount_in, legs, outs, min_profit=0)
        assert shortfall_wei(call_revert(rpc, KEEPER, dep.executor, data)) == -predicted + fee_of(amount_in)
        dry = build_call(rpc, lender_kind, lender, weth, amount_in, legs, outs, dry_run=True)
        result = dry_run_result(call_revert(rpc, KEEPER, dep.executor, dry))
        assert result is not None and result.profit_wei == predicted - fee_of(amount_in)
        assert list(result.hop_amounts_out_wei) == outs

    # mined anyway (explicit gas, no estimation): reverted, and no balance moved
    lender, _ = _lender(dep, LenderKind.BALANCER_V2)
    data = build_call(rpc, LenderKind.BALANCER_V2, lender, weth, amount_in, legs, outs)
    vault_before, ex_before = balance_of(rpc, weth, lender), balance_of(rpc, weth, dep.executor)
    assert send(rpc, KEEPER, dep.executor, data, gas=2_000_000)["status"] == "0x0"
    assert (balance_of(rpc, weth, lender), balance_of(rpc, weth, dep.executor)) == (vault_before, ex_before)


def test_hop_minimum_output_is_enforced(rpc: RpcClient, market: Deployment) -> None:
    dep, weth = market, market.token("WETH")
    _dislocate(rpc, dep)
    legs = _cycle(dep, 3)
    amount_in, outs, _ = best_size(rpc, dep, legs, SIZES, lambda a: 0)
    greedy = list(outs)
    greedy[1] += 1  # the V3 hop must deliver one unit more than it can
    data = build_call(rpc, LenderKind.BALANCER_V2, dep.balancer_vault, weth, amount_in, legs, greedy)
    err = decode_arb_error(call_revert(rpc, KEEPER, dep.executor, data))
    assert err is not None and err.name == "HopOutputTooLow" and err.args == (1, outs[1], outs[1] + 1)
    assert EXECUTOR.decode_error(b"") is None


def test_algebra_style_pool_is_paid_through_algebra_swap_callback(rpc: RpcClient, market: Deployment) -> None:
    from mevbot.chain.artifacts import load_artifact
    from mevbot.chain.devtools import deploy_contract, fund, quote_cycle

    dep, weth, usdc = market, market.token("WETH"), market.token("USDC")
    t0, t1 = sorted([weth, usdc], key=lambda a: int(a, 16))
    # a Camelot-V3-like pool quoting WETH 2% above the market (3000 USDC)
    usdc_per_weth = 3060 * 10**6
    num, den = (usdc_per_weth, E18) if t0 == weth else (E18, usdc_per_weth)
    algebra = deploy_contract(rpc, load_artifact("AlgebraStylePool").creation_code(t0, t1, num, den))
    fund(rpc, dep, weth, algebra, 1_000 * E18)
    fund(rpc, dep, usdc, algebra, 3_000_000 * 10**6)

    amount_in = 5 * E18
    usdc_out = amount_in * usdc_per_weth // E18
    legs_v2 = [Leg(dep.v2_pair("WETH", "USDC").address, usdc, False)]
    (weth_back,) = quote_cycle(rpc, dep, legs_v2, usdc_out)
    assert weth_back > amount_in
    legs = [Leg(algebra, weth, True), *legs_v2]
    data = build_call(
        rpc, LenderKind.BALANCER_V2, dep.balancer_vault, weth, amount_in, legs, [usdc_out, weth_back]
    )
    before = balance_of(rpc, weth, dep.executor)
    assert send(rpc, KEEPER, dep.executor, data, gas=2_000_000)["status"] == "0x1"
    assert balance_of(rpc, weth, dep.executor) - before == weth_back - amount_in
