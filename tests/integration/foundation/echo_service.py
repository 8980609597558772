"""A small service on the real runtime, used by the foundation integration tests.

It is the runtime's docstring example made runnable: consumes candidates (shared durable),
publishes a rejection for each, records what it handled so tests can count exactly-once
delivery (``/echo/seen`` on its HTTP port), and fails on purpose for ``cycle_id == "boom"``.

Run: ``python -m tests.integration.foundation.echo_service``
"""

from __future__ import annotations

import asyncio
import os

from mevbot import messages as m
from mevbot import subjects
from mevbot.bus import Mode
from mevbot.runtime import Service, ServiceContext, main


class EchoService(Service):
    name = "echo"
    default_port = 9199
    uses_redis = True

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.ctx: ServiceContext | None = None

    async def start(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        # a slow start (a service replaying its state before it registers its checks)
        await asyncio.sleep(float(os.environ.get("ECHO_START_DELAY_S", "0")))
        await ctx.subscribe(subjects.CANDIDATES, self.on_candidate, mode=Mode.SHARED)
        ctx.add_readiness_check("warm", lambda: True)
        ctx.spawn(self.heartbeat(), name="heartbeat")
        ctx.app.add_api_route("/echo/seen", self.seen_route, methods=["GET"])
        ctx.mark_started()

    async def seen_route(self) -> dict[str, list[str]]:
        return {"seen": self.seen}

    async def on_candidate(self, candidate: m.Candidate) -> None:
        if candidate.cycle_id == "boom":
            raise ValueError("boom on purpose")
        self.seen.append(candidate.candidate_id)
        assert self.ctx is not None
        await self.ctx.publish(
            subjects.REJECTIONS,
            m.Rejection(chain_id=candidate.chain_id, candidate_id=candidate.candidate_id,
                        cycle_id=candidate.cycle_id, reason="echo"),
        )

    async def heartbeat(self) -> None:
        while True:
            await asyncio.sleep(1.0)


if __name__ == "__main__":
    main(EchoService)
