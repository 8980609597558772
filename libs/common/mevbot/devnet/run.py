"""One devnet run, start to report: chain -> files -> NATS/Redis -> tap -> services -> market -> report.

    report = run_devnet(DevnetOptions(duration_s=120, seed=7))

Everything the run starts it also stops (anvil, the four services, any NATS/Redis it had to start)
and its JetStream streams are deleted; the work directory keeps the chain config, env, keystore,
service logs and ``report.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live

from mevbot.chain.rpc import RpcClient
from mevbot.devnet.chain import ChainHandle, DevnetChain, start_devnet_chain
from mevbot.devnet.chainwatch import ChainWatcher
from mevbot.devnet.configfile import BASE_SYMBOLS, write_devnet_files
from mevbot.devnet.market import MarketConfig, MarketSimulator
from mevbot.devnet.options import DevnetOptions
from mevbot.devnet.oracle import MarketBook
from mevbot.devnet.report import build_report, print_summary, write_report
from mevbot.devnet.scrape import scrape
from mevbot.devnet.spec import devnet_market
from mevbot.devnet.stack import (
    Servers,
    cleanup_streams,
    delete_namespace_streams,
    start_servers,
    start_services,
)
from mevbot.devnet.tap import BusTap
from mevbot.devnet.view import render
from mevbot.supervisor import Supervisor

#: how long the market waits for ingest's initial snapshots (a spacing-1 V3 pool reads ~6,900
#: bitmap words: the 19-pool devnet market takes ~45 s on 2 cores)
WARMUP_TIMEOUT_S = 240.0


@dataclass
class DevnetEnv:
    """A running devnet: chain, NATS/Redis, the four services and a tap on their subjects."""

    opts: DevnetOptions
    work: Path
    namespace: str
    info: DevnetChain
    book: MarketBook
    tap: BusTap
    supervisor: Supervisor
    env: dict[str, str]
    first_block: int
    bot_nonce_start: int


def run_devnet(opts: DevnetOptions, console: Console | None = None) -> dict[str, Any]:
    return asyncio.run(_run(opts, console or Console()))


async def _run(opts: DevnetOptions, console: Console) -> dict[str, Any]:
    async with devnet_environment(opts, console) as dn:
        console.print(f"  services ready; {dn.tap.stats.snapshots} pool snapshots seen; market opens "
                      f"(seed {opts.seed}, {opts.duration_s:.0f}s)")
        report = await _market(opts, console, dn.info, dn.book, dn.tap, dn.supervisor, dn.first_block,
                               dn.bot_nonce_start)
        write_report(report, dn.work / "report.json")
        print_summary(report, console)
        console.print(f"report: {dn.work / 'report.json'}  logs: {dn.work / 'logs'}")
        return report


@contextlib.asynccontextmanager
async def devnet_environment(opts: DevnetOptions, console: Console) -> AsyncIterator[DevnetEnv]:
    work = Path(opts.work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    namespace = opts.namespace or f"devnet-{opts.seed}-{os.getpid()}"
    spec = devnet_market()
    chain: ChainHandle | None = None
    servers: Servers | None = None
    supervisor: Supervisor | None = None
    tap: BusTap | None = None
    try:
        console.print(f"[b]devnet[/] starting anvil (chain id 42161), deploying the market... work dir {work}")
        t0 = time.perf_counter()
        chain = await asyncio.to_thread(start_devnet_chain, work, block_time_s=opts.block_time_s,
                                        port=opts.anvil_port, spec=spec)
        info = chain.info
        dep = info.deployment
        console.print(f"  deployed {dep.tx_count} txs ({len(dep.v2_pairs)} V2 pairs, {len(dep.v3_pools)} V3 pools, "
                      f"Balancer Vault, Aave V3 Pool, MevbotArbExecutor) in {time.perf_counter() - t0:.1f}s; "
                      f"anvil {info.http_url} with {opts.block_time_s}s blocks")
        servers = start_servers(opts.nats_url, opts.redis_url, work / "logs")
        env = write_devnet_files(work, info, execution_enabled=opts.execute, nats_url=servers.nats_url,
                                 redis_url=servers.redis_url, namespace=namespace,
                                 min_profit_threshold_wei=opts.min_profit_threshold_wei)
        env.update({
            "INGEST_DISCOVER_FROM_BLOCK": "0",  # find every pool from the factories' creation logs
            "INGEST_START_BLOCK": str(info.start_block),
            "EXECUTOR_KEYS": info.bot_address,
            "EXECUTOR_NATIVE_TOKEN": dep.weth.lower(),
            "EXECUTOR_CONTRACT_FILE": str(work / "executor_contract.json"),
            # an arbitrage that closes a 1-2 % dislocation moves prices by as much: the default
            # profile's 75 bps per-hop impact cap is for trades that open gaps, not close them
            "VALIDATOR_PROFILE": "aggressive",
            "MAX_POSITION_SIZE": "100 ether",
        })
        env.update(opts.extra_env)
        console.print(f"  chain config {env['CHAIN_CONFIG_PATH']}, env {work / 'devnet.env'}, "
                      f"namespace {namespace}, EXECUTION_ENABLED={env['EXECUTION_ENABLED']}")
        tap = BusTap(servers.nats_url, namespace)
        await tap.start()
        console.print("  starting ingest, detector, validator, executor...")
        supervisor = await asyncio.to_thread(start_services, env, work / "logs")
        book = MarketBook(dep, spec)
        with RpcClient(info.http_url) as rpc:
            book.check_tick_maps(book.read_states(rpc))
            nonce_start = int(rpc.call("eth_getTransactionCount", info.bot_address, "latest"), 16)
            first_block = int(rpc.call("eth_blockNumber"), 16) + 1
        if not await _warm_up(tap, len(book.pools)):
            console.print(f"  [yellow]warning: only {tap.stats.snapshots}/{len(book.pools)} pool snapshots after "
                          f"{WARMUP_TIMEOUT_S:.0f}s; the market opens anyway[/yellow]")
        yield DevnetEnv(opts, work, namespace, info, book, tap, supervisor, env, first_block, nonce_start)
    finally:
        if tap is not None:
            await tap.stop()
        if supervisor is not None:
            await asyncio.to_thread(supervisor.stop_all)
        if chain is not None:
            chain.stop()
        if servers is not None:
            with contextlib.suppress(Exception):
                await delete_namespace_streams(servers.nats_url, namespace)
            servers.stop()


async def _warm_up(tap: BusTap, pools: int) -> bool:
    """Wait until ingest published a snapshot of every pool of the market (its /health/startup
    turns true at the same moment), so the first dislocation never lands on a pool the detector
    cannot price yet. False on timeout."""
    deadline = time.monotonic() + WARMUP_TIMEOUT_S
    while time.monotonic() < deadline and tap.stats.snapshots < pools:
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # detector and validator consume the snapshots
    return tap.stats.snapshots >= pools


async def _market(opts: DevnetOptions, console: Console, info: Any, book: MarketBook, tap: BusTap,
                  supervisor: Supervisor, first_block: int, nonce_start: int) -> dict[str, Any]:
    dep = info.deployment
    watcher = ChainWatcher(info.http_url, info.bot_address, dep.executor or "", first_block)
    base = tuple(dep.token(s).lower() for s in BASE_SYMBOLS)
    cfg = MarketConfig(seed=opts.seed, base_tokens=base, threshold_wei=opts.min_profit_threshold_wei,
                       target_dislocations=opts.target_dislocations,
                       capture_timeout_s=6.0 if opts.execute else 1.5)
    sim = MarketSimulator(info.http_url, book, info.traders, pool_actor=dep.pool_actor, router_v2=info.router_v2,
                          watcher=watcher, config=cfg)
    stop = threading.Event()
    started = time.monotonic()
    deadline = started + opts.duration_s
    services: dict[str, dict[str, float]] = {}
    thread = threading.Thread(target=sim.run, args=(stop, deadline), name="devnet-market", daemon=True)
    thread.start()
    last_scrape = 0.0

    def view() -> Any:
        return render(pipeline=tap.stats, market=sim.stats, watcher=watcher, book=book, started=started,
                      duration_s=opts.duration_s, services=services)

    live = Live(view(), console=console, refresh_per_second=4, transient=False) if opts.live else None
    try:
        if live is not None:
            live.start()
        while thread.is_alive():
            await asyncio.sleep(0.25)
            if time.monotonic() - last_scrape > 2.0:
                last_scrape = time.monotonic()
                services = await asyncio.to_thread(_scrape_all, supervisor)
            if live is not None:
                live.update(view())
    finally:
        stop.set()
        thread.join(timeout=30)
        if live is not None:
            live.update(view())
            live.stop()
    await asyncio.sleep(2.0)  # the last results land
    watcher.poll()
    services = await asyncio.to_thread(_scrape_all, supervisor)
    with RpcClient(info.http_url) as rpc:
        nonce_end = int(rpc.call("eth_getTransactionCount", info.bot_address, "latest"), 16)
        last_block = int(rpc.call("eth_blockNumber"), 16)
    sim.close()
    watcher.close()
    return build_report(
        options=opts.as_dict(), market=sim.stats, txs=watcher.txs, pipeline=tap.stats, book=book,
        bot_address=info.bot_address, bot_nonce_start=nonce_start, bot_nonce_end=nonce_end,
        blocks={"first": first_block, "last": last_block, "seen": watcher.blocks_seen, "chain_txs": watcher.chain_txs},
        services=services,
    )


def _scrape_all(supervisor: Supervisor) -> dict[str, dict[str, float]]:
    return {child.label: scrape(child.base_url) for child in supervisor.children}


__all__ = ["DevnetOptions", "cleanup_streams", "run_devnet"]
