"""``mev_cache_hit_rate`` of the pool-detection cache counts the lookups the registry answers from
its in-process copy (the hot path: every log of a known pool), not only the first lookup of an
address (always a miss) - the devnet read 0.0 at every sample."""

from __future__ import annotations

import uuid

import pytest
from mevbot.cache import Cache
from mevbot.chainconfig import default_chain_config
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from services.ingest.registry import PoolRegistry

pytestmark = pytest.mark.integration


class _EmptyCodeRpc:
    """Every probe of an address without code answers ``0x``: "not a pool"."""

    def __init__(self) -> None:
        self.batches = 0

    async def batch(self, calls: list[tuple[str, list]]) -> list[str]:
        self.batches += 1
        return ["0x" for _ in calls]


def _exported_rate(name: str) -> float | None:
    for family in text_string_to_metric_families(generate_latest(REGISTRY).decode()):
        for sample in family.samples:
            if sample.name == "mev_cache_hit_rate" and sample.labels.get("cache") == name:
                return float(sample.value)
    return None


async def test_repeat_lookups_of_a_pool_are_counted_as_cache_hits(redis_url: str) -> None:
    name = f"pools-{uuid.uuid4().hex[:8]}"  # its own label: other tests' lookups do not mix in
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    cache = Cache(redis_url, name=name, namespace=namespace)
    rpc = _EmptyCodeRpc()
    registry = PoolRegistry(default_chain_config(), rpc, cache)
    address = "0x" + "ab" * 20
    try:
        first = await registry.detect(address)  # a miss: probed, then stored
        assert not first.accepted and rpc.batches == 1
        assert await registry.detect(address) == first  # the same address again: no probe
        assert rpc.batches == 1
        assert cache.hits == 1 and cache.misses == 1
        rate = _exported_rate(name)  # as /metrics shows it
        assert rate is not None and rate == pytest.approx(1 / 2), rate
        assert registry.lookup(address) == first  # the log hot path's lookup
        assert _exported_rate(name) == pytest.approx(2 / 3)

        # another replica (or a restart) finds the answer in Redis: a hit of the Redis layer
        other = PoolRegistry(default_chain_config(), rpc, cache)
        assert await other.detect(address) == first
        assert rpc.batches == 1
        assert REGISTRY.get_sample_value("mev_cache_hit_rate", {"cache": name}) == pytest.approx(3 / 4)
        assert registry.known(address) == first  # a mere peek is not a lookup: not counted
        assert REGISTRY.get_sample_value("mev_cache_hit_rate", {"cache": name}) == pytest.approx(3 / 4)
    finally:
        await cache.delete(f"{registry.chain.chain_id}:{address}")
        await cache.close()
