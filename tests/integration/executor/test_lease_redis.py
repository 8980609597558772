"""Key leases and the once-guard on real Redis: one holder at a time, fences grow, a stale holder
can neither renew nor record a nonce floor, and an opportunity is claimed once."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio as aioredis

from services.executor.lease import KeyLease, OnceGuard

pytestmark = pytest.mark.integration


async def test_lease_exclusive_fenced_and_expiring(redis_url):
    r = aioredis.Redis.from_url(redis_url, decode_responses=True)
    prefix, addr = f"test:{uuid.uuid4().hex}", "0x" + "ab" * 20
    a = KeyLease(r, chain_id=1, address=addr, holder="a", ttl_ms=600, prefix=prefix)
    b = KeyLease(r, chain_id=1, address=addr, holder="b", ttl_ms=600, prefix=prefix)
    try:
        assert await a.acquire() and a.held()
        assert not await b.acquire()
        assert await a.record_next_nonce(5) and await b.floor() == 5
        assert await a.renew()

        await asyncio.sleep(0.7)  # A stops renewing (a GC pause, a partition)...
        assert not a.held()  # ...and stopped counting itself as holder before the key expired
        assert await b.acquire() and b.fence > a.fence
        assert not await a.renew()  # the stale holder cannot extend B's lease
        assert await b.record_next_nonce(9)
        stale = KeyLease(r, chain_id=1, address=addr, holder="a", ttl_ms=600, prefix=prefix)
        stale.fence, stale._value = a.fence or 1, "a:1"  # what A still believes
        assert not await stale.record_next_nonce(6)  # a lower fence cannot move the floor back
        assert await b.floor() == 9
        await b.release()
        assert await a.acquire()  # released: free at once
    finally:
        await a.release()
        await r.aclose()


async def test_once_guard_claims_once_across_replicas(redis_url):
    r = aioredis.Redis.from_url(redis_url, decode_responses=True)
    prefix = f"test:{uuid.uuid4().hex}"
    guards = [OnceGuard(r, ttl_s=60, prefix=prefix) for _ in range(4)]
    try:
        wins = await asyncio.gather(
            *(g.claim("42161:cand:0", f"replica-{i}") for i, g in enumerate(guards * 5))
        )
        assert sum(wins) == 1
        assert await guards[0].claim("42161:cand:1", "x")  # another split is another opportunity
    finally:
        await r.aclose()
