"""Wiring of the executor service: keystore -> leases -> engine -> NATS plans, control, HTTP.

Start-up order: decrypt the configured keys (a wrong ``MEV_BOT_ENCRYPTION_KEY`` stops start-up),
check the chain id and the contract's code, take a Redis lease on up to
``EXECUTOR_KEYS_PER_REPLICA`` keys, then subscribe to ``mev.plans`` (shared durable: replicas split
the plans) and ``mev.control.executor`` (every replica). ``POST /control/pause`` and
``/control/resume`` on the service's HTTP port are the same kill switch.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import redis.asyncio as aioredis
from fastapi.responses import JSONResponse
from mevbot import messages as m
from mevbot import subjects
from mevbot.bus import Mode
from mevbot.errors import ConfigError, MevbotError
from mevbot.keystore import find_keystore, list_keystores, load_signer
from mevbot.runtime import Service, ServiceContext, main
from redis.exceptions import RedisError

from services.executor import metrics
from services.executor.engine import EngineConfig, Executor, KeySlot
from services.executor.killswitch import KillSwitch
from services.executor.lease import KeyLease, OnceGuard
from services.executor.rpc import ChainRpc, Endpoint
from services.executor.safety import Limits
from services.executor.settings import ExecutorSettings, load_executor_settings


class ExecutorService(Service):
    name = "executor"
    default_port = 9104
    uses_redis = False  # it keeps its own client for leases (no LRU in front of mutable keys)
    uses_rpc = True

    def __init__(self, settings: ExecutorSettings | None = None) -> None:
        self.xs = settings or load_executor_settings()
        self.engine: Executor | None = None
        self.redis: aioredis.Redis | None = None
        self.rpc: ChainRpc | None = None

    async def start(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        xs, settings = self.xs, ctx.settings
        signers = await asyncio.to_thread(self._load_signers, ctx)
        endpoints = [Endpoint(p.name, p.endpoint) for p in settings.providers.http]
        endpoints += [Endpoint(f"send-{i}", url) for i, url in enumerate(xs.send_endpoints)]
        self.rpc = ChainRpc(endpoints)
        chain_id = await self.rpc.chain_id()
        if chain_id != ctx.chain_id:
            raise ConfigError("CHAIN_CONFIG_PATH", f"the RPC serves chain {chain_id}, the chain config is {ctx.chain_id}")
        contract = await self._contract(chain_id)

        prefix = f"{settings.namespace}:executor" if settings.namespace else "mev:executor"
        self.redis = aioredis.Redis.from_url(settings.redis_url, decode_responses=True, socket_timeout=2.0)
        holder = f"{ctx.replica_id}-{uuid.uuid4().hex[:8]}"
        slots = [
            KeySlot(s, KeyLease(self.redis, chain_id=chain_id, address=s.address, holder=holder,
                                ttl_ms=xs.lease_ttl_ms, floor_ttl_ms=max(30_000, xs.receipt_timeout_s * 2000),
                                prefix=prefix))
            for s in signers
        ]  # fmt: skip
        config = EngineConfig(
            chain_id=chain_id, contract=contract,
            limits=Limits(
                chain_id=chain_id, max_position_size_wei=settings.max_position_size_wei,
                min_profit_threshold_wei=settings.min_profit_threshold_wei,
                max_plan_age_ns=xs.max_plan_age_ms * 1_000_000,
                native_token=(xs.native_token or ctx.chain.wrapped_native).lower(),
            ),
            fee_policy=xs.fee_policy, execution_enabled=settings.execution_enabled, gas_source=xs.gas_source,
            v2_exact=xs.v2_exact, receipt_timeout_s=float(xs.receipt_timeout_s), receipt_poll_s=xs.receipt_poll_ms / 1000,
            max_consecutive_reverts=xs.max_consecutive_reverts,
        )
        self.engine = Executor(config, self.rpc, slots, self._publish,
                               guard=OnceGuard(self.redis, ttl_s=xs.dedupe_ttl_s, prefix=f"{prefix}:once"),
                               replica_id=holder)  # fmt: skip
        metrics.PAUSED.set(0)
        self.kill = KillSwitch(self.engine, self.redis, key=f"{prefix}:paused:{chain_id}", chain_id=chain_id,
                               fanout=lambda c: ctx.bus.publish_core(subjects.CONTROL_EXECUTOR, c))  # fmt: skip
        await self.kill.refresh()  # a pause issued while this replica was down still holds
        self.engine.on_breaker = lambda reason: self.kill.pause(reason, f"circuit_breaker:{ctx.replica_id}", broadcast=True)
        self._add_routes(ctx)
        ctx.add_readiness_check("signing_key", lambda: any(s.usable() for s in slots))
        ctx.add_readiness_check("redis", self._redis_ok)
        ctx.log.info("executor configured", contract=contract, keys=[s.address for s in signers],
                     execution_enabled=settings.execution_enabled, endpoints=[e.name for e in endpoints])
        await ctx.subscribe(subjects.CONTROL_EXECUTOR, self.on_control, mode=Mode.CORE, message_type=m.ControlCommand)
        await self._acquire_leases(slots, wait=True)
        ctx.spawn(self._lease_loop(slots), name="leases")
        ctx.spawn(self.engine.poll_head(xs.head_poll_ms / 1000), name="head")
        ctx.spawn(self.rpc.keep_warm(), name="keep-warm", critical=False)
        await ctx.subscribe(subjects.PLANS, self.on_plan, mode=Mode.SHARED, message_type=m.ExecutionPlan,
                            batch=xs.concurrency, concurrency=xs.concurrency)  # fmt: skip
        ctx.mark_started()

    def _load_signers(self, ctx: ServiceContext) -> list[Any]:
        xs = self.xs
        if xs.key_addresses:
            paths = [find_keystore(xs.keystore_dir, a) for a in xs.key_addresses]
        else:
            paths = [e.path for e in list_keystores(xs.keystore_dir)]
        if not paths:
            raise ConfigError("MEV_BOT_KEYSTORE_DIR", f"no keystore in {xs.keystore_dir} (mevbot keys new)")
        return [load_signer(p, ctx.settings.encryption_key) for p in paths]

    async def _contract(self, chain_id: int) -> str:
        assert self.rpc is not None
        address = self.xs.contract_address
        if not address:
            from mevbot.commands.deploy_executor import ContractRecord

            record = ContractRecord.read(self.xs.contract_file)
            if record.chain_id != chain_id:
                raise ConfigError("EXECUTOR_CONTRACT_FILE", f"records chain {record.chain_id}, the RPC serves {chain_id}")
            address = record.address
        code = await self.rpc.call("eth_getCode", address, "latest")
        if not code or code in ("0x", "0x0"):
            raise ConfigError("EXECUTOR_CONTRACT_ADDRESS", f"no contract code at {address}")
        return address.lower()

    async def _redis_ok(self) -> bool:
        try:
            return self.redis is not None and bool(await self.redis.ping())
        except (RedisError, OSError):
            return False

    # --- leases ----------------------------------------------------------------------------------

    async def _acquire_leases(self, slots: list[KeySlot], *, wait: bool) -> None:
        while True:
            held = 0
            for slot in slots:
                assert slot.lease is not None
                if slot.lease.held():
                    if not await slot.lease.renew():
                        self.ctx.log.error("lease lost", sender=slot.address)
                        slot.nonces.invalidate()
                        continue
                    held += 1
            for slot in slots:
                assert slot.lease is not None
                if held >= self.xs.keys_per_replica:
                    break
                if not slot.lease.held() and await slot.lease.acquire():
                    slot.nonces.invalidate()  # whoever held it before may have sent: re-sync
                    held += 1
                    self.ctx.log.info("key leased", sender=slot.address, fence=slot.lease.fence)
                    assert self.engine is not None
                    self.ctx.spawn(self.engine.adopt_in_flight(slot), name=f"adopt-{slot.address}", critical=False)
            metrics.KEYS_HELD.set(held)
            if held or not wait:
                return
            await asyncio.sleep(self.xs.lease_ttl_ms / 1000 / 5)

    async def _lease_loop(self, slots: list[KeySlot]) -> None:
        while True:
            await asyncio.sleep(self.xs.lease_ttl_ms / 1000 / 3)
            try:
                await self.kill.refresh()
                await self._acquire_leases(slots, wait=False)
            except MevbotError as exc:
                self.ctx.log.warning("lease renewal failed", error=str(exc))

    # --- handlers --------------------------------------------------------------------------------

    async def on_plan(self, plan: m.ExecutionPlan) -> None:
        assert self.engine is not None
        await self.engine.handle_plan(plan)

    async def on_control(self, command: m.ControlCommand) -> None:
        if command.command == "pause":
            await self.kill.pause(command.reason, command.issued_by, broadcast=False)
        elif command.command == "resume":
            await self.kill.resume(command.issued_by, broadcast=False)
        else:
            self.ctx.log.warning("unknown control command", command=command.command)

    async def _publish(self, result: m.ExecutionResult) -> None:
        await self.ctx.bus.publish_async(subjects.EXECUTION_RESULTS, result)

    def _add_routes(self, ctx: ServiceContext) -> None:
        if ctx.app is None:
            return
        engine = self.engine
        assert engine is not None

        @ctx.app.post("/control/pause")
        async def pause(reason: str = "http") -> JSONResponse:
            await self.kill.pause(reason, f"http:{ctx.replica_id}", broadcast=True)
            return JSONResponse({"paused": True, "reason": reason})

        @ctx.app.post("/control/resume")
        async def resume() -> JSONResponse:
            await self.kill.resume(f"http:{ctx.replica_id}", broadcast=True)
            return JSONResponse({"paused": engine.paused})

        @ctx.app.get("/control")
        async def status() -> JSONResponse:
            return JSONResponse({
                "paused": engine.paused, "reason": engine.pause_reason,
                "keys": [{"address": s.address, "leased": s.usable(), "next_nonce": s.nonces.next_nonce,
                          "in_flight": len(s.in_flight)} for s in engine.slots],
            })  # fmt: skip

    async def stop(self, ctx: ServiceContext) -> None:
        if self.engine is not None:
            await self.engine.wait_trackers(timeout_s=5.0)
            for slot in self.engine.slots:
                if slot.lease is not None:
                    await slot.lease.release()
        if self.rpc is not None:
            await self.rpc.close()
        if self.redis is not None:
            await self.redis.aclose()


def run() -> None:
    main(ExecutorService)
