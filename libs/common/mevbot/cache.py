"""Redis cache (async) with a small in-process LRU in front.

Made for the pool-detection cache: what an address is (which DEX, which tokens, or "not a
pool") never changes, so every replica may keep a local copy and Redis shares the answer across
replicas and restarts. Do not put mutable values behind the LRU; pass ``local=False`` for them.

Hits and misses are counted per layer (``mev_cache_requests_total{cache,layer,result}``) and
the overall hit rate is exported as the runbook's ``mev_cache_hit_rate{cache}``.
Redis errors become :class:`~mevbot.errors.CacheError` here.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import ClassVar

import redis.asyncio as aioredis
import redis.exceptions

from mevbot import metrics
from mevbot.errors import CacheError

# KEYS: the keys to claim; ARGV[1]: the value, ARGV[2]: TTL in ms (0: none). Returns 0 when every
# key was set, else the 1-based index of the first key that already exists (nothing is set then).
_CLAIM_ALL_LUA = """
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then return i end
end
local ttl_ms = tonumber(ARGV[2])
for _, key in ipairs(KEYS) do
  if ttl_ms > 0 then redis.call('SET', key, ARGV[1], 'PX', ttl_ms) else redis.call('SET', key, ARGV[1]) end
end
return 0
"""


class LRU:
    """A bounded mapping that evicts the least recently used entry."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[str, bytes] = OrderedDict()

    def get(self, key: str) -> bytes | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: str, value: bytes) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        if len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def pop(self, key: str) -> None:
        self._data.pop(key, None)

    def __len__(self) -> int:
        return len(self._data)


class Cache:
    # Process-wide hits/misses per cache name: the exported rate covers every instance.
    _totals: ClassVar[dict[str, list[int]]] = {}

    def __init__(
        self,
        url: str,
        *,
        name: str = "pools",
        namespace: str = "",
        lru_entries: int = 100_000,
        socket_timeout_s: float = 2.0,
    ) -> None:
        self.url = url
        self.name = name
        self.prefix = f"{namespace}:{name}:" if namespace else f"mev:{name}:"
        self.lru = LRU(lru_entries)
        self.hits = 0
        self.misses = 0
        self._redis = aioredis.Redis.from_url(
            url, socket_timeout=socket_timeout_s, socket_connect_timeout=socket_timeout_s, health_check_interval=10
        )
        self._claim_script = self._redis.register_script(_CLAIM_ALL_LUA)

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def _count(self, layer: str, hit: bool, n: int = 1) -> None:
        metrics.CACHE_REQUESTS.labels(self.name, layer, "hit" if hit else "miss").inc(n)

    def record_hit(self, layer: str = "local", n: int = 1) -> None:
        """Count ``n`` lookups a caller answered from its own in-process copy of this cache's values
        (e.g. the pool registry's decoded detections, kept in front of :meth:`get`): hits of the
        local layer that never reach :meth:`get`, yet belong in ``mev_cache_hit_rate``. A hot path
        may count them itself and report them in bulk (``n`` > 1)."""
        if n <= 0:
            return
        self._count(layer, True, n)
        self._record(True, n)

    def _record(self, hit: bool, n: int = 1) -> None:
        totals = self._totals.setdefault(self.name, [0, 0])
        if hit:
            self.hits += n
            totals[0] += n
        else:
            self.misses += n
            totals[1] += n
        metrics.CACHE_HIT_RATE.labels(self.name).set(totals[0] / (totals[0] + totals[1]))

    async def ping(self) -> bool:
        """True when Redis answers (readiness check); never raises."""
        try:
            return bool(await self._redis.ping())
        except (redis.exceptions.RedisError, OSError):
            return False

    async def get(self, key: str, *, local: bool = True) -> bytes | None:
        if local:
            value = self.lru.get(key)
            self._count("local", value is not None)
            if value is not None:
                self._record(True)
                return value
        try:
            value = await self._redis.get(self.prefix + key)
        except (redis.exceptions.RedisError, OSError) as exc:
            raise CacheError(f"redis GET failed: {type(exc).__name__}: {exc}") from exc
        self._count("redis", value is not None)
        self._record(value is not None)
        if value is not None and local:
            self.lru.put(key, value)
        return value

    async def get_many(self, keys: Iterable[str], *, local: bool = True) -> dict[str, bytes]:
        """Every key found (locally or in Redis, one MGET for the rest)."""
        found: dict[str, bytes] = {}
        remote: list[str] = []
        for key in keys:
            value = self.lru.get(key) if local else None
            if value is not None:
                found[key] = value
                self._count("local", True)
                self._record(True)
            else:
                remote.append(key)
        if not remote:
            return found
        try:
            values = await self._redis.mget([self.prefix + k for k in remote])
        except (redis.exceptions.RedisError, OSError) as exc:
            raise CacheError(f"redis MGET failed: {type(exc).__name__}: {exc}") from exc
        for key, value in zip(remote, values, strict=True):
            self._count("redis", value is not None)
            self._record(value is not None)
            if value is not None:
                found[key] = value
                if local:
                    self.lru.put(key, value)
        return found

    async def set(self, key: str, value: bytes, *, ttl_s: float | None = None, local: bool = True) -> None:
        try:
            await self._redis.set(self.prefix + key, value, px=None if ttl_s is None else int(ttl_s * 1000))
        except (redis.exceptions.RedisError, OSError) as exc:
            raise CacheError(f"redis SET failed: {type(exc).__name__}: {exc}") from exc
        if local:
            self.lru.put(key, value)

    async def set_if_absent(self, key: str, value: bytes, *, ttl_s: float | None = None) -> bool:
        """Atomic SET NX (e.g. claim a plan id once across replicas). True when this call set it."""
        try:
            return bool(
                await self._redis.set(self.prefix + key, value, nx=True, px=None if ttl_s is None else int(ttl_s * 1000))
            )
        except (redis.exceptions.RedisError, OSError) as exc:
            raise CacheError(f"redis SET NX failed: {type(exc).__name__}: {exc}") from exc

    async def claim_all(self, keys: Iterable[str], value: bytes, *, ttl_s: float | None = None) -> str | None:
        """Set every key to ``value`` only if none of them exists, atomically (one Lua script, one
        round trip). Returns ``None`` when this call claimed them all, else the first key already
        held (and sets nothing). Claiming keys one SET NX at a time can let two callers each take
        one key of the other's set and both give up; all-or-nothing cannot."""
        names = [self.prefix + k for k in keys]
        if not names:
            return None
        try:
            held = await self._claim_script(keys=names, args=[value, 0 if ttl_s is None else max(1, int(ttl_s * 1000))])
        except (redis.exceptions.RedisError, OSError) as exc:
            raise CacheError(f"redis claim failed: {type(exc).__name__}: {exc}") from exc
        return None if not held else names[int(held) - 1][len(self.prefix):]

    async def delete(self, key: str) -> None:
        self.lru.pop(key)
        try:
            await self._redis.delete(self.prefix + key)
        except (redis.exceptions.RedisError, OSError) as exc:
            raise CacheError(f"redis DEL failed: {type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        try:
            await self._redis.aclose()
        except (redis.exceptions.RedisError, OSError):
            pass
