"""Feed a detector core from a real anvil chain: snapshots read from the pools, logs decoded by ingest."""

from __future__ import annotations

import asyncio
from typing import Any

from mevbot import messages as m
from mevbot.chain.deployment import Deployment
from mevbot.chain.rpc import RpcClient

from services.ingest.decode import decode_log
from services.ingest.snapshot import read_snapshot
from services.ingest.topics import POOL_EVENT_TOPICS

CHAIN_ID = 42161


class _AsyncRpc:
    def __init__(self, rpc: RpcClient) -> None:
        self.rpc = rpc

    async def batch(self, calls):
        return self.rpc.batch(calls)


def pool_infos(dep: Deployment) -> list[m.PoolInfo]:
    infos = []
    for p in dep.v2_pairs:
        infos.append(m.PoolInfo(address=p.address.lower(), kind=m.PoolKind.UNISWAP_V2, dex="uniswap_v2",
                                factory=dep.uniswap_v2_factory.lower(), token0=p.token0.lower(),
                                token1=p.token1.lower(), fee_pips=p.fee_pips))
    for p in dep.v3_pools:
        infos.append(m.PoolInfo(address=p.address.lower(), kind=m.PoolKind.UNISWAP_V3, dex="uniswap_v3",
                                factory=dep.uniswap_v3_factory.lower(), token0=p.token0.lower(),
                                token1=p.token1.lower(), fee_pips=p.fee_pips, tick_spacing=p.tick_spacing))
    return infos


def head_block(rpc: RpcClient) -> int:
    return int(rpc.call("eth_blockNumber"), 16)


def snapshots(rpc: RpcClient, infos: list[m.PoolInfo], block: int) -> list[m.PoolSnapshot]:
    header = rpc.call("eth_getBlockByNumber", hex(block), False)

    async def read_all() -> list[m.PoolSnapshot]:
        arpc = _AsyncRpc(rpc)
        return [await read_snapshot(arpc, info, block, block_hash=header["hash"], chain_id=CHAIN_ID) for info in infos]

    return asyncio.run(read_all())


def chain_messages(rpc: RpcClient, infos: list[m.PoolInfo], from_block: int, to_block: int) -> list[Any]:
    """Every pool event of the blocks, in chain order, each block closed by its BlockHead."""
    logs = rpc.call("eth_getLogs", {"fromBlock": hex(from_block), "toBlock": hex(to_block),
                                    "address": [i.address for i in infos], "topics": [list(POOL_EVENT_TOPICS)]})
    by_block: dict[int, list[dict]] = {}
    for log in logs:
        by_block.setdefault(int(log["blockNumber"], 16), []).append(log)
    out: list[Any] = []
    for block in range(from_block, to_block + 1):
        header = rpc.call("eth_getBlockByNumber", hex(block), False)
        events = [decode_log(log, CHAIN_ID) for log in sorted(by_block.get(block, []),
                                                             key=lambda x: int(x["logIndex"], 16))]
        out.extend(events)
        out.append(m.BlockHead(chain_id=CHAIN_ID, block_number=block, block_hash=header["hash"],
                               parent_hash=header["parentHash"], timestamp=int(header["timestamp"], 16),
                               event_count=len(events)))
    return out
