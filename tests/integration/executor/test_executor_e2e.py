"""The executor service end to end: a plan on real NATS -> signed tx -> anvil -> receipt ->
ExecutionResult, against the real Uniswap V2/V3, Balancer V2 Vault, Aave V3 Pool bytecode and our
MevbotArbExecutor. Realized profit (the contract's WETH balance change) equals the prediction to
the wei, for every flash source, 2-hop and 3-hop."""

from __future__ import annotations

import pytest
from mevbot.messages import ExecutionStatus, FlashSourceKind
from msgspec.structs import replace

from tests.integration.contracts.chainkit import balance_of
from tests.integration.executor.conftest import executor_env, running_executor
from tests.integration.executor.kit import build_plan, dislocate, tx_count

pytestmark = pytest.mark.integration


async def test_every_flash_source_two_and_three_hops_exact_profit(
    xchain, one_key, keystore, client, nats_url, redis_url, namespace
):
    rpc, dep = xchain.rpc, xchain.dep
    # sent to every endpoint at once: the node twice (the second copy is "already known" or
    # "nonce too low") and a dead endpoint (connection refused): the first acceptance wins
    env = executor_env(xchain, keystore, nats_url, redis_url, namespace,
                       EXECUTOR_SEND_ENDPOINTS=f"{xchain.node.http_url},http://127.0.0.1:9")  # fmt: skip
    async with running_executor(env) as ex:
        assert len(ex.service.rpc.endpoints) == 3
        for kind in FlashSourceKind:
            for n_hops in (2, 3):
                dislocate(rpc, dep)
                plan = build_plan(rpc, dep, one_key.address, n_hops=n_hops, kind=kind)
                before = balance_of(rpc, dep.weth, dep.executor)
                await client.send(plan)
                result = await client.final(plan.plan_id)
                assert result.status is ExecutionStatus.INCLUDED, (kind, n_hops, result)
                realized_on_chain = balance_of(rpc, dep.weth, dep.executor) - before
                assert result.realized_profit == plan.expected_profit == realized_on_chain, (kind, n_hops)
                assert result.reason == ""  # no profit mismatch
                assert result.sender == one_key.address and result.gas_used and result.block_number
                receipt = rpc.call("eth_getTransactionReceipt", result.tx_hash)
                assert receipt["status"] == "0x1" and receipt["to"].lower() == dep.executor.lower()
        statuses = [r.status for r in client.results]
        assert statuses.count(ExecutionStatus.SENT) == 6 and statuses.count(ExecutionStatus.INCLUDED) == 6
    assert tx_count(rpc, one_key.address) == 6  # nonces 0..5, nothing else


async def test_simulation_revert_is_never_sent_and_duplicates_execute_once(
    xchain, one_key, keystore, client, nats_url, redis_url, namespace
):
    rpc, dep = xchain.rpc, xchain.dep
    env = executor_env(xchain, keystore, nats_url, redis_url, namespace, EXECUTOR_GAS_SOURCE="estimate")
    async with running_executor(env):
        dislocate(rpc, dep)
        plan = build_plan(rpc, dep, one_key.address, n_hops=2, gas_limit=0)
        # asks for one wei more than the trade can make: the contract would revert (shortfall 1)
        greedy = replace(plan, plan_id=plan.plan_id + "-greedy", candidate_id=plan.candidate_id + "-g",
                         min_profit=plan.expected_profit + 1, expected_profit=plan.expected_profit + 1)  # fmt: skip
        await client.send(greedy)
        dropped = await client.final(greedy.plan_id)
        assert dropped.status is ExecutionStatus.DROPPED and dropped.reason == "simulation_revert"
        assert "InsufficientProfit" in dropped.detail and "(1,)" in dropped.detail
        assert tx_count(rpc, one_key.address, "pending") == 0  # nothing reached the chain

        await client.send(plan)  # the honest plan goes through, re-using nonce 0
        ok = await client.final(plan.plan_id)
        assert ok.status is ExecutionStatus.INCLUDED and ok.nonce == 0
        assert ok.realized_profit == plan.expected_profit

        again = replace(plan, plan_id=plan.plan_id + "-again")  # same candidate: same opportunity
        await client.send(again)
        dup = await client.final(again.plan_id)
        assert dup.status is ExecutionStatus.DROPPED and dup.reason == "duplicate"
    assert tx_count(rpc, one_key.address) == 1


async def test_execution_disabled_signs_publishes_and_sends_nothing(
    xchain, one_key, keystore, client, nats_url, redis_url, namespace
):
    rpc, dep = xchain.rpc, xchain.dep
    env = executor_env(xchain, keystore, nats_url, redis_url, namespace)
    env.pop("EXECUTION_ENABLED")  # the default is false
    dislocate(rpc, dep)
    plans = [build_plan(rpc, dep, one_key.address, kind=k) for k in FlashSourceKind]
    blocks_before = int(rpc.call("eth_blockNumber"), 16)
    async with running_executor(env):
        for plan in plans:
            await client.send(plan)
        results = [await client.final(p.plan_id) for p in plans]
    for plan, result in zip(plans, results, strict=True):
        assert result.status is ExecutionStatus.DRY_RUN, result
        assert result.raw_tx.startswith("0x02") and result.tx_hash and result.nonce == 0
        assert result.predicted_profit == plan.expected_profit
    assert tx_count(rpc, one_key.address, "pending") == 0
    assert int(rpc.call("eth_blockNumber"), 16) == blocks_before  # automine: no tx, no block
    assert rpc.call("eth_getTransactionByHash", results[0].tx_hash) is None


async def test_unsimulated_plan_is_sent_only_when_the_signed_transaction_does_exactly_the_plan(
    xchain, one_key, keystore, client, nats_url, redis_url, namespace
):
    """VALIDATOR_EXACT_CHECK=executor: a plan the validator did not simulate (simulated=False) is
    signed with its own gas limit and checked here by eth_simulateV1 of the signed fields: one wei
    of profit, a hop output or gas short of the plan and it is not sent; the exact plan is, and
    realizes its prediction to the wei."""
    rpc, dep = xchain.rpc, xchain.dep
    env = executor_env(xchain, keystore, nats_url, redis_url, namespace)
    async with running_executor(env):
        dislocate(rpc, dep)
        plan = replace(build_plan(rpc, dep, one_key.address, n_hops=2, min_profit=1), simulated=False)
        greedy = replace(plan, plan_id=plan.plan_id + "-greedy", candidate_id=plan.candidate_id + "-g",
                         expected_profit=plan.expected_profit + 1)  # the guard (min_profit=1) would let it pass
        await client.send(greedy)
        dropped = await client.final(greedy.plan_id)
        assert (dropped.status, dropped.reason) == (ExecutionStatus.DROPPED, "simulation_mismatch"), dropped
        starved = replace(plan, plan_id=plan.plan_id + "-gas", candidate_id=plan.candidate_id + "-s", gas_limit=60_000)
        await client.send(starved)
        dropped = await client.final(starved.plan_id)
        assert (dropped.status, dropped.reason) == (ExecutionStatus.DROPPED, "simulation_revert"), dropped
        assert tx_count(rpc, one_key.address, "pending") == 0  # nothing reached the chain

        await client.send(plan)
        ok = await client.final(plan.plan_id)
        assert ok.status is ExecutionStatus.INCLUDED and ok.nonce == 0 and ok.signed_ns > 0
        assert ok.realized_profit == plan.expected_profit
    assert tx_count(rpc, one_key.address) == 1
