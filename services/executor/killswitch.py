"""The kill switch, shared by every replica and surviving restarts (adapter).

A pause takes effect locally first (the engine checks the flag right before every send), then is
written to Redis and fanned out on ``mev.control.executor`` so every replica stops too. A replica
that starts, or that missed the NATS message, reads the Redis flag (at start-up and every lease
renewal) and pauses. Only an explicit resume (HTTP or control subject) clears it: the periodic
check pauses but never resumes, so a race can only err on the side of not sending.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from mevbot.logging import get_logger
from mevbot.messages import ControlCommand
from redis.exceptions import RedisError

from services.executor.engine import Executor

log = get_logger("mevbot.executor.killswitch")

Fanout = Callable[[ControlCommand], Awaitable[None]]


class KillSwitch:
    def __init__(self, engine: Executor, redis: aioredis.Redis, *, key: str, chain_id: int, fanout: Fanout) -> None:
        self.engine = engine
        self.redis = redis
        self.key = key
        self.chain_id = chain_id
        self.fanout = fanout

    async def pause(self, reason: str, issued_by: str, *, broadcast: bool) -> None:
        self.engine.pause(reason, issued_by)  # at once, before any I/O
        try:
            await self.redis.set(self.key, reason or "paused")
        except (RedisError, OSError) as exc:
            log.error("kill switch: recording the pause in Redis failed (this replica is paused)", error=str(exc))
        if broadcast:
            await self._fanout("pause", reason, issued_by)

    async def resume(self, issued_by: str, *, broadcast: bool) -> None:
        try:
            await self.redis.delete(self.key)
        except (RedisError, OSError) as exc:
            log.error("kill switch: clearing the pause in Redis failed: staying paused", error=str(exc))
            return
        self.engine.resume(issued_by)
        if broadcast:
            await self._fanout("resume", "", issued_by)

    async def refresh(self) -> None:
        """Pause if the shared flag says so (never resumes)."""
        try:
            reason = await self.redis.get(self.key)
        except (RedisError, OSError) as exc:
            log.warning("kill switch: reading the shared flag failed", error=str(exc))
            return
        if reason is not None and not self.engine.paused:
            self.engine.pause(str(reason), "shared flag")

    async def _fanout(self, command: str, reason: str, issued_by: str) -> None:
        try:
            await self.fanout(ControlCommand(chain_id=self.chain_id, command=command, reason=reason,
                                             issued_by=issued_by))  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - the Redis flag still reaches the others
            log.error("kill switch: NATS fan-out failed", command=command, error=str(exc))
