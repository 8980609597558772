"""The devnet's parts on a real anvil: the real tick maps land on chain exactly, the chain config
the services read is valid and complete, and a dislocation opens the opportunity the oracle says."""

from __future__ import annotations

from pathlib import Path

import pytest
from mevbot.chain.arb_calldata import ArbCall, ArbHop, HopKind, LenderKind, dry_run_result, encode_arb_call
from mevbot.chain.artifacts import load_artifact
from mevbot.chain.rpc import RevertError, RpcClient
from mevbot.chainconfig import load_chain_config
from mevbot.devnet.chain import ChainHandle, start_devnet_chain
from mevbot.devnet.chainwatch import ChainWatcher
from mevbot.devnet.configfile import write_devnet_files
from mevbot.devnet.market import MarketConfig, MarketSimulator
from mevbot.devnet.oracle import MarketBook
from mevbot.devnet.spec import (
    devnet_market,
    moved_tick_map,
    positions_from_tick_map,
    real_pools,
    real_shaped_pools,
)
from mevbot.messages import FlashSourceKind, PoolKind

pytestmark = [pytest.mark.integration]


def test_positions_reproduce_a_tick_map_exactly() -> None:
    real = real_pools()[0]
    net: dict[int, int] = {}
    for p in positions_from_tick_map(real.ticks):
        net[p.tick_lower] = net.get(p.tick_lower, 0) + p.liquidity
        net[p.tick_upper] = net.get(p.tick_upper, 0) - p.liquidity
    assert {t: n for t, n in net.items() if n} == real.ticks


def test_moving_a_map_keeps_the_in_range_liquidity() -> None:
    real = real_pools()[0]
    for mirrored in (False, True):
        moved = moved_tick_map(real, mirrored=mirrored, target_tick=12_345)
        assert all(t % 60 == 0 for t in moved)
        assert sum(moved.values()) == 0
        if not mirrored:  # a pure shift keeps the liquidity at the (shifted) current tick
            shift = min(moved) - min(real.ticks)
            assert sum(n for t, n in moved.items() if t <= real.tick + shift) == real.liquidity


@pytest.fixture(scope="module")
def devnet_chain(tmp_path_factory: pytest.TempPathFactory) -> ChainHandle:
    handle = start_devnet_chain(tmp_path_factory.mktemp("devnet"), block_time_s=0.25)
    yield handle
    handle.stop()


def test_real_tick_maps_are_on_chain_exactly(devnet_chain: ChainHandle) -> None:
    dep = devnet_chain.info.deployment
    spec = devnet_market()
    assert len(real_shaped_pools(spec)) == 3
    book = MarketBook(dep, spec)
    codec = load_artifact("UniswapV3Pool").codec
    with RpcClient(devnet_chain.info.http_url) as rpc:
        states = book.read_states(rpc)
        book.check_tick_maps(states)  # in-range liquidity derived from the map == chain
        for a, b, fee in real_shaped_pools(spec):
            meta = book.pools[dep.v3_pool(a, b, fee).address.lower()]
            assert len(meta.ticks) > 300
            sample = meta.ticks[:: max(1, len(meta.ticks) // 25)]
            calls = [("eth_call", [{"to": meta.address, "data": "0x" + codec.encode_call("ticks", t).hex()}, "latest"])
                     for t, _ in sample]
            for (tick, net), raw in zip(sample, rpc.batch(calls), strict=True):
                on_chain = codec.decode_output("ticks", bytes.fromhex(raw[2:]))
                assert on_chain[1] == net, f"{meta.label} tick {tick}: liquidityNet {on_chain[1]} != {net}"


def test_chain_config_and_env_are_what_the_services_need(devnet_chain: ChainHandle, tmp_path: Path) -> None:
    info = devnet_chain.info
    env = write_devnet_files(tmp_path, info, execution_enabled=False, nats_url="nats://x:4222",
                             redis_url="redis://x:6379/0", namespace="t", min_profit_threshold_wei=10**16)
    config = load_chain_config(env["CHAIN_CONFIG_PATH"])
    dep = info.deployment
    assert config.chain_id == 42161 and config.wrapped_native == dep.weth.lower()
    assert {d.kind for d in config.dexes} == {PoolKind.UNISWAP_V2, PoolKind.UNISWAP_V3}
    assert config.dex("uniswap_v3").fee_tiers == {100: 1, 500: 10, 3000: 60, 10000: 200}
    assert {s.kind for s in config.flash_loan_sources} == {FlashSourceKind.BALANCER_V2, FlashSourceKind.AAVE_V3}
    assert config.flash_source(FlashSourceKind.AAVE_V3).fee_pips == 500
    assert env["EXECUTION_ENABLED"] == "false" and env["EXECUTOR_CONTRACT_ADDRESS"] == dep.executor.lower()
    (keyfile,) = Path(env["MEV_BOT_KEYSTORE_DIR"]).glob("*.json")
    assert keyfile.name == f"{env['EXECUTOR_SENDER_ADDRESS']}.json" and keyfile.stat().st_mode & 0o077 == 0
    assert (tmp_path / "devnet.env").stat().st_mode & 0o077 == 0


def test_a_dislocation_opens_the_opportunity_the_oracle_predicts(devnet_chain: ChainHandle) -> None:
    info = devnet_chain.info
    dep = info.deployment
    book = MarketBook(dep, devnet_market())
    base = tuple(dep.token(s).lower() for s in ("WETH", "USDC", "USDT"))
    with RpcClient(info.http_url) as rpc:
        snap = rpc.call("evm_snapshot")
        try:
            watcher = ChainWatcher(info.http_url, info.bot_address, dep.executor or "", info.start_block)
            sim = MarketSimulator(info.http_url, book, info.traders, pool_actor=dep.pool_actor, router_v2=info.router_v2,
                                  watcher=watcher, config=MarketConfig(seed=1, base_tokens=base))
            before = book.read_states(rpc)
            pool = book.pools[dep.v2_pair("ARB", "USDT").address.lower()]  # only one ARB/USDT pool: 3-hop
            d = sim.inject(pool)
            after = book.read_states(rpc, d.block_number)
            assert after[pool.address].quote_exact_in(True, 10**6) != before[pool.address].quote_exact_in(True, 10**6)
            assert d.expected is not None and d.expected.hops == 3 and d.above_threshold
            # the predicted profit is what the chain pays: the executor contract's dry run of the
            # best cycle (Balancer loan, fee 0) reverts with DryRunResult(profit, hop outputs)
            token, hops = d.expected.start_token, []
            for address in d.expected.pools:
                meta = book.pools[address]
                zfo = token == meta.token0
                kind = HopKind.V3 if meta.kind == "uniswap_v3" else HopKind.V2_FEE
                hops.append(ArbHop(address, kind, zfo, 0, meta.fee_pips if kind == HopKind.V2_FEE else 0))
                token = meta.token1 if zfo else meta.token0
            call = ArbCall(LenderKind.BALANCER_V2, dep.balancer_vault, d.expected.start_token, d.expected.amount_in,
                           0, 2**40 - 1, tuple(hops), dry_run=True)
            tx = {"from": info.bot_address, "to": dep.executor, "data": "0x" + encode_arb_call(call).hex()}
            with pytest.raises(RevertError) as exc:
                rpc.call("eth_call", tx, hex(d.block_number))
            result = dry_run_result(exc.value.data)
            assert result is not None and result.profit_wei == d.expected.profit
            sim.close()
            watcher.close()
        finally:
            rpc.call("evm_revert", snap)
