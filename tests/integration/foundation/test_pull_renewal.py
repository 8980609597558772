"""A durable pull consumer keeps a live pull request on the server even when a 408 never comes.

Seen on the devnet (2026-11-25): a pull request that expired right after delivering one message
ended without a 408 status, the consumer's count of messages still owed stayed above half a
batch, so it asked for nothing more and the validator's candidates sat in the stream for 6.5 s,
until the inactivity check. Here the server is real; the 408s it sends are dropped before the
consumer sees them (the observed case, made systematic), and requests expire after 1 s: a
message published after the first request expired must still be delivered promptly.
"""

from __future__ import annotations

import asyncio
import time

import mevbot.nats_subscriptions as subs
import pytest
from mevbot import subjects
from mevbot.bus import Mode

from tests.integration.foundation.test_tap_and_bus import connected, swap, until

pytestmark = pytest.mark.integration


async def test_a_message_after_every_request_expired_without_a_408_is_still_delivered(
    nats_url: str, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(subs, "PULL_EXPIRES_S", 1.0)
    original = subs._PullSubscription._on_msg
    dropped: list[str] = []

    async def without_408(self, msg) -> None:  # type: ignore[no-untyped-def]
        if not msg.reply and msg.headers and msg.headers.get("Status") == "408":
            dropped.append("408")
            return
        await original(self, msg)

    monkeypatch.setattr(subs._PullSubscription, "_on_msg", without_408)
    publisher = await connected(nats_url, namespace, "ingest")
    consumer = await connected(nats_url, namespace, "validator")
    arrivals: list[float] = []

    async def handler(_message) -> None:  # type: ignore[no-untyped-def]
        arrivals.append(time.monotonic())

    try:
        await consumer.subscribe(subjects.EVENTS_PREFIX + ".>", handler, mode=Mode.SHARED, batch=8)
        await publisher.publish_async(subjects.event_subject(swap(0)), swap(0))
        await publisher.flush(timeout_s=10)
        await until(lambda: len(arrivals) == 1)
        # the first request (8 asked, 1 delivered: 7 still "owed") expires after 1 s; its 408 is lost
        await asyncio.sleep(1.4)  # expired (1 s), before the inactivity check (2 s + a 0.5-s tick)
        assert dropped, "no request expired: the scenario did not happen"
        sent = time.monotonic()
        await publisher.publish_async(subjects.event_subject(swap(1)), swap(1))
        await publisher.flush(timeout_s=10)
        await until(lambda: len(arrivals) == 2, timeout_s=10)
        waited = arrivals[1] - sent
        # a live request is always on the server: delivered at once, not after the inactivity
        # check (PULL_EXPIRES_S + 1 s without any message, then the next 0.5-s watchdog tick)
        assert waited < 0.5, f"delivered {waited:.2f} s after it was published"
    finally:
        await publisher.close()
        await consumer.close()
