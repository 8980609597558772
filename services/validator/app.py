"""Validator service wiring: candidates in (shared durable consumer: replicas split the work),
plans and rejections out; a read-only mirror of pool state for resizing, splitting, live prices
and the cheap staleness check, fed by the chain stream in chain order
(:class:`mevbot.chain_follower.ChainFollower`, replayed from the start on every start; the
replica is ready once it caught up).

Everything runs on the event loop: the mirror is updated between awaits (a pool is never seen
half updated), and up to ``VALIDATOR_CONCURRENCY`` candidates are validated at once, each awaiting
its RPC (async, one persistent aiohttp session): the simulations of concurrent candidates are in
flight together instead of queueing behind one worker thread. Candidates sharing a pool are
serialized by the validator's per-pool locks. Head and base fee come from the mirror's last
``BlockHead``, lender balances are re-read once per block in the background: the usual candidate
costs one RPC round trip (its simulation), or none with ``VALIDATOR_EXACT_CHECK=executor``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from mevbot import messages as m
from mevbot import metrics
from mevbot import subjects as subj
from mevbot.bus import DeliverFrom, Mode
from mevbot.cache import Cache
from mevbot.chain.rpc import RpcClient
from mevbot.chain_follower import ChainFollower
from mevbot.config import env_bool
from mevbot.errors import CacheError, ConfigError
from mevbot.gas.oracle import GasOracle
from mevbot.market import MarketStore
from mevbot.rpc.aio import AioRpc
from mevbot.runtime import Service, ServiceContext

from services.validator import metrics as vm
from services.validator import reasons
from services.validator.chain import ChainAccess
from services.validator.config import load_validator_config
from services.validator.core import reject
from services.validator.market_view import MarketView
from services.validator.pipeline import Outcome, Validator
from services.validator.reservations import claim_keys


class ValidatorService(Service):
    name = "validator"
    default_port = 9103
    uses_rpc = True

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.env = env
        self.validator: Validator | None = None
        self.store: MarketStore | None = None
        self.follower: ChainFollower | None = None  # feeds the mirror on a NATS bus
        self.rpc: RpcClient | None = None
        self.arpc: AioRpc | None = None
        self.chain: ChainAccess | None = None
        self._refreshing: asyncio.Task[None] | None = None
        # approved plans go out before more candidates start: a candidate validated without any
        # RPC never yields, so a burst of them would otherwise delay the plans between them
        self._publishing = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.claims: Cache | None = None  # pools claimed across replicas (Redis)
        self.claim_ttl_s = 2.0

    async def start(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        cfg = load_validator_config(ctx.settings, ctx.chain.wrapped_native, self.env)
        if cfg.simulate and (cfg.executor_contract is None or cfg.sender is None):
            key = "EXECUTOR_CONTRACT_ADDRESS" if cfg.executor_contract is None else "EXECUTOR_SENDER_ADDRESS"
            raise ConfigError(key, "is required to simulate the executor's transaction (or set VALIDATOR_SIMULATE=false)")
        self.rpc = RpcClient(ctx.settings.providers.http[0].endpoint, timeout_s=10.0)
        self.arpc = AioRpc(ctx.settings.providers.http[0].endpoint, timeout_s=10.0, provider="validator")
        self.chain = chain = ChainAccess(self.rpc, executor=cfg.executor_contract, sender=cfg.sender,
                                         oracle=GasOracle(self.rpc, cfg.l1_fallback), v2_exact_out=cfg.v2_exact_out,
                                         arpc=self.arpc)
        view = None
        if env_bool("VALIDATOR_MARKET_MIRROR", True, env=self.env):
            self.store = MarketStore()
            view = MarketView(self.store, ctx.chain.wrapped_native)
            if hasattr(ctx.bus, "nc"):
                # the mirror lives in memory: every start replays the whole chain stream, in chain
                # order, through one ordered consumer (mevbot.chain_follower); a block's end marker
                # comes after its events (one consumer per subject let it overtake them under load,
                # and the store marked every pool stale)
                self.follower = ChainFollower(ctx.bus, self._mirror, replay=True, service="validator")
                await self.follower.start()
                follower = self.follower
                ctx.add_readiness_check("mirror_caught_up", lambda: follower.caught_up)
            else:  # in-memory bus (service tests): every subscriber sees every message in publish order
                for subject in (f"{subj.EVENTS_PREFIX}.>", subj.POOL_SNAPSHOT, subj.BLOCK_HEAD):
                    await ctx.subscribe(subject, self.on_chain_message, mode=Mode.REPLICA, deliver_from=DeliverFrom.ALL)
        self.validator = Validator(cfg, chain, ctx.chain.flash_loan_sources, view)
        if env_bool("VALIDATOR_SHARED_RESERVATIONS", True, env=self.env):
            self.claims = Cache(ctx.settings.redis_url, name="validator", namespace=ctx.settings.namespace)
            ctx.add_readiness_check("redis", self.claims.ping)
            # an approved plan's pools stay claimed about as long as the plan may run
            self.claim_ttl_s = max(1.0, 2 * cfg.core.deadline_blocks * ctx.chain.block_time_s)
        await ctx.subscribe(subj.CANDIDATES, self.on_candidate, mode=Mode.SHARED, message_type=m.Candidate,
                            concurrency=cfg.concurrency)
        ctx.log.info("validator started", profile=cfg.core.profile.name, simulate=cfg.simulate,
                     exact_check=cfg.exact_check, concurrency=cfg.concurrency,
                     executor=cfg.executor_contract, mirror=view is not None,
                     flash_sources=[s.kind.value for s in ctx.chain.flash_loan_sources])
        ctx.mark_started()

    async def stop(self, ctx: ServiceContext) -> None:
        if self.follower is not None:
            await self.follower.stop()
        if self._refreshing is not None:
            self._refreshing.cancel()
        if self.rpc is not None:
            self.rpc.close()
        if self.arpc is not None:
            await self.arpc.close()
        if self.claims is not None:
            await self.claims.close()

    async def on_chain_message(self, message: Any) -> None:
        self._apply_chain(message)

    def _mirror(self, message: Any, live: bool) -> bool:
        """The chain follower's handler: state only (the validator has no flush point)."""
        self._apply_chain(message)
        return False

    def _apply_chain(self, message: Any) -> None:
        store = self.store
        # synchronous: a validation (same loop) never sees a pool half updated
        if isinstance(message, m.PoolSnapshot):
            store.add_snapshot(message)
        elif isinstance(message, m.BlockHead):
            store.end_block(message)
            if self._refreshing is None or self._refreshing.done():  # lender balances: once per block
                self._refreshing = asyncio.create_task(self._refresh_balances(message.block_number))
        elif isinstance(message, m.PoolEvent):
            store.apply_event(message)

    async def _refresh_balances(self, block: int) -> None:
        try:
            await self.chain.refresh_balances(block)
        except Exception as exc:  # noqa: BLE001 - a candidate reads what it misses itself
            self.ctx.log.warning("lender balance refresh failed", error=str(exc))

    def _head(self, candidate: m.Candidate) -> tuple[int, int] | None:
        """(block, base fee) of the mirror's last block when it is the candidate's or newer."""
        last = self.store.last_head if self.store is not None else None
        if last is None or last.block_number < candidate.block_number or last.base_fee_wei <= 0:
            return None  # read from the node
        return last.block_number, last.base_fee_wei

    async def on_candidate(self, candidate: m.Candidate) -> None:
        # the candidate's way in: detector publish -> candidates stream -> this replica's consumer
        # -> a free VALIDATOR_CONCURRENCY slot (vs the validation itself: mev_validator_latency_seconds)
        metrics.observe_since_ns("validator_inbox", candidate.detected_ns)
        while self._publishing:
            await self._idle.wait()
        outcome: Outcome = await self.validator.validate_async(candidate, self._head(candidate))
        if outcome.plans:
            self._publishing += 1
            self._idle.clear()
            try:
                await self._publish_plans(candidate, outcome)
            finally:
                self._publishing -= 1
                if not self._publishing:
                    self._idle.set()
        else:
            await self._publish_plans(candidate, outcome)

    async def _publish_plans(self, candidate: m.Candidate, outcome: Outcome) -> None:
        if outcome.plans and self.claims is not None:
            outcome = await self._claim(candidate, outcome)
        for plan in outcome.plans:
            # stored on the stream (acks collected in the background, resent until stored)
            await self.ctx.bus.publish_async(subj.PLANS, plan)
            metrics.OPPORTUNITIES_PROFITABLE.inc()
            vm.PLANS.labels(plan.profile, plan.risk_category).inc()
            vm.NET_PROFIT_WEI.inc(max(0, plan.expected_net_profit_wei))
            if candidate.event_received_ns:
                metrics.observe_since_ns("event_to_validated", candidate.event_received_ns, plan.validated_ns)
            if candidate.detected_ns:
                metrics.observe_since_ns("validate", candidate.detected_ns, plan.validated_ns)
        if outcome.rejection is not None:
            await self.ctx.bus.publish_core(subj.REJECTIONS, outcome.rejection)
            self.ctx.log.info("candidate rejected", candidate_id=candidate.candidate_id,
                              reason=outcome.rejection.reason, detail=outcome.rejection.detail[:300])

    async def _claim(self, candidate: m.Candidate, outcome: Outcome) -> Outcome:
        """Claim the plans' pools for every replica; a replica that approved the same opportunity
        first keeps it, and this one turns its plans into a ``pool_reserved`` rejection."""
        owner = f"{self.ctx.replica_id}:{outcome.plans[0].plan_id}".encode()
        # all pools or none, atomically: two replicas approving the same opportunity must not each
        # take one of its pools and both give it up
        try:
            lost = await self.claims.claim_all(claim_keys(candidate, outcome.plans), owner, ttl_s=self.claim_ttl_s)
        except CacheError as exc:
            # Redis down: this replica's own reservations still hold; a race with another
            # replica costs at most a reverted transaction's gas, never the trade's capital
            vm.CLAIM_ERRORS.inc()
            self.ctx.log.warning("pool claim unavailable, going on without it", error=str(exc))
            return outcome
        if lost is None:
            return outcome
        vm.REJECTIONS.labels(reasons.POOL_RESERVED).inc()
        return Outcome(rejection=reject(candidate, reasons.POOL_RESERVED,
                                        f"{lost} claimed by another replica's approved plan"),
                       simulations=outcome.simulations)


