"""Detector benchmark on real NATS: sustained events/s, event-in -> candidate-out latency, memory.

The detector runs as its own process (``python -m services.detector``, one Python thread = one
core); this script plays ingest: it publishes the pool snapshots, then swap events (V2 Sync / V3
Swap computed by exact swaps on shadow pools, so the stream is a consistent chain history) with a
BlockHead after every block, on the JetStream stream MEV_CHAIN of a private namespace.

Markets:
  (a) ``arbitrum``: the 32 complete Uniswap V3 pools (real tick maps) and the 2 V2 pairs of
      ``/work/shared/data/arbitrum/initial_pool_states.json``.
  (b) ``synthetic``: 2,000 pools (30 % V3) over 200 tokens, >= 20,000 cycles.

Phases per market:
  1. throughput: every block published back to back as fast as possible; events/s = events the
     detector applied / time until it applied the last one (read from its /metrics).
  2. latency at ``--rate`` events/s (default 1,000), each event stamped (``received_ns``, as ingest
     stamps each log) just before it is encoded and published:
       * ``steady`` (the target's condition): events arrive one by one on a Poisson process at the
         rate, as Arbitrum's sequencer feed delivers them; a block's BlockHead follows its last
         event (``even``: evenly spaced instead);
       * ``burst``: the ``--block-events`` events of a block back to back every block interval
         (1,000/s = 4 blocks/s x 250), then its BlockHead: what a block-polling ingest produces.
     Per candidate: arrival at this script's subscriber - the stamp of the oldest event that
     dirtied its cycle since its last evaluation (``from_oldest``) and - the stamp of the newest
     event its state includes (``from_newest``, from the chain positions in ``state_versions``);
     p50 / p99 / p99.9 / max; also the first candidate per triggering event and ``internal``
     (``detected_ns`` - stamp: built, before publish).
  3. memory: the detector's VmRSS at the end.

"On one core": ``--detector-cpu 1`` pins the detector to CPU 1 (its ``CPU_AFFINITY``) and this
script to the other CPUs; ``--busy-poll`` makes the detector's event loop poll instead of sleeping
between messages (``BUSY_POLL``, :mod:`mevbot.runtime.cpu`). nats-server is not moved.

    .venv/bin/python benchmarks/detector_bench.py [--market arbitrum|synthetic|both] [--events N]
        [--modes steady burst] [--detector-env DETECTOR_SIZING=full DETECTOR_IDLE_FLUSH_MS=20]
        [--detector-cpu 1 --busy-poll]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import msgspec
import nats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mevbot import messages as m
from mevbot import subjects as subj
from mevbot.amm.loaders import load_initial_pool_states
from mevbot.config import env_cpu_list
from mevbot.nats_bus import NatsBus

from services.detector.synthetic import CHAIN_ID, Arbitrageur, SyntheticMarket, block_hash_of

DATA = Path("/work/shared/data/arbitrum")
NATS_URL = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")


def arbitrum_snapshots(block: int = 1_000) -> list[m.PoolSnapshot]:
    loaded = load_initial_pool_states(DATA / "initial_pool_states.json", DATA / "pools.json")
    snaps = []
    for address, (pool, complete) in sorted(loaded.items()):
        if not complete:
            continue
        info = m.PoolInfo(address=address, kind=m.PoolKind.UNISWAP_V3, dex="uniswap_v3", factory="0x1f98431c8ad98523631ae4a59f267346ea31f984",
                          token0=pool.token0, token1=pool.token1, fee_pips=pool.fee_pips, tick_spacing=pool.tick_spacing)
        snaps.append(m.PoolSnapshot(chain_id=CHAIN_ID, pool=info, block_number=block, block_hash=block_hash_of(block),
                                    sqrt_price_x96=pool.sqrt_price_x96, tick=pool.tick, liquidity=pool.liquidity,
                                    fee_pips=pool.fee_pips, ticks=sorted(pool.ticks.items())))
    states = json.loads((DATA / "initial_pool_states.json").read_text())
    for p in json.loads((DATA / "pools.json").read_text()):
        a = p["address"].lower()
        if p.get("chain") == "arbitrum" and p.get("version") == "v2" and states.get(a, {}).get("reserve0"):
            info = m.PoolInfo(address=a, kind=m.PoolKind.UNISWAP_V2, dex="uniswap_v2",
                              factory="0xf1d7cc64fb4452f05c498126312ebe29f30fbcf9",
                              token0=p["token0"]["address"].lower(), token1=p["token1"]["address"].lower(), fee_pips=3000)
            snaps.append(m.PoolSnapshot(chain_id=CHAIN_ID, pool=info, block_number=block, block_hash=block_hash_of(block),
                                        reserve0=int(states[a]["reserve0"]), reserve1=int(states[a]["reserve1"])))
    return snaps


def subject_of(message: m.Message) -> str:
    if isinstance(message, m.PoolEvent):
        return subj.event_subject(message)
    if isinstance(message, m.BlockHead):
        return subj.BLOCK_HEAD
    return subj.POOL_SNAPSHOT


class Detector:
    """The detector as a child process on a free port."""

    def __init__(self, namespace: str, port: int, extra_env: dict | None = None) -> None:
        env = dict(os.environ, NATS_URL=NATS_URL, MEV_NAMESPACE=namespace, HTTP_PORT=str(port), LOG_LEVEL="warning",
                   LOG_FORMAT="console", REPLICA_ID="bench-0", PYTHONPATH=str(ROOT), **(extra_env or {}))
        self.port = port
        self.proc = subprocess.Popen([sys.executable, "-m", "services.detector"], cwd=ROOT, env=env,
                                     stdout=subprocess.DEVNULL, stderr=open(f"/tmp/detector-bench-{namespace}.log", "w"))  # noqa: SIM115 (the child's lifetime)

    async def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError("detector exited")
                try:
                    if (await client.get(f"http://127.0.0.1:{self.port}/health/ready")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError("detector not ready")

    async def metric(self, client: httpx.AsyncClient, name: str) -> float:
        text = (await client.get(f"http://127.0.0.1:{self.port}/metrics")).text
        match = re.search(rf"^{name} ([0-9.e+]+)$", text, re.MULTILINE)
        return float(match.group(1)) if match else 0.0

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def position_of(event: m.PoolEvent) -> int:
    """The pool version this event produces (mevbot.market.versions.position)."""
    meta = event.meta
    return (meta.block_number << 40) | (meta.tx_index << 20) | meta.log_index


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted ``values``."""
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


def describe(values: list[float]) -> dict:
    values = sorted(values)
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50": round(pct(values, 0.5), 3), "p99": round(pct(values, 0.99), 3),
            "p99.9": round(pct(values, 0.999), 3), "max": round(values[-1], 3)}


class LatencyProbe:
    """Candidate arrival here - the publish stamp of the events that made its cycle dirty.

    Every event is stamped (``received_ns``, as ingest stamps each log) just before it is encoded
    and published. Per candidate:
      * ``from_oldest``: arrival - ``event_received_ns`` (the detector's stamp of the *oldest* event
        that dirtied the cycle since its last evaluation),
      * ``from_newest``: arrival - the stamp of the *newest* event the candidate's state includes
        (the event whose chain position is the highest of its ``state_versions``),
      * ``first_per_event``: the first candidate to arrive for each oldest-dirtying event,
      * ``internal``: ``detected_ns`` (candidate built, before publish) - ``event_received_ns``;
      * ``publish_to_arrival``: arrival - ``detected_ns`` (the way out: publish, NATS, this probe).
    Arrival is read as the subscription hands over each message; candidates are decoded after the
    phase (decoding each on arrival delayed the ones behind it in the same socket read).
    """

    def __init__(self) -> None:
        self.stamps: dict[tuple[str, int], int] = {}  # (pool, version) -> publish stamp
        self.active = False
        self.reset()

    def reset(self) -> None:
        self.arrivals: list[tuple[int, bytes]] = []  # (arrival ns, candidate as received)
        self.since_ns = time.time_ns()

    def start(self) -> None:
        self.reset()
        self.active = True

    def stop(self) -> None:
        self.active = False

    def stamp(self, event: m.PoolEvent) -> m.PoolEvent:
        now = time.time_ns()
        self.stamps[(event.pool, position_of(event))] = now
        return msgspec.structs.replace(event, received_ns=now)

    async def on_candidate(self, msg) -> None:
        # the arrival only: decoding here (tens of microseconds) delayed the arrival stamps of the
        # candidates behind it in the same socket read, a cost of this probe, not of the detector
        if self.active:
            self.arrivals.append((time.time_ns(), msg.data))

    def summary(self) -> dict:
        oldest: list[float] = []
        newest: list[float] = []
        internal: list[float] = []
        out: list[float] = []
        first: dict[int, float] = {}
        unmatched = 0
        for now, data in self.arrivals:
            c = m.decode(data, m.Candidate)
            if c.event_received_ns < self.since_ns:
                continue  # dirtied before this phase
            latency = (now - c.event_received_ns) / 1e6
            oldest.append(latency)
            internal.append((c.detected_ns - c.event_received_ns) / 1e6)
            out.append((now - c.detected_ns) / 1e6)
            first.setdefault(c.event_received_ns, latency)
            newest_ns = max((self.stamps.get((v.pool, v.version), 0) for v in c.state_versions), default=0)
            if newest_ns:
                newest.append((now - newest_ns) / 1e6)
            else:
                unmatched += 1
        return {"candidates": len(oldest), "from_oldest_ms": describe(oldest),
                "from_newest_ms": describe(newest), "first_per_event_ms": describe(list(first.values())),
                "internal_ms": describe(internal), "publish_to_arrival_ms": describe(out)}


async def publish_steady(nc, bus: NatsBus, blocks, rate: float, probe: LatencyProbe, *, poisson: bool) -> int:
    """Every event at its own time: a Poisson process (or evenly spaced) at ``rate`` events/s,
    each block's BlockHead right after its last event (the sequencer feed's shape)."""
    rng = random.Random(11)
    sent = 0
    due = time.perf_counter()
    for events, head in blocks:
        for e in events:
            due += rng.expovariate(rate) if poisson else 1.0 / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await nc.publish(bus.wire(subject_of(e)), m.encode(probe.stamp(e)))
            sent += 1
        await nc.publish(bus.wire(subj.BLOCK_HEAD), m.encode(head))
    await nc.flush()
    return sent


async def publish_bursts(nc, bus: NatsBus, blocks, blocks_per_s: float, probe: LatencyProbe) -> int:
    """A block's events back to back every ``1 / blocks_per_s`` s, then its BlockHead (each event
    stamped at its own publish)."""
    sent = 0
    start = time.perf_counter()
    for k, (events, head) in enumerate(blocks):
        delay = start + k / blocks_per_s - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        for e in events:
            await nc.publish(bus.wire(subject_of(e)), m.encode(probe.stamp(e)))
        await nc.publish(bus.wire(subj.BLOCK_HEAD), m.encode(head))
        await nc.flush()
        sent += len(events)
    return sent


async def run_market(name: str, market: SyntheticMarket, n_events: int, rate: int, block_events: int,
                     size_fraction: tuple[float, float], latency_s: float,
                     modes: tuple[str, ...] = ("steady", "burst"), detector_env: dict | None = None) -> dict:
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    bus = NatsBus(NATS_URL, service="bench", namespace=namespace, chain_id=CHAIN_ID)
    await bus.connect()
    await bus.ensure_streams()
    nc = await nats.connect(NATS_URL)
    detector = None
    busy_poll = (detector_env or {}).get("BUSY_POLL") == "true"
    result: dict = {"market": name, "pools": len(market.pools), "block_events": block_events,
                    "swap_size": list(size_fraction), "detector_cpu": (detector_env or {}).get("CPU_AFFINITY", ""),
                    "busy_poll": busy_poll}
    try:
        for snap in market.snapshots:
            await bus.publish_async(subj.POOL_SNAPSHOT, snap)
        await bus.flush()
        detector = Detector(namespace, free_port(), detector_env)
        await detector.wait_ready()
        client = httpx.AsyncClient(timeout=120)
        text = (await client.get(f"http://127.0.0.1:{detector.port}/metrics")).text
        result["cycles"] = int(float(re.search(r"^mev_detector_cycles ([0-9.e+]+)$", text, re.MULTILINE).group(1)))

        # 1. throughput: pre-encoded blocks, published back to back
        arbitrageur = Arbitrageur(market, max_trades=32)
        n_blocks = max(1, n_events // block_events)
        payloads: list[tuple[str, bytes]] = []
        count = 0
        for events, head in market.blocks(n_blocks, block_events, size_fraction, arbitrageur=arbitrageur):
            for e in events:
                payloads.append((bus.wire(subject_of(e)), m.encode(e)))
            payloads.append((bus.wire(subj.BLOCK_HEAD), m.encode(head)))
            count += len(events)
        base = await detector.metric(client, "mev_detector_events_total")
        cpu0 = detector.cpu_s()
        t0 = time.perf_counter()
        for i, (subject, data) in enumerate(payloads):
            await nc.publish(subject, data)
            if i % 500 == 0:
                await nc.flush()
        await nc.flush()
        while await detector.metric(client, "mev_detector_events_total") < base + count:
            await asyncio.sleep(0.1)  # rendering /metrics costs the detector CPU: do not poll hard
            if time.perf_counter() - t0 > 600:
                raise TimeoutError("throughput phase did not finish")
        elapsed = time.perf_counter() - t0
        result["throughput_events"] = count
        result["events_per_s"] = round(count / elapsed)
        cpu = detector.cpu_s() - cpu0
        result["detector_cpu_share"] = round(cpu / elapsed, 2)
        result["events_per_detector_cpu_s"] = round(count / cpu) if cpu else None

        # 2. latency at 1,000 events/s: a steady stream (the target), then 250-event bursts
        probe = LatencyProbe()
        await nc.subscribe(bus.wire(subj.CANDIDATES), cb=probe.on_candidate)
        await asyncio.sleep(1.0)  # let the throughput phase's last evaluations go out
        for mode in modes:
            blocks_per_s = rate / block_events
            n_latency_blocks = max(1, int(latency_s * blocks_per_s))
            latency_blocks = list(market.blocks(n_latency_blocks, block_events, size_fraction, arbitrageur=arbitrageur))
            probe.start()
            cpu0 = detector.cpu_s()
            t0 = time.perf_counter()
            if mode == "burst":
                sent = await publish_bursts(nc, bus, latency_blocks, blocks_per_s, probe)
            else:
                sent = await publish_steady(nc, bus, latency_blocks, rate, probe, poisson=(mode == "steady"))
            await asyncio.sleep(1.0)  # the last candidates
            paced_s = time.perf_counter() - t0 - 1.0
            row = probe.summary()
            row["loadavg_1m"] = os.getloadavg()[0]  # the machine is shared: say how busy it was
            row["events_per_s"] = round(sent / paced_s)
            row["detector_cpu_share"] = (None if busy_poll else
                                         round((detector.cpu_s() - cpu0) / (paced_s + 1.0), 2))
            result[f"latency_{mode}"] = row
            probe.stop()
        result["rss_mb"] = round(detector.rss_mb(), 1)
        await client.aclose()
    finally:
        if detector is not None:
            detector.stop()
        js = nc.jetstream()
        for spec in subj.STREAMS:
            try:
                await js.delete_stream(bus.stream_name(spec))
            except Exception:  # noqa: BLE001, S110 - best-effort clean-up
                pass
        await nc.close()
        await bus.close()
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--market", choices=["arbitrum", "synthetic", "both"], default="both")
    parser.add_argument("--events", type=int, default=100_000, help="events in the throughput phase")
    parser.add_argument("--rate", type=int, default=1_000, help="events/s in the latency phase")
    parser.add_argument("--block-events", type=int, default=250, help="events per block (1000/s = 4 blocks/s)")
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--size", type=float, nargs=2, default=(1e-6, 5e-4), metavar=("MIN", "MAX"),
                        help="swap size as a fraction of the pool's input-side depth (V3: virtual reserve)")
    parser.add_argument("--modes", nargs="+", choices=["steady", "even", "burst"], default=["steady", "burst"],
                        help="latency phases: steady = Poisson arrivals at --rate (the target), even = evenly "
                             "spaced, burst = --block-events back to back every block")
    parser.add_argument("--detector-env", nargs="*", default=[], metavar="KEY=VALUE",
                        help="extra environment of the detector, e.g. DETECTOR_SIZING=full DETECTOR_IDLE_FLUSH_MS=20 "
                             "(the pre-2026-11-24 behaviour: polished sizing, evaluation at block end)")
    parser.add_argument("--detector-cpu", metavar="CPUS", default="",
                        help="pin the detector to these CPUs (its CPU_AFFINITY, e.g. 1) and this benchmark to the "
                             "others: the detector on a core of its own, as the target says")
    parser.add_argument("--busy-poll", action="store_true",
                        help="the detector's event loop never blocks (BUSY_POLL=true; with --detector-cpu: its "
                             "core is then 100 %% busy by design, so its CPU share is not reported)")
    args = parser.parse_args()
    size = tuple(args.size)
    extra = dict(kv.split("=", 1) for kv in args.detector_env)
    if args.detector_cpu:
        detector_cpus = env_cpu_list("CPU_AFFINITY", env={"CPU_AFFINITY": args.detector_cpu})
        others = os.sched_getaffinity(0) - detector_cpus
        if not others:
            parser.error(f"--detector-cpu {args.detector_cpu} leaves no CPU for the benchmark")
        os.sched_setaffinity(0, others)
        extra["CPU_AFFINITY"] = args.detector_cpu
    if args.busy_poll:
        extra["BUSY_POLL"] = "true"
    modes = tuple(args.modes)
    results = []
    if args.market in ("arbitrum", "both"):
        market = SyntheticMarket.from_snapshots(arbitrum_snapshots(), seed=7)
        market.equilibrate()
        results.append(await run_market("arbitrum", market, args.events, args.rate, args.block_events,
                                        size, args.latency_seconds, modes, extra))
        print(json.dumps(results[-1]), flush=True)
    if args.market in ("synthetic", "both"):
        market = SyntheticMarket(n_tokens=200, n_pools=2000, v3_share=0.3, seed=1)
        market.equilibrate()
        results.append(await run_market("synthetic", market, args.events, args.rate, args.block_events,
                                        size, args.latency_seconds, modes, extra))
        print(json.dumps(results[-1]), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
