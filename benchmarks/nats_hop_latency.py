"""The floor of one NATS hop between two Python processes: publish stamp -> subscriber callback.

What every stage of the pipeline pays per message before doing any work of its own: a publisher
process stamps ``time.time_ns()`` into a message, publishes it with nats-py (Poisson arrivals at
``--rate``), and a subscriber process (pinned to ``--receiver-cpu``, optionally busy-polling like
``BUSY_POLL=true``) records ``now - stamp`` in its callback. Two ways in:

* ``core``: a plain NATS subscription (what candidates and plans take to a core subscriber);
* ``jetstream``: the message is captured by a file-storage stream and delivered by an ordered push
  consumer (what every chain event takes into the detector and the validator's mirror).

    .venv/bin/python benchmarks/nats_hop_latency.py [--rate 1000] [--messages 6000] [--receiver-cpu 1]
        [--modes core jetstream] [--polling on off]

Prints one JSON line per (mode, polling): p50 / p90 / p99 / p99.9 in microseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid

import nats
from nats.js import api

NATS_URL = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
PAYLOAD = 400  # bytes after the stamp: about a decoded swap event's JSON


def _pin(cpus: set[int]) -> None:
    available = os.sched_getaffinity(0)
    if cpus & available:
        os.sched_setaffinity(0, cpus & available)


async def receive(mode: str, subject: str, n: int, cpu: int, poll: bool) -> None:
    _pin({cpu})
    nc = await nats.connect(NATS_URL)
    latencies: list[int] = []
    done = asyncio.Event()

    async def on_msg(msg) -> None:
        latencies.append(time.time_ns() - int(msg.data[:20]))
        if len(latencies) >= n:
            done.set()

    if mode == "core":
        await nc.subscribe(subject, cb=on_msg)
    else:
        await nc.jetstream().subscribe(subject, stream=subject.split(".")[0], ordered_consumer=True, cb=on_msg,
                                       deliver_policy=api.DeliverPolicy.NEW)
    if poll:
        loop = asyncio.get_running_loop()

        def spin() -> None:
            loop.call_soon(spin)

        spin()
    print("ready", flush=True)
    await asyncio.wait_for(done.wait(), timeout=120)
    print(json.dumps(latencies), flush=True)
    await nc.close()


async def publish(subject: str, n: int, rate: float, cpus: set[int]) -> None:
    _pin(cpus)
    nc = await nats.connect(NATS_URL)
    rng = random.Random(1)
    due = time.perf_counter()
    pad = b"x" * PAYLOAD
    for _ in range(n):
        due += rng.expovariate(rate)
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await nc.publish(subject, b"%020d" % time.time_ns() + pad)
    await nc.flush()
    await nc.close()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def one(mode: str, poll: bool, args: argparse.Namespace) -> dict:
    stream = f"HOP{uuid.uuid4().hex[:8].upper()}"
    subject = f"{stream}.x"
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    if mode == "jetstream":
        await js.add_stream(name=stream, subjects=[f"{stream}.>"], storage=api.StorageType.FILE)
    warmup = 500
    total = args.messages + warmup
    receiver = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--role", "receive", "--mode", mode, "--subject", subject, "--messages", str(total),
        "--receiver-cpu", str(args.receiver_cpu), *(["--poll"] if poll else []),
        stdout=asyncio.subprocess.PIPE, limit=64 * 1024 * 1024)
    try:
        assert receiver.stdout is not None
        if (await receiver.stdout.readline()).strip() != b"ready":
            raise RuntimeError("receiver did not start")
        others = (os.sched_getaffinity(0) - {args.receiver_cpu}) or os.sched_getaffinity(0)
        await publish(subject, total, args.rate, others)
        latencies = json.loads(await receiver.stdout.readline())[warmup:]
    finally:
        await asyncio.wait_for(receiver.wait(), 30)
        if mode == "jetstream":
            await js.delete_stream(stream)
        await nc.close()
    us = [x / 1000 for x in latencies]
    return {"mode": mode, "receiver_busy_polls": poll, "rate": args.rate, "n": len(us),
            **{f"p{q}_us": round(pct(us, q / 100), 1) for q in (50, 90, 99, 99.9)}}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=1000.0, help="messages/s (Poisson)")
    parser.add_argument("--messages", type=int, default=6000)
    parser.add_argument("--receiver-cpu", type=int, default=1)
    parser.add_argument("--modes", nargs="+", choices=("core", "jetstream"), default=["core", "jetstream"])
    parser.add_argument("--polling", nargs="+", choices=("on", "off"), default=["on", "off"],
                        help="receiver busy-polling on/off (in this order)")
    parser.add_argument("--role", choices=("main", "receive"), default="main", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="core", help=argparse.SUPPRESS)
    parser.add_argument("--subject", default="", help=argparse.SUPPRESS)
    parser.add_argument("--poll", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "receive":
        await receive(args.mode, args.subject, args.messages, args.receiver_cpu, args.poll)
        return
    for poll in (p == "on" for p in args.polling):
        for mode in args.modes:
            print(json.dumps(await one(mode, poll, args)), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
