"""The validator service over real NATS (JetStream) and anvil: two replicas share the candidate
stream through one durable consumer (each candidate validated once), approved plans land on
``mev.plans``, rejections on ``mev.rejections`` with a reason code and a metric per reason."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import msgspec
import pytest
from mevbot import messages as m
from mevbot import subjects as subj
from mevbot.bus import Mode
from mevbot.chain.deployment import Deployment
from mevbot.chain.devtools import KEEPER, swap_v3
from mevbot.chain.rpc import RpcClient
from mevbot.config import load_settings
from mevbot.nats_bus import NatsBus
from mevbot.runtime import serve
from prometheus_client import REGISTRY

from services.validator.app import ValidatorService

from .chainstate import candidate, mirror, snapshots
from .test_validator_anvil import WIDE, dislocate, two_hop

pytestmark = pytest.mark.integration


def chain_config(dep: Deployment, path: Path) -> Path:
    tokens = [
        {"address": t.address.lower(), "symbol": t.symbol, "decimals": t.decimals}
        for t in dep.tokens.values()
    ]
    path.write_text(
        json.dumps(
            {
                "chain_id": dep.chain_id,
                "name": "anvil",
                "wrapped_native": dep.weth.lower(),
                "multicall3": "0x" + "ca" * 20,
                "dexes": [
                    {
                        "name": "uniswap_v2",
                        "kind": "uniswap_v2",
                        "factory": dep.uniswap_v2_factory.lower(),
                        "init_code_hash": dep.uniswap_v2_init_code_hash,
                        "fee_pips": 3000,
                    },
                    {
                        "name": "uniswap_v3",
                        "kind": "uniswap_v3",
                        "factory": dep.uniswap_v3_factory.lower(),
                        "init_code_hash": dep.uniswap_v3_init_code_hash,
                        "fee_tiers": {"100": 1, "500": 10, "3000": 60, "10000": 200},
                    },
                ],
                "base_tokens": [dep.weth.lower()],
                "tokens": tokens,
                "flash_loan_sources": [
                    {"kind": "balancer_v2", "address": dep.balancer_vault.lower()},
                    {"kind": "aave_v3", "address": dep.aave.pool.lower(), "fee_pips": 500},
                ],
            }
        )
    )
    return path


def service_env(anvil, dep: Deployment, nats_url: str, namespace: str, redis_url: str, tmp_path: Path,
                **extra: str) -> dict[str, str]:
    """A validator's environment against the test chain, its market and a private NATS namespace."""
    return dict(
        WIDE,
        ARBITRUM_RPC_ENDPOINT=anvil.http_url,
        NATS_URL=nats_url,
        MEV_NAMESPACE=namespace,
        CHAIN_CONFIG_PATH=str(chain_config(dep, tmp_path / "chain.json")),
        HTTP_PORT="0",
        EXECUTOR_CONTRACT_ADDRESS=dep.executor,
        EXECUTOR_SENDER_ADDRESS=KEEPER,
        LOG_LEVEL="warning",
        REDIS_URL=redis_url,
        **extra,
    )


def _metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_two_replicas_share_candidates_and_publish_plans_and_rejections(
    anvil,
    rpc: RpcClient,
    market: Deployment,
    private_nats,
    redis_url: str,
    tmp_path: Path,
) -> None:
    # a NATS server of our own: the shared one's JetStream storage is reserved by other suites' streams
    nats_url, namespace = private_nats.url, f"validatortest{time.time_ns()}"
    dep = market
    dislocate(rpc, dep)
    store = mirror(rpc, dep)
    good = msgspec.structs.replace(candidate(store, dep, two_hop(dep), dep.weth), detected_ns=time.time_ns())
    env = service_env(anvil, dep, nats_url, namespace, redis_url, tmp_path, MIN_PROFIT_THRESHOLD="0",
                      MAX_POSITION_SIZE="100000 ether", GAS_ESTIMATE_INCLUDES_L1="false",
                      VALIDATOR_MAX_STATE_AGE_BLOCKS="5")
    stop = asyncio.Event()
    services = [ValidatorService(env) for _ in range(2)]
    tasks = [
        asyncio.create_task(
            serve(
                s, settings=load_settings(env=dict(env, REPLICA_ID=f"v{i}")), stop=stop, install_signals=False
            )
        )
        for i, s in enumerate(services)
    ]
    client = NatsBus(nats_url, service="test-client", namespace=namespace, chain_id=dep.chain_id)
    await client.connect()
    await client.ensure_streams()
    plans: list[m.ExecutionPlan] = []
    rejections: list[m.Rejection] = []

    async def on_plan(p: m.ExecutionPlan) -> None:
        plans.append(p)

    async def on_rejection(r: m.Rejection) -> None:
        rejections.append(r)

    await client.subscribe(subj.PLANS, on_plan, mode=Mode.SHARED, message_type=m.ExecutionPlan)
    await client.subscribe(subj.REJECTIONS, on_rejection, mode=Mode.CORE, message_type=m.Rejection)
    stale_before = _metric("mev_validator_rejections_total", reason="stale_state")
    inbox_before = _metric("mev_stage_latency_seconds_count", stage="validator_inbox")
    try:
        for _ in range(200):  # both replicas up and subscribed
            if all(getattr(s, "validator", None) is not None for s in services):
                break
            await asyncio.sleep(0.05)
        n = 6
        for i in range(n):
            await client.publish(subj.CANDIDATES, msgspec.structs.replace(good, candidate_id=f"good-{i}"))
        stale = msgspec.structs.replace(good, candidate_id="stale", block_number=good.block_number - 50)
        await client.publish(subj.CANDIDATES, stale)
        for _ in range(400):
            if len(plans) + len(rejections) >= n + 1:
                break
            await asyncio.sleep(0.05)
        # the replicas mirror pool state from mev.pools.snapshot: after someone else's swap, a
        # snapshot newer than the candidate's state versions makes it stale with no simulation
        swap_v3(rpc, dep, dep.v3_pool("WETH", "USDC", 500).address, dep.token("WETH"), 10**18)
        for snap in snapshots(rpc, dep):
            await client.publish(subj.POOL_SNAPSHOT, snap)
        for _ in range(400):
            if all(
                s.store is not None and len(s.store) == len(dep.v2_pairs) + len(dep.v3_pools)
                for s in services
            ):
                break
            await asyncio.sleep(0.05)
        await client.publish(subj.CANDIDATES, msgspec.structs.replace(good, candidate_id="moved"))
        for _ in range(400):
            if any(r.candidate_id == "moved" for r in rejections):
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await client.close()

    # every candidate validated exactly once, by one replica or the other
    handled = sorted([p.candidate_id for p in plans] + [r.candidate_id for r in rejections])
    assert handled == sorted([f"good-{i}" for i in range(n)] + ["stale", "moved"])
    # the copies are one opportunity: approved once (the replicas claim its pools in Redis), then reserved
    assert len(plans) == 1 and all(p.simulated and p.expected_profit == good.gross_profit for p in plans)
    by_id = {r.candidate_id: r for r in rejections}
    assert {by_id[f"good-{i}"].reason for i in range(n) if f"good-{i}" in by_id} == {"pool_reserved"}
    assert by_id["stale"].reason == "stale_state" and "blocks old" in by_id["stale"].detail
    assert by_id["moved"].reason == "stale_state" and "changed since" in by_id["moved"].detail
    assert _metric("mev_validator_rejections_total", reason="stale_state") == stale_before + 2
    # every candidate's way in (detector stamp -> a replica starts it) is observed once
    assert _metric("mev_stage_latency_seconds_count", stage="validator_inbox") == inbox_before + n + 2


async def test_the_mirror_follows_a_burst_in_chain_order(
    anvil,
    rpc: RpcClient,
    market: Deployment,
    private_nats,
    redis_url: str,
    tmp_path: Path,
) -> None:
    """Blocks of pool events published back to back, each closed by its BlockHead: the mirror
    applies every block's events before its end marker (no block seen with missing events, no
    pool stale) and ends on the last state. With one durable consumer per subject the end markers
    overtook their events under load and every pool went stale for good."""
    nats_url, namespace = private_nats.url, f"validatormirror{time.time_ns()}"
    dep = market
    env = service_env(anvil, dep, nats_url, namespace, redis_url, tmp_path)
    client = NatsBus(nats_url, service="test-client", namespace=namespace, chain_id=dep.chain_id)
    await client.connect()
    await client.ensure_streams()
    snaps = snapshots(rpc, dep)
    first_block = snaps[0].block_number + 1
    n_blocks, per_block = 40, 150
    pairs = [s.pool.address for s in snaps if s.pool.kind == m.PoolKind.UNISWAP_V2]
    assert pairs
    last: dict[str, tuple[int, int]] = {}
    messages: list[m.Message] = list(snaps)
    for b in range(first_block, first_block + n_blocks):
        block_hash = "0x" + f"{b:064x}"
        for i in range(per_block):
            pool = pairs[i % len(pairs)]
            reserves = (10**21 + b * 1000 + i, 3 * 10**24 + b * 7 + i)
            last[pool] = reserves
            messages.append(m.V2Sync(
                chain_id=dep.chain_id, pool=pool, reserve0=reserves[0], reserve1=reserves[1],
                meta=m.EventMeta(block_number=b, block_hash=block_hash, tx_hash="0x" + f"{i:064x}", tx_index=i,
                                 log_index=i)))
        messages.append(m.BlockHead(chain_id=dep.chain_id, block_number=b, block_hash=block_hash,
                                    parent_hash="0x" + f"{b - 1:064x}", timestamp=1_700_000_000 + b,
                                    base_fee_wei=10**7, event_count=per_block))
    service = ValidatorService(env)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(service, settings=load_settings(env=dict(env, REPLICA_ID="mirror")), stop=stop,
                                     install_signals=False))
    try:
        for _ in range(200):
            if service.validator is not None:
                break
            await asyncio.sleep(0.05)
        for message in messages:
            subject = (subj.event_subject(message) if isinstance(message, m.PoolEvent)
                       else subj.BLOCK_HEAD if isinstance(message, m.BlockHead) else subj.POOL_SNAPSHOT)
            await client.publish_async(subject, message)
        await client.flush(timeout_s=30)
        last_block = first_block + n_blocks - 1
        for _ in range(600):
            head = service.store.last_head
            if head is not None and head.block_number == last_block:
                break
            await asyncio.sleep(0.05)
        store = service.store
        assert store.last_head is not None and store.last_head.block_number == last_block
        assert store.gaps == 0, f"{store.gaps} blocks ended before all their events were applied"
        assert all(store.ready_pool(s.pool.address) is not None for s in snaps), "stale pools in the mirror"
        for pool, (r0, r1) in last.items():
            state = store.ready_pool(pool)
            assert (state.reserve0, state.reserve1) == (r0, r1)
    finally:
        stop.set()
        await task
        await client.close()
