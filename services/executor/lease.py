"""Redis coordination between executor replicas (adapter).

* :class:`KeyLease`: which replica signs with a key. ``SET lease <holder>:<fence> NX PX ttl``;
  the fence is ``INCR``-ed at every acquisition, renewed every ``ttl/3`` by a compare-and-extend
  script. Locally the lease counts as held only until ``renewed_at + ttl - margin``: a replica
  that cannot renew stops signing before another can take the key, so two replicas never sign
  with one key at once.
* The nonce floor: after each send the holder records ``next nonce`` under its fence (a script
  refuses a write from an older fence). A new holder starts from ``max(chain count, floor)``, so a
  transaction still on its way from the previous holder is not re-used. The floor expires.
* :class:`OnceGuard`: ``SET NX`` per opportunity, so a plan redelivered to another replica or
  duplicated upstream executes at most once.
"""

from __future__ import annotations

import time

import redis.asyncio as aioredis
from mevbot.errors import CacheError
from redis.exceptions import RedisError

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
_SET_FLOOR = """
local f = redis.call('HGET', KEYS[1], 'fence')
if f and tonumber(f) > tonumber(ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'fence', ARGV[1], 'next', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""


def _wrap(exc: RedisError) -> CacheError:
    return CacheError(f"redis: {type(exc).__name__}: {exc}")


class KeyLease:
    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        chain_id: int,
        address: str,
        holder: str,  # unique per process: a restarted replica waits for its old lease to expire
        ttl_ms: int = 5_000,
        floor_ttl_ms: int = 30_000,
        prefix: str = "mev:executor",
    ) -> None:
        self.redis = redis
        self.address = address.lower()
        self.holder = holder
        self.ttl_ms = ttl_ms
        self.floor_ttl_ms = floor_ttl_ms
        self.key = f"{prefix}:lease:{chain_id}:{self.address}"
        self.fence_key = f"{prefix}:fence:{chain_id}:{self.address}"
        self.floor_key = f"{prefix}:nonce:{chain_id}:{self.address}"
        self.in_flight_key = f"{prefix}:inflight:{chain_id}:{self.address}"
        self.fence: int | None = None
        self._value: str | None = None
        self._valid_until = 0.0
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)
        self._set_floor = redis.register_script(_SET_FLOOR)

    @property
    def margin_s(self) -> float:
        return self.ttl_ms / 1000 / 5

    def held(self) -> bool:
        return self._value is not None and time.monotonic() < self._valid_until

    async def acquire(self) -> bool:
        started = time.monotonic()
        try:
            if await self.redis.exists(self.key):
                return False  # held by another process (or by our previous life: it expires)
            fence = int(await self.redis.incr(self.fence_key))
            value = f"{self.holder}:{fence}"
            ok = await self.redis.set(self.key, value, px=self.ttl_ms, nx=True)
        except RedisError as exc:
            raise _wrap(exc) from None
        if not ok:
            return False
        self.fence, self._value = fence, value
        self._valid_until = started + self.ttl_ms / 1000 - self.margin_s
        return True

    async def renew(self) -> bool:
        if self._value is None:
            return False
        started = time.monotonic()
        try:
            ok = int(await self._renew(keys=[self.key], args=[self._value, self.ttl_ms]))
        except RedisError as exc:
            raise _wrap(exc) from None
        if ok:
            self._valid_until = started + self.ttl_ms / 1000 - self.margin_s
            return True
        self._value, self.fence, self._valid_until = None, None, 0.0
        return False

    async def release(self) -> None:
        if self._value is None:
            return
        value, self._value, self.fence, self._valid_until = self._value, None, None, 0.0
        try:
            await self._release(keys=[self.key], args=[value])
        except RedisError:
            pass  # it expires anyway

    async def floor(self) -> int | None:
        try:
            value = await self.redis.hget(self.floor_key, "next")
        except RedisError as exc:
            raise _wrap(exc) from None
        return int(value) if value is not None else None

    async def record_next_nonce(self, next_nonce: int) -> bool:
        """False when a newer holder has taken the key (our fence is stale)."""
        if self.fence is None:
            return False
        try:
            ok = await self._set_floor(keys=[self.floor_key], args=[self.fence, next_nonce, self.floor_ttl_ms])
        except RedisError as exc:
            raise _wrap(exc) from None
        return bool(int(ok))


    # --- transactions sent and not yet settled (adopted by the next holder after a crash) ---------

    async def add_in_flight(self, tx_hash: str, record: bytes) -> None:
        try:
            await self.redis.hset(self.in_flight_key, tx_hash, record)
            await self.redis.pexpire(self.in_flight_key, max(self.floor_ttl_ms, 3_600_000))
        except RedisError as exc:
            raise _wrap(exc) from None

    async def remove_in_flight(self, tx_hash: str) -> None:
        try:
            await self.redis.hdel(self.in_flight_key, tx_hash)
        except RedisError as exc:
            raise _wrap(exc) from None

    async def in_flight(self) -> dict[str, str]:
        try:
            return dict(await self.redis.hgetall(self.in_flight_key))
        except RedisError as exc:
            raise _wrap(exc) from None


class OnceGuard:
    def __init__(self, redis: aioredis.Redis, *, ttl_s: int = 86_400, prefix: str = "mev:executor:once") -> None:
        self.redis = redis
        self.ttl_s = ttl_s
        self.prefix = prefix

    async def claim(self, key: str, holder: str) -> bool:
        """True for the first claim of ``key`` across every replica."""
        try:
            return bool(await self.redis.set(f"{self.prefix}:{key}", holder, nx=True, ex=self.ttl_s))
        except RedisError as exc:
            raise _wrap(exc) from None
