"""The two things a service sees: :class:`Service` (what it implements) and :class:`ServiceContext`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass, field
from typing import Any, ClassVar

from mevbot import messages as m
from mevbot.bus import Bus, DeliverFrom, Handler, Mode
from mevbot.cache import Cache
from mevbot.chainconfig import ChainConfig
from mevbot.config import Settings
from mevbot.health import Check, Health
from mevbot.logging import get_logger
from mevbot.runtime.tasks import cancel_and_wait


class Service:
    """Base of every service. Subclass, set the class attributes, implement :meth:`start`.

    ``start`` subscribes handlers, registers readiness checks and spawns background tasks, then
    returns (it must not block). Call ``ctx.mark_started()`` once the initial sync is done
    (``/health/startup``). ``stop`` runs after intake stopped and before the bus drains.
    """

    name: ClassVar[str] = "service"
    default_port: ClassVar[int] = 9100
    uses_redis: ClassVar[bool] = False
    uses_rpc: ClassVar[bool] = False  # require an HTTP(S) RPC provider in the configuration

    async def start(self, ctx: ServiceContext) -> None:
        raise NotImplementedError

    async def stop(self, ctx: ServiceContext) -> None:
        return None


@dataclass
class ServiceContext:
    """Everything the runtime set up for one service instance."""

    service: str
    replica_id: str
    settings: Settings
    chain: ChainConfig
    bus: Bus
    health: Health
    cache: Cache | None = None
    http_port: int = 0
    app: Any = None  # the FastAPI app: a service may add its own routes (e.g. a debug view)
    log: Any = None
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _fatal: asyncio.Future[BaseException] | None = None

    def __post_init__(self) -> None:
        if self.log is None:
            self.log = get_logger(f"services.{self.service}", replica=self.replica_id)

    @property
    def chain_id(self) -> int:
        return self.chain.chain_id

    def add_readiness_check(self, name: str, check: Check) -> None:
        """A sync or async callable returning True when this dependency is usable."""
        self.health.add_check(name, check)

    def mark_started(self) -> None:
        """Initial sync finished: ``/health/startup`` answers 200 from now on."""
        self.health.mark_started()
        self.log.info("service started", http_port=self.http_port)

    async def subscribe(
        self,
        subject: str,
        handler: Handler,
        *,
        mode: Mode = Mode.SHARED,
        durable: str | None = None,
        message_type: Any = None,
        queue: str | None = None,
        batch: int = 256,
        concurrency: int = 1,
        deliver_from: DeliverFrom = DeliverFrom.ALL,
    ) -> Any:
        return await self.bus.subscribe(
            subject, handler, mode=mode, durable=durable, message_type=message_type, queue=queue,
            batch=batch, concurrency=concurrency, deliver_from=deliver_from,
        )

    async def publish(self, subject: str, message: m.Message) -> None:
        await self.bus.publish(subject, message)

    def spawn(self, coro: Coroutine[Any, Any, Any] | Awaitable[Any], *, name: str, critical: bool = True) -> asyncio.Task[Any]:
        """Run a background task; it is cancelled on shutdown.

        If a ``critical`` task raises, the service stops with exit code 1 (the supervisor or
        the container runtime restarts it) instead of running half-alive.
        """
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.append(task)

        def done(t: asyncio.Task[Any]) -> None:
            if t.cancelled() or self.stopping.is_set():
                return
            exc = t.exception()
            if exc is None:
                return
            self.log.error("background task failed", task=name, error=str(exc), exc_info=exc)
            if critical and self._fatal is not None and not self._fatal.done():
                self._fatal.set_result(exc)

        task.add_done_callback(done)
        return task

    async def cancel_tasks(self, timeout_s: float = 10.0) -> None:
        """Cancel the background tasks and wait until they end (cancelling again a task whose
        cancellation a library swallowed); after ``timeout_s`` the rest are left, logged."""
        left = await cancel_and_wait(self._tasks, timeout_s)
        if left:
            self.log.error("background tasks did not stop", tasks=sorted(t.get_name() for t in left),
                           timeout_s=timeout_s)
        self._tasks.clear()
