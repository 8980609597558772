"""Pool registry: what each emitter is, from the in-process cache, Redis, or probes (adapter).

Answers are shared by every replica through Redis (``mevbot.cache``, name ``pools``, key
``<chain id>:<address>``). Accepted pools never expire (an address's code never changes);
rejections expire after ``negative_ttl_s`` (in Redis and in the copy each replica keeps), so a
wrong "no" heals. Probe failures (transport) are not cached: the caller retries.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

import msgspec
from mevbot.chainconfig import ChainConfig
from mevbot.errors import CacheError
from mevbot.messages import PoolKind

from services.ingest import stats
from services.ingest.classify import CAMELOT_PROBES, PROBES, Detection, classify, from_creation, probe_calls

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Detection).decode


class Rpc(Protocol):
    async def batch(self, calls: list[tuple[str, list]]) -> list[Any]: ...


class CacheLike(Protocol):
    async def get(self, key: str, *, local: bool = True) -> bytes | None: ...
    async def set(self, key: str, value: bytes, *, ttl_s: float | None = None, local: bool = True) -> None: ...


class PoolRegistry:
    def __init__(self, chain: ChainConfig, rpc: Rpc, cache: CacheLike | None, *, negative_ttl_s: float = 3600.0,
                 log: Any = None) -> None:
        self.chain = chain
        self.rpc = rpc
        self.cache = cache
        self.negative_ttl_s = negative_ttl_s
        self.log = log
        self.accepted: dict[str, Detection] = {}  # hot path: emitter -> accepted detection
        self._rejected: dict[str, tuple[Detection, float]] = {}  # emitter -> (detection, expires monotonic)
        self.probes = 0  # addresses probed by this instance
        # counts a lookup answered in-process as a hit of the cache's local layer (None: no cache)
        self.record_hit = getattr(cache, "record_hit", None)

    def _key(self, address: str) -> str:
        return f"{self.chain.chain_id}:{address}"

    def lookup(self, address: str) -> Detection | None:
        """The in-process answer of a lookup (None: ask :meth:`detect`); an answer counts as a hit
        of the cache's local layer (``mev_cache_hit_rate``). Use :meth:`known` to merely peek."""
        found = self.known(address)
        if found is not None:
            self._count_hit()
        return found

    def _count_hit(self) -> None:
        # the registry's own dicts are the in-process layer in front of the cache: without this,
        # the cache only ever sees an address's first lookup (a miss) and the rate reads 0
        if self.record_hit is not None:
            self.record_hit()

    def known(self, address: str) -> Detection | None:
        """The in-process answer, without I/O and not counted (None: ask :meth:`detect`)."""
        found = self.accepted.get(address)
        if found is not None:
            return found
        rejected = self._rejected.get(address)
        if rejected is not None:
            if rejected[1] > time.monotonic():
                return rejected[0]
            del self._rejected[address]
        return None

    async def cached(self, address: str) -> Detection | None:
        """The in-process answer, else the shared cache's; never probes the chain (None: unknown).

        For requests from other services (resync): only pools this deployment already classified.
        """
        address = address.lower()
        found = self.known(address)
        if found is not None or self.cache is None:
            return found
        try:
            raw = await self.cache.get(self._key(address), local=True)
        except CacheError:
            return None
        if raw is None:
            return None
        try:
            detection = _decode(raw)
        except msgspec.DecodeError:
            return None
        self._remember(detection, ttl_s=self.negative_ttl_s)
        return detection

    async def detect(self, address: str) -> Detection:
        address = address.lower()
        found = self.lookup(address)
        if found is not None:
            return found
        if self.cache is not None:
            try:
                raw = await self.cache.get(self._key(address), local=True)
            except CacheError as exc:
                raw = None
                if self.log:
                    self.log.warning("pool cache unavailable, probing", error=str(exc))
            if raw is not None:
                try:
                    detection = _decode(raw)
                except msgspec.DecodeError:
                    detection = None
                if detection is not None:
                    self._remember(detection, ttl_s=self.negative_ttl_s)
                    return detection
        detection = await self._probe(address)
        await self.store(detection)
        return detection

    async def _probe(self, address: str) -> Detection:
        self.probes += 1
        stats.POOL_PROBES.inc()
        results = await self.rpc.batch(probe_calls(address))
        answers = {name: (r if isinstance(r, str) else None) for name, r in zip(PROBES, results, strict=True)}
        _raise_transport(results)
        extra = None
        factory_word = answers.get("factory")
        if isinstance(factory_word, str) and len(factory_word) >= 66:
            dex = self.chain.dex_by_factory("0x" + factory_word[26:66])
            if dex is not None and dex.kind is PoolKind.CAMELOT_V2:
                more = await self.rpc.batch(probe_calls(address, CAMELOT_PROBES))
                _raise_transport(more)
                extra = {name: (r if isinstance(r, str) else None) for name, r in zip(CAMELOT_PROBES, more, strict=True)}
        return classify(address, answers, self.chain, extra)

    async def learn_created(self, factory: str, pool: str, token0: str, token1: str, fee_pips: int,
                            tick_spacing: int) -> Detection | None:
        """A creation log of an allowed factory: accept without probes (same CREATE2 check)."""
        dex = self.chain.dex_by_factory(factory)
        if dex is None or dex.kind is PoolKind.CAMELOT_V2:
            return None
        detection = from_creation(factory, pool, token0, token1, fee_pips, tick_spacing, self.chain)
        if detection.accepted:
            await self.store(detection)
        return detection

    async def store(self, detection: Detection) -> None:
        ttl = None if detection.accepted else self.negative_ttl_s
        self._remember(detection, ttl_s=ttl)
        if self.cache is not None:
            try:
                await self.cache.set(self._key(detection.address), _encode(detection), ttl_s=ttl,
                                     local=detection.accepted)
            except CacheError as exc:
                if self.log:
                    self.log.warning("pool cache write failed", error=str(exc))

    def _remember(self, detection: Detection, *, ttl_s: float | None) -> None:
        if detection.accepted:
            self.accepted[detection.address] = detection
            stats.POOLS.labels("accepted").set(len(self.accepted))
        else:
            self._rejected[detection.address] = (detection, time.monotonic() + (ttl_s or self.negative_ttl_s))
            stats.POOLS.labels("rejected").set(len(self._rejected))


def _raise_transport(results: list[Any]) -> None:
    """A probe that failed for transport reasons must not become a cached 'not a pool'."""
    from mevbot.rpc.client import ProviderUnavailable

    for r in results:
        if isinstance(r, BaseException) and (isinstance(r, ProviderUnavailable) or "no reply" in str(r)):
            raise r
