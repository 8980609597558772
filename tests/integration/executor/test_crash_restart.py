"""An executor process killed with SIGKILL while transactions are in flight, then restarted:
no nonce is stuck (nothing waits in the pool behind a hole) and none is skipped or reused.

Blocks are mined every second here (interval mining), so transactions are really pending when
the process dies; the restarted process re-syncs from the chain's pending count and the fenced
nonce floor its previous life recorded in Redis."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid

import pytest
from mevbot.messages import ExecutionStatus
from msgspec.structs import replace

from tests.fixtures.servers import service_env
from tests.integration.executor.conftest import executor_env
from tests.integration.executor.kit import E18, build_plan, dislocate, tx_count, wait_for

pytestmark = pytest.mark.integration


def _copies(plan, n, tag):  # type: ignore[no-untyped-def]
    return [replace(plan, plan_id=f"{tag}-{i}", candidate_id=uuid.uuid4().hex) for i in range(n)]


async def test_sigkill_mid_flight_then_restart_leaves_no_stuck_or_skipped_nonce(
    xchain, one_key, keystore, client, nats_url, redis_url, namespace, service_runner
):
    rpc, dep = xchain.rpc, xchain.dep
    dislocate(rpc, dep, usdc=1_500_000 * 10**6)
    plan = build_plan(rpc, dep, one_key.address, sizes=[E18], min_out_slack_bps=3_000, min_profit=1)
    env = service_env(nats_url, redis_url, namespace, **executor_env(
        xchain, keystore, nats_url, redis_url, namespace, EXECUTOR_V2_EXACT="false", EXECUTOR_RECEIPT_TIMEOUT_S="20"))  # fmt: skip
    env.pop("HTTP_PORT")
    rpc.call("evm_setAutomine", False)
    rpc.call("evm_setIntervalMining", 1)
    try:
        first = service_runner("services.executor", env, name="executor-a")
        burst = _copies(plan, 30, "before")
        for p in burst:
            await client.send(p)
        await wait_for(lambda: sum(r.status is ExecutionStatus.SENT for r in client.results) >= 6, 20, 0.001)
        first.proc.send_signal(signal.SIGKILL)  # mid-flight: plans queued, txs pending in the pool
        first.proc.wait(10)
        killed_ns = time.time_ns()
        pending_at_kill = tx_count(rpc, one_key.address, "pending") - tx_count(rpc, one_key.address, "latest")

        second = service_runner(
            "services.executor", env, name="executor-b"
        )  # waits for the old lease to lapse
        after = _copies(replace(plan, plan_id="x"), 5, "after")
        for p in after:
            await client.send(p)
        for p in after:
            r = await client.final(p.plan_id, 30)
            assert r.status is ExecutionStatus.INCLUDED, r
        # what the first life sent and never settled is adopted and settled by the second one
        sent_ids = {r.plan_id for r in client.results if r.status is ExecutionStatus.SENT}
        await wait_for(lambda: sent_ids <= {r.plan_id for r in client.results
                                            if r.status is ExecutionStatus.INCLUDED}, 20)  # fmt: skip
        adopted = [r for r in client.results if r.status is ExecutionStatus.INCLUDED and r.plan_id.startswith("before")
                   and r.block_number and r.sent_ns < killed_ns]  # fmt: skip
        second.stop()
    finally:
        rpc.call("evm_setIntervalMining", 0)
        rpc.call("evm_setAutomine", True)

    await asyncio.sleep(0.1)
    status = rpc.call("txpool_status")
    assert int(status["pending"], 16) == 0 and int(status["queued"], 16) == 0, status  # nothing stuck
    mined = tx_count(rpc, one_key.address, "latest")
    assert mined == tx_count(rpc, one_key.address, "pending")
    sent = [r for r in client.results if r.status is ExecutionStatus.SENT]
    by_nonce: dict[int, set[str]] = {}
    for r in sent:
        by_nonce.setdefault(r.nonce, set()).add(r.tx_hash)
    assert all(len(h) == 1 for h in by_nonce.values()), by_nonce  # never two transactions with one nonce
    for nonce, hashes in by_nonce.items():  # every announced transaction is on chain
        receipt = rpc.call("eth_getTransactionReceipt", next(iter(hashes)))
        assert receipt is not None and receipt["status"] == "0x1", nonce
    after_nonces = sorted(r.nonce for r in sent if r.plan_id.startswith("after"))
    assert after_nonces == list(range(mined - 5, mined))  # the restarted process continued right after
    print(f"pending at kill: {pending_at_kill}, mined: {mined}, settled after the kill: {len(adopted)}")
