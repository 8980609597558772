"""Shared pieces of the ingest integration tests: chain config for the deployed market, an
in-process ingest engine on real NATS + Redis, random chain traffic, and a JetStream reader."""

from __future__ import annotations

import asyncio
import io
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import nats
from mevbot import messages as m
from mevbot.cache import Cache
from mevbot.chain.deployment import Deployment
from mevbot.chain.devtools import ACTOR, ERC20, OWNER, PAIR, V3POOL, v2_amount_out
from mevbot.chain.rpc import RpcClient
from mevbot.chainconfig import ChainConfig, parse_chain_config
from mevbot.logging import get_logger
from mevbot.nats_bus import NatsBus
from mevbot.provider_config import Provider, RetryConfig
from mevbot.rpc import HttpRpc
from mevbot.runtime.tasks import cancel_and_wait

from services.ingest.engine import Engine
from services.ingest.outputs import CheckpointStore, Publisher
from services.ingest.registry import PoolRegistry
from services.ingest.settings import IngestSettings
from services.ingest.topics import CREATION_TOPICS, log_filter


def task_stacks() -> str:
    """Where every asyncio task of the running loop is waiting (for a stuck-test message)."""
    out = io.StringIO()
    for task in asyncio.all_tasks():
        task.print_stack(limit=12, file=out)
    return out.getvalue()


def chain_config(dep: Deployment) -> ChainConfig:
    return parse_chain_config({
        "chain_id": dep.chain_id, "name": "anvil", "wrapped_native": dep.weth.lower(), "multicall3": "0x" + "ca" * 20,
        "dexes": [
            {"name": "uniswap_v2", "kind": "uniswap_v2", "factory": dep.uniswap_v2_factory.lower(),
             "init_code_hash": dep.uniswap_v2_init_code_hash, "fee_pips": 3000},
            {"name": "uniswap_v3", "kind": "uniswap_v3", "factory": dep.uniswap_v3_factory.lower(),
             "init_code_hash": dep.uniswap_v3_init_code_hash,
             "fee_tiers": {"100": 1, "500": 10, "3000": 60, "10000": 200}},
        ],
        "base_tokens": [dep.weth.lower()],
        "tokens": [{"address": t.address.lower(), "symbol": t.symbol, "decimals": t.decimals}
                   for t in dep.tokens.values()],
    })


def providers(ws_urls: list[tuple[str, str]], http_urls: list[tuple[str, str]], timeout_s: float = 5.0,
              primary_timeout_s: float | None = None) -> list[Provider]:
    """Providers by preference (weight 100, 99, ...); ``primary_timeout_s`` for the first of each kind."""
    out = []
    for kind, urls in (("ws", ws_urls), ("http", http_urls)):
        for i, (name, url) in enumerate(urls):
            timeout = primary_timeout_s if (i == 0 and primary_timeout_s is not None) else timeout_s
            out.append(Provider(name, url, kind, weight=100 - i, timeout_s=timeout, rate_limit_per_s=0))
    return out


@dataclass
class Ingest:
    engine: Engine
    bus: NatsBus
    cache: Cache
    state_cache: Cache
    rpc: HttpRpc
    task: asyncio.Task | None = None

    async def run(self) -> Ingest:
        await self.engine.start()
        self.task = asyncio.create_task(self.engine.run())
        return self

    async def wait_block(self, number: int, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.engine.ledger is None or self.engine.ledger.last.number < number:
            if self.task is not None and self.task.done():
                self.task.result()
            if time.monotonic() >= deadline:
                last = self.engine.ledger.last.number if self.engine.ledger is not None else None
                raise AssertionError(f"ingest stuck at {last} < {number}\n{task_stacks()}")
            await asyncio.sleep(0.02)
        await self.bus.flush(10)

    async def stop(self, timeout_s: float = 20.0) -> None:
        if self.task is not None and await cancel_and_wait([self.task], timeout_s):
            # a hang must fail the test with where it hangs, not at pytest's timeout
            raise AssertionError(f"ingest did not stop within {timeout_s} s\n{task_stacks()}")
        await self.engine.close()
        await self.bus.close()
        await self.rpc.close()
        await self.cache.close()
        await self.state_cache.close()


async def start_ingest(dep: Deployment, provider_list: list[Provider], nats_url: str, redis_url: str, namespace: str,
                       *, pools: tuple[str, ...] = (), replica: str = "r0", **settings: Any) -> Ingest:
    chain = chain_config(dep)
    bus = NatsBus(nats_url, service="ingest", replica_id=replica, namespace=namespace, chain_id=chain.chain_id)
    await bus.connect()
    await bus.ensure_streams()
    cache = Cache(redis_url, name="pools", namespace=namespace)
    state_cache = Cache(redis_url, name=f"ingest-{replica}", namespace=namespace)
    rpc = HttpRpc(provider_list, retry=RetryConfig(max_retries=6, retry_delay_s=0.05, backoff_multiplier=2,
                                                    max_backoff_s=0.5), cooldown_s=1.0)
    defaults = {"stall_timeout_ms": 600, "ping_interval_ms": 500, "failover_backoff_ms": 20,
                "checkpoint_interval_ms": 100}
    defaults.update(settings)
    cfg = IngestSettings(pools=tuple(p.lower() for p in pools), **defaults)
    log = get_logger("test.ingest", replica=replica)
    registry = PoolRegistry(chain, rpc, cache, negative_ttl_s=cfg.negative_ttl_s, log=log)
    engine = Engine(chain=chain, rpc=rpc, ws_providers=[p for p in provider_list if p.is_websocket],
                    registry=registry, publisher=Publisher(bus, chain.chain_id),
                    checkpoints=CheckpointStore(state_cache, chain.chain_id), settings=cfg, log=log)
    return Ingest(engine, bus, cache, state_cache, rpc)


# --- reading what was published -------------------------------------------------------------------


async def read_stream(nats_url: str, namespace: str, stream: str = "MEV_CHAIN") -> list[tuple[str, Any]]:
    """(subject, message) of everything in ``stream``, in stream order."""
    return [(subject, message) for subject, _headers, message in await read_stream_with_headers(nats_url, namespace, stream)]


async def read_stream_with_headers(nats_url: str, namespace: str,
                                   stream: str = "MEV_CHAIN") -> list[tuple[str, dict, Any]]:
    """(subject, headers, message) of everything in ``stream``, in stream order."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        name = f"{namespace.upper()}_{stream}"
        total = (await js.stream_info(name)).state.messages
        sub = await js.pull_subscribe(f"{namespace}.mev.>", durable=f"check{int(time.time() * 1000)}", stream=name)
        out: list[tuple[str, dict, Any]] = []
        while len(out) < total:
            for msg in await sub.fetch(min(500, total - len(out)), timeout=5):
                out.append((msg.subject[len(namespace) + 1 :], dict(msg.headers or {}), m.decode(msg.data)))
                await msg.ack()
        return out
    finally:
        await nc.close()


def chain_logs(rpc: RpcClient, first: int, last: int) -> list[dict]:
    """Every pool-event log the chain has in [first, last] (what ingest must publish)."""
    logs = rpc.call("eth_getLogs", log_filter({"fromBlock": hex(first), "toBlock": hex(last)}))
    return [lg for lg in logs if lg["topics"][0] not in CREATION_TOPICS]


# --- random traffic -----------------------------------------------------------------------------------


@dataclass
class Traffic:
    """Random V2 swaps and V3 swaps, mints and burns, several per block (automine off, evm_mine)."""

    rpc_url: str
    dep: Deployment
    v2: list[str]
    v3: list[str]
    seed: int = 7
    blocks: int = 0
    txs: int = 0
    stop_flag: threading.Event = field(default_factory=threading.Event)
    positions: list[tuple[str, int, int, int]] = field(default_factory=list)

    def run(self, duration_s: float, *, per_block: tuple[int, int] = (1, 4), pause_s: float = 0.02,
            max_blocks: int | None = None) -> None:
        rnd = random.Random(self.seed)
        rpc = RpcClient(self.rpc_url)
        info = {p.address.lower(): p for p in self.dep.v3_pools}
        pairs = {p.address.lower(): p for p in self.dep.v2_pairs}
        rpc.call("evm_setAutomine", False)
        try:
            end = time.monotonic() + duration_s
            stop_at = None if max_blocks is None else self.blocks + max_blocks
            while time.monotonic() < end and not self.stop_flag.is_set() and (stop_at is None or self.blocks < stop_at):
                for _ in range(rnd.randint(*per_block)):
                    action = rnd.choice(("v2", "v3swap", "v3swap", "mint", "burn"))
                    if action == "v2" and self.v2:
                        self._v2_swap(rpc, rnd, pairs[rnd.choice(self.v2)])
                    elif action == "v3swap" and self.v3:
                        pool = info[rnd.choice(self.v3)]
                        token = rnd.choice((pool.token0, pool.token1))
                        self._send(rpc, self.dep.pool_actor, ACTOR.encode_call(
                            "swap", pool.address, token == pool.token0, self._amount(token, rnd), 0, OWNER))
                    elif action == "mint" and self.v3:
                        self._mint(rpc, rnd, info[rnd.choice(self.v3)])
                    elif action == "burn" and self.positions:
                        pool, lower, upper, liq = self.positions.pop(rnd.randrange(len(self.positions)))
                        self._send(rpc, self.dep.pool_actor, ACTOR.encode_call("burn", pool, lower, upper, liq, OWNER))
                rpc.call("evm_mine")
                self.blocks += 1
                time.sleep(pause_s)
        finally:
            rpc.call("evm_setAutomine", True)
            rpc.close()

    def _amount(self, token: str, rnd: random.Random) -> int:
        t = next(t for t in self.dep.tokens.values() if t.address.lower() == token.lower())
        usd = rnd.choice((100, 1_000, 10_000, 50_000))
        return int(usd / t.usd_price * 10**t.decimals)

    def _send(self, rpc: RpcClient, to: str, data: bytes, gas: int = 6_000_000) -> None:
        rpc.call("eth_sendTransaction", {"from": OWNER, "to": to, "input": "0x" + data.hex(), "gas": hex(gas)})
        self.txs += 1

    def _v2_swap(self, rpc: RpcClient, rnd: random.Random, pair: Any) -> None:
        r = rpc.call("eth_call", {"to": pair.address, "input": "0x" + PAIR.encode_call("getReserves").hex()}, "latest")
        r0, r1 = int(r[2:66], 16), int(r[66:130], 16)
        weth = self.dep.weth.lower()
        choices = [t for t in (pair.token0, pair.token1) if t.lower() != weth]
        token_in = rnd.choice(choices)
        amount = self._amount(token_in, rnd)
        z = token_in.lower() == pair.token0.lower()
        out = v2_amount_out(amount, r0, r1) if z else v2_amount_out(amount, r1, r0)
        out = out * 9 // 10  # other swaps of the same block may move the price first
        self._send(rpc, token_in, ERC20.encode_call("mint", pair.address, amount))
        self._send(rpc, pair.address, PAIR.encode_call("swap", 0 if z else out, out if z else 0, OWNER, b""))

    def _mint(self, rpc: RpcClient, rnd: random.Random, pool: Any) -> None:
        slot0 = rpc.call("eth_call", {"to": pool.address, "input": "0x" + V3POOL.encode_call("slot0").hex()}, "latest")
        tick = int(slot0[66:130], 16)
        tick = tick - (1 << 256) if tick >= 1 << 255 else tick
        s = pool.tick_spacing
        lower = (tick // s - rnd.randint(1, 20)) * s
        upper = (tick // s + rnd.randint(1, 20)) * s
        liquidity = rnd.randint(10**12, 10**16)
        self._send(rpc, self.dep.pool_actor, ACTOR.encode_call("mint", pool.address, lower, upper, liquidity))
        self.positions.append((pool.address, lower, upper, liquidity))
