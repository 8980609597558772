"""The executor's pipeline for one plan: checks -> fees -> nonce -> sign -> simulate -> send -> track.

Everything I/O goes through three adapters given to the constructor (:class:`ChainRpc`, the Redis
:class:`OnceGuard` and each key's :class:`KeyLease`) and one ``publish`` callable, so tests can
drive it directly; :mod:`services.executor.app` wires it to NATS.

Per key, reserve-nonce -> (re-)sign -> await the check -> send runs under one lock: nonces are
handed out in order and each is sent or released before the next is reserved, so no gap can form
behind a dropped plan. Two things happen before the lock, so a plan queued behind another on the
same key does not wait for it: the last check (the simulation of the exact transaction; the nonce
is no input of it) starts on arrival, and the transaction is signed at once with the nonce it gets
if the plans ahead are sent (dry run: the nonce they release); a wrong guess is re-signed under the
lock, and ``signed_ns`` is the time of the signature used. The receipt is tracked in the background
(the plan message is acked once sent).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from eth_utils import to_checksum_address
from mevbot import metrics as shared_metrics
from mevbot.chain.arb_calldata import decode_arb_error, decode_arb_result, encode_plan
from mevbot.chain.rpc import RevertError
from mevbot.errors import MevbotError, RpcError, SafetyError, ValidationError
from mevbot.keystore import Signer
from mevbot.logging import get_logger
from mevbot.messages import ExecutionPlan, ExecutionResult, ExecutionStatus, decode, encode
from msgspec.structs import replace

from services.executor import metrics, reasons
from services.executor.fees import FeePolicy, TxFees, fee_bid, gas_limit_with_margin
from services.executor.lease import KeyLease, OnceGuard
from services.executor.nonces import NonceManager
from services.executor.receipts import read_receipt
from services.executor.rpc import ChainRpc
from services.executor.safety import Limits, check_plan, loan_value_wei, once_key
from services.executor.sending import Verdict, verdict

log = get_logger("mevbot.executor")

Publish = Callable[[ExecutionResult], Awaitable[None]]
#: a recorded nonce floor further ahead of the chain than this is ignored (a stale record)
MAX_FLOOR_AHEAD = 64
FILLER_GAS = 21_000
#: a check older than this when the key's lock comes (a block is 0.25 s) is run again before a send
RECHECK_AFTER_S = 0.05


@dataclass(frozen=True)
class EngineConfig:
    chain_id: int
    contract: str
    limits: Limits
    fee_policy: FeePolicy = field(default_factory=FeePolicy)
    execution_enabled: bool = False
    gas_source: str = "plan"  # "plan": the validator's simulated gas limit when given; "estimate"
    v2_exact: bool = True
    receipt_timeout_s: float = 30.0
    receipt_poll_s: float = 0.05
    head_max_age_s: float = 0.5
    #: on-chain reverts in a row (gas burnt for nothing: a bug, or someone front-running us) that
    #: trip the circuit breaker (the kill switch); 0 disables it
    max_consecutive_reverts: int = 3


@dataclass
class KeySlot:
    """One signing key, its lease (None: this replica owns the key alone) and its nonces."""

    signer: Signer
    lease: KeyLease | None = None
    nonces: NonceManager = field(default_factory=NonceManager)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    in_flight: dict[int, str] = field(default_factory=dict)  # nonce -> tx hash
    ignore_floor: bool = False
    waiting: int = 0  # plans signed early and not yet holding a nonce (ahead of a newcomer in the lock's queue)

    @property
    def address(self) -> str:
        return self.signer.address

    def usable(self) -> bool:
        return self.lease is None or self.lease.held()


class Executor:
    def __init__(
        self,
        config: EngineConfig,
        rpc: ChainRpc,
        slots: list[KeySlot],
        publish: Publish,
        *,
        guard: OnceGuard | None = None,
        replica_id: str = "0",
    ) -> None:
        self.config = config
        self.rpc = rpc
        self.slots = slots
        self.publish = publish
        self.guard = guard
        self.replica_id = replica_id
        self.paused = False
        self.pause_reason = ""
        self._contract_cs = to_checksum_address(config.contract)
        self._head: tuple[int, int, float] | None = None  # block, base fee, monotonic time
        self._trackers: set[asyncio.Task[Any]] = set()
        self._next_slot = 0
        self._consecutive_reverts = 0
        self._simulate_v1 = True  # the node answers eth_simulateV1 (else eth_call, same exactness)
        #: called with a reason when the circuit breaker trips (the app pauses every replica)
        self.on_breaker: Callable[[str], Awaitable[None]] | None = None

    # --- kill switch ---------------------------------------------------------------------------

    def pause(self, reason: str = "", issued_by: str = "") -> None:
        self.paused, self.pause_reason = True, reason
        metrics.PAUSED.set(1)
        log.warning("executor paused: nothing is sent", reason=reason, issued_by=issued_by)

    def resume(self, issued_by: str = "") -> None:
        self.paused, self.pause_reason = False, ""
        metrics.PAUSED.set(0)
        log.warning("executor resumed", issued_by=issued_by)

    # --- chain head ----------------------------------------------------------------------------

    async def head(self, *, refresh: bool = False) -> tuple[int, int]:
        now = time.monotonic()
        if refresh or self._head is None or now - self._head[2] > self.config.head_max_age_s:
            block, base_fee = await self.rpc.head()
            self._head = (block, base_fee, now)
        return self._head[0], self._head[1]

    async def poll_head(self, interval_s: float = 0.1) -> None:
        """Background: keep the head fresh so the hot path rarely waits for it."""
        while True:
            try:
                await self.head(refresh=True)
            except MevbotError as exc:
                log.warning("head poll failed", error=str(exc))
            await asyncio.sleep(interval_s)

    # --- the pipeline --------------------------------------------------------------------------

    async def handle_plan(self, plan: ExecutionPlan) -> ExecutionResult:
        received_ns = time.time_ns()
        base = ExecutionResult(
            chain_id=plan.chain_id, plan_id=plan.plan_id, candidate_id=plan.candidate_id,
            status=ExecutionStatus.DROPPED, profit_token=plan.loan_token, predicted_profit=plan.expected_profit,
            event_received_ns=plan.event_received_ns,
        )
        if self.paused:
            return await self._drop(base, reasons.PAUSED, self.pause_reason)
        try:
            head_block, base_fee = await self.head()
        except MevbotError as exc:
            return await self._fail(base, reasons.SIMULATION_FAILED, f"head: {exc}")
        refusal = check_plan(plan, self.config.limits, head_block=head_block, now_ns=received_ns)
        if refusal is not None:
            return await self._drop(base, refusal.reason, refusal.detail)
        try:
            data = encode_plan(plan, v2_exact=self.config.v2_exact)
        except ValidationError as exc:
            return await self._drop(base, reasons.MALFORMED_PLAN, str(exc))
        slot = self._pick_slot()
        if slot is None:
            return await self._drop(base, reasons.NO_KEY, "no signing key leased by this replica")
        # the Redis claim (at most once per opportunity) runs while fees, signing and the
        # simulation proceed; nothing is sent before it is won
        claim = asyncio.ensure_future(self._claim(plan))
        try:
            base = replace(base, sender=slot.address)
            try:
                fees = await self._fees(plan, slot, data, base_fee)
            except RevertError as exc:
                return await self._drop(base, *await _unless_duplicate(claim, plan, reasons.SIMULATION_REVERT,
                                                                       _revert_text(exc)))  # fmt: skip
            except SafetyError as exc:
                return await self._drop(base, *await _unless_duplicate(claim, plan, reasons.FEE_UNPROFITABLE, str(exc)))
            except RpcError as exc:
                return await self._fail(base, reasons.SIMULATION_FAILED, str(exc))
            return await self._sign_and_send(plan, slot, data, fees, base, received_ns, claim)
        finally:
            if not claim.done():
                claim.cancel()

    async def _claim(self, plan: ExecutionPlan) -> bool:
        return self.guard is None or await self.guard.claim(once_key(plan), self.replica_id)

    def _pick_slot(self) -> KeySlot | None:
        usable = [s for s in self.slots if s.usable()]
        if not usable:
            return None
        idle = [s for s in usable if not s.lock.locked()]
        pool = idle or usable
        self._next_slot += 1
        return pool[self._next_slot % len(pool)]

    async def _fees(self, plan: ExecutionPlan, slot: KeySlot, data: bytes, base_fee: int) -> TxFees:
        policy = self.config.fee_policy
        if self.config.gas_source == "plan" and plan.gas_limit > 0:
            # simulated by the validator, or (simulated=False) priced on a gas bound that is also
            # the limit: the exact check before sending runs the signed transaction with it
            gas_limit = expected_gas = plan.gas_limit
        else:
            call = {"from": slot.address, "to": self.config.contract, "data": "0x" + data.hex()}
            expected_gas = int(await self.rpc.call("eth_estimateGas", call), 16)
            gas_limit = gas_limit_with_margin(expected_gas, policy.gas_margin_bps)
        c = plan.costs
        gross_wei = plan.expected_net_profit_wei + c.l2_gas_cost_wei + c.l1_gas_cost_wei
        return fee_bid(
            base_fee_wei=base_fee, expected_net_profit_wei=plan.expected_net_profit_wei,
            expected_gross_profit_wei=gross_wei, expected_gas_units=expected_gas, gas_limit=gas_limit, policy=policy,
        )

    async def _sync_nonce(self, slot: KeySlot, cause: str) -> None:
        chain_nonce = await self.rpc.nonce(slot.address, "pending")
        floor = None
        if slot.lease is not None and not slot.ignore_floor:
            floor = await slot.lease.floor()
            if floor is not None and floor > chain_nonce + MAX_FLOOR_AHEAD:
                floor = None
        slot.ignore_floor = False
        slot.nonces.sync(chain_nonce, floor)
        metrics.NONCE_RESYNCS.labels(cause).inc()
        log.info("nonce synced", sender=slot.address, chain_nonce=chain_nonce, floor=floor, next=slot.nonces.next_nonce,
                 cause=cause)

    async def _sign_and_send(
        self, plan: ExecutionPlan, slot: KeySlot, data: bytes, fees: TxFees, base: ExecutionResult, received_ns: int,
        claim: asyncio.Future[bool],
    ) -> ExecutionResult:
        def transaction(nonce: int) -> dict[str, Any]:
            return {
                "type": 2, "chainId": self.config.chain_id, "nonce": nonce, "to": self._contract_cs, "value": 0,
                "data": data, "gas": fees.gas_limit, "maxFeePerGas": fees.max_fee_per_gas_wei,
                "maxPriorityFeePerGas": fees.max_priority_fee_per_gas_wei,
            }

        # the last check (a simulation of exactly these fields; the nonce is not one of its inputs)
        # starts now, before the key's lock: plans queued on one key are checked concurrently
        checked_at = time.monotonic()
        simulation = asyncio.ensure_future(self._simulate(slot, transaction(0), plan))
        waiting = [True]  # until this plan holds a nonce (the lock is FIFO: the queue's order is the nonces')
        slot.waiting += 1
        try:
            # signed at once with the nonce this plan gets if every plan ahead of it on this key is
            # sent (the ones holding a nonce, and the ones waiting for the lock before it); in a dry
            # run none is sent, each releases its nonce and the lowest one held comes round again.
            # Under the lock the reserved nonce decides, and a wrong guess is signed again
            # (``signed_ns`` is always the time of the signature that is sent, or would be)
            early: tuple[int, bytes, str, int] | None = None
            nonces = slot.nonces
            if slot.usable() and not nonces.needs_sync and not nonces.gaps() and nonces.next_nonce is not None:
                if self.config.execution_enabled:
                    guess = nonces.next_nonce + slot.waiting - 1
                else:
                    guess = min(nonces.reserved, default=nonces.next_nonce)
                raw, tx_hash = slot.signer.sign_transaction(transaction(guess))
                early = (guess, raw, tx_hash, time.time_ns())
            return await self._under_lock(plan, slot, transaction, early, simulation, checked_at, base, received_ns,
                                          claim, fees, waiting)
        finally:
            if waiting[0]:
                slot.waiting -= 1
            if not simulation.done():
                simulation.cancel()

    async def _under_lock(
        self, plan: ExecutionPlan, slot: KeySlot, transaction: Callable[[int], dict[str, Any]],
        early: tuple[int, bytes, str, int] | None, simulation: asyncio.Future[tuple[str, str] | None],
        checked_at: float, base: ExecutionResult, received_ns: int, claim: asyncio.Future[bool], fees: TxFees,
        waiting: list[bool],
    ) -> ExecutionResult:
        async with slot.lock:
            if not slot.usable():
                return await self._drop(base, reasons.LEASE_LOST, "lease expired before signing")
            if slot.nonces.needs_sync:
                try:
                    await self._sync_nonce(slot, "start")
                except MevbotError as exc:
                    return await self._fail(base, reasons.SIMULATION_FAILED, f"nonce sync: {exc}")
            nonce = slot.nonces.reserve()
            if waiting[0]:
                waiting[0] = False
                slot.waiting -= 1
            settled = False
            try:
                tx = transaction(nonce)
                if early is not None and early[0] == nonce:
                    _, raw, tx_hash, signed_ns = early
                else:
                    raw, tx_hash = slot.signer.sign_transaction(tx)
                    signed_ns = time.time_ns()
                shared_metrics.stage_latency("executor_sign").observe((signed_ns - received_ns) / 1e9)
                base = replace(base, nonce=nonce, tx_hash=tx_hash, raw_tx="0x" + raw.hex(), signed_ns=signed_ns)
                if time.monotonic() - checked_at > RECHECK_AFTER_S:
                    # the lock was long in coming: check again, on the state the send will meet
                    simulation.cancel()
                    simulation = asyncio.ensure_future(self._simulate(slot, tx, plan))

                refusal = await simulation
                if refusal is None:
                    try:
                        if not await claim:
                            refusal = (reasons.DUPLICATE, f"opportunity {plan.candidate_id} already taken")
                    except MevbotError as exc:
                        refusal = (reasons.SIMULATION_FAILED, f"once-guard: {exc}")
                else:
                    refusal = await _unless_duplicate(claim, plan, *refusal)
                if refusal is not None:
                    slot.nonces.release(nonce)
                    settled = True
                    return await self._drop(base, *refusal)
                if not self.config.execution_enabled:
                    slot.nonces.release(nonce)
                    settled = True
                    return await self._finish(base, ExecutionStatus.DRY_RUN, "execution_disabled")
                if self.paused:
                    slot.nonces.release(nonce)
                    settled = True
                    return await self._drop(base, reasons.PAUSED, self.pause_reason)
                if not slot.usable():
                    slot.nonces.release(nonce)
                    settled = True
                    return await self._drop(base, reasons.LEASE_LOST, "lease expired before sending")

                sent_ns = time.time_ns()
                base = replace(base, sent_ns=sent_ns)
                # the in-flight record is saved BEFORE any endpoint sees the transaction: a process
                # killed right after the broadcast leaves a record its successor adopts and settles.
                # A record of a transaction that never left (killed before the broadcast) is
                # harmless: the successor finds it unknown to the chain with its nonce still open
                # and drops it (see adopt_in_flight)
                persisted = False
                if slot.lease is not None:
                    try:
                        await slot.lease.add_in_flight(
                            tx_hash, _in_flight_record(plan, replace(base, status=ExecutionStatus.SENT), fees))
                        persisted = True
                    except MevbotError as exc:
                        slot.nonces.release(nonce)
                        settled = True
                        return await self._fail(base, reasons.INTERNAL, f"recording the in-flight transaction: {exc}")
                shared_metrics.stage_latency("executor_plan_to_send").observe((sent_ns - received_ns) / 1e9)
                shared_metrics.observe_since_ns("event_to_send", plan.event_received_ns, sent_ns)
                # (should the broadcast raise, the record stays: the next holder of the key settles it)
                answers = await self.rpc.broadcast(raw)
                outcome = verdict(answers)
                if outcome not in (Verdict.SENT, Verdict.REJECTED) and await self._known(tx_hash):
                    outcome = Verdict.SENT  # an endpoint took it although another said otherwise
                if persisted and outcome is not Verdict.SENT:  # not in flight after all
                    await self._forget_in_flight(slot, tx_hash)
                    persisted = False
                detail = "; ".join(f"{a.endpoint}: {a.answer.value} {a.detail}".strip() for a in answers)
                if outcome is Verdict.SENT:
                    slot.nonces.commit(nonce)
                    settled = True
                    slot.in_flight[nonce] = tx_hash
                    await self._record_floor(slot)
                    result = await self._finish(base, ExecutionStatus.SENT, "")
                    self._spawn_tracker(plan, slot, nonce, tx_hash, fees, result, persisted=persisted)
                    return result
                if outcome is Verdict.REJECTED:
                    slot.nonces.release(nonce)
                    settled = True
                    return await self._fail(base, reasons.SEND_REJECTED, detail)
                # too low / too high / unknown fate: the chain decides the next nonce
                slot.nonces.invalidate()
                slot.nonces.release(nonce)
                settled = True
                slot.ignore_floor = outcome is Verdict.NONCE_TOO_HIGH
                cause = {Verdict.NONCE_TOO_LOW: reasons.NONCE_TOO_LOW, Verdict.NONCE_TOO_HIGH: reasons.NONCE_TOO_HIGH}
                reason = cause.get(outcome, reasons.SEND_UNCERTAIN)
                metrics.NONCE_RESYNCS.labels(reason).inc()
                return await self._fail(base, reason, detail)
            finally:
                if not settled:  # cancelled or crashed mid-way: its fate is unknown, re-sync
                    slot.nonces.invalidate()
                    slot.nonces.release(nonce)

    async def _simulate(self, slot: KeySlot, tx: dict[str, Any], plan: ExecutionPlan) -> tuple[str, str] | None:
        """The last check before sending, on the latest state: a simulation of exactly the signed
        transaction's fields (sender, calldata, gas limit, fee bid; the nonce is no input of it).

        A plan the validator simulated (``simulated=True``) must not revert (the contract's
        ``min_profit`` guard holds). A plan it did not simulate (priced on a gas bound, see
        ``services.validator.pipeline``) gets the validator's exact check here: the transaction
        must succeed within its gas limit and yield exactly the plan's hop amounts and profit."""
        call = {
            "from": slot.address, "to": self.config.contract, "data": "0x" + tx["data"].hex(), "gas": hex(tx["gas"]),
            "maxFeePerGas": hex(tx["maxFeePerGas"]), "maxPriorityFeePerGas": hex(tx["maxPriorityFeePerGas"]),
            "value": "0x0",
        }
        if plan.simulated:
            try:
                await self.rpc.call("eth_call", call, "latest")
            except RevertError as exc:
                return reasons.SIMULATION_REVERT, _revert_text(exc)
            except RpcError as exc:
                return reasons.SIMULATION_FAILED, str(exc)
            return None
        try:
            if self._simulate_v1:
                blocks = await self.rpc.call("eth_simulateV1", {"blockStateCalls": [{"calls": [call]}]}, "latest")
                result = blocks[0]["calls"][0]
                data = bytes.fromhex(str(result.get("returnData") or "0x")[2:])
                if result.get("status") != "0x1":
                    decoded = decode_arb_error(data) if data else None
                    why = str(decoded) if decoded else str(result.get("error") or "reverted")
                    return reasons.SIMULATION_REVERT, f"{why} (gas used {int(result.get('gasUsed') or '0x0', 16)} of {tx['gas']})"
            else:
                data = bytes.fromhex(str(await self.rpc.call("eth_call", call, "latest"))[2:])
        except RevertError as exc:
            return reasons.SIMULATION_REVERT, _revert_text(exc)
        except RpcError as exc:
            if self._simulate_v1 and exc.rpc_code in (-32601, -32600, -32602):
                self._simulate_v1 = False  # the node lacks eth_simulateV1: eth_call returns the same data
                return await self._simulate(slot, tx, plan)
            return reasons.SIMULATION_FAILED, str(exc)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            return reasons.SIMULATION_FAILED, f"unreadable simulation: {type(exc).__name__}"
        try:
            out = decode_arb_result(data)
        except Exception as exc:  # noqa: BLE001 - whatever the decoder raises: not exact, not sent
            return reasons.SIMULATION_FAILED, f"undecodable simulation result: {type(exc).__name__}"
        predicted = tuple(h.amount_out for h in plan.hops)
        if tuple(out.hop_amounts_out_wei) != predicted or out.profit_wei != plan.expected_profit:
            return reasons.SIMULATION_MISMATCH, (f"hop outputs {tuple(out.hop_amounts_out_wei)} / profit {out.profit_wei} "
                                                 f"!= plan {predicted} / {plan.expected_profit}")
        return None

    async def _known(self, tx_hash: str) -> bool:
        try:
            return await self.rpc.transaction(tx_hash) is not None
        except RpcError:
            return False

    async def _record_floor(self, slot: KeySlot) -> None:
        if slot.lease is None or slot.nonces.next_nonce is None:
            return
        try:
            if not await slot.lease.record_next_nonce(slot.nonces.next_nonce):
                log.error("a newer holder took the key: stop signing with it", sender=slot.address)
                await slot.lease.release()
                slot.nonces.invalidate()
        except MevbotError as exc:
            log.warning("recording the nonce floor failed", sender=slot.address, error=str(exc))

    # --- receipts ------------------------------------------------------------------------------

    async def _forget_in_flight(self, slot: KeySlot, tx_hash: str) -> None:
        if slot.lease is None:
            return
        try:
            await slot.lease.remove_in_flight(tx_hash)
        except MevbotError as exc:
            log.warning("clearing the in-flight record failed", tx_hash=tx_hash, error=str(exc))

    def _spawn_tracker(self, plan: ExecutionPlan, slot: KeySlot, nonce: int, tx_hash: str, fees: TxFees,
                       sent: ExecutionResult, *, persisted: bool) -> None:  # fmt: skip
        task = asyncio.create_task(self._track(plan, slot, nonce, tx_hash, fees, sent, persisted=persisted),
                                   name=f"track-{tx_hash[:10]}")  # fmt: skip
        self._trackers.add(task)
        task.add_done_callback(self._trackers.discard)

    async def _track(self, plan: ExecutionPlan, slot: KeySlot, nonce: int, tx_hash: str, fees: TxFees,
                     sent: ExecutionResult, *, persisted: bool) -> ExecutionResult | None:  # fmt: skip
        """``persisted``: an in-flight record of this transaction is in Redis (written before it was
        sent, or the one adopted), cleared once it is settled."""
        deadline = time.monotonic() + self.config.receipt_timeout_s
        try:
            while True:
                try:
                    receipt = await self.rpc.receipt(tx_hash)
                except RpcError as exc:
                    log.warning("receipt poll failed", tx_hash=tx_hash, error=str(exc))
                    receipt = None
                if receipt is not None:
                    return await self._settle(plan, receipt, sent)
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(self.config.receipt_poll_s)
            return await self._not_included(slot, nonce, fees, sent)
        except asyncio.CancelledError:
            persisted = False  # shutting down unsettled: keep the record, the next holder settles it
            raise
        except Exception as exc:  # a tracker must never die silently
            log.exception("receipt tracking failed", tx_hash=tx_hash, error=str(exc))
            persisted = False  # keep the record: the next holder retries
            return None
        finally:
            slot.in_flight.pop(nonce, None)
            if persisted:
                await self._forget_in_flight(slot, tx_hash)

    async def adopt_in_flight(self, slot: KeySlot) -> int:
        """Track the transactions a previous holder of this key sent but never settled."""
        if slot.lease is None:
            return 0
        records = await slot.lease.in_flight()
        for tx_hash, raw in records.items():
            if tx_hash in slot.in_flight.values():
                continue
            try:
                plan, sent, fees = _read_in_flight_record(raw)
            except (ValueError, KeyError, TypeError, msgspec.DecodeError, MevbotError) as exc:
                log.error("unreadable in-flight record dropped", tx_hash=tx_hash, error=str(exc))
                await slot.lease.remove_in_flight(tx_hash)
                continue
            if sent.nonce is None:
                continue
            try:
                if await self._never_sent(slot, sent.nonce, tx_hash):
                    # recorded, then the process died before the broadcast: nothing to settle, and
                    # the nonce is still open (the next send re-syncs from the chain and uses it)
                    log.warning("in-flight record of a transaction never sent dropped", sender=slot.address,
                                nonce=sent.nonce, tx_hash=tx_hash)  # fmt: skip
                    await self._forget_in_flight(slot, tx_hash)
                    await self._drop(sent, reasons.NOT_INCLUDED, f"never broadcast: nonce {sent.nonce} still open")
                    continue
            except RpcError as exc:
                log.warning("checking an adopted transaction failed: tracking it", tx_hash=tx_hash, error=str(exc))
            slot.in_flight[sent.nonce] = tx_hash
            task = asyncio.create_task(self._track(plan, slot, sent.nonce, tx_hash, fees, sent, persisted=True),
                                       name=f"adopt-{tx_hash[:10]}")  # fmt: skip
            self._trackers.add(task)
            task.add_done_callback(self._trackers.discard)
        if records:
            log.info("adopted in-flight transactions of the previous key holder", sender=slot.address, count=len(records))
        return len(records)

    async def _never_sent(self, slot: KeySlot, nonce: int, tx_hash: str) -> bool:
        """An adopted record whose transaction the chain does not know while its nonce is still
        open: it was recorded and never broadcast. Checked under the key's lock so no send of this
        process takes the nonce meanwhile."""
        async with slot.lock:
            if await self.rpc.receipt(tx_hash) is not None or await self.rpc.transaction(tx_hash) is not None:
                return False
            return await self.rpc.nonce(slot.address, "pending") <= nonce

    async def _settle(self, plan: ExecutionPlan, receipt: dict[str, Any], sent: ExecutionResult) -> ExecutionResult:
        outcome = read_receipt(receipt, loan_token=plan.loan_token, contract=self.config.contract)
        metrics.GAS_SPENT_WEI.inc(outcome.gas_cost_wei)
        result = replace(
            sent, block_number=outcome.block_number, gas_used=outcome.gas_used,
            effective_gas_price_wei=outcome.effective_gas_price_wei, realized_profit=outcome.realized_profit,
        )
        if not outcome.success:
            final = await self._finish(result, ExecutionStatus.REVERTED, "reverted_on_chain")
            self._consecutive_reverts += 1
            limit = self.config.max_consecutive_reverts
            if limit and self._consecutive_reverts >= limit and not self.paused:
                reason = f"circuit breaker: {self._consecutive_reverts} on-chain reverts in a row"
                if self.on_breaker is not None:
                    await self.on_breaker(reason)
                else:
                    self.pause(reason, "circuit_breaker")
            return final
        self._consecutive_reverts = 0
        realized = outcome.realized_profit or 0
        metrics.REALIZED_PROFIT.labels(plan.loan_token).inc(max(realized, 0))
        metrics.PREDICTED_PROFIT.labels(plan.loan_token).inc(max(plan.expected_profit, 0))
        value = loan_value_wei(replace(plan, loan_amount=max(realized, 0)), self.config.limits.native_token)
        if value:
            shared_metrics.PROFIT_WEI.inc(value)
        reason = ""
        if realized != plan.expected_profit or (outcome.event_profit is not None and outcome.event_profit != realized):
            metrics.PROFIT_MISMATCH.inc()
            reason = "profit_mismatch"
            log.warning("realized profit differs from the prediction", plan_id=plan.plan_id, tx_hash=sent.tx_hash,
                        predicted=plan.expected_profit, realized=realized, event_profit=outcome.event_profit)
        return await self._finish(result, ExecutionStatus.INCLUDED, reason)

    async def _not_included(self, slot: KeySlot, nonce: int, fees: TxFees, sent: ExecutionResult) -> ExecutionResult:
        """No receipt in time: if the nonce is still open, a filler (0-value self-transfer at a higher
        fee) takes it, so the stale trade cannot land late and no gap stays behind."""
        latest = await self.rpc.nonce(slot.address, "latest")
        if latest > nonce:
            return await self._fail(sent, reasons.REPLACED, f"nonce {nonce} used by another transaction")
        async with slot.lock:
            _, base_fee = await self.head(refresh=True)
            priority = max(fees.max_priority_fee_per_gas_wei * 2, 1)
            max_fee = max(fees.max_fee_per_gas_wei * 2, base_fee * 2 + priority)
            tx = {"type": 2, "chainId": self.config.chain_id, "nonce": nonce, "to": to_checksum_address(slot.address),
                  "value": 0, "data": b"", "gas": FILLER_GAS, "maxFeePerGas": max_fee, "maxPriorityFeePerGas": priority}
            raw, filler_hash = slot.signer.sign_transaction(tx)
            answers = await self.rpc.broadcast(raw)
            metrics.FILLERS.inc()
            log.warning("trade not included in time: nonce filled", sender=slot.address, nonce=nonce,
                        tx_hash=sent.tx_hash, filler=filler_hash, answer=verdict(answers).value)
        return await self._drop(sent, reasons.NOT_INCLUDED, f"filler {filler_hash} sent for nonce {nonce}")

    async def wait_trackers(self, timeout_s: float = 10.0) -> None:
        if self._trackers:
            await asyncio.wait(set(self._trackers), timeout=timeout_s)

    # --- results -------------------------------------------------------------------------------

    async def _drop(self, base: ExecutionResult, reason: str, detail: str = "") -> ExecutionResult:
        metrics.DROPPED.labels(reason).inc()
        return await self._finish(base, ExecutionStatus.DROPPED, reason, detail)

    async def _fail(self, base: ExecutionResult, reason: str, detail: str = "") -> ExecutionResult:
        return await self._finish(base, ExecutionStatus.FAILED, reason, detail)

    async def _finish(self, base: ExecutionResult, status: ExecutionStatus, reason: str, detail: str = "") -> ExecutionResult:
        result = replace(base, status=status, reason=reason, detail=detail[:1000])
        shared_metrics.EXECUTIONS.labels(status.value).inc()
        level = log.info if status in (ExecutionStatus.SENT, ExecutionStatus.INCLUDED, ExecutionStatus.DRY_RUN) else log.warning
        level("execution", plan_id=base.plan_id, status=status.value, reason=reason, detail=detail[:500],
              sender=base.sender, nonce=base.nonce, tx_hash=base.tx_hash, realized_profit=result.realized_profit)
        try:
            await self.publish(result)
        except MevbotError as exc:
            log.error("publishing the execution result failed", plan_id=base.plan_id, error=str(exc))
        return result


def _in_flight_record(plan: ExecutionPlan, sent: ExecutionResult, fees: TxFees) -> bytes:
    return msgspec.json.encode({
        "plan": msgspec.Raw(encode(plan)), "sent": msgspec.Raw(encode(sent)),
        "fees": [fees.gas_limit, fees.max_fee_per_gas_wei, fees.max_priority_fee_per_gas_wei],
    })  # fmt: skip


def _read_in_flight_record(raw: str | bytes) -> tuple[ExecutionPlan, ExecutionResult, TxFees]:
    doc = msgspec.json.decode(raw)
    plan = decode(msgspec.json.encode(doc["plan"]), ExecutionPlan)
    sent = decode(msgspec.json.encode(doc["sent"]), ExecutionResult)
    gas_limit, max_fee, priority = doc["fees"]
    return plan, sent, TxFees(int(gas_limit), int(max_fee), int(priority))


async def _unless_duplicate(claim: asyncio.Future[bool], plan: ExecutionPlan, reason: str, detail: str) -> tuple[str, str]:
    """A refused plan whose opportunity another replica (or an earlier copy) took is a duplicate."""
    try:
        if not await claim:
            return reasons.DUPLICATE, f"opportunity {plan.candidate_id} already taken ({reason})"
    except MevbotError:
        pass
    return reason, detail


def _revert_text(exc: RevertError) -> str:
    decoded = decode_arb_error(exc.data) if exc.data else None
    return str(decoded) if decoded is not None else (str(exc) or "reverted")
