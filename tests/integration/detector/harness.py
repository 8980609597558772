"""Run detector replicas in-process on real NATS and feed them like ingest does."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from mevbot import messages as m
from mevbot import subjects as subj
from mevbot.config import load_settings
from mevbot.nats_bus import NatsBus
from mevbot.runtime import serve

from services.detector.app import DetectorService


class Replicas:
    def __init__(self, nats_url: str, namespace: str, n: int, **env: str) -> None:
        self.nats_url = nats_url
        self.namespace = namespace
        self.env = {"NATS_URL": nats_url, "MEV_NAMESPACE": namespace, "HTTP_PORT": "0", "LOG_LEVEL": "warning",
                    "LOG_FORMAT": "console", "DETECTOR_HEARTBEAT_INTERVAL_MS": "100", **env}
        self.services = [DetectorService(env=self.env) for _ in range(n)]
        self.stops = [asyncio.Event() for _ in range(n)]
        self.tasks: list[asyncio.Task] = []
        self.candidates: list[m.Candidate] = []
        self.publisher: NatsBus | None = None

    async def __aenter__(self) -> Replicas:
        self.publisher = NatsBus(self.nats_url, service="ingest", namespace=self.namespace, chain_id=42161)
        await self.publisher.connect()
        await self.publisher.ensure_streams()
        # read what the validator would read: the stream (publish retries are deduplicated there)
        js = self.publisher.nc.jetstream()
        await js.subscribe(self.publisher.wire(subj.CANDIDATES), stream=self.publisher.stream_name(subj.STREAM_CANDIDATES),
                           ordered_consumer=True, cb=self._on_candidate)
        for i, (service, stop) in enumerate(zip(self.services, self.stops)):
            settings = load_settings({**self.env, "REPLICA_ID": f"det-{i}"})
            self.tasks.append(asyncio.create_task(serve(service, settings=settings, stop=stop, install_signals=False)))
        n = len(self.services)
        deadline = time.monotonic() + 20
        while not all(getattr(s, "core", None) is not None and s._settled and len(s.membership.members()) == n
                      and len(s.core.shard.members) == n for s in self.services):
            if time.monotonic() > deadline:
                raise TimeoutError("detector replicas did not find each other")
            for t in self.tasks:
                if t.done():
                    t.result()
            await asyncio.sleep(0.02)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for stop in self.stops:
            stop.set()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.publisher is not None:
            await self.publisher.close()

    async def _on_candidate(self, msg: Any) -> None:
        self.candidates.append(m.decode(msg.data, m.Candidate))

    async def publish(self, message: m.Message) -> None:
        if isinstance(message, m.PoolEvent):
            subject = subj.event_subject(message)
        elif isinstance(message, m.BlockHead):
            subject = subj.BLOCK_HEAD
        else:
            subject = subj.POOL_SNAPSHOT
        await self.publisher.publish_async(subject, message)

    async def settle(self, quiet_s: float = 0.3, timeout_s: float = 30.0) -> None:
        """Wait until every replica handled everything published and no candidate came for a while."""
        await self.publisher.flush()
        js = self.publisher.nc.jetstream()
        info = await js.stream_info(self.publisher.stream_name(subj.STREAM_CHAIN))
        last = info.state.last_seq
        deadline = time.monotonic() + timeout_s
        while any(s.follower.last_seq < last for s in self.services):
            if time.monotonic() > deadline:
                raise TimeoutError("replicas did not consume the stream")
            await asyncio.sleep(0.02)
        seen = -1
        while seen != len(self.candidates):
            seen = len(self.candidates)
            await asyncio.sleep(quiet_s)
