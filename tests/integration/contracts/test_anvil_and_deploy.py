"""anvil process control and the deployed test market, checked against the real contracts."""

from __future__ import annotations

import time

import pytest
from mevbot.chain.anvil import AnvilConfig, AnvilProcess
from mevbot.chain.artifacts import load_artifact
from mevbot.chain.create2 import v2_pair_address, v3_pool_address
from mevbot.chain.deploy import deploy_market
from mevbot.chain.deployment import Deployment
from mevbot.chain.devtools import (
    ACTOR,
    ERC20,
    EXECUTOR,
    KEEPER,
    OWNER,
    PAIR,
    V3POOL,
    balance_of,
    block_number,
    call,
    deploy_contract,
    send,
)
from mevbot.chain.market import MarketSpec, TokenSpec, V2PairSpec, V3PoolSpec
from mevbot.chain.precompiles import ARB_GAS_INFO, ARBSYS, NODE_INTERFACE, set_l1_base_fee
from mevbot.chain.rpc import RpcClient
from mevbot.errors import ChainError

pytestmark = pytest.mark.integration
V2F = load_artifact("UniswapV2Factory").codec
V3F = load_artifact("UniswapV3Factory").codec
AAVE = load_artifact("AavePool").codec
BAIT = load_artifact("SwapEventBait")
V2_SWAP = "0xd78ad95fa46c994b6551d0da85fc275fe613ce37657fb8d5e3d130840159d822"
V2_SYNC = "0x1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1"
V3_SWAP = "0xc42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67"


def _addr(word: bytes) -> str:
    return "0x" + word[12:32].hex()


def test_busy_port_is_refused(anvil: AnvilProcess) -> None:
    with pytest.raises(ChainError, match="in use"):
        AnvilProcess(AnvilConfig(port=anvil.port)).start()
    assert anvil.alive()


def test_deployed_market_matches_the_factories(rpc: RpcClient, deployment: Deployment) -> None:
    dep = deployment
    assert dep.chain_id == 42161 and dep.tx_count > 100
    for p in dep.v2_pairs:
        got = _addr(call(rpc, OWNER, dep.uniswap_v2_factory, V2F.encode_call("getPair", p.token0, p.token1)))
        assert (
            got.lower()
            == p.address.lower()
            == v2_pair_address(dep.uniswap_v2_factory, p.token0, p.token1).lower()
        )
        r0, r1, _ = PAIR.decode_output(
            "getReserves", call(rpc, OWNER, p.address, PAIR.encode_call("getReserves"))
        )
        assert r0 > 0 and r1 > 0
    fees = {p.fee_pips for p in dep.v3_pools}
    assert fees == {100, 500, 3000, 10000}
    for p in dep.v3_pools:
        got = _addr(
            call(
                rpc, OWNER, dep.uniswap_v3_factory, V3F.encode_call("getPool", p.token0, p.token1, p.fee_pips)
            )
        )
        assert got.lower() == p.address.lower()
        assert p.address == v3_pool_address(dep.uniswap_v3_factory, p.token0, p.token1, p.fee_pips)
        (liquidity,) = V3POOL.decode_output(
            "liquidity", call(rpc, OWNER, p.address, V3POOL.encode_call("liquidity"))
        )
        assert liquidity > 0
    # flash lenders hold liquidity; Aave charges Arbitrum's 5 bps
    weth = dep.token("WETH")
    assert balance_of(rpc, weth, dep.balancer_vault) == 20_000 * 10**18
    assert dep.aave is not None and balance_of(rpc, weth, dep.aave.a_tokens[weth]) == 20_000 * 10**18
    (premium,) = AAVE.decode_output("FLASHLOAN_PREMIUM_TOTAL", call(rpc, OWNER, dep.aave.pool,
                                                                    AAVE.encode_call("FLASHLOAN_PREMIUM_TOTAL")))  # fmt: skip
    assert premium == 5
    # our executor: owner and allowed key
    assert _addr(call(rpc, OWNER, dep.executor, EXECUTOR.encode_call("owner"))).lower() == OWNER.lower()
    assert call(rpc, OWNER, dep.executor, EXECUTOR.encode_call("allowed", KEEPER))[-1] == 1
    # the record survives JSON
    assert Deployment.from_json(dep.to_json()) == dep


def test_precompile_stand_ins_answer(rpc: RpcClient, market: Deployment) -> None:
    n = int.from_bytes(call(rpc, OWNER, ARBSYS, bytes.fromhex("a3b1b31d")), "big")  # arbBlockNumber()
    assert n == block_number(rpc)
    gas_info = load_artifact("ArbGasInfoStandIn").codec
    nodeif = load_artifact("NodeInterfaceStandIn").codec
    set_l1_base_fee(rpc, 20 * 10**9)
    (l1_fee,) = gas_info.decode_output(
        "getL1BaseFeeEstimate", call(rpc, OWNER, ARB_GAS_INFO, gas_info.encode_call("getL1BaseFeeEstimate"))
    )
    assert l1_fee == 20 * 10**9
    prices = gas_info.decode_output(
        "getPricesInWei", call(rpc, OWNER, ARB_GAS_INFO, gas_info.encode_call("getPricesInWei"))
    )
    assert prices[1] == 16 * 20 * 10**9  # per L1 calldata byte
    out = call(
        rpc, OWNER, NODE_INTERFACE, nodeif.encode_call("gasEstimateComponents", OWNER, False, b"\x01" * 100)
    )
    _, gas_for_l1, base_fee, l1_estimate = nodeif.decode_output("gasEstimateComponents", out)
    assert l1_estimate == 20 * 10**9 and gas_for_l1 == 100 * 16 * 20 * 10**9 // base_fee


def test_pool_actor_shapes_v3_pools_exactly(rpc: RpcClient, market: Deployment) -> None:
    pool = market.v3_pool("WETH", "USDC", 3000)
    spacing = pool.tick_spacing
    actor = market.pool_actor
    (slot0) = V3POOL.decode_output("slot0", call(rpc, OWNER, pool.address, V3POOL.encode_call("slot0")))
    tick = slot0[1] // spacing * spacing
    liquidity_before = V3POOL.decode_output(
        "liquidity", call(rpc, OWNER, pool.address, V3POOL.encode_call("liquidity"))
    )[0]
    mint = ACTOR.encode_call("mint", pool.address, tick - spacing, tick + spacing, 10**18)
    assert send(rpc, OWNER, actor, mint)["status"] == "0x1"
    liquidity = V3POOL.decode_output(
        "liquidity", call(rpc, OWNER, pool.address, V3POOL.encode_call("liquidity"))
    )[0]
    assert liquidity == liquidity_before + 10**18
    # exact output swap: receive exactly 1 unit of token1-or-0 as asked
    t_out = pool.token1
    before = balance_of(rpc, t_out, OWNER)
    swap = ACTOR.encode_call("swap", pool.address, True, -12345, 0, OWNER)
    assert send(rpc, OWNER, actor, swap)["status"] == "0x1"
    assert balance_of(rpc, t_out, OWNER) - before == 12345
    # burn returns the position's tokens to the recipient
    burn = ACTOR.encode_call("burn", pool.address, tick - spacing, tick + spacing, 10**18, KEEPER)
    assert send(rpc, OWNER, actor, burn)["status"] == "0x1"
    assert V3POOL.decode_output("liquidity", call(rpc, OWNER, pool.address, V3POOL.encode_call("liquidity")))[
        0
    ] == (liquidity_before)


def test_bait_emits_pool_shaped_logs(rpc: RpcClient, market: Deployment) -> None:

    bait = deploy_contract(rpc, BAIT.creation_code())
    r = send(rpc, OWNER, bait, BAIT.codec.encode_call("emitV2", 1, 0, 0, 1, 10, 10))
    assert [lg["topics"][0] for lg in r["logs"]] == [V2_SYNC, V2_SWAP]
    r = send(rpc, OWNER, bait, BAIT.codec.encode_call("emitV3", 5, -4, 2**96, 10**18, 0))
    assert [lg["topics"][0] for lg in r["logs"]] == [V3_SWAP]


def test_custom_market_dump_and_reload_with_block_time(tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = MarketSpec(
        tokens=(TokenSpec("WETH", 18, "2000"), TokenSpec("DAI", 18, "1"), TokenSpec("GMX", 18, "25")),
        v2_pairs=(V2PairSpec("WETH", "DAI", 1_000_000),),
        v3_pools=(V3PoolSpec("GMX", "WETH", 10000, 1_000_000), V3PoolSpec("DAI", "WETH", 100, 1_000_000)),
        balancer_funding={"DAI": 1_000},
        aave_supply={"WETH": 10},
    )
    with AnvilProcess(AnvilConfig()) as node:
        dep = deploy_market(node.http_url, spec)
        assert {t for t in dep.tokens} == {"WETH", "DAI", "GMX"} and dep.executor
        state = node.dump_state(tmp_path / "market.json")
    with (
        AnvilProcess(AnvilConfig(block_time_s=0.25, load_state=state)) as node,
        RpcClient(node.http_url) as rpc,
    ):
        code = rpc.call("eth_getCode", dep.executor, "latest")
        assert len(code) > 1000
        assert balance_of(rpc, dep.token("DAI"), dep.balancer_vault) == 1_000 * 10**18
        first = block_number(rpc)
        time.sleep(0.6)
        assert block_number(rpc) >= first + 1  # blocks keep coming without transactions
        assert balance_of(rpc, dep.token("WETH"), ERC20 and dep.v2_pair("WETH", "DAI").address) > 0


def test_web3_fixture_talks_to_the_same_node(w3, deployment: Deployment) -> None:  # type: ignore[no-untyped-def]
    assert w3.eth.chain_id == 42161
    assert len(w3.eth.get_code(w3.to_checksum_address(deployment.executor))) > 1000
