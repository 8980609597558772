"""The executor pipeline against a scripted chain (no network): what happens to the nonce and the
result for each answer the RPC endpoints can give. The on-chain behaviour is covered by
``tests/integration/executor``; this covers the failure answers anvil never gives."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.typed_transactions import TypedTransaction
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from mevbot.chain.rpc import RevertError
from mevbot.keystore import Signer
from mevbot.messages import ExecutionResult, ExecutionStatus

from services.executor.engine import EngineConfig, Executor, KeySlot
from services.executor.safety import Limits
from services.executor.sending import Answer, EndpointAnswer
from tests.unit.executor.plans import WETH, make_plan

CONTRACT = "0x" + "ee" * 20


class ScriptedRpc:
    def __init__(self) -> None:
        self.chain_nonce = 0
        self.answers: list[list[EndpointAnswer]] = []
        self.broadcasts: list[bytes] = []
        self.known: set[str] = set()
        self.revert: bytes | None = None
        self.on_call: Any = None
        self.receipts: dict[str, dict[str, Any]] = {}
        default = make_plan()
        #: what the simulated transaction returns: (profit, hop outputs); the default plan's exactly
        self.outcome: tuple[int, list[int]] = (default.expected_profit, [h.amount_out for h in default.hops])
        self.simulate_v1 = True
        self.methods: list[str] = []

    async def head(self) -> tuple[int, int]:
        return 90, 10

    async def nonce(self, address: str, tag: str = "pending") -> int:
        return self.chain_nonce

    def _return_data(self) -> str:
        return "0x" + abi_encode(["uint256", "uint256[]"], [self.outcome[0], self.outcome[1]]).hex()

    async def call(self, method: str, *params: Any) -> Any:
        self.methods.append(method)
        if method == "eth_call":
            if self.on_call:
                self.on_call()
            if self.revert is not None:
                raise RevertError("eth_call: execution reverted", self.revert)
            return self._return_data()
        if method == "eth_simulateV1":
            if not self.simulate_v1:
                from mevbot.errors import RpcError

                raise RpcError("eth_simulateV1: method not found", rpc_code=-32601)
            if self.on_call:
                self.on_call()
            if self.revert is not None:
                return [{"calls": [{"status": "0x0", "returnData": "0x" + self.revert.hex(), "gasUsed": "0x5208"}]}]
            return [{"calls": [{"status": "0x1", "returnData": self._return_data(), "gasUsed": "0x30d40"}]}]
        if method == "eth_estimateGas":
            return hex(300_000)
        raise AssertionError(method)

    async def broadcast(self, raw: bytes) -> list[EndpointAnswer]:
        self.broadcasts.append(raw)
        return self.answers.pop(0) if self.answers else [EndpointAnswer("a", Answer.ACCEPTED)]

    async def transaction(self, tx_hash: str) -> dict[str, Any] | None:
        return {"hash": tx_hash} if tx_hash in self.known else None

    async def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        return self.receipts.get(tx_hash)


def nonce_of(raw: bytes) -> int:
    return TypedTransaction.from_bytes(HexBytes(raw)).as_dict()["nonce"]


def engine(rpc: ScriptedRpc, **config: Any) -> tuple[Executor, list[ExecutionResult]]:
    published: list[ExecutionResult] = []

    async def publish(result: ExecutionResult) -> None:
        published.append(result)

    config = {"execution_enabled": True, **config}
    cfg = EngineConfig(chain_id=42161, contract=CONTRACT, receipt_timeout_s=0.05,
                       receipt_poll_s=0.01,
                       limits=Limits(chain_id=42161, max_position_size_wei=10**20, min_profit_threshold_wei=0,
                                     max_plan_age_ns=0, native_token=WETH), **config)  # fmt: skip
    return Executor(cfg, rpc, [KeySlot(Signer(Account.create()))], publish), published  # type: ignore[arg-type]


def plan(i: int):  # type: ignore[no-untyped-def]
    return make_plan(plan_id=f"p{i}", candidate_id=f"c{i}")


async def test_rejected_send_frees_the_nonce_for_the_next_plan():
    rpc = ScriptedRpc()
    ex, _ = engine(rpc)
    rpc.answers = [[EndpointAnswer("a", Answer.REJECTED, "insufficient funds")]]
    r = await ex.handle_plan(plan(1))
    assert (r.status, r.reason, r.nonce) == (ExecutionStatus.FAILED, "send_rejected", 0)
    r = await ex.handle_plan(plan(2))
    assert (r.status, r.nonce) == (ExecutionStatus.SENT, 0)
    assert [nonce_of(b) for b in rpc.broadcasts] == [0, 0]
    await ex.wait_trackers(1)


async def test_nonce_too_low_resyncs_from_the_chain():
    rpc = ScriptedRpc()
    ex, _ = engine(rpc)
    assert (await ex.handle_plan(plan(1))).nonce == 0
    rpc.chain_nonce = 7  # someone else used this key meanwhile
    rpc.answers = [[EndpointAnswer("a", Answer.NONCE_TOO_LOW, "nonce too low")]]
    r = await ex.handle_plan(plan(2))
    assert (r.status, r.reason) == (ExecutionStatus.FAILED, "nonce_too_low")
    assert (await ex.handle_plan(plan(3))).nonce == 7
    await ex.wait_trackers(1)


async def test_unknown_fate_is_sent_if_the_node_knows_the_hash_else_resynced():
    rpc = ScriptedRpc()
    ex, _ = engine(rpc)
    rpc.answers = [[EndpointAnswer("a", Answer.TRANSPORT, "timeout")]]
    original = rpc.broadcast

    async def broadcast_and_know(raw: bytes) -> list[EndpointAnswer]:
        rpc.known.add("0x" + keccak(raw).hex())
        return await original(raw)

    rpc.broadcast = broadcast_and_know  # type: ignore[method-assign]
    r = await ex.handle_plan(plan(1))
    assert (r.status, r.nonce) == (ExecutionStatus.SENT, 0)  # one endpoint got it after all
    rpc.broadcast = original  # type: ignore[method-assign]
    rpc.answers = [
        [EndpointAnswer("a", Answer.TRANSPORT, "timeout"), EndpointAnswer("b", Answer.REJECTED, "x")]
    ]
    r = await ex.handle_plan(plan(2))
    assert (r.status, r.reason) == (ExecutionStatus.FAILED, "send_uncertain")
    rpc.chain_nonce = 2  # it did land: the chain says so, and the executor follows the chain
    assert (await ex.handle_plan(plan(3))).nonce == 2
    await ex.wait_trackers(1)


async def test_simulation_revert_dry_run_and_late_pause_release_the_nonce():
    rpc = ScriptedRpc()
    ex, _out = engine(rpc)
    rpc.revert = bytes.fromhex("deadbeef")
    r = await ex.handle_plan(plan(1))
    assert (r.status, r.reason, r.nonce) == (ExecutionStatus.DROPPED, "simulation_revert", 0)
    rpc.revert = None
    rpc.on_call = lambda: ex.pause("operator")  # the kill switch lands between signing and sending
    r = await ex.handle_plan(plan(2))
    assert (r.status, r.reason) == (ExecutionStatus.DROPPED, "paused") and r.raw_tx
    assert rpc.broadcasts == []
    rpc.on_call = None
    ex.resume()
    dry, _dry_out = engine(rpc, execution_enabled=False)
    r = await dry.handle_plan(plan(3))
    assert (r.status, r.nonce) == (ExecutionStatus.DRY_RUN, 0) and r.raw_tx.startswith("0x02")
    assert rpc.broadcasts == []
    assert (await ex.handle_plan(plan(4))).nonce == 0  # every unsent reservation was given back


async def test_unsimulated_plan_is_signed_at_once_and_sent_only_if_exactly_as_planned():
    """A plan the validator left to the executor's exact check (simulated=False): signed with the
    plan's gas limit (no estimate first), sent only when the simulation of the signed transaction
    gives exactly the plan's hop amounts and profit; the validator's simulated plans keep the
    non-revert check."""
    rpc = ScriptedRpc()
    ex, _ = engine(rpc)
    r = await ex.handle_plan(plan(1))
    assert r.status is ExecutionStatus.SENT and r.signed_ns > 0
    assert "eth_estimateGas" not in rpc.methods and "eth_simulateV1" in rpc.methods
    assert TypedTransaction.from_bytes(HexBytes(rpc.broadcasts[0])).as_dict()["gas"] == plan(1).gas_limit
    rpc.outcome = (rpc.outcome[0] - 1, rpc.outcome[1])  # one wei less profit than planned
    r = await ex.handle_plan(plan(2))
    assert (r.status, r.reason, r.nonce) == (ExecutionStatus.DROPPED, "simulation_mismatch", 1) and r.raw_tx
    rpc.outcome = (rpc.outcome[0] + 1, [rpc.outcome[1][0] + 1, rpc.outcome[1][1]])  # another hop output
    assert (await ex.handle_plan(plan(3))).reason == "simulation_mismatch"
    assert len(rpc.broadcasts) == 1
    rpc.simulate_v1 = False  # a node without eth_simulateV1: eth_call's return data, same check
    assert (await ex.handle_plan(plan(4))).reason == "simulation_mismatch"
    rpc.outcome = (make_plan().expected_profit, [h.amount_out for h in make_plan().hops])
    assert (await ex.handle_plan(plan(5))).status is ExecutionStatus.SENT
    rpc.methods.clear()
    rpc.outcome = (0, [])  # a simulated plan only has to not revert
    r = await ex.handle_plan(make_plan(plan_id="p6", candidate_id="c6", simulated=True))
    assert r.status is ExecutionStatus.SENT and rpc.methods == ["eth_call"]
    await ex.wait_trackers(1)


async def test_not_included_in_time_fills_the_nonce_with_a_self_transfer():
    rpc = ScriptedRpc()
    ex, out = engine(rpc)
    r = await ex.handle_plan(plan(1))
    assert r.status is ExecutionStatus.SENT
    await ex.wait_trackers(2)
    final = out[-1]
    assert (final.status, final.reason) == (ExecutionStatus.DROPPED, "not_included")
    filler = TypedTransaction.from_bytes(HexBytes(rpc.broadcasts[-1])).as_dict()
    arb = TypedTransaction.from_bytes(HexBytes(rpc.broadcasts[0])).as_dict()
    assert filler["nonce"] == arb["nonce"] == 0 and filler["value"] == 0 and filler["gas"] == 21_000
    assert (
        filler["maxFeePerGas"] > arb["maxFeePerGas"]
        and "0x" + bytes(filler["to"]).hex() == ex.slots[0].address
    )


async def test_concurrent_plans_on_one_key_get_distinct_ordered_nonces():
    rpc = ScriptedRpc()
    ex, _ = engine(rpc)
    results = await asyncio.gather(*(ex.handle_plan(plan(i)) for i in range(20)))
    assert sorted(r.nonce for r in results) == list(range(20))
    assert [nonce_of(b) for b in rpc.broadcasts] == list(range(20))  # handed out in order
    await ex.wait_trackers(2)


@pytest.mark.parametrize("answer", [Answer.ACCEPTED, Answer.ALREADY_KNOWN])
async def test_first_acceptance_wins(answer):
    rpc = ScriptedRpc()
    ex, _ = engine(rpc)
    rpc.answers = [[EndpointAnswer("b", Answer.NONCE_TOO_LOW, "nonce too low"), EndpointAnswer("a", answer)]]
    assert (await ex.handle_plan(plan(1))).status is ExecutionStatus.SENT
    await ex.wait_trackers(1)


async def test_on_chain_reverts_in_a_row_trip_the_circuit_breaker():
    rpc = ScriptedRpc()
    ex, out = engine(rpc, max_consecutive_reverts=2)
    original = rpc.broadcast

    async def mined_reverted(raw: bytes) -> list[EndpointAnswer]:
        rpc.receipts["0x" + keccak(raw).hex()] = {"status": "0x0", "blockNumber": "0x5", "gasUsed": "0x100",
                                                  "effectiveGasPrice": "0x1", "logs": []}  # fmt: skip
        return await original(raw)

    rpc.broadcast = mined_reverted  # type: ignore[method-assign]
    for i in range(2):
        assert (await ex.handle_plan(plan(i))).status is ExecutionStatus.SENT
        await ex.wait_trackers(1)
    assert [r.status for r in out if r.status is ExecutionStatus.REVERTED] == [ExecutionStatus.REVERTED] * 2
    assert ex.paused and "circuit breaker" in ex.pause_reason
    assert (await ex.handle_plan(plan(9))).reason == "paused"


class RecordingLease:
    """A KeyLease held for good, writing to ``events`` what a crash could cut in between."""

    def __init__(self, events: list[str], *, fail_add: bool = False) -> None:
        self.events = events
        self.fail_add = fail_add
        self.records: dict[str, bytes] = {}
        self.fence = 1

    def held(self) -> bool:
        return True

    async def floor(self) -> int | None:
        return None

    async def record_next_nonce(self, next_nonce: int) -> bool:
        return True

    async def release(self) -> None:
        pass

    async def add_in_flight(self, tx_hash: str, record: bytes) -> None:
        if self.fail_add:
            from mevbot.errors import CacheError

            raise CacheError("redis down")
        self.events.append("record")
        self.records[tx_hash] = record

    async def remove_in_flight(self, tx_hash: str) -> None:
        self.events.append("forget")
        self.records.pop(tx_hash, None)

    async def in_flight(self) -> dict[str, bytes]:
        return dict(self.records)


def leased_engine(rpc: ScriptedRpc, lease: RecordingLease, events: list[str]) -> tuple[Executor, list[ExecutionResult]]:
    ex, published = engine(rpc)
    ex.slots[0].lease = lease  # type: ignore[assignment]
    original_broadcast, original_publish = rpc.broadcast, ex.publish

    async def broadcast(raw: bytes) -> list[EndpointAnswer]:
        events.append("broadcast")
        return await original_broadcast(raw)

    async def publish(result: ExecutionResult) -> None:
        events.append(f"publish:{result.status.value}")
        await original_publish(result)

    rpc.broadcast = broadcast  # type: ignore[method-assign]
    ex.publish = publish
    return ex, published


async def test_in_flight_record_is_saved_before_the_send_and_its_announcement():
    """A process killed right after the broadcast (or the 'sent' result) leaves a record for its
    successor to adopt: the record is written before any endpoint sees the transaction."""
    rpc, events = ScriptedRpc(), []
    lease = RecordingLease(events)
    ex, _ = leased_engine(rpc, lease, events)
    r = await ex.handle_plan(plan(1))
    assert r.status is ExecutionStatus.SENT
    assert events[:3] == ["record", "broadcast", "publish:sent"], events
    assert r.tx_hash in lease.records
    rpc.receipts[r.tx_hash] = {"status": "0x1", "blockNumber": "0x5", "gasUsed": "0x100", "effectiveGasPrice": "0x1",
                               "logs": []}  # fmt: skip
    await ex.wait_trackers(1)
    assert lease.records == {} and events[-1] == "forget"  # settled: the record is cleared


async def test_in_flight_record_of_a_refused_send_is_cleared_and_an_unrecordable_tx_is_not_sent():
    rpc, events = ScriptedRpc(), []
    lease = RecordingLease(events)
    ex, _ = leased_engine(rpc, lease, events)
    rpc.answers = [[EndpointAnswer("a", Answer.REJECTED, "insufficient funds")]]
    r = await ex.handle_plan(plan(1))
    assert (r.status, r.reason) == (ExecutionStatus.FAILED, "send_rejected")
    assert events == ["record", "broadcast", "forget", "publish:failed"] and lease.records == {}

    rpc2, events2 = ScriptedRpc(), []
    ex2, _ = leased_engine(rpc2, RecordingLease(events2, fail_add=True), events2)
    r = await ex2.handle_plan(plan(2))
    assert (r.status, r.reason) == (ExecutionStatus.FAILED, "internal")
    assert rpc2.broadcasts == [] and "broadcast" not in events2
    assert (await ex2.handle_plan(plan(3))).nonce == 0  # the reservation was given back


async def test_adopted_record_of_a_tx_never_sent_is_dropped_without_a_filler():
    """Killed between saving the record and the broadcast: the successor finds the transaction
    unknown and its nonce still open; nothing to settle, and no filler takes the nonce."""
    rpc, events = ScriptedRpc(), []
    lease = RecordingLease(events)
    first, _ = leased_engine(rpc, lease, events)

    async def die(raw: bytes) -> list[EndpointAnswer]:
        raise asyncio.CancelledError  # the process dies before the transaction leaves

    rpc.broadcast = die  # type: ignore[method-assign]
    with pytest.raises(asyncio.CancelledError):
        await first.handle_plan(plan(1))
    assert len(lease.records) == 1 and "publish:sent" not in events

    rpc2, events2 = ScriptedRpc(), []
    lease.events = events2
    second, out = leased_engine(rpc2, lease, events2)
    second.slots[0].lease = lease  # type: ignore[assignment]
    assert await second.adopt_in_flight(second.slots[0]) == 1
    await second.wait_trackers(1)
    assert lease.records == {} and rpc2.broadcasts == []
    assert [(r.status, r.reason) for r in out] == [(ExecutionStatus.DROPPED, "not_included")]
    assert (await second.handle_plan(plan(2))).nonce == 0  # the open nonce is used


async def test_adopted_record_of_a_tx_sent_is_settled():
    rpc, events = ScriptedRpc(), []
    lease = RecordingLease(events)
    first, _ = leased_engine(rpc, lease, events)
    sent = await first.handle_plan(plan(1))
    await asyncio.sleep(0.02)  # the tracker is polling for the receipt
    for task in list(first._trackers):
        task.cancel()  # the process stops with the transaction in flight
    await asyncio.sleep(0.01)
    assert sent.tx_hash in lease.records

    rpc2 = ScriptedRpc()
    rpc2.chain_nonce = 1
    rpc2.known.add(sent.tx_hash)
    rpc2.receipts[sent.tx_hash] = {"status": "0x1", "blockNumber": "0x5", "gasUsed": "0x100",
                                   "effectiveGasPrice": "0x1", "logs": []}  # fmt: skip
    second, out = leased_engine(rpc2, lease, [])
    assert await second.adopt_in_flight(second.slots[0]) == 1
    await second.wait_trackers(1)
    assert [(r.status, r.tx_hash) for r in out] == [(ExecutionStatus.INCLUDED, sent.tx_hash)]
    assert lease.records == {}


class CountingSigner:
    def __init__(self, signer: Signer) -> None:
        self.signer, self.address, self.nonces = signer, signer.address, []

    def sign_transaction(self, tx: dict[str, Any]) -> tuple[bytes, str]:
        self.nonces.append(tx["nonce"])
        return self.signer.sign_transaction(tx)


@pytest.mark.parametrize("execution_enabled", [True, False])
async def test_a_burst_on_one_key_is_signed_on_arrival_with_the_nonces_it_gets(execution_enabled):
    """Signed before the key's lock with the nonce each plan then reserves (live: the next ones in
    order; dry run: the one released by the plan ahead), so no plan waits for another's check to
    be signed; a wrong guess (a plan ahead was refused) is signed again under the lock."""
    rpc = ScriptedRpc()
    ex, _ = engine(rpc, execution_enabled=execution_enabled)
    signer = CountingSigner(ex.slots[0].signer)
    ex.slots[0].signer = signer  # type: ignore[assignment]
    await ex.handle_plan(plan(0))  # the first one syncs the nonce from the chain
    signer.nonces.clear()
    results = await asyncio.gather(*(ex.handle_plan(plan(i)) for i in range(1, 11)))
    expected = list(range(1, 11)) if execution_enabled else [0] * 10
    assert [r.nonce for r in results] == expected and signer.nonces == expected  # one signature each
    assert len({r.signed_ns for r in results}) == 10

    signer.nonces.clear()
    refused = make_plan(plan_id="p20", candidate_id="c20", expected_profit=make_plan().expected_profit + 1)
    first, second = await asyncio.gather(ex.handle_plan(refused), ex.handle_plan(plan(21)))
    assert first.reason == "simulation_mismatch"  # the node's profit is not this plan's
    start = 11 if execution_enabled else 0
    assert second.nonce == start and signer.nonces[-1] == start  # re-signed with the nonce freed
    await ex.wait_trackers(1)
