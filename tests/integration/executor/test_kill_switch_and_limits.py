"""Kill switch (NATS control subject and HTTP endpoint) and the money limits enforced again by
the executor: a paused executor, a plan past its deadline, above MAX_POSITION_SIZE or below
MIN_PROFIT_THRESHOLD sends nothing."""

from __future__ import annotations

import re

import httpx
import pytest
from mevbot import subjects
from mevbot.messages import ControlCommand, ExecutionStatus
from msgspec.structs import replace

from tests.integration.executor.conftest import executor_env, running_executor
from tests.integration.executor.kit import build_plan, dislocate, head, new_keys, tx_count, wait_for

pytestmark = pytest.mark.integration


def _metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def test_pause_by_nats_and_http_holds_sending_at_once(
    xchain, one_key, keystore, client, nats_url, redis_url, namespace
):
    rpc, dep = xchain.rpc, xchain.dep
    env = executor_env(xchain, keystore, nats_url, redis_url, namespace)
    async with running_executor(env) as ex:
        base = f"http://127.0.0.1:{ex.port}"
        dislocate(rpc, dep)
        plan = build_plan(rpc, dep, one_key.address)
        async with httpx.AsyncClient() as http:  # counters are per process: compare with a baseline
            baseline = (await http.get(f"{base}/metrics")).text

        await client.bus.publish_core(subjects.CONTROL_EXECUTOR, ControlCommand(
            chain_id=dep.chain_id, command="pause", reason="incident 42", issued_by="test"))  # fmt: skip
        await wait_for(lambda: ex.service.engine.paused, 5)
        await client.send(plan)
        r = await client.final(plan.plan_id)
        assert r.status is ExecutionStatus.DROPPED and r.reason == "paused"
        async with httpx.AsyncClient() as http:
            status = (await http.get(f"{base}/control")).json()
            assert status["paused"] is True and status["reason"] == "incident 42"
            assert (await http.post(f"{base}/control/resume")).json() == {"paused": False}
            retry = replace(plan, plan_id=plan.plan_id + "-r", candidate_id=plan.candidate_id + "-r")
            await client.send(retry)
            assert (await client.final(retry.plan_id)).status is ExecutionStatus.INCLUDED

            assert (await http.post(f"{base}/control/pause", params={"reason": "manual"})).json()[
                "paused"
            ] is True
            dislocate(rpc, dep)
            again = build_plan(rpc, dep, one_key.address)
            await client.send(again)
            assert (await client.final(again.plan_id)).reason == "paused"
            await client.bus.publish_core(
                subjects.CONTROL_EXECUTOR, ControlCommand(chain_id=dep.chain_id, command="resume")
            )
            await wait_for(lambda: not ex.service.engine.paused, 5)
            metrics_text = (await http.get(f"{base}/metrics")).text
        for name in ('mev_executions_total{status="dropped"}', 'mev_executor_dropped_total{reason="paused"}'):
            assert _metric(metrics_text, name) - _metric(baseline, name) == 2.0, name
        assert _metric(metrics_text, 'mev_executions_total{status="included"}') >= 1
    assert tx_count(rpc, one_key.address) == 1  # only the plan sent while resumed


async def test_deadline_position_size_and_profit_threshold(
    xchain, one_key, keystore, client, nats_url, redis_url, namespace
):
    rpc, dep = xchain.rpc, xchain.dep
    dislocate(rpc, dep)
    plan = build_plan(rpc, dep, one_key.address)
    env = executor_env(xchain, keystore, nats_url, redis_url, namespace,
                       MAX_POSITION_SIZE=str(plan.loan_amount - 1), MIN_PROFIT_THRESHOLD="0.001 ether",
                       EXECUTOR_MAX_PLAN_AGE_MS="2000")  # fmt: skip
    cases = {
        "deadline_passed": replace(plan, plan_id="late", candidate_id="c-late", deadline_block=head(rpc) - 1),
        "position_too_large": replace(plan, plan_id="big", candidate_id="c-big"),
        "profit_below_threshold": replace(plan, plan_id="thin", candidate_id="c-thin", loan_amount=1,
                                          expected_net_profit_wei=10**15 - 1),
        "stale_plan": replace(plan, plan_id="old", candidate_id="c-old", validated_ns=plan.validated_ns - 5 * 10**9),
        "wrong_chain": replace(plan, plan_id="chain", candidate_id="c-chain", chain_id=1),
    }  # fmt: skip
    async with running_executor(env):
        for p in cases.values():
            await client.send(p)
        for reason, p in cases.items():
            r = await client.final(p.plan_id)
            assert (r.status, r.reason) == (ExecutionStatus.DROPPED, reason), r
    assert tx_count(rpc, one_key.address, "pending") == 0


async def test_pause_reaches_every_replica_and_survives_restarts(
    xchain, keystore, client, nats_url, redis_url, namespace
):
    rpc, dep = xchain.rpc, xchain.dep
    keys = new_keys(rpc, dep, keystore, 2)
    env = executor_env(xchain, keystore, nats_url, redis_url, namespace)
    async with running_executor(env) as a:
        async with running_executor(env) as b:
            async with httpx.AsyncClient() as http:
                await http.post(f"http://127.0.0.1:{a.port}/control/pause", params={"reason": "drill"})
            assert a.service.engine.paused  # at once on the replica asked
            await wait_for(lambda: b.service.engine.paused, 5)  # and the others through NATS
        async with running_executor(env) as c:  # started after the pause: paused from the start
            assert c.service.engine.paused and c.service.engine.pause_reason == "drill"
            dislocate(rpc, dep)
            plan = build_plan(rpc, dep, keys[0].address)
            await client.send(plan)
            assert (await client.final(plan.plan_id)).reason == "paused"
            await client.bus.publish_core(subjects.CONTROL_EXECUTOR, ControlCommand(
                chain_id=dep.chain_id, command="resume", issued_by="test"))  # fmt: skip
            await wait_for(lambda: not a.service.engine.paused and not c.service.engine.paused, 5)
            retry = replace(plan, plan_id=plan.plan_id + "-r", candidate_id=plan.candidate_id + "-r")
            await client.send(retry)
            assert (await client.final(retry.plan_id)).status is ExecutionStatus.INCLUDED
    assert sum(tx_count(rpc, k.address) for k in keys) == 1
