"""Ingest hot path: recorded logs -> decode -> dedupe/order -> JetStream async publish, real NATS.

1. Records real logs: anvil + the real Uniswap V2/V3 market + random swaps, mints and burns
   (``eth_getLogs`` over the run), unless ``--logs FILE`` gives a recording.
2. Replays them through the production code path of :class:`services.ingest.engine.Engine`
   (``on_log`` for each live log, then ``complete_block`` with the block's authoritative list,
   which dedupes everything and publishes the ``BlockHead``), against a private ``nats-server
   -js``, blocks of ``--per-block`` logs with fresh positions, until ``--events`` were published.
3. Prints events/s (including the final wait for every JetStream ack), events per CPU-second of
   this process (user+system, and user only: nats-server is another process) and the added
   latency from "log received" (stamp given to ``on_log``) to "publish call returned", p50 / p99,
   with the UTC time and the load average at the end of the run.

    .venv/bin/python benchmarks/ingest_bench.py [--events 200000] [--per-block 40] [--mode live|backfill]
                                                [--loop uvloop|asyncio]

The event loop is uvloop, as the service runs (``mevbot.runtime.runner.run_loop``); ``--loop
asyncio`` measures the stdlib loop.

In ``backfill`` mode whole blocks go through ``complete_block`` and the stream confirms every 64
blocks (how a catch-up after a reconnect runs); latency is then measured from the block's start.

The pools are pre-registered (detection and snapshots are not on the hot path: they happen once
per pool). One Python process, one core; nats-server runs as its own process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mevbot import messages as m
from mevbot.logging import get_logger
from mevbot.nats_bus import NatsBus
from mevbot.runtime.localstack import NatsServer

from services.ingest.classify import Detection
from services.ingest.engine import Engine
from services.ingest.outputs import Publisher
from services.ingest.registry import PoolRegistry
from services.ingest.settings import IngestSettings
from services.ingest.topics import CREATION_TOPICS, log_filter


def record_logs(seconds: float) -> list[dict]:
    from mevbot.chain.anvil import AnvilConfig, AnvilProcess
    from mevbot.chain.deploy import deploy_market
    from mevbot.chain.rpc import RpcClient

    from tests.integration.ingest.harness import Traffic

    with AnvilProcess(AnvilConfig()) as node:
        dep = deploy_market(node.http_url)
        first = int(RpcClient(node.http_url).call("eth_blockNumber"), 16) + 1
        v2 = [p.address.lower() for p in dep.v2_pairs]
        v3 = [p.address.lower() for p in dep.v3_pools]
        Traffic(node.http_url, dep, v2, v3, seed=99).run(seconds, per_block=(3, 8), pause_s=0.0)
        with RpcClient(node.http_url) as rpc:
            last = int(rpc.call("eth_blockNumber"), 16)
            logs = rpc.call("eth_getLogs", log_filter({"fromBlock": hex(first), "toBlock": hex(last)}))
        return [lg for lg in logs if lg["topics"][0] not in CREATION_TOPICS]


class TimedPublisher(Publisher):
    """Publisher that notes when each event's publish call returned (latency end point)."""

    def __init__(self, bus: NatsBus, chain_id: int) -> None:
        super().__init__(bus, chain_id)
        self.latencies_ns: list[int] = []

    async def event(self, event: m.PoolEvent) -> None:
        await super().event(event)
        self.latencies_ns.append(time.time_ns() - event.received_ns)


def make_blocks(logs: list[dict], n_events: int, per_block: int, start: int) -> list[tuple[dict, list[dict]]]:
    blocks = []
    parent = "0x" + format(start, "064x")
    i = 0
    number = start + 1
    while i < n_events:
        block_hash = "0x" + format(number, "064x")
        block_logs = []
        for index in range(min(per_block, n_events - i)):
            raw = dict(logs[(i + index) % len(logs)])
            raw.update(blockNumber=hex(number), blockHash=block_hash, logIndex=hex(index), transactionIndex=hex(index),
                       removed=False)
            block_logs.append(raw)
        header = {"number": hex(number), "hash": block_hash, "parentHash": parent, "timestamp": hex(number),
                  "baseFeePerGas": "0x5f5e100"}
        blocks.append((header, block_logs))
        parent = block_hash
        i += len(block_logs)
        number += 1
    return blocks


async def run(args: argparse.Namespace) -> dict:
    if args.logs:
        logs = json.loads(Path(args.logs).read_text())
    else:
        t0 = time.perf_counter()
        logs = record_logs(args.record_s)
        print(f"recorded {len(logs)} real logs from anvil in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    from mevbot.chainconfig import default_chain_config

    chain = default_chain_config()
    store = Path(tempfile.mkdtemp(prefix="ingest-bench-nats-"))
    server = NatsServer(store_dir=store / "store", log_path=store / "nats.log").start()
    bus = NatsBus(server.url, service="ingest", namespace="bench", chain_id=chain.chain_id,
                  max_in_flight=args.in_flight)
    try:
        await bus.connect()
        await bus.ensure_streams()
        publisher = TimedPublisher(bus, chain.chain_id)
        registry = PoolRegistry(chain, rpc=None, cache=None)  # type: ignore[arg-type]
        from mevbot.messages import PoolInfo, PoolKind

        for address in {lg["address"].lower() for lg in logs}:
            registry.accepted[address] = Detection(address=address, accepted=True, info=PoolInfo(
                address=address, kind=PoolKind.UNISWAP_V3, dex="bench", factory="0x" + "00" * 20,
                token0="0x" + "00" * 20, token1="0x" + "11" * 20))
        from mevbot.provider_config import Provider

        engine = Engine(chain=chain, rpc=None, ws_providers=[Provider("none", "ws://x", "ws")],  # type: ignore[arg-type]
                        registry=registry, publisher=publisher, checkpoints=None, settings=IngestSettings(),
                        log=get_logger("bench"))
        from services.ingest.ledger import Ledger

        engine.ledger = Ledger(1000, "0x" + format(1000, "064x"))
        engine.snapshotted = set(registry.accepted)
        blocks = make_blocks(logs, args.events, args.per_block, 1000)
        start = time.perf_counter()
        cpu_start = time.process_time()
        times_start = os.times()
        if args.mode == "live":
            for header, block_logs in blocks:
                for raw in block_logs:
                    await engine.on_log(raw, time.time_ns())
                await engine.complete_block(header, source="bench", logs=block_logs)
        else:  # backfill: whole blocks from eth_getLogs, confirmed with the stream every 64 blocks
            for i, (header, block_logs) in enumerate(blocks):
                confirm = i == len(blocks) - 1 or i % 64 == 63
                await engine.complete_block(header, source="bench", logs=block_logs, confirm=confirm)
        publish_s = time.perf_counter() - start
        await bus.flush(60)
        elapsed = time.perf_counter() - start
        cpu_s = time.process_time() - cpu_start
        times_end = os.times()
        user_s = times_end.user - times_start.user
        lat = sorted(publisher.latencies_ns)
        result = {
            "mode": args.mode,
            "events": publisher.events, "blocks": len(blocks), "recorded_logs": len(logs),
            "events_per_s": round(publisher.events / elapsed),
            "events_per_s_before_final_ack_wait": round(publisher.events / publish_s),
            "events_per_cpu_s": round(publisher.events / cpu_s),
            "events_per_user_cpu_s": round(publisher.events / user_s),
            "system_cpu_share": round(1 - user_s / cpu_s, 2),
            "latency_p50_us": round(lat[len(lat) // 2] / 1000, 1),
            "latency_p99_us": round(lat[int(len(lat) * 0.99)] / 1000, 1),
            "latency_mean_us": round(statistics.fmean(lat) / 1000, 1),
            "elapsed_s": round(elapsed, 2),
            "loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
            "utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }
        return result
    finally:
        await bus.close()
        server.stop()
        shutil.rmtree(store, ignore_errors=True)  # the private server's JetStream files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--per-block", type=int, default=40)
    parser.add_argument("--in-flight", type=int, default=8192)
    parser.add_argument("--record-s", type=float, default=3.0)
    parser.add_argument("--mode", choices=("live", "backfill"), default="live",
                        help="live: on_log per log then the block end (confirmed per block); backfill: whole blocks")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop",
                        help="event loop: uvloop as the service runs (default), or the stdlib one")
    parser.add_argument("--logs", help="JSON file of recorded logs (default: record from anvil now)")
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "warning")
    if args.loop == "uvloop":  # as the service runs (mevbot.runtime.runner.run_loop)
        from mevbot.runtime.runner import run_loop

        result = run_loop(run(args))
    else:
        result = asyncio.run(run(args))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
