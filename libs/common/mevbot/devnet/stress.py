"""The runbook's stress test, redone on the real pipeline: rising event rates, sustained events/s
and per-stage latency percentiles.

Part 1, ``replay`` (throughput, ingest's publish path -> detector): generated, consistent pool
events (exact swaps on shadow pools: :class:`services.detector.synthetic.SyntheticMarket`, Arbitrum
token addresses, a few hundred V2/V3 pools) are published on the JetStream chain stream exactly as
ingest publishes them (``NatsBus.publish_async``, ``received_ns``/``published_ns`` stamped at
publish, a ``BlockHead`` per block) at rising offered rates into the real detector process. The
detector's ``mev_detector_events_total`` gives what it consumed per step; a step is *sustained*
when the detector consumed >= 95 % of the offered events within the step and its backlog stayed
under half a second of input.

Part 2, ``chain`` (latency, everything real): a devnet (anvil, ingest over websocket, detector,
validator, executor with EXECUTION_ENABLED=false so every approved plan is signed, never sent) is
driven with swaps at rising rates plus one dislocation per ~1.5 s; the tap measures, per step,
events/s and the latency from ingest's ``received_ns`` of the triggering log to each stage.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from mevbot import messages as m
from mevbot import subjects as subj
from mevbot.devnet.tap import PipelineStats
from mevbot.nats_bus import NatsBus
from mevbot.runtime.localstack import free_port
from mevbot.supervisor import ChildService

REPO_ROOT = Path(__file__).resolve().parents[4]
BLOCKS_PER_S = 4.0


# --- part 1: replay ---------------------------------------------------------------------------------


@dataclass
class ReplayStep:
    offered_per_s: float
    published: int
    published_per_s: float
    consumed_per_s: float
    backlog_end: int
    drain_s: float
    sustained: bool
    drain_per_s: float = 0.0  # backlog / drain time: the detector's rate with the publisher idle


@dataclass
class ReplayResult:
    pools: int
    steps: list[ReplayStep] = field(default_factory=list)
    detector_rss_mb: float | None = None

    @property
    def sustained_per_s(self) -> float:
        ok = [s.consumed_per_s for s in self.steps if s.sustained]
        return max(ok) if ok else 0.0


def _events_pool(n_pools: int, n_events: int, seed: int) -> tuple[list[m.PoolSnapshot], list[m.PoolEvent]]:
    from services.detector.synthetic import SyntheticMarket

    market = SyntheticMarket(n_tokens=max(12, n_pools // 8), n_pools=n_pools, v3_share=0.3, seed=seed)
    snapshots = list(market.snapshots)
    events: list[m.PoolEvent] = []
    for block_events, _head in market.blocks(n_blocks=n_events // 50 + 1, events_per_block=50, size_fraction=(1e-5, 2e-3)):
        events.extend(block_events)
        if len(events) >= n_events:
            break
    return snapshots, events[:n_events]


class _Replayer:
    def __init__(self, bus: NatsBus, events: list[m.PoolEvent], first_block: int, block_events: int) -> None:
        self.bus = bus
        self.events = events
        self.block = first_block
        self.block_events = block_events
        self.i = 0
        self.published = 0

    async def publish_block(self) -> int:
        self.block += 1
        block_hash = "0x" + f"{self.block:064x}"
        n = self.block_events
        for k in range(n):
            e = self.events[self.i % len(self.events)]
            self.i += 1
            now = time.time_ns()
            meta = msgspec.structs.replace(e.meta, block_number=self.block, block_hash=block_hash, tx_index=k, log_index=k)
            event = msgspec.structs.replace(e, meta=meta, received_ns=now, published_ns=now)
            await self.bus.publish_async(subj.event_subject(event), event)
        head = m.BlockHead(chain_id=42161, block_number=self.block, block_hash=block_hash,
                           parent_hash="0x" + f"{self.block - 1:064x}", timestamp=self.block, event_count=n,
                           received_ns=time.time_ns())
        await self.bus.publish_async(subj.BLOCK_HEAD, head)
        self.published += n
        return n


async def run_replay(nats_url: str, *, rates: list[float], step_s: float = 8.0, n_pools: int = 300,
                     seed: int = 3, block_events: int = 50, log_dir: Path | None = None,
                     echo: Any = print) -> ReplayResult:
    namespace = f"stress{os.getpid()}"
    echo(f"replay: generating {n_pools} pools and a pool of events...")
    snapshots, events = _events_pool(n_pools, 40_000, seed)
    first_block = max(s.block_number for s in snapshots) + 1
    env = dict(os.environ, NATS_URL=nats_url, MEV_NAMESPACE=namespace, LOG_LEVEL="warning", LOG_FORMAT="json",
               PYTHONPATH=str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), DETECTOR_REPLAY="true")
    for key in ("CHAIN_CONFIG_PATH", "METRICS_PORT", "HTTP_PORT"):
        env.pop(key, None)
    log_dir = log_dir or Path("var/stress")
    log_dir.mkdir(parents=True, exist_ok=True)
    detector = ChildService("detector", "services.detector", port=free_port(), env=env,
                            log_path=log_dir / "stress-detector.log")
    bus = NatsBus(nats_url, service="stress-replay", namespace=namespace, chain_id=42161, max_in_flight=20_000)
    result = ReplayResult(pools=len(snapshots))
    try:
        await bus.connect()
        await bus.ensure_streams()
        for snap in snapshots:
            await bus.publish_async(subj.POOL_SNAPSHOT, snap)
        await bus.flush(30)
        detector.start()
        await asyncio.to_thread(detector.wait_ready, 90.0)
        await _wait_metric(detector.base_url, "pools", len(snapshots), 60.0)
        replayer = _Replayer(bus, events, first_block, block_events)
        consumed_before = await _detector_events(detector.base_url)
        for rate in rates:
            start_published = replayer.published
            t0 = time.perf_counter()
            # Arbitrum makes 4 blocks/s: a higher rate means bigger blocks, not more of them
            replayer.block_events = max(block_events, int(rate / BLOCKS_PER_S))
            blocks_per_s = rate / replayer.block_events
            next_at = t0
            while time.perf_counter() - t0 < step_s:
                now = time.perf_counter()
                if now < next_at:
                    await asyncio.sleep(min(next_at - now, 0.01))
                    continue
                await replayer.publish_block()
                next_at += 1.0 / blocks_per_s
            elapsed = time.perf_counter() - t0
            consumed_now = await _detector_events(detector.base_url)
            published = replayer.published - start_published
            consumed = consumed_now - consumed_before
            backlog = max(0, int(replayer.published - consumed_now))
            t_drain = time.perf_counter()
            await bus.flush(60)
            drained = False
            while time.perf_counter() - t_drain < 60:
                if await _detector_events(detector.base_url) >= replayer.published:
                    drained = True
                    break
                await asyncio.sleep(0.1)
            drain_s = time.perf_counter() - t_drain
            consumed_before = await _detector_events(detector.base_url)
            step = ReplayStep(
                offered_per_s=rate, published=published, published_per_s=round(published / elapsed, 1),
                consumed_per_s=round(consumed / elapsed, 1), backlog_end=backlog, drain_s=round(drain_s, 2),
                sustained=consumed >= 0.95 * published and backlog <= rate * 0.5,
                drain_per_s=round(backlog / drain_s, 1) if drain_s > 0 and backlog else 0.0,
            )
            result.steps.append(step)
            echo(f"  offered {rate:>8.0f}/s  published {step.published_per_s:>9.1f}/s  detector consumed "
                 f"{step.consumed_per_s:>9.1f}/s  backlog {backlog:>7}  drain {step.drain_s:>5.2f}s "
                 f"({step.drain_per_s:>7.0f}/s)  "
                 f"{'sustained' if step.sustained else 'NOT sustained'}")
            if not drained:  # saturated: a higher rate would only start on top of this backlog
                echo("  detector still behind after 60 s of drain: saturated, ramp stopped")
                break
        result.detector_rss_mb = round(_rss_mb(detector) or 0.0, 1)
    finally:
        detector.stop()
        await bus.close()
        from mevbot.devnet.stack import delete_namespace_streams

        await delete_namespace_streams(nats_url, namespace)
    return result


async def _detector_events(base_url: str) -> float:
    import httpx

    # a detector saturated by the replay answers /metrics late (its loop is busy): be patient
    async with httpx.AsyncClient() as client:
        for attempt in range(3):
            try:
                text = (await client.get(f"{base_url}/metrics", timeout=20.0)).text
                break
            except httpx.TimeoutException:
                if attempt == 2:
                    raise
    for line in text.splitlines():
        if line.startswith("mev_detector_events_total "):
            return float(line.split()[1])
    return 0.0


async def _wait_metric(base_url: str, what: str, expected: int, timeout_s: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            text = (await client.get(f"{base_url}/metrics", timeout=2.0)).text
            for line in text.splitlines():
                if line.startswith(f"mev_detector_{what} ") and float(line.split()[1]) >= expected:
                    return
            await asyncio.sleep(0.1)
    raise TimeoutError(f"detector did not load {expected} {what} within {timeout_s} s")


def _rss_mb(child: ChildService) -> float | None:
    if child.proc is None:
        return None
    try:
        for line in Path(f"/proc/{child.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# --- part 2: chain ------------------------------------------------------------------------------------


@dataclass
class ChainStep:
    target_events_per_s: float
    events_per_s: float
    swaps_sent: int
    dislocations: int
    latency_ms: dict[str, dict[str, float | int | None]]


async def run_chain(*, rates: list[float], step_s: float = 20.0, seed: int = 11, work_dir: Path = Path("var/stress"),
                    nats_url: str, redis_url: str, echo: Any = print) -> list[ChainStep]:
    from rich.console import Console

    from mevbot.devnet.chainwatch import ChainWatcher
    from mevbot.devnet.configfile import BASE_SYMBOLS
    from mevbot.devnet.market import MarketConfig, MarketSimulator
    from mevbot.devnet.options import DevnetOptions
    from mevbot.devnet.run import devnet_environment

    opts = DevnetOptions(seed=seed, execute=False, work_dir=work_dir / "chain", nats_url=nats_url, redis_url=redis_url,
                         live=False, extra_env={"LOG_LEVEL": "warning"})
    steps: list[ChainStep] = []
    async with devnet_environment(opts, Console(stderr=True)) as dn:
        dep = dn.info.deployment
        watcher = ChainWatcher(dn.info.http_url, dn.info.bot_address, dep.executor or "", dn.first_block)
        base = tuple(dep.token(s).lower() for s in BASE_SYMBOLS)
        # one account injects dislocations, the others carry the load: anvil assigns nonces per
        # account, and two threads sending from one account would race for the same nonce
        load_traders = dn.info.traders[1:]
        sim = MarketSimulator(dn.info.http_url, dn.book, dn.info.traders[:1], pool_actor=dep.pool_actor,
                              router_v2=dn.info.router_v2, watcher=watcher,
                              config=MarketConfig(seed=seed, base_tokens=base, noise_usd=(50, 500)))
        rng = random.Random(seed)
        pools = list(dn.book.pools.values())
        for rate in rates:
            dn.tap.stats = stats = PipelineStats()
            stop = threading.Event()
            counts = {"swaps": 0, "dislocations": 0}

            def load(rate: float = rate, stop: threading.Event = stop, counts: dict = counts) -> None:
                # V2 swaps log Swap + Sync (2 pool events), V3 swaps log Swap (1): ~1.5 per swap
                swaps_per_tick = rate / 1.5 * 0.05
                carry = 0.0
                next_t = time.perf_counter()
                while not stop.is_set():
                    carry += swaps_per_tick
                    n, carry = int(carry), carry - int(carry)
                    txs = []
                    for _ in range(n):
                        pool = rng.choice(pools)
                        zfo = rng.random() < 0.5
                        token = pool.token0 if zfo else pool.token1
                        usd = rng.uniform(50, 500)
                        amount = int(usd / float(dn.book.usd[token]) * 10 ** dn.book.decimals[token])
                        txs.append(sim.trader.swap_tx(rng.choice(load_traders), pool, zfo, amount))
                    if txs:
                        try:
                            sim.trader.send(txs)
                            counts["swaps"] += len(txs)
                        except Exception as exc:  # noqa: BLE001 - keep loading; counted in the output
                            echo(f"  load error: {exc}")
                    next_t += 0.05
                    time.sleep(max(0.0, next_t - time.perf_counter()))

            def dislocate(stop: threading.Event = stop, counts: dict = counts) -> None:
                while not stop.wait(1.5):
                    try:
                        sim.inject(sim.next_pool())
                        counts["dislocations"] += 1
                    except Exception as exc:  # noqa: BLE001
                        echo(f"  dislocation error: {exc}")

            threads = [threading.Thread(target=load, daemon=True), threading.Thread(target=dislocate, daemon=True)]
            for t in threads:
                t.start()
            t0 = time.perf_counter()
            await asyncio.sleep(step_s)
            stop.set()
            for t in threads:
                t.join(timeout=10)
            elapsed = time.perf_counter() - t0
            await asyncio.sleep(1.0)
            step = ChainStep(rate, round(stats.events / elapsed, 1), counts["swaps"], counts["dislocations"],
                             stats.latency_summary())
            steps.append(step)
            lat = " ".join(f"{k}={v['p50_ms']}/{v['p99_ms']}" for k, v in step.latency_ms.items() if v["n"])
            echo(f"  target {rate:>6.0f} ev/s  ingest published {step.events_per_s:>7.1f} ev/s  swaps {step.swaps_sent}  "
                 f"dislocations {step.dislocations}  latency p50/p99 ms: {lat}")
        sim.close()
        watcher.close()
    return steps


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - CLI glue, see benchmarks/stress_bench.py
    import argparse
    import json

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=("replay", "chain", "both"), default="both")
    ap.add_argument("--rates", default="5000,10000,20000,30000,40000", help="replay: offered events/s")
    ap.add_argument("--chain-rates", default="250,500,1000", help="chain: target events/s")
    ap.add_argument("--step", type=float, default=8.0, help="replay: seconds per rate")
    ap.add_argument("--chain-step", type=float, default=20.0, help="chain: seconds per rate")
    ap.add_argument("--pools", type=int, default=300)
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = ap.parse_args(argv)
    nats_url = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    out: dict[str, Any] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    if args.part in ("replay", "both"):
        print("part 1, replay: ingest publish path -> detector (real NATS JetStream, real detector process)")
        r = asyncio.run(run_replay(nats_url, rates=[float(x) for x in args.rates.split(",")], step_s=args.step,
                                   n_pools=args.pools))
        out["replay"] = {"pools": r.pools, "sustained_events_per_s": r.sustained_per_s,
                         "detector_rss_mb": r.detector_rss_mb, "steps": [s.__dict__ for s in r.steps]}
        print(f"sustained: {r.sustained_per_s:.0f} events/s through the detector ({r.pools} pools)")
    if args.part in ("chain", "both"):
        print("part 2, chain: anvil -> ingest -> detector -> validator -> executor (signs, EXECUTION_ENABLED=false)")
        steps = asyncio.run(run_chain(rates=[float(x) for x in args.chain_rates.split(",")], step_s=args.chain_step,
                                      nats_url=nats_url, redis_url=redis_url))
        out["chain"] = [s.__dict__ for s in steps]
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
    return 0
