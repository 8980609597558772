"""On-chain helpers for the executor's integration tests: keys, dislocations and exact plans.

Plans are built the way the validator builds them, but from the chain itself: the contract's
dry-run mode (``eth_call``, always reverts with ``DryRunResult(profit, hopAmountsOut)``) gives the
exact hop outputs and profit for a few loan sizes; the best size becomes the plan, with the
on-chain minimum profit set to exactly the prediction. The executor under test is never used to
predict.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from pathlib import Path

from mevbot.chain.arb_calldata import arb_call_from_plan, dry_run_result, encode_arb_call
from mevbot.chain.deployment import Deployment
from mevbot.chain.rpc import RevertError, RpcClient
from mevbot.config import Secret
from mevbot.keystore import KeystoreEntry, write_keystore
from mevbot.messages import (
    CostBreakdown,
    ExecutionPlan,
    FlashSource,
    FlashSourceKind,
    PlanHop,
    PoolKind,
)
from msgspec.structs import replace

from tests.integration.contracts.chainkit import EXECUTOR, OWNER, send, swap_v2

PASSWORD = "executor-test-password-" + "p" * 20
SCRYPT_N = 2**10
E18 = 10**18
SIZES = [s * E18 // 10 for s in (5, 10, 20, 50, 100, 200, 500)]
_ids = itertools.count(1)


def new_keys(rpc: RpcClient, dep: Deployment, directory: Path, n: int) -> list[KeystoreEntry]:
    """n fresh keystores, funded with ETH and allowed on the executor contract."""
    entries = [write_keystore(directory, Secret(PASSWORD), scrypt_n=SCRYPT_N) for _ in range(n)]
    for e in entries:
        rpc.call("anvil_setBalance", e.address, hex(1000 * E18))
        assert (
            send(rpc, OWNER, dep.executor, EXECUTOR.encode_call("setAllowed", e.address, True))["status"]
            == "0x1"
        )
    return entries


def tx_count(rpc: RpcClient, address: str, tag: str = "latest") -> int:
    return int(rpc.call("eth_getTransactionCount", address, tag), 16)


def head(rpc: RpcClient) -> int:
    return int(rpc.call("eth_blockNumber"), 16)


def dislocate(rpc: RpcClient, dep: Deployment, usdc: int = 600_000 * 10**6) -> None:
    """Someone buys WETH with USDC on the V2 WETH/USDC pair: WETH is dearer there."""
    swap_v2(rpc, dep, dep.v2_pair("WETH", "USDC").address, dep.token("USDC"), usdc)


def _token0(rpc: RpcClient, pool: str) -> str:
    out = rpc.call("eth_call", {"to": pool, "input": "0x0dfe1681"}, "latest")  # token0()
    return "0x" + out[-40:]


def cycle_hops(rpc: RpcClient, dep: Deployment, n_hops: int) -> list[tuple[str, PoolKind, str, str, int]]:
    """(pool, kind, token_in, token_out, fee_pips) of a WETH cycle through the dislocated pair."""
    weth, usdc, usdt = (dep.token(s).lower() for s in ("WETH", "USDC", "USDT"))
    v2 = dep.v2_pair("WETH", "USDC").address
    if n_hops == 2:
        return [(v2, PoolKind.UNISWAP_V2, weth, usdc, 3000),
                (dep.v3_pool("WETH", "USDC", 500).address, PoolKind.UNISWAP_V3, usdc, weth, 500)]  # fmt: skip
    return [
        (v2, PoolKind.UNISWAP_V2, weth, usdc, 3000),
        (dep.v3_pool("USDC", "USDT", 100).address, PoolKind.UNISWAP_V3, usdc, usdt, 100),
        (dep.v3_pool("WETH", "USDT", 500).address, PoolKind.UNISWAP_V3, usdt, weth, 500),
    ]


def flash_source(dep: Deployment, kind: FlashSourceKind) -> FlashSource:
    if kind is FlashSourceKind.BALANCER_V2:
        return FlashSource(kind=kind, address=dep.balancer_vault.lower())
    if kind is FlashSourceKind.AAVE_V3:
        assert dep.aave is not None
        return FlashSource(kind=kind, address=dep.aave.pool.lower())
    return FlashSource(kind=kind, address=dep.v3_pool("WETH", "USDC", 3000).address.lower())  # not a hop


def _dry_run(rpc: RpcClient, sender: str, contract: str, plan: ExecutionPlan) -> tuple[int, list[int]] | None:
    data = encode_arb_call(arb_call_from_plan(plan, dry_run=True, v2_exact=False))
    try:
        rpc.call("eth_call", {"from": sender, "to": contract, "input": "0x" + data.hex()}, "latest")
    except RevertError as exc:
        result = dry_run_result(exc.data)
        return (result.profit_wei, list(result.hop_amounts_out_wei)) if result else None
    raise AssertionError("a dry run always reverts")


def build_plan(
    rpc: RpcClient, dep: Deployment, sender: str, *, n_hops: int = 2,
    kind: FlashSourceKind = FlashSourceKind.BALANCER_V2, sizes: list[int] | None = None,
    min_out_slack_bps: int = 0, min_profit: int | None = None, gas_limit: int | None = None,
    contract: str | None = None,
) -> ExecutionPlan:  # fmt: skip
    """The best plan on the current chain state (exact figures from the contract's dry run)."""
    contract = contract or dep.executor
    assert contract is not None
    hops_spec = cycle_hops(rpc, dep, n_hops)
    pools_z = [(p, k, ti, to, fee, _token0(rpc, p).lower() == ti) for p, k, ti, to, fee in hops_spec]
    source = flash_source(dep, kind)
    weth = dep.token("WETH").lower()
    block = head(rpc)
    best: tuple[int, int, list[int]] | None = None
    for size in sizes or SIZES:
        probe = _plan(dep, pools_z, source, weth, size, [1] * n_hops, 1, 1, block)
        got = _dry_run(rpc, sender, contract, probe)
        if got is not None and (best is None or got[0] > best[1]):
            best = (size, got[0], got[1])
    assert best is not None and best[1] > 0, f"no profitable size: {best}"
    size, profit, outs = best
    mins = [o * (10_000 - min_out_slack_bps) // 10_000 for o in outs]
    plan = _plan(dep, pools_z, source, weth, size, outs, profit, profit if min_profit is None else min_profit, block,
                 mins=mins)  # fmt: skip
    if gas_limit is None:
        data = encode_arb_call(arb_call_from_plan(plan))
        est = int(
            rpc.call("eth_estimateGas", {"from": sender, "to": contract, "input": "0x" + data.hex()}), 16
        )
        gas_limit = est * 13 // 10
    return replace(plan, gas_limit=gas_limit, simulated=True, validated_ns=time.time_ns())


def _plan(dep, pools_z, source, weth, size, outs, profit, min_profit, block, mins=None) -> ExecutionPlan:  # type: ignore[no-untyped-def]
    mins = mins or outs
    hops, amount = [], size
    for (pool, kind, ti, to, fee, z), out, mn in zip(pools_z, outs, mins, strict=True):
        hops.append(PlanHop(pool=pool.lower(), kind=kind, token_in=ti, token_out=to, zero_for_one=z, amount_in=amount,
                            amount_out=out, min_amount_out=mn, fee_pips=fee))  # fmt: skip
        amount = out
    n = next(_ids)
    gas_wei = 10**12  # anvil's base fee is a few wei: the gas bill is noise next to the profit
    return ExecutionPlan(
        chain_id=dep.chain_id, plan_id=f"plan-{n}-{uuid.uuid4().hex[:6]}", candidate_id=f"cand-{uuid.uuid4().hex}",
        cycle_id=f"cycle-{len(hops)}", hops=hops, loan_token=weth, loan_amount=size, flash_source=source,
        min_profit=min_profit, expected_profit=profit, expected_net_profit_wei=profit - gas_wei,
        costs=CostBreakdown(gross_profit=profit, flash_fee=source.fee, l2_gas_cost_wei=gas_wei, l1_gas_cost_wei=0,
                            gas_cost_in_token=gas_wei, net_profit=profit - gas_wei, net_profit_wei=profit - gas_wei),
        gas_limit=0, max_fee_per_gas_wei=0, max_priority_fee_per_gas_wei=0, deadline_block=block + 50,
        block_number=block,
    )  # fmt: skip


async def wait_for(predicate, timeout_s: float = 20.0, poll_s: float = 0.02):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(poll_s)
    raise AssertionError(f"condition not met within {timeout_s}s")
