"""A race lost on chain: two plans for the same dislocation both simulate fine against the
latest block, both are sent, they land in the same block and the second reverts (the first took
the price). The executor reports it as reverted with its gas bill, and on-chain reverts in a row
trip the circuit breaker, which pauses every replica through the kill switch."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from mevbot.messages import ExecutionStatus
from msgspec.structs import replace

from tests.integration.executor.conftest import executor_env, running_executor
from tests.integration.executor.kit import build_plan, dislocate, tx_count

pytestmark = pytest.mark.integration


async def test_race_lost_on_chain_is_reported_and_trips_the_breaker(
    xchain, one_key, keystore, client, nats_url, redis_url, namespace
):
    rpc, dep = xchain.rpc, xchain.dep
    env = executor_env(xchain, keystore, nats_url, redis_url, namespace, EXECUTOR_MAX_CONSECUTIVE_REVERTS="1")
    dislocate(rpc, dep)
    plan = build_plan(rpc, dep, one_key.address)
    twin = replace(plan, plan_id=plan.plan_id + "-twin", candidate_id=uuid.uuid4().hex)
    async with running_executor(env) as ex:
        rpc.call("evm_setAutomine", False)
        try:
            await client.send(plan)
            await client.send(twin)
            sent = [await _sent(client, p.plan_id) for p in (plan, twin)]
            assert {r.nonce for r in sent} == {0, 1}
            rpc.call("evm_mine")  # both in one block: the second finds the price already taken
        finally:
            rpc.call("evm_setAutomine", True)
        first, second = sorted([await client.final(p.plan_id) for p in (plan, twin)], key=lambda r: r.nonce)
        assert first.status is ExecutionStatus.INCLUDED and first.realized_profit == plan.expected_profit
        assert second.status is ExecutionStatus.REVERTED and second.reason == "reverted_on_chain"
        assert second.gas_used and second.effective_gas_price_wei is not None and second.realized_profit is None
        assert first.block_number == second.block_number
        await asyncio.sleep(0.1)
        assert ex.service.engine.paused and "circuit breaker" in ex.service.engine.pause_reason
        dislocate(rpc, dep)
        after = build_plan(rpc, dep, one_key.address)
        await client.send(after)
        assert (await client.final(after.plan_id)).reason == "paused"
    assert tx_count(rpc, one_key.address) == 2


async def _sent(client, plan_id):  # type: ignore[no-untyped-def]
    from tests.integration.executor.kit import wait_for

    return await wait_for(lambda: next((r for r in client.for_plan(plan_id) if r.status is ExecutionStatus.SENT), None))
