"""What one block's burst of chain messages costs on NATS alone: publisher -> JetStream -> an ordered
consumer in another process, with nothing else running.

Every ``--interval`` s the publisher sends ``--events`` pool events (a V3 Swap's JSON, ~560 bytes)
in one of three shapes, onto a file-storage stream of its own (deleted at the end):

* ``plain``: one message per event, no headers;
* ``chained``: one message per event with ingest's headers (``Nats-Msg-Id`` and
  ``Nats-Expected-Last-Msg-Id`` = the previous message's id: what :class:`services.ingest.outputs.Publisher`
  sends);
* ``batch``: the whole burst as one message (a JSON list), chained the same way.

The consumer (a child process, the same ordered push consumer as :mod:`mevbot.chain_follower`)
stamps each arrival; per burst: first and last event delivered - the burst's publish stamp.

    .venv/bin/python benchmarks/chain_burst.py [--events 230] [--rounds 40] [--variants plain chained batch]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path

import nats
from nats.js import api

NATS_URL = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
END = b"END"


def _event_json() -> bytes:
    return json.dumps({
        "type": "v3_swap", "chain_id": 42161, "pool": "0x" + "ab" * 20, "amount0": "-123456789012345678901",
        "amount1": "98765432109876543210", "sqrt_price_x96": "1" * 30, "liquidity": "9" * 25, "tick": -200000,
        "meta": {"block_number": 1, "block_hash": "0x" + "cd" * 32, "tx_hash": "0x" + "ef" * 32, "tx_index": 1,
                 "log_index": 2, "removed": False},
        "received_ns": 0, "published_ns": 0,
    }).encode()


async def consume(stream: str, subject: str, out_path: str) -> None:
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    arrivals: list[tuple[int, int, int]] = []  # (arrival ns, burst stamp, events in the message)
    done = asyncio.Event()

    async def on_msg(msg) -> None:
        now = time.time_ns()
        data = msg.data
        if data == END:
            done.set()
            return
        stamp, _, body = data.partition(b"|")
        arrivals.append((now, int(stamp), body.count(b'"v3_swap"')))

    await js.subscribe(f"{subject}.>", stream=stream, ordered_consumer=True, cb=on_msg,
                       deliver_policy=api.DeliverPolicy.NEW)
    print("ready", flush=True)
    await asyncio.wait_for(done.wait(), 600)
    await asyncio.to_thread(Path(out_path).write_text, json.dumps(arrivals))
    await nc.close()


async def publish(subject: str, variant: str, events: int, rounds: int, interval_s: float) -> None:
    nc = await nats.connect(NATS_URL)
    payload = _event_json()
    prev: str | None = None

    def headers(msg_id: str) -> dict[str, str] | None:
        if variant == "plain":
            return None
        hdr = {"Nats-Msg-Id": msg_id}
        if prev:
            hdr["Nats-Expected-Last-Msg-Id"] = prev
        return hdr

    for r in range(rounds):
        stamp = str(time.time_ns()).encode() + b"|"
        if variant == "batch":
            msg_id = f"b{r}"
            await nc.publish(f"{subject}.batch", stamp + b"[" + b",".join([payload] * events) + b"]",
                             headers=headers(msg_id))
            prev = msg_id
        else:
            for i in range(events):
                msg_id = f"e{r}-{i}"
                await nc.publish(f"{subject}.event", stamp + payload, headers=headers(msg_id))
                prev = msg_id
        await nc.flush()
        await asyncio.sleep(interval_s)
    await nc.publish(f"{subject}.end", END)
    await nc.flush()
    await nc.close()


def _q(values: list[float], p: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(p * len(values)))], 2)


async def run(variant: str, events: int, rounds: int, interval_s: float) -> dict:
    name = "BURST" + uuid.uuid4().hex[:8].upper()
    subject = name.lower()
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    await js.add_stream(api.StreamConfig(name=name, subjects=[f"{subject}.>"], storage=api.StorageType.FILE,
                                         duplicate_window=120, max_bytes=256 * 1024**2))
    out_path = f"/tmp/{name}.json"
    child = await asyncio.create_subprocess_exec(sys.executable, __file__, "--consume", name, subject, out_path,
                                                 stdout=asyncio.subprocess.PIPE)
    try:
        await child.stdout.readline()  # "ready"
        await publish(subject, variant, events, rounds, interval_s)
        await asyncio.wait_for(child.wait(), 120)
        arrivals = json.loads(await asyncio.to_thread(Path(out_path).read_text))
    finally:
        if child.returncode is None:
            child.kill()
        await js.delete_stream(name)
        await nc.close()
        Path(out_path).unlink(missing_ok=True)
    per_burst: dict[int, list[int]] = {}
    delivered = 0
    for now, stamp, n in arrivals:
        per_burst.setdefault(stamp, []).append(now)
        delivered += n
    first = [(min(v) - k) / 1e6 for k, v in per_burst.items()]
    last = [(max(v) - k) / 1e6 for k, v in per_burst.items()]
    return {"variant": variant, "events_per_burst": events, "bursts": len(per_burst), "events_delivered": delivered,
            "first_ms": {"p50": _q(first, 0.5), "p99": _q(first, 0.99)},
            "last_ms": {"p50": _q(last, 0.5), "p99": _q(last, 0.99)}}


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--consume":
        asyncio.run(consume(*sys.argv[2:]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=230, help="events per burst (a devnet block: ~230)")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between bursts (Arbitrum's block time)")
    parser.add_argument("--variants", nargs="+", choices=["plain", "chained", "batch"],
                        default=["plain", "chained", "batch"])
    args = parser.parse_args()
    for variant in args.variants:
        print(json.dumps(asyncio.run(run(variant, args.events, args.rounds, args.interval))), flush=True)


if __name__ == "__main__":
    main()
