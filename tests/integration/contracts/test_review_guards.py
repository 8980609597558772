"""Adversarial review of MevbotArbExecutor: the attacks that are refused, each proven on anvil with
the real executor bytecode (and the real Balancer Vault, Aave Pool, Uniswap V2/V3 where they take
part). Each test is built to fail if the guard it exercises were removed or loosened."""

from __future__ import annotations

import pytest
from mevbot.chain.arb_calldata import (
    ArbCall,
    ArbHop,
    HopKind,
    LenderKind,
    decode_arb_result,
    encode_arb_call,
)
from mevbot.chain.artifacts import load_artifact
from mevbot.chain.deployment import Deployment
from mevbot.chain.devtools import (
    ERC20,
    EXECUTOR,
    KEEPER,
    OWNER,
    PAIR,
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
from mevbot.chain.rpc import RpcClient

from tests.integration.contracts.review_kit import (
    AAVE_LIKE,
    E18,
    HOOK,
    NORET,
    POOL,
    _executor_mutant,  # noqa: F401  (autouse fixture, opt-in mutants)
    cycle_outs,
    err,
    fixed_cycle,
    mint_x,
)

pytestmark = pytest.mark.integration
BALANCER = load_artifact("BalancerVault").codec
AAVE = load_artifact("AavePool").codec


def _reverts(rpc: RpcClient, holder: str, artifact, n: int) -> list[tuple[str, tuple]]:  # type: ignore[no-untyped-def]
    """Decoded revert data of the first n re-entry attempts a ReviewReenterer recorded."""
    out = []
    for i in range(n):
        raw = artifact.codec.decode_output(
            "lastRevert", call(rpc, OWNER, holder, artifact.codec.encode_call("lastRevert", i))
        )[0]
        out.append(err(raw))
    return out


def _attempts(rpc: RpcClient, holder: str, artifact) -> int:  # type: ignore[no-untyped-def]
    return artifact.codec.decode_output(
        "attemptsMade", call(rpc, OWNER, holder, artifact.codec.encode_call("attemptsMade"))
    )[0]


# --- callbacks from real lenders / pools in trades someone else started -----------------------------


def test_other_entry_points_of_real_protocols_cannot_reach_a_trade(
    rpc: RpcClient, market: Deployment
) -> None:
    """A Uniswap V2 flash swap with our contract as `to` (it calls uniswapV2Call on `to`) and an
    Aave multi-asset flashLoan with our contract as receiver (it calls the 5-array executeOperation)
    both land in `fallback`, which refuses any caller but the owner and allowed keys."""
    weth = market.token("WETH")
    fund(rpc, market, weth, market.executor, 5 * E18)
    pair = market.v2_pair("WETH", "USDC").address
    z = market.v2_pair("WETH", "USDC").token0.lower() == weth.lower()
    flash_swap = PAIR.encode_call("swap", E18 if z else 0, 0 if z else E18, market.executor, b"\x01")
    assert err(call_revert(rpc, STRANGER, pair, flash_swap)) == ("NotAllowed", (pair.lower(),))
    assert market.aave is not None
    multi = AAVE.encode_call("flashLoan", market.executor, [weth], [E18], [0], STRANGER, b"\x00" * 100, 0)
    assert err(call_revert(rpc, STRANGER, market.aave.pool, multi)) == (
        "NotAllowed",
        (market.aave.pool.lower(),),
    )
    assert balance_of(rpc, weth, market.executor) == 5 * E18


def test_aave_initiator_check_refuses_a_loan_started_by_someone_else(
    rpc: RpcClient, market: Deployment
) -> None:
    """The lender is the plan's lender, in the middle of our own trade, the plan hash matches, the
    loan really arrived - only `initiator` says someone else started this flash loan."""
    cyc = fixed_cycle(rpc, market)
    lender = deploy_contract(rpc, AAVE_LIKE.creation_code())
    fund(rpc, market, cyc.weth, lender, 50 * E18)
    data = cyc.call(rpc, LenderKind.AAVE_V3, lender, 10 * E18)
    _, back = cycle_outs(10 * E18)
    premium = (10 * E18 * 5 + 5_000) // 10_000
    assert decode_arb_result(call(rpc, KEEPER, market.executor, data)).profit_wei == back - 10 * E18 - premium
    send(rpc, OWNER, lender, AAVE_LIKE.codec.encode_call("setInitiatorOverride", STRANGER))
    assert err(call_revert(rpc, KEEPER, market.executor, data)) == ("UnexpectedCallback", (STRANGER.lower(),))


def test_lender_callback_with_other_params_or_a_short_loan_is_refused(
    rpc: RpcClient, market: Deployment
) -> None:
    """userData/params are trusted only if they hash to the plan we sent; a loan even 1 wei short
    is refused although the contract holds plenty of the token (inventory never stands in)."""
    cyc = fixed_cycle(rpc, market)
    fund(rpc, market, cyc.weth, market.executor, 50 * E18)
    lender = deploy_contract(rpc, AAVE_LIKE.creation_code())
    fund(rpc, market, cyc.weth, lender, 50 * E18)
    data = cyc.call(rpc, LenderKind.AAVE_V3, lender, 10 * E18)
    call(rpc, KEEPER, market.executor, data)
    send(rpc, OWNER, lender, AAVE_LIKE.codec.encode_call("setMisbehaviour", True, 0))
    assert err(call_revert(rpc, KEEPER, market.executor, data)) == ("PlanMismatch", ())
    send(rpc, OWNER, lender, AAVE_LIKE.codec.encode_call("setMisbehaviour", False, 1))
    assert err(call_revert(rpc, KEEPER, market.executor, data)) == ("LoanNotReceived", ())


# --- re-entry from a hop: a malicious pool, a malicious token -------------------------------------


def test_malicious_pool_reentering_during_its_hop_is_refused(rpc: RpcClient, market: Deployment) -> None:
    """Inside its swap a hop pool tries: our fallback with the very plan in progress, the real
    Balancer Vault and the real Aave Pool flash-lending to us with that plan, and a second payment
    request after being paid. Aave lends the trade so the Vault is not locked by its own guard."""
    cyc = fixed_cycle(rpc, market)
    assert market.aave is not None
    amount = 10 * E18
    data = cyc.call(rpc, LenderKind.AAVE_V3, market.aave.pool, amount)
    attempts = [
        (market.executor, data),
        (
            market.balancer_vault,
            BALANCER.encode_call("flashLoan", market.executor, [cyc.weth], [amount], data),
        ),
        (market.aave.pool, AAVE.encode_call("flashLoanSimple", market.executor, cyc.weth, amount, data, 0)),
    ]
    for target, payload in attempts:
        send(rpc, OWNER, cyc.pool_a, POOL.codec.encode_call("addAttempt", target, payload))
    send(rpc, OWNER, cyc.pool_b, POOL.codec.encode_call("setModes", True, False))  # asks to be paid twice
    before = balance_of(rpc, cyc.weth, market.executor)
    receipt = send(rpc, KEEPER, market.executor, data, gas=5_000_000)
    assert receipt["status"] == "0x1"
    _, back = cycle_outs(amount)
    premium = (amount * market.aave.flash_premium_bps + 5_000) // 10_000
    assert balance_of(rpc, cyc.weth, market.executor) - before == back - amount - premium
    assert _attempts(rpc, cyc.pool_a, POOL) == 3 and _attempts(rpc, cyc.pool_b, POOL) == 1
    assert _reverts(rpc, cyc.pool_a, POOL, 3) == [
        ("NotAllowed", (cyc.pool_a.lower(),)),
        ("UnexpectedCallback", (market.balancer_vault.lower(),)),
        ("UnexpectedCallback", (market.aave.pool.lower(),)),
    ]
    raw = POOL.codec.decode_output(
        "lastRevert", call(rpc, OWNER, cyc.pool_b, POOL.codec.encode_call("lastRevert", 2**256 - 1))
    )[0]
    assert err(raw) == ("UnexpectedCallback", (cyc.pool_b.lower(),))


def test_malicious_token_hooks_cannot_reenter(rpc: RpcClient, market: Deployment) -> None:
    """A token in the path calls back into the executor on every transfer (like an ERC777/1363
    hook): swap callback, lender callbacks, a trade, a withdrawal - all refused, trade unharmed."""
    hook = deploy_contract(rpc, HOOK.creation_code())
    cyc = fixed_cycle(rpc, market, token=hook, token_artifact=HOOK)
    data = cyc.call(rpc, LenderKind.BALANCER_V2, market.balancer_vault, E18)
    payloads = [
        EXECUTOR.encode_call("uniswapV3SwapCallback", 10**30, 10**30, b""),
        EXECUTOR.encode_call("receiveFlashLoan", [cyc.weth], [E18], [0], data),
        EXECUTOR.encode_call("uniswapV3FlashCallback", 0, 0, data),
        data,
        EXECUTOR.encode_call("withdrawToken", cyc.weth, hook, E18),
    ]
    for payload in payloads:
        send(rpc, OWNER, hook, HOOK.codec.encode_call("addAttempt", market.executor, payload))
    send(rpc, OWNER, hook, HOOK.codec.encode_call("arm", True))
    fund(rpc, market, cyc.weth, market.executor, 3 * E18)
    before = balance_of(rpc, cyc.weth, market.executor)
    assert send(rpc, KEEPER, market.executor, data, gas=5_000_000)["status"] == "0x1"
    _, back = cycle_outs(E18)
    assert balance_of(rpc, cyc.weth, market.executor) - before == back - E18
    assert _attempts(rpc, hook, HOOK) >= 2 * len(payloads)  # pool A -> us, us -> pool B
    assert _reverts(rpc, hook, HOOK, len(payloads)) == [
        ("UnexpectedCallback", (hook.lower(),)),
        ("UnexpectedCallback", (hook.lower(),)),
        ("UnexpectedCallback", (hook.lower(),)),
        ("NotAllowed", (hook.lower(),)),
        ("NotOwner", (hook.lower(),)),
    ]


# --- what a swap callback may ask for -------------------------------------------------------------


def test_swap_callback_asking_for_the_output_token_is_refused(rpc: RpcClient, market: Deployment) -> None:
    """A pool that asks to be paid in the token it sent us (or in both) gets nothing."""
    cyc = fixed_cycle(rpc, market)
    fund(rpc, market, cyc.weth, market.executor, 5 * E18)
    mint_x(rpc, cyc.token, market.executor, 50_000 * E18)  # inventory of the output token too
    send(rpc, OWNER, cyc.pool_a, POOL.codec.encode_call("setModes", False, True))
    data = cyc.call(rpc, LenderKind.BALANCER_V2, market.balancer_vault, E18)
    name, (requested, max_in) = err(call_revert(rpc, KEEPER, market.executor, data))
    assert name == "SwapPaymentInvalid" and requested == -2000 * E18 and max_in == E18


# --- tokens that return nothing / false (USDT-style) ------------------------------------------------


def test_tokens_without_return_value_work_and_false_returns_fail(rpc: RpcClient, market: Deployment) -> None:
    tok = deploy_contract(rpc, NORET.creation_code())
    cyc = fixed_cycle(rpc, market, token=tok, token_artifact=NORET)
    data = cyc.call(rpc, LenderKind.BALANCER_V2, market.balancer_vault, E18)
    _, back = cycle_outs(E18)
    assert decode_arb_result(call(rpc, KEEPER, market.executor, data)).profit_wei == back - E18
    # the owner can also withdraw such a token
    mint_x(rpc, tok, market.executor, 7, NORET)
    assert (
        send(rpc, OWNER, market.executor, EXECUTOR.encode_call("withdrawToken", tok, OWNER, 7))["status"]
        == "0x1"
    )
    assert balance_of(rpc, tok, market.executor) == 0
    # a token that answers `false` to our transfer (paying pool B in the callback) stops the trade
    send(rpc, OWNER, tok, NORET.codec.encode_call("setFalseFor", market.executor))
    assert err(call_revert(rpc, KEEPER, market.executor, data)) == (
        "TransferFailed",
        (tok.lower(), cyc.pool_b.lower(), 2000 * E18),
    )


# --- profit is a delta; inventory is never spent ---------------------------------------------------


def test_profit_is_a_delta_and_inventory_never_pays_for_a_loss(rpc: RpcClient, market: Deployment) -> None:
    """With 100 WETH of inventory, a losing cycle reverts with the exact shortfall (inventory does
    not cover it) and a winning one reports exactly its own gain, not the inventory."""
    fund(rpc, market, market.token("WETH"), market.executor, 100 * E18)
    losing = fixed_cycle(rpc, market, rate_a=2000, rate_b=2010)
    amount = 10 * E18
    _, back = cycle_outs(amount, 2000, 2010)
    data = losing.call(rpc, LenderKind.BALANCER_V2, market.balancer_vault, amount)
    assert err(call_revert(rpc, KEEPER, market.executor, data)) == ("InsufficientProfit", (amount - back,))
    # with a minimum profit: the shortfall includes it
    data = losing.call(rpc, LenderKind.BALANCER_V2, market.balancer_vault, amount, min_profit=7)
    assert err(call_revert(rpc, KEEPER, market.executor, data)) == (
        "InsufficientProfit",
        (amount - back + 7,),
    )
    winning = fixed_cycle(rpc, market)
    _, back = cycle_outs(amount)
    data = winning.call(rpc, LenderKind.BALANCER_V2, market.balancer_vault, amount, min_profit=back - amount)
    assert decode_arb_result(call(rpc, KEEPER, market.executor, data)).profit_wei == back - amount
    data = winning.call(
        rpc, LenderKind.BALANCER_V2, market.balancer_vault, amount, min_profit=back - amount + 1
    )
    assert err(call_revert(rpc, KEEPER, market.executor, data)) == ("InsufficientProfit", (1,))
    assert (
        send(
            rpc,
            KEEPER,
            market.executor,
            winning.call(rpc, LenderKind.BALANCER_V2, market.balancer_vault, amount),
        )["status"]
        == "0x1"
    )
    assert balance_of(rpc, market.token("WETH"), market.executor) == 100 * E18 + back - amount


def test_aave_repayment_leaves_no_allowance_behind(rpc: RpcClient, market: Deployment) -> None:
    weth, usdc = market.token("WETH"), market.token("USDC")
    assert market.aave is not None
    swap_v2(rpc, market, market.v2_pair("WETH", "USDC").address, usdc, 600_000 * 10**6)
    legs = [Leg(market.v2_pair("WETH", "USDC").address, weth, False),
            Leg(market.v3_pool("WETH", "USDC", 500).address, usdc, True)]  # fmt: skip
    outs = quote_cycle(rpc, market, legs, 20 * E18)
    data = build_call(rpc, LenderKind.AAVE_V3, market.aave.pool, weth, 20 * E18, legs, outs)
    assert send(rpc, KEEPER, market.executor, data)["status"] == "0x1"
    allowance = call(rpc, OWNER, weth, ERC20.encode_call("allowance", market.executor, market.aave.pool))
    assert int.from_bytes(allowance, "big") == 0


def test_v3_pool_lending_and_swapping_in_one_trade_fails_safe(rpc: RpcClient, market: Deployment) -> None:
    """The lending pool is locked during flash(): naming it as a hop too reverts (LOK), nothing moves."""
    weth, usdc = market.token("WETH"), market.token("USDC")
    fund(rpc, market, weth, market.executor, 5 * E18)
    swap_v2(rpc, market, market.v2_pair("WETH", "USDC").address, usdc, 600_000 * 10**6)
    v3 = market.v3_pool("WETH", "USDC", 500).address
    legs = [Leg(market.v2_pair("WETH", "USDC").address, weth, False), Leg(v3, usdc, True)]
    outs = quote_cycle(rpc, market, legs, 20 * E18)
    data = build_call(rpc, LenderKind.UNISWAP_V3_FLASH, v3, weth, 20 * E18, legs, outs)
    assert err(call_revert(rpc, KEEPER, market.executor, data)) == ("Error", ("LOK",))
    assert balance_of(rpc, weth, market.executor) == 5 * E18


# --- calldata, ETH, admin -------------------------------------------------------------------------


def test_every_truncation_or_bad_flag_of_a_plan_is_malformed(rpc: RpcClient, market: Deployment) -> None:
    """Every prefix of a 3-hop plan with a V2_FEE hop, and every bad hop count / lender kind / hop
    kind, reverts MalformedPlan (never a Panic, never a partial trade)."""
    cyc = fixed_cycle(rpc, market)
    v2 = market.v2_pair("WETH", "USDC").address
    plan = encode_arb_call(ArbCall(
        LenderKind.BALANCER_V2, market.balancer_vault, cyc.weth, E18, 0, block_number(rpc) + 20,
        (ArbHop(cyc.pool_a, HopKind.V3, True, 1), ArbHop(cyc.pool_b, HopKind.V3, False, 1),
         ArbHop(v2, HopKind.V2_FEE, True, 1, 3000)),
    ))  # fmt: skip
    bad = [plan[:n] for n in range(1, len(plan))]
    bad += [plan[:1] + bytes([(plan[1] & 0x0F) | (n << 4)]) + plan[2:] for n in (0, 1, 5, 6, 7)]
    bad += [plan[:1] + bytes([plan[1] | 3]) + plan[2:]]  # lender kind 3
    bad += [plan[:99] + bytes([k << 1 | 1]) + plan[100:] for k in range(3, 8)]  # hop kind 3..7
    for b in bad:
        assert err(call_revert(rpc, KEEPER, market.executor, b))[0] == "MalformedPlan", b.hex()


def test_eth_sent_with_a_plan_is_refused_and_failed_eth_withdrawal_reverts(
    rpc: RpcClient, market: Deployment
) -> None:
    cyc = fixed_cycle(rpc, market)
    data = cyc.call(rpc, LenderKind.BALANCER_V2, market.balancer_vault, E18)
    assert send(rpc, KEEPER, market.executor, data, value=1)["status"] == "0x0"  # fallback is not payable
    assert send(rpc, STRANGER, market.executor, b"", value=E18)["status"] == "0x1"  # plain deposits are
    no_receive = cyc.pool_a  # a contract without receive()
    name, args = err(
        call_revert(rpc, OWNER, market.executor, EXECUTOR.encode_call("withdrawEth", no_receive, E18))
    )
    assert (name, args) == ("TransferFailed", ("0x" + "00" * 20, no_receive.lower(), E18))


def test_a_trade_cannot_start_inside_a_trade_even_from_an_allowed_contract(
    rpc: RpcClient, market: Deployment
) -> None:
    cyc = fixed_cycle(rpc, market)
    data = cyc.call(rpc, LenderKind.BALANCER_V2, market.balancer_vault, E18)
    send(rpc, OWNER, market.executor, EXECUTOR.encode_call("setAllowed", cyc.pool_a, True))  # owner's mistake
    send(rpc, OWNER, cyc.pool_a, POOL.codec.encode_call("addAttempt", market.executor, data))
    assert send(rpc, KEEPER, market.executor, data, gas=5_000_000)["status"] == "0x1"
    assert _reverts(rpc, cyc.pool_a, POOL, 1) == [("TradeInProgress", ())]


def test_v2_hop_with_wrong_direction_or_amount_fails_safe(rpc: RpcClient, market: Deployment) -> None:
    weth, usdc = market.token("WETH"), market.token("USDC")
    fund(rpc, market, weth, market.executor, 50 * E18)
    fund(rpc, market, usdc, market.executor, 200_000 * 10**6)
    swap_v2(rpc, market, market.v2_pair("WETH", "USDC").address, usdc, 600_000 * 10**6)
    pair = market.v2_pair("WETH", "USDC").address
    legs = [Leg(pair, weth, False), Leg(market.v3_pool("WETH", "USDC", 500).address, usdc, True)]
    outs = quote_cycle(rpc, market, legs, 20 * E18)
    z = market.v2_pair("WETH", "USDC").token0.lower() == weth.lower()

    def plan(zero_for_one: bool, out0: int) -> bytes:
        return encode_arb_call(ArbCall(
            LenderKind.BALANCER_V2, market.balancer_vault, weth, 20 * E18, 0, block_number(rpc) + 20,
            (ArbHop(pair, HopKind.V2_EXACT_OUT, zero_for_one, out0),
             ArbHop(legs[1].pool, HopKind.V3, not z, 1)),
        ))  # fmt: skip

    call(rpc, KEEPER, market.executor, plan(z, outs[0]))  # the right plan works
    name, args = err(call_revert(rpc, KEEPER, market.executor, plan(not z, outs[0])))
    assert name == "HopTokenMismatch" and args[0] == 0 and args[1] == weth.lower()
    assert err(call_revert(rpc, KEEPER, market.executor, plan(z, outs[0] + 1))) == (
        "Error",
        ("UniswapV2: K",),
    )
    # asking too little donates the rest to the pair: the profit check refuses (inventory unused)
    assert err(call_revert(rpc, KEEPER, market.executor, plan(z, outs[0] // 2)))[0] == "InsufficientProfit"
    assert balance_of(rpc, weth, market.executor) == 50 * E18
    assert balance_of(rpc, usdc, market.executor) == 200_000 * 10**6
