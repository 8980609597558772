"""The validator on anvil with the real Uniswap V2/V3 pools, Balancer V2 Vault, Aave V3 Pool and
MevbotArbExecutor: approved plans execute on chain with exactly the simulated result (for each
flash source), a candidate made stale by a later swap is rejected, a fee-on-transfer token is
rejected, the L1 component comes from the NodeInterface stand-in."""

from __future__ import annotations

import time

import pytest
from mevbot.chain.arb_calldata import encode_plan
from mevbot.chain.artifacts import load_artifact
from mevbot.chain.deployment import Deployment
from mevbot.chain.devtools import KEEPER, OWNER, balance_of, swap_v2, swap_v3
from mevbot.chain.rpc import RpcClient
from mevbot.chainconfig import FlashLoanSource
from mevbot.config import load_settings
from mevbot.gas.oracle import GasOracle
from mevbot.messages import FlashSourceKind

from services.validator import reasons
from services.validator.chain import ChainAccess
from services.validator.config import load_validator_config
from services.validator.market_view import MarketView
from services.validator.pipeline import Validator

from .chainstate import candidate, mirror

pytestmark = pytest.mark.integration

ARBITRAGE_TOPIC = "0x" + __import__("eth_utils").keccak(text="Arbitrage(address,uint256,uint256)").hex()
WIDE = {  # thresholds wide open: the candidate goes as detected
    "VALIDATOR_PROFILE": "aggressive",
    "VALIDATOR_MAX_HOP_IMPACT_BPS": "5000",
    "VALIDATOR_MAX_PATH_IMPACT_BPS": "9000",
    "VALIDATOR_ACCEPTED_CATEGORIES": "extreme",
    "VALIDATOR_MAX_TICKS_CROSSED": "100",
    "VALIDATOR_MAX_POSITION_WEI": "100000 ether",
}


def make_validator(
    rpc: RpcClient, dep: Deployment, env: dict[str, str], *, sources=None, store=None
) -> Validator:
    base = {
        "MIN_PROFIT_THRESHOLD": "0",
        "MAX_POSITION_SIZE": "100000 ether",
        "GAS_ESTIMATE_INCLUDES_L1": "false",
        "EXECUTOR_CONTRACT_ADDRESS": dep.executor,
        "EXECUTOR_SENDER_ADDRESS": KEEPER,
    }
    base.update(env)
    cfg = load_validator_config(load_settings(env=base), dep.weth, env=base)
    chain = ChainAccess(
        rpc,
        executor=cfg.executor_contract,
        sender=cfg.sender,
        oracle=GasOracle(rpc, cfg.l1_fallback),
        v2_exact_out=cfg.v2_exact_out,
    )
    if sources is None:
        sources = [
            FlashLoanSource(kind=FlashSourceKind.BALANCER_V2, address=dep.balancer_vault.lower()),
            FlashLoanSource(kind=FlashSourceKind.AAVE_V3, address=dep.aave.pool.lower()),
        ]
    view = MarketView(store, dep.weth) if store is not None else None
    return Validator(cfg, chain, sources, view)


def dislocate(rpc: RpcClient, dep: Deployment) -> None:
    swap_v2(rpc, dep, dep.v2_pair("WETH", "USDC").address, dep.token("USDC"), 600_000 * 10**6)


def execute(rpc: RpcClient, dep: Deployment, plan) -> tuple[dict, int]:
    """Send the plan as the executor would; returns the receipt and the contract's profit-token gain."""
    token = plan.loan_token
    before = balance_of(rpc, token, dep.executor)
    tx = {
        "from": KEEPER,
        "to": dep.executor,
        "input": "0x" + encode_plan(plan).hex(),
        "gas": hex(plan.gas_limit),
        "maxFeePerGas": hex(plan.max_fee_per_gas_wei),
        "maxPriorityFeePerGas": hex(plan.max_priority_fee_per_gas_wei),
    }
    tx_hash = rpc.call("eth_sendTransaction", tx)
    deadline = time.monotonic() + 10
    while (receipt := rpc.call("eth_getTransactionReceipt", tx_hash)) is None:
        assert time.monotonic() < deadline, "automine should have mined it"
        time.sleep(0.002)
    return receipt, balance_of(rpc, token, dep.executor) - before


def two_hop(dep: Deployment) -> list[str]:
    return [dep.v2_pair("WETH", "USDC").address, dep.v3_pool("WETH", "USDC", 500).address]


@pytest.mark.parametrize("lender", ["balancer", "aave", "uniswap_v3"])
def test_approved_plan_executes_exactly_as_simulated(rpc: RpcClient, market: Deployment, lender: str) -> None:
    dep = market
    dislocate(rpc, dep)
    store = mirror(rpc, dep)
    c = candidate(store, dep, two_hop(dep), dep.weth)
    sources = {
        "balancer": None,
        "aave": [FlashLoanSource(kind=FlashSourceKind.AAVE_V3, address=dep.aave.pool.lower())],
        "uniswap_v3": [],  # only pools of the market view lend: WETH/USDC 100 (lowest fee, not a hop)
    }[lender]
    env = dict(WIDE, VALIDATOR_V3_FLASH_LENDERS="0") if lender == "aave" else WIDE
    v = make_validator(rpc, dep, env, sources=sources, store=store)
    out = v.validate(c)
    assert out.rejection is None, out.rejection
    (plan,) = out.plans
    # eth_simulateV1 of the exact transaction (a 2nd when the first guess of gas for this shape was short)
    assert plan.simulated and 1 <= out.simulations <= 2
    want_kind = {
        "balancer": FlashSourceKind.BALANCER_V2,
        "aave": FlashSourceKind.AAVE_V3,
        "uniswap_v3": FlashSourceKind.UNISWAP_V3,
    }[lender]
    assert plan.flash_source.kind is want_kind
    if lender == "aave":
        assert plan.flash_source.fee == (plan.loan_amount * dep.aave.flash_premium_bps + 5_000) // 10_000
    if lender == "uniswap_v3":
        assert plan.flash_source.address == dep.v3_pool("WETH", "USDC", 100).address.lower()
        assert plan.flash_source.fee == -(-plan.loan_amount * 100 // 1_000_000)
    assert plan.expected_profit == c.gross_profit - plan.flash_source.fee
    assert [h.amount_out for h in plan.hops] == [h.amount_out for h in c.hops]
    assert 0 < plan.min_profit <= plan.expected_profit

    receipt, realized = execute(rpc, dep, plan)
    assert receipt["status"] == "0x1"
    assert realized == plan.expected_profit  # to the wei
    log = next(lg for lg in receipt["logs"] if lg["topics"][0] == ARBITRAGE_TOPIC)
    assert int(log["data"][-64:], 16) == plan.expected_profit
    assert int(receipt["gasUsed"], 16) <= plan.gas_limit


def test_three_hop_and_downsized_plans_execute_exactly(rpc: RpcClient, market: Deployment) -> None:
    dep = market
    dislocate(rpc, dep)
    store = mirror(rpc, dep)
    pools = [
        dep.v2_pair("WETH", "USDC").address,
        dep.v3_pool("USDC", "USDT", 100).address,
        dep.v3_pool("WETH", "USDT", 500).address,
    ]
    c = candidate(store, dep, pools, dep.weth)
    v = make_validator(
        rpc, dep, {"VALIDATOR_PROFILE": "default", "VALIDATOR_MAX_POSITION_WEI": "100000 ether"}, store=store
    )
    out = v.validate(c)
    assert out.rejection is None, out.rejection
    (plan,) = out.plans
    assert plan.loan_amount < c.amount_in  # the default profile's impact limit downsized it
    assert plan.risk_category in ("negligible", "low", "medium")
    receipt, realized = execute(rpc, dep, plan)
    assert receipt["status"] == "0x1" and realized == plan.expected_profit


def test_candidate_made_stale_by_a_later_swap_is_rejected(rpc: RpcClient, market: Deployment) -> None:
    dep = market
    dislocate(rpc, dep)
    store = mirror(rpc, dep)
    c = candidate(store, dep, two_hop(dep), dep.weth)
    # someone else trades on the V3 hop after the candidate was computed
    swap_v3(rpc, dep, dep.v3_pool("WETH", "USDC", 500).address, dep.token("WETH"), 10**18)
    out = make_validator(rpc, dep, WIDE).validate(c)  # no market view: only the chain can tell
    assert not out.plans
    assert out.rejection.reason in (reasons.SIMULATION_MISMATCH, reasons.SIMULATION_REVERTED)
    # with a market view that has seen the swap, the state versions tell without any simulation
    store2 = mirror(rpc, dep, store)
    moved = make_validator(rpc, dep, WIDE, store=store2).validate(c)
    assert moved.rejection.reason == reasons.STALE_STATE and moved.simulations == 0


def test_stale_block_is_rejected(rpc: RpcClient, market: Deployment) -> None:
    dep = market
    dislocate(rpc, dep)
    store = mirror(rpc, dep)
    c = candidate(store, dep, two_hop(dep), dep.weth)
    rpc.call("anvil_mine", "0x3")
    out = make_validator(rpc, dep, dict(WIDE, VALIDATOR_MAX_STATE_AGE_BLOCKS="2")).validate(c)
    assert out.rejection.reason == reasons.STALE_STATE


def _fot_market(rpc: RpcClient, dep: Deployment) -> tuple[str, str, str]:
    from mevbot.chain.create2 import v2_pair_address
    from mevbot.chain.txbatch import TxBatch

    fot_art = load_artifact("FeeOnTransferToken")
    factory = load_artifact("UniswapV2Factory").codec
    pair_codec = load_artifact("UniswapV2Pair").codec
    weth = load_artifact("WETH9").codec
    batch = TxBatch(rpc, OWNER)
    fot = batch.create("FOT", fot_art.creation_code("Taxed", "TAX", 18, 100))  # 1 % fee on transfer
    batch.flush()
    pairs = []
    # two pairs of the same factory can't share a pair of tokens: WETH/TAX and TAX/USDC + WETH/USDC
    for other, amt_other, amt_fot in (
        (dep.weth, 100 * 10**18, 300_000 * 10**18),
        (dep.token("USDC"), 330_000 * 10**6, 300_000 * 10**18),
    ):
        pair = v2_pair_address(dep.uniswap_v2_factory, fot, other)
        batch.call("createPair", dep.uniswap_v2_factory, factory.encode_call("createPair", fot, other))
        if other == dep.weth:
            batch.call("weth", dep.weth, weth.encode_call("transfer", pair, amt_other))
        else:
            batch.call("usdc", other, load_artifact("TestERC20").codec.encode_call("mint", pair, amt_other))
        batch.call("mint fot", fot, fot_art.codec.encode_call("mint", pair, amt_fot))
        batch.call("pair mint", pair, pair_codec.encode_call("mint", OWNER))
        pairs.append(pair)
    batch.flush()
    return fot.lower(), pairs[0].lower(), pairs[1].lower()


def test_fee_on_transfer_token_is_rejected(rpc: RpcClient, market: Deployment) -> None:
    from mevbot.messages import PoolInfo, PoolKind, PoolSnapshot

    dep = market
    fot, weth_fot, fot_usdc = _fot_market(rpc, dep)
    store = mirror(rpc, dep)
    block = int(rpc.call("eth_blockNumber"), 16)
    pair = load_artifact("UniswapV2Pair").codec
    for address in (weth_fot, fot_usdc):
        raw = rpc.call(
            "eth_call", {"to": address, "data": "0x" + pair.encode_call("getReserves").hex()}, "latest"
        )
        r0, r1, _ = pair.decode_output("getReserves", bytes.fromhex(raw[2:]))
        t0 = (
            "0x"
            + bytes.fromhex(rpc.call("eth_call", {"to": address, "data": "0x0dfe1681"}, "latest")[2:])[
                12:
            ].hex()
        )
        t1 = (
            "0x"
            + bytes.fromhex(rpc.call("eth_call", {"to": address, "data": "0xd21220a7"}, "latest")[2:])[
                12:
            ].hex()
        )
        info = PoolInfo(
            address=address,
            kind=PoolKind.UNISWAP_V2,
            dex="uniswap_v2",
            factory=dep.uniswap_v2_factory,
            token0=t0,
            token1=t1,
            fee_pips=3000,
        )
        store.add_snapshot(
            PoolSnapshot(
                chain_id=dep.chain_id, pool=info, block_number=block, reserve0=int(r0), reserve1=int(r1)
            )
        )
    # WETH -> TAX -> USDC -> WETH: TAX is cheap in the WETH pair (100 WETH = 300k TAX = $300k at $1)
    c = candidate(store, dep, [weth_fot, fot_usdc, dep.v2_pair("WETH", "USDC").address], dep.weth)
    out = make_validator(rpc, dep, WIDE, store=store).validate(c)
    assert out.rejection is not None and out.rejection.reason == reasons.FEE_ON_TRANSFER, out
    assert "received" in out.rejection.detail
    # the same check with the token on the config denylist stops it before any RPC
    denied = make_validator(rpc, dep, dict(WIDE, VALIDATOR_TOKEN_DENYLIST=fot)).validate(c)
    assert denied.rejection.reason == reasons.TOKEN_DENIED


def test_l1_component_from_node_interface(rpc: RpcClient, market: Deployment) -> None:
    dep = market
    dislocate(rpc, dep)
    store = mirror(rpc, dep)
    c = candidate(store, dep, two_hop(dep), dep.weth)
    _, base_fee = ChainAccess(rpc, executor=None, sender=None, oracle=GasOracle(rpc)).head()
    l1_base_fee = max(base_fee, 1) * 10  # keeps the L1 units small at anvil's tiny base fee
    rpc.call(
        "anvil_setStorageAt",
        "0x00000000000000000000000000000000000000C8",
        "0x0",
        "0x" + l1_base_fee.to_bytes(32, "big").hex(),
    )
    v = make_validator(rpc, dep, WIDE, store=store)
    (plan,) = v.validate(c).plans
    calldata_len = len(encode_plan(plan))
    units = calldata_len * 16 * l1_base_fee // max(base_fee, 1)
    assert v.chain.oracle.source == "node_interface"
    assert plan.costs.l1_gas_cost_wei == units * (max(base_fee, 1) + plan.max_priority_fee_per_gas_wei)
    assert (
        plan.costs.net_profit == plan.costs.gross_profit - plan.costs.flash_fee - plan.costs.gas_cost_in_token
    )
    receipt, realized = execute(rpc, dep, plan)
    assert receipt["status"] == "0x1" and realized == plan.expected_profit


def test_split_across_parallel_pools_executes_part_by_part_exactly(
    rpc: RpcClient, market: Deployment
) -> None:
    dep = market
    # WETH becomes dearer on the deep V3 500 pool; the back legs (V2, V3 100/3000/10000) are shallower
    v3_500 = dep.v3_pool("WETH", "USDC", 500).address
    swap_v3(rpc, dep, v3_500, dep.token("USDC"), 3_000_000 * 10**6)
    store = mirror(rpc, dep)
    c = candidate(store, dep, [v3_500, dep.v2_pair("WETH", "USDC").address], dep.weth)
    # a tight hop limit binds on the back leg: parallel WETH/USDC pools can take more in parts
    env = {
        "VALIDATOR_PROFILE": "default",
        "VALIDATOR_MAX_HOP_IMPACT_BPS": "30",
        "VALIDATOR_MAX_PATH_IMPACT_BPS": "60",
        "VALIDATOR_MAX_TICKS_CROSSED": "50",
        "VALIDATOR_MAX_POSITION_WEI": "100000 ether",
        "VALIDATOR_MAX_SPLIT_PARTS": "3",
    }
    v = make_validator(rpc, dep, env, store=store)
    out = v.validate(c)
    assert out.rejection is None, out.rejection
    assert len(out.plans) >= 2
    assert 1 <= out.simulations <= 2  # every part in one eth_simulateV1 block, in order
    assert [p.split_index for p in out.plans] == list(range(len(out.plans)))
    assert {p.split_count for p in out.plans} == {len(out.plans)}
    assert len({p.hops[1].pool for p in out.plans}) == len(out.plans)  # different parallel pools
    assert sum(p.expected_profit for p in out.plans) > c.gross_profit  # more than the detected single path
    for plan in out.plans:  # executed in order, each realizes exactly its simulated profit
        receipt, realized = execute(rpc, dep, plan)
        assert receipt["status"] == "0x1", plan.split_index
        assert realized == plan.expected_profit


def test_usdc_cycle_gas_converted_through_live_prices(rpc: RpcClient, market: Deployment) -> None:
    dep = market
    dislocate(rpc, dep)  # WETH dear on the V2 pair: buy it on V3 500 with USDC, sell it on V2
    store = mirror(rpc, dep)
    usdc = dep.token("USDC").lower()
    c = candidate(
        store, dep, [dep.v3_pool("WETH", "USDC", 500).address, dep.v2_pair("WETH", "USDC").address], usdc
    )
    v = make_validator(rpc, dep, WIDE, store=store)
    (plan,) = v.validate(c).plans
    assert plan.loan_token == usdc and plan.flash_source.kind is FlashSourceKind.BALANCER_V2
    # gas (wei) -> USDC at the live WETH/USDC mid price of the deepest pool, rounded up
    rate = v.market.native_rate(usdc, c.amount_in)
    gas_wei = plan.costs.l2_gas_cost_wei + plan.costs.l1_gas_cost_wei
    assert plan.costs.gas_cost_in_token == -(-gas_wei * rate.token_amount // rate.native_wei)
    assert plan.costs.net_profit == plan.costs.gross_profit - plan.costs.gas_cost_in_token
    assert plan.costs.net_profit_wei == plan.costs.net_profit * rate.native_wei // rate.token_amount
    receipt, realized = execute(rpc, dep, plan)
    assert receipt["status"] == "0x1" and realized == plan.expected_profit


def test_plan_left_to_the_executors_exact_check_executes_exactly_within_its_gas_bound(
    rpc: RpcClient, market: Deployment
) -> None:
    """VALIDATOR_EXACT_CHECK=executor: the first plan of a shape is simulated here; the next one of
    that shape is not (simulated=False), priced on the gas bound that is also its limit, and the
    transaction does exactly what it predicts, within that limit. The async path (the service's)
    answers the same as the synchronous one."""
    import asyncio

    from mevbot.rpc.aio import AioRpc

    dep = market
    dislocate(rpc, dep)
    store = mirror(rpc, dep)
    c = candidate(store, dep, two_hop(dep), dep.weth)
    # the L1 part in the gas units (Arbitrum): bounded by the limit too (with the L1 charged apart,
    # only the fallback's quote is exact without a node call, and such plans are simulated here)
    env = dict(WIDE, VALIDATOR_EXACT_CHECK="executor", GAS_ESTIMATE_INCLUDES_L1="true")
    v = make_validator(rpc, dep, env, store=store)
    first = v.validate(c)
    assert first.rejection is None and first.plans[0].simulated and first.simulations >= 1
    v.reservations = type(v.reservations)()  # the same opportunity again: not a race with itself
    v.chain.arpc = AioRpc(v.chain.rpc.url)

    async def validate_async():
        try:
            return await v.validate_async(c)
        finally:
            await v.chain.arpc.close()

    second = asyncio.run(validate_async())
    (plan,) = second.plans
    assert second.simulations == 0 and not plan.simulated
    assert plan.expected_net_profit_wei < first.plans[0].expected_net_profit_wei  # the costs of the bound
    receipt, gained = execute(rpc, dep, plan)
    assert receipt["status"] == "0x1" and gained == plan.expected_profit
    assert int(receipt["gasUsed"], 16) <= plan.gas_limit
