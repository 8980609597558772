"""Stress test (the runbook's, redone): rising event rates through real NATS into the real services.

    .venv/bin/python benchmarks/stress_bench.py [--part replay|chain|both] [--rates 5000,10000,20000,...]
        [--chain-rates 250,500,1000] [--exact-check validator|executor] [--execute] [--json out.json]

Same as ``mevbot stress``. Reuses the generators of :mod:`mevbot.devnet.stress`; what differs here:

Part 1, ``replay`` (throughput, ingest's publish path -> detector): the publisher must not be the
bottleneck. Each step's events are encoded *before* the step (as ingest has them encoded by the
time it publishes: one encode per log), stamped at publish by patching fixed-width placeholders
(``received_ns``/``published_ns``, 19 digits) in the bytes, and written as raw NATS frames on the
JetStream subjects without a per-message reply; each block ends with its ``BlockHead`` published
with an ack request, which confirms the whole block (one connection: the stream stores in order).
The detector's ``mev_detector_events_total`` gives what it consumed; a step is *sustained* when it
consumed >= 95 % of the offered events within the step and its backlog stayed under 0.5 s of input.

Part 2, ``chain`` (latency, everything real): a devnet (anvil, ingest over websocket, detector,
validator, executor with EXECUTION_ENABLED=false: every approved plan is signed and checked, never
sent, so every dislocation stays open and is sized again at every event on its pools; ``--execute``:
EXECUTION_ENABLED=true, the plans are sent and land and close their opportunities, as takers do in a
real market), swaps at rising rates plus one dislocation per ~1.5 s. Per step: the tap's stage latencies
(each from ingest's ``received_ns`` of the triggering log), and per *plan* the split into stages on
the same plan: log -> candidate (detector), candidate -> plan (validator, with the NATS hop),
plan -> signed (executor, with the hop), signed -> verdict (the executor's last check before a send
would leave, and the result's publish: when the tap received the dry-run result), and the two end
to end figures log -> signed and log -> verdict (= ready to send).
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import msgspec
from mevbot import messages as m
from mevbot import subjects as subj
from mevbot.devnet.stress import (
    BLOCKS_PER_S,
    ReplayResult,
    ReplayStep,
    detector_events,
    events_pool,
    rss_mb,
    wait_metric,
)
from mevbot.devnet.tap import PipelineStats, percentile
from mevbot.nats_bus import NatsBus
from mevbot.runtime.localstack import free_port
from mevbot.supervisor import ChildService

REPO_ROOT = Path(__file__).resolve().parents[1]
_RECEIVED = 1_111_111_111_111_111_111  # 19-digit placeholders patched at publish (real ns stamps have 19 digits)
_PUBLISHED = 1_222_222_222_222_222_222


# --- part 1: replay ---------------------------------------------------------------------------------

_WORK = ("mev_detector_evaluations_total", "mev_detector_stale_pools", "mev_detector_sequence_gaps_total",
         "mev_detector_resync_requests_total", "mev_detector_duplicates_suppressed_total")


async def _detector_work(base_url: str) -> dict[str, float]:
    """Sums of the detector's work counters (all label sets), and the candidates it published."""
    import httpx

    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{base_url}/metrics", timeout=20.0)).text
    out: dict[str, float] = dict.fromkeys((*_WORK, "candidates_published"), 0.0)
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in _WORK:
            out[name] += float(line.rsplit(" ", 1)[1])
        elif name == "mev_messages_total" and 'subject="mev.candidates"' in line and 'outcome="published"' in line:
            out["candidates_published"] += float(line.rsplit(" ", 1)[1])
    return out


class _FastReplayer:
    """Publishes pre-encoded events as raw frames; one acked ``BlockHead`` per block."""

    def __init__(self, bus: NatsBus, events: list[m.PoolEvent], first_block: int) -> None:
        self.bus = bus
        self.events = events
        self.block = first_block
        self.i = 0
        self.published = 0
        self.acks: list[asyncio.Future[Any]] = []

    def encode_blocks(self, n_blocks: int, block_events: int) -> list[tuple[int, list[tuple[str, bytes]]]]:
        """The next ``n_blocks`` blocks, encoded (off the clock) with placeholder stamps."""
        out = []
        for _ in range(n_blocks):
            self.block += 1
            block_hash = "0x" + f"{self.block:064x}"
            frames = []
            for k in range(block_events):
                e = self.events[self.i % len(self.events)]
                self.i += 1
                meta = msgspec.structs.replace(e.meta, block_number=self.block, block_hash=block_hash, tx_index=k,
                                               log_index=k)
                event = msgspec.structs.replace(e, meta=meta, received_ns=_RECEIVED, published_ns=_PUBLISHED)
                frames.append((self.bus.wire(subj.event_subject(event)), m.encode(event)))
            out.append((self.block, frames))
        return out

    async def publish_block(self, block: int, frames: list[tuple[str, bytes]]) -> int:
        nc = self.bus.nc
        received = str(time.time_ns()).encode()
        for subject, data in frames:
            now = str(time.time_ns()).encode()
            payload = data.replace(b"1111111111111111111", received, 1).replace(b"1222222222222222222", now, 1)
            await nc.publish(subject, payload)  # stored by the stream; no reply: no ack per message
        block_hash = "0x" + f"{block:064x}"
        head = m.BlockHead(chain_id=42161, block_number=block, block_hash=block_hash,
                           parent_hash="0x" + f"{block - 1:064x}", timestamp=block, event_count=len(frames),
                           received_ns=time.time_ns())
        # the head with an ack request: the block is confirmed when the stream stored it
        self.acks.append(asyncio.ensure_future(nc.request(self.bus.wire(subj.BLOCK_HEAD), m.encode(head), timeout=30)))
        self.published += len(frames)
        return len(frames)

    async def confirm(self) -> None:
        acks, self.acks = self.acks, []
        if acks:
            await asyncio.gather(*acks)


async def run_replay(nats_url: str, *, rates: list[float], step_s: float = 8.0, n_pools: int = 300,
                     seed: int = 3, block_events: int = 50, log_dir: Path | None = None,
                     echo: Any = print) -> ReplayResult:
    namespace = f"stress{os.getpid()}"
    echo(f"replay: generating {n_pools} pools and a pool of events...")
    snapshots, events = events_pool(n_pools, 40_000, seed)
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
        await wait_metric(detector.base_url, "pools", len(snapshots), 60.0)
        replayer = _FastReplayer(bus, events, first_block)
        consumed_before = await detector_events(detector.base_url)
        work_before = await _detector_work(detector.base_url)
        for rate in rates:
            # Arbitrum makes 4 blocks/s: a higher rate means bigger blocks, not more of them
            per_block = max(block_events, int(rate / BLOCKS_PER_S))
            blocks_per_s = rate / per_block
            n_blocks = max(1, round(step_s * blocks_per_s))
            blocks = replayer.encode_blocks(n_blocks, per_block)
            start_published = replayer.published
            t0 = time.perf_counter()
            next_at = t0
            cpu0 = time.process_time()
            for block, frames in blocks:
                now = time.perf_counter()
                if now < next_at:
                    await asyncio.sleep(next_at - now)
                await replayer.publish_block(block, frames)
                if len(replayer.acks) > 8:  # bounded: never more than 8 blocks unconfirmed
                    await replayer.acks.pop(0)
                next_at += 1.0 / blocks_per_s
            elapsed = max(time.perf_counter() - t0, n_blocks / blocks_per_s)  # the last block's interval included
            publisher_cpu = (time.process_time() - cpu0) / elapsed
            await replayer.confirm()
            consumed_now = await detector_events(detector.base_url)
            published = replayer.published - start_published
            consumed = consumed_now - consumed_before
            backlog = max(0, int(replayer.published - consumed_now))
            t_drain = time.perf_counter()
            drained = False
            while time.perf_counter() - t_drain < 60:
                if await detector_events(detector.base_url) >= replayer.published:
                    drained = True
                    break
                await asyncio.sleep(0.1)
            drain_s = time.perf_counter() - t_drain
            consumed_before = await detector_events(detector.base_url)
            work_now = await _detector_work(detector.base_url)
            work = {k.removeprefix("mev_detector_"): round(v - work_before.get(k, 0.0), 1) if k.endswith(("_total", "published"))
                    else v for k, v in work_now.items()}
            work_before = work_now
            step = ReplayStep(
                offered_per_s=rate, published=published, published_per_s=round(published / elapsed, 1),
                consumed_per_s=round(consumed / elapsed, 1), backlog_end=backlog, drain_s=round(drain_s, 2),
                sustained=consumed >= 0.95 * published and backlog <= rate * 0.5 and published >= 0.95 * rate * step_s,
                drain_per_s=round(backlog / drain_s, 1) if drain_s > 0 and backlog else 0.0,
            )
            step.publisher_cpu = round(publisher_cpu, 2)  # type: ignore[attr-defined]
            step.detector_work = work  # type: ignore[attr-defined]
            result.steps.append(step)
            echo(f"  offered {rate:>8.0f}/s  published {step.published_per_s:>9.1f}/s (publisher CPU "
                 f"{publisher_cpu:.2f} core)  detector consumed {step.consumed_per_s:>9.1f}/s  backlog {backlog:>7}  "
                 f"drain {step.drain_s:>5.2f}s ({step.drain_per_s:>7.0f}/s)  "
                 f"{'sustained' if step.sustained else 'NOT sustained'}\n    detector work in the step: {work}")
            if not drained:  # saturated: a higher rate would only start on top of this backlog
                echo("  detector still behind after 60 s of drain: saturated, ramp stopped")
                break
        result.detector_rss_mb = round(rss_mb(detector) or 0.0, 1)
    finally:
        detector.stop()
        await bus.close()
        from mevbot.devnet.stack import delete_namespace_streams

        await delete_namespace_streams(nats_url, namespace)
    return result


# --- part 2: chain ------------------------------------------------------------------------------------

PLAN_STAGES = ("log_to_candidate", "candidate_to_plan", "plan_to_signed", "signed_to_verdict", "log_to_signed",
               "log_to_verdict")


@dataclass
class StageStats(PipelineStats):
    """The tap's stats plus, per plan, the split into stages (same plan, same clock)."""

    plan_ms: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in PLAN_STAGES})
    verdicts: dict[str, int] = field(default_factory=dict)
    exact_checked_here: int = 0  # plans the validator left to the executor's exact check

    by_check: dict[str, list[float]] = field(default_factory=lambda: {"simulated_by_validator": [],
                                                                      "left_to_executor": []})

    def observe(self, msg: object) -> None:
        arrived = time.time_ns()
        super().observe(msg)
        if isinstance(msg, m.ExecutionPlan):
            if not msg.simulated:
                self.exact_checked_here += 1
            if msg.detected_ns and msg.validated_ns >= msg.detected_ns:  # every plan, signed or not
                key = "simulated_by_validator" if msg.simulated else "left_to_executor"
                self.by_check[key].append((msg.validated_ns - msg.detected_ns) / 1e6)
        if not isinstance(msg, m.ExecutionResult):
            return
        key = f"{msg.status.value}:{msg.reason}"
        self.verdicts[key] = self.verdicts.get(key, 0) + 1
        plan = self.plans.get(msg.plan_id)
        if plan is None or not msg.signed_ns or msg.status not in (m.ExecutionStatus.DRY_RUN, m.ExecutionStatus.SENT):
            return
        start = plan.event_received_ns
        spans = {
            "log_to_candidate": (start, plan.detected_ns), "candidate_to_plan": (plan.detected_ns, plan.validated_ns),
            "plan_to_signed": (plan.validated_ns, msg.signed_ns), "signed_to_verdict": (msg.signed_ns, arrived),
            "log_to_signed": (start, msg.signed_ns), "log_to_verdict": (start, arrived),
        }
        for stage, (a, b) in spans.items():
            if a > 0 and b >= a:
                self.plan_ms[stage].append((b - a) / 1e6)

    def plan_summary(self) -> dict[str, dict[str, float | int | None]]:
        series = dict(self.plan_ms)
        series.update({f"candidate_to_plan_{k}": v for k, v in self.by_check.items()})
        return {s: {"n": len(v), "p50_ms": _r(percentile(v, 50)), "p99_ms": _r(percentile(v, 99)),
                    "max_ms": _r(max(v) if v else None)} for s, v in series.items()}


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 2)


#: histograms the services keep of their own part: (service, metric, label filter, name in the output)
_INTERNAL = (
    ("validator", "mev_stage_latency_seconds", 'stage="validator_inbox"', "validator_detected_to_received"),
    ("validator", "mev_validator_latency_seconds", 'outcome="approved"', "validator_validate_approved"),
    ("validator", "mev_validator_latency_seconds", 'outcome="rejected"', "validator_validate_rejected"),
    ("executor", "mev_stage_latency_seconds", 'stage="executor_sign"', "executor_received_to_signed"),
)


async def _histograms(urls: dict[str, str]) -> dict[str, dict[float, float]]:
    """Cumulative bucket counts of :data:`_INTERNAL` (le -> count), from the services' /metrics."""
    import httpx

    out: dict[str, dict[float, float]] = {name: {} for *_, name in _INTERNAL}
    async with httpx.AsyncClient() as client:
        texts = {}
        for service, url in urls.items():
            try:
                texts[service] = (await client.get(f"{url}/metrics", timeout=10.0)).text
            except httpx.HTTPError:
                texts[service] = ""
    for service, metric, label, name in _INTERNAL:
        for line in texts.get(service, "").splitlines():
            if line.startswith(f"{metric}_bucket{{") and label in line:
                le = line.split('le="', 1)[1].split('"', 1)[0]
                out[name][float("inf") if le == "+Inf" else float(le)] = float(line.rsplit(" ", 1)[1])
    return out


def _bucket_quantiles(before: dict[float, float], after: dict[float, float]) -> dict[str, float | int | None]:
    """p50/p99 as the upper bound (ms) of the bucket they fall in, over the step's observations."""
    delta = sorted((le, after[le] - before.get(le, 0.0)) for le in after)
    n = int(delta[-1][1]) if delta else 0
    def q(x: float) -> float | None:
        for le, count in delta:
            if n and count >= x * n:
                return None if le == float("inf") else round(le * 1e3, 2)
        return None
    return {"n": n, "p50_le_ms": q(0.5), "p99_le_ms": q(0.99)}


@dataclass
class ChainStep:
    target_events_per_s: float
    events_per_s: float
    swaps_sent: int
    dislocations: int
    latency_ms: dict[str, dict[str, float | int | None]]
    per_plan_ms: dict[str, dict[str, float | int | None]]
    verdicts: dict[str, int]
    plans: int
    plans_exact_checked_by_executor: int
    load_avg: str
    internal_ms: dict[str, dict[str, float | int | None]] = field(default_factory=dict)


async def run_chain(*, rates: list[float], step_s: float = 20.0, seed: int = 11, work_dir: Path = Path("var/stress"),
                    nats_url: str, redis_url: str, extra_env: dict[str, str] | None = None,
                    echo: Any = print, execute: bool = False) -> list[ChainStep]:
    from mevbot.devnet.chainwatch import ChainWatcher
    from mevbot.devnet.configfile import BASE_SYMBOLS
    from mevbot.devnet.market import MarketConfig, MarketSimulator
    from mevbot.devnet.options import DevnetOptions
    from mevbot.devnet.run import devnet_environment
    from rich.console import Console

    opts = DevnetOptions(seed=seed, execute=execute, work_dir=work_dir / "chain", nats_url=nats_url, redis_url=redis_url,
                         live=False, extra_env={"LOG_LEVEL": "warning", **(extra_env or {})})
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
        urls = {c.service: c.base_url for c in dn.supervisor.children if c.service in ("validator", "executor")}
        for rate in rates:
            hist_before = await _histograms(urls)
            dn.tap.stats = stats = StageStats()
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
            load_avg = " ".join(f"{x:.2f}" for x in os.getloadavg())
            stop.set()
            for t in threads:
                t.join(timeout=10)
            elapsed = time.perf_counter() - t0
            await asyncio.sleep(1.0)
            hist_after = await _histograms(urls)
            step = ChainStep(rate, round(stats.events / elapsed, 1), counts["swaps"], counts["dislocations"],
                             stats.latency_summary(), stats.plan_summary(), dict(stats.verdicts), len(stats.plans),
                             stats.exact_checked_here, load_avg,
                             {k: _bucket_quantiles(hist_before[k], v) for k, v in hist_after.items()})
            steps.append(step)
            lat = " ".join(f"{k}={v['p50_ms']}/{v['p99_ms']}" for k, v in step.latency_ms.items() if v["n"])
            per_plan = " ".join(f"{k}={v['p50_ms']}/{v['p99_ms']}" for k, v in step.per_plan_ms.items() if v["n"])
            echo(f"  target {rate:>6.0f} ev/s  ingest published {step.events_per_s:>7.1f} ev/s  swaps {step.swaps_sent}  "
                 f"dislocations {step.dislocations}  load {load_avg}\n"
                 f"    tap latency p50/p99 ms: {lat}\n"
                 f"    per plan (n={step.per_plan_ms['log_to_signed']['n']}) p50/p99 ms: {per_plan}\n"
                 f"    plans {step.plans} (exact check left to the executor: {step.plans_exact_checked_by_executor}); "
                 f"results {step.verdicts}\n"
                 f"    inside the services (histogram bucket bounds, ms): {step.internal_ms}")
        sim.close()
        watcher.close()
    return steps


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - CLI glue
    import argparse
    import json

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=("replay", "chain", "both"), default="both")
    ap.add_argument("--rates", default="5000,10000,20000,30000,40000", help="replay: offered events/s")
    ap.add_argument("--chain-rates", default="250,500,1000", help="chain: target events/s")
    ap.add_argument("--step", type=float, default=8.0, help="replay: seconds per rate")
    ap.add_argument("--chain-step", type=float, default=20.0, help="chain: seconds per rate")
    ap.add_argument("--pools", type=int, default=300)
    ap.add_argument("--exact-check", choices=("validator", "executor"), default="validator",
                    help="chain: VALIDATOR_EXACT_CHECK (where each plan is simulated exactly before a send)")
    ap.add_argument("--execute", action="store_true",
                    help="chain: EXECUTION_ENABLED=true on the devnet (plans are sent and land, so the "
                         "opportunities close as in a market with takers; default: dry run, every "
                         "dislocation stays open and is sized again at every event on its pools)")
    ap.add_argument("--env", nargs="*", default=[], metavar="KEY=VALUE",
                    help="chain: extra environment of every service, e.g. DETECTOR_IDLE_FLUSH_MS=30")
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = ap.parse_args(argv)
    extra_env = dict(kv.split("=", 1) for kv in args.env)
    nats_url = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    out: dict[str, Any] = {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                           "started_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
                           "load_avg_start": " ".join(f"{x:.2f}" for x in os.getloadavg())}
    if args.part in ("replay", "both"):
        print("part 1, replay: ingest publish path -> detector (real NATS JetStream, real detector process)")
        r = asyncio.run(run_replay(nats_url, rates=[float(x) for x in args.rates.split(",")], step_s=args.step,
                                   n_pools=args.pools))
        out["replay"] = {"pools": r.pools, "sustained_events_per_s": r.sustained_per_s,
                         "detector_rss_mb": r.detector_rss_mb, "steps": [s.__dict__ for s in r.steps]}
        print(f"sustained: {r.sustained_per_s:.0f} events/s through the detector ({r.pools} pools)")
    if args.part in ("chain", "both"):
        print("part 2, chain: anvil -> ingest -> detector -> validator -> executor (signs, "
              f"EXECUTION_ENABLED={str(args.execute).lower()}), VALIDATOR_EXACT_CHECK={args.exact_check}")
        steps = asyncio.run(run_chain(rates=[float(x) for x in args.chain_rates.split(",")], step_s=args.chain_step,
                                      nats_url=nats_url, redis_url=redis_url,
                                      extra_env={"VALIDATOR_EXACT_CHECK": args.exact_check, **extra_env},
                                      execute=args.execute))
        out["chain"] = [s.__dict__ for s in steps]
    out["load_avg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
