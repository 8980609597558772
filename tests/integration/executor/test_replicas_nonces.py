"""Several executor replicas: plans are split between them (shared durable consumer), each key is
leased by one replica at a time, and no nonce is ever used twice or skipped - under load, and
when the replica holding a key stops and another takes the key over."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict

import pytest
from mevbot.messages import ExecutionStatus
from msgspec.structs import replace

from tests.integration.executor.conftest import executor_env, running_executor
from tests.integration.executor.kit import E18, build_plan, dislocate, new_keys, tx_count, wait_for

pytestmark = pytest.mark.integration

LOOSE = {"EXECUTOR_V2_EXACT": "false", "EXECUTOR_CONCURRENCY": "4"}


def _copies(plan, n: int):  # type: ignore[no-untyped-def]
    """n distinct opportunities of the same shape (small, loose minimums: each stays profitable)."""
    return [replace(plan, plan_id=f"{plan.plan_id}-{i}", candidate_id=uuid.uuid4().hex) for i in range(n)]


def _assert_contiguous(rpc, results) -> dict[str, list[int]]:  # type: ignore[no-untyped-def]
    by_sender: dict[str, list[int]] = defaultdict(list)
    for r in results:
        by_sender[r.sender].append(r.nonce)
    for sender, nonces in by_sender.items():
        assert sorted(nonces) == list(range(len(nonces))), (sender, sorted(nonces))  # no reuse, no gap
        assert tx_count(rpc, sender) == len(nonces) == tx_count(rpc, sender, "pending")
    return by_sender


async def test_two_replicas_under_load_never_reuse_a_nonce(
    xchain, keystore, client, nats_url, redis_url, namespace
):
    rpc, dep = xchain.rpc, xchain.dep
    keys = new_keys(rpc, dep, keystore, 2)
    dislocate(rpc, dep, usdc=1_500_000 * 10**6)
    plan = build_plan(rpc, dep, keys[0].address, sizes=[E18], min_out_slack_bps=3_000, min_profit=1)
    plans = _copies(plan, 40)
    env = executor_env(xchain, keystore, nats_url, redis_url, namespace, **LOOSE)
    async with running_executor(env) as a, running_executor(env) as b:
        assert {s.address for s in a.service.engine.slots if s.usable()} != {
            s.address for s in b.service.engine.slots if s.usable()}  # one key each  # fmt: skip
        await asyncio.gather(*(client.send(p) for p in plans))
        finals = [await client.final(p.plan_id, 60) for p in plans]
    sent = [r for r in client.results if r.status is ExecutionStatus.SENT]
    assert all(r.status is ExecutionStatus.INCLUDED for r in finals), {r.status for r in finals}
    assert len(sent) == 40 and len({r.tx_hash for r in sent}) == 40
    by_sender = _assert_contiguous(rpc, sent)
    assert len(by_sender) == 2 and all(len(n) > 5 for n in by_sender.values())  # both replicas worked


async def test_shared_key_lease_failover_keeps_nonces_contiguous(
    xchain, one_key, keystore, client, nats_url, redis_url, namespace
):
    rpc, dep = xchain.rpc, xchain.dep
    dislocate(rpc, dep, usdc=1_500_000 * 10**6)
    plan = build_plan(rpc, dep, one_key.address, sizes=[E18], min_out_slack_bps=3_000, min_profit=1)
    first, second = _copies(plan, 10), _copies(replace(plan, plan_id=plan.plan_id + "b"), 10)
    env = executor_env(xchain, keystore, nats_url, redis_url, namespace, **LOOSE)
    async with running_executor(env) as a, running_executor(env, ready=False) as b:
        await asyncio.sleep(0.5)
        assert not b.service.ctx.health.started  # no key for it: it does not consume plans
        await asyncio.gather(*(client.send(p) for p in first))
        for p in first:
            assert (await client.final(p.plan_id, 30)).status is ExecutionStatus.INCLUDED
        a.stop.set()  # replica A goes away; B takes the key over once the lease expires
        await asyncio.wait_for(a.task, 30)
        await wait_for(lambda: b.service.ctx.health.started, 15)
        await asyncio.gather(*(client.send(p) for p in second))
        for p in second:
            assert (await client.final(p.plan_id, 30)).status is ExecutionStatus.INCLUDED
    sent = [r for r in client.results if r.status is ExecutionStatus.SENT]
    assert len(sent) == 20
    _assert_contiguous(rpc, sent)
