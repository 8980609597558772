"""Ingest service wiring: providers -> :class:`Engine` -> NATS; Redis for pools and checkpoint.

Readiness: NATS (runtime), Redis (runtime), an HTTP provider answering (runtime) and a websocket
session following the chain (here). ``/health/startup`` turns 200 once every initial pool
snapshot was published (and acked).
"""

from __future__ import annotations

from mevbot import messages as m
from mevbot import subjects as subj
from mevbot.bus import Mode
from mevbot.cache import Cache
from mevbot.config import Env
from mevbot.errors import ConfigError
from mevbot.rpc import HttpRpc
from mevbot.runtime import Service, ServiceContext

from services.ingest.engine import Engine
from services.ingest.outputs import CheckpointStore, Publisher
from services.ingest.registry import PoolRegistry
from services.ingest.settings import IngestSettings


class IngestService(Service):
    name = "ingest"
    default_port = 9101
    uses_redis = True
    uses_rpc = True

    def __init__(self, env: Env | None = None) -> None:
        self.env = env
        self.cfg = IngestSettings.from_env(env)  # a bad INGEST_* key stops start-up here (exit code 2)
        self.engine: Engine | None = None
        self.rpc: HttpRpc | None = None
        self.state_cache: Cache | None = None

    async def start(self, ctx: ServiceContext) -> None:
        cfg = self.cfg
        providers = ctx.settings.providers
        if not providers.websocket:
            raise ConfigError("ARBITRUM_WS_ENDPOINT", "is required by ingest (or a ws/wss provider in PROVIDER_CONFIG_PATH)")
        self.rpc = HttpRpc.from_config(providers)
        # the checkpoint changes every block: its own cache instance, never in the LRU
        self.state_cache = Cache(ctx.settings.redis_url, name="ingest", namespace=ctx.settings.namespace)
        registry = PoolRegistry(ctx.chain, self.rpc, ctx.cache, negative_ttl_s=cfg.negative_ttl_s, log=ctx.log)
        self.engine = Engine(
            chain=ctx.chain, rpc=self.rpc, ws_providers=list(providers.websocket), registry=registry,
            publisher=Publisher(ctx.bus, ctx.chain_id), checkpoints=CheckpointStore(self.state_cache, ctx.chain_id),
            settings=cfg, log=ctx.log, on_started=ctx.mark_started,
        )
        # resync requests (core NATS, queue group: one ingest replica answers each request)
        await ctx.subscribe(subj.POOL_RESYNC, self.engine.on_resync_request, mode=Mode.CORE, queue="ingest",
                            message_type=m.ResyncRequest)
        ctx.add_readiness_check("chain_session", lambda: self.engine is not None and self.engine.started.is_set())
        ctx.spawn(self.engine.run(), name="ingest-engine")

    async def stop(self, ctx: ServiceContext) -> None:
        if self.engine is not None:
            await ctx.cancel_tasks()
            await self.engine.close()
        if self.rpc is not None:
            await self.rpc.close()
        if self.state_cache is not None:
            await self.state_cache.close()
