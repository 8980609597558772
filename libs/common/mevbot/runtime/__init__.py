"""The one way every service starts, connects, subscribes, serves HTTP and stops.

A service is a :class:`Service` subclass: class attributes say who it is and what it needs,
``start(ctx)`` subscribes handlers, registers readiness checks and spawns background tasks, then
returns. The runtime does the rest: reads :class:`~mevbot.config.Settings` once (a bad key stops
start-up naming it, exit code 2), sets up structlog, serves ``/health/live``, ``/health/ready``,
``/health/startup`` and ``/metrics`` on the service's port (``HTTP_PORT`` > ``METRICS_PORT`` >
``default_port``; ``0`` picks a free port and logs it), connects NATS with infinite reconnects
(readiness follows the connection), ensures the JetStream streams, connects Redis when
``uses_redis``, checks the RPC when ``uses_rpc``, and on SIGTERM/SIGINT: readiness 503 -> stop
intake -> ``stop(ctx)`` -> flush publishes -> drain NATS -> close.

Example (``services/echo/app.py`` + ``__main__.py``)::

    import asyncio

    from mevbot import messages as m, subjects
    from mevbot.bus import Mode
    from mevbot.runtime import Service, ServiceContext, main

    class EchoService(Service):
        name = "echo"
        default_port = 9199
        uses_redis = True                      # ctx.cache is a mevbot.cache.Cache

        async def start(self, ctx: ServiceContext) -> None:
            self.ctx = ctx
            await ctx.subscribe(subjects.CANDIDATES, self.on_candidate, mode=Mode.SHARED)
            ctx.add_readiness_check("warm", lambda: True)   # sync or async, True = ready
            ctx.spawn(self.heartbeat(), name="heartbeat")    # cancelled on shutdown
            ctx.mark_started()                               # /health/startup -> 200

        async def on_candidate(self, candidate: m.Candidate) -> None:
            # Return = ack. Raise = dead letter on mev.dlq.echo (+ metric), the stream goes on.
            await self.ctx.publish(subjects.REJECTIONS, m.Rejection(
                chain_id=candidate.chain_id, candidate_id=candidate.candidate_id,
                cycle_id=candidate.cycle_id, reason="echo"))

        async def heartbeat(self) -> None:
            while True:
                await asyncio.sleep(1.0)

    if __name__ == "__main__":                 # services/echo/__main__.py is just this
        main(EchoService)

Delivery modes: ``Mode.SHARED`` (one durable per service, replicas split the work: validator,
executor), ``Mode.REPLICA`` (one durable per replica, every replica sees every message:
detector; set ``REPLICA_ID`` for a stable identity across restarts), ``Mode.CORE`` (no
persistence). Publishing: ``ctx.bus.publish`` (stream subjects: waits for the stream's ack,
retrying through outages, deduplicated), ``ctx.bus.publish_async`` + ``ctx.bus.flush()`` (fast
path, bounded in-flight acks), ``ctx.bus.publish_core`` (fire and forget).

Unit tests run a service on :class:`mevbot.bus.InMemoryBus` with ``serve(service, bus=...)``
or call its handlers directly; the pure logic lives in ``services/<name>/core.py``.
"""

from mevbot.runtime.runner import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, default_replica_id, main, run_loop, serve
from mevbot.runtime.service import Service, ServiceContext

__all__ = [
    "EXIT_CONFIG", "EXIT_FAILED", "EXIT_OK", "Service", "ServiceContext", "default_replica_id", "main", "run_loop", "serve",
]
