"""Chain access for the validator (adapter, synchronous JSON-RPC): head and base fee, flash-loan
lenders and their fees read from the contracts, the fee-on-transfer probe, and the simulation of
the exact transaction the executor will send (same encoder, contract, sender).

Every call goes through ``mevbot.chain.rpc.RpcClient`` (errors arrive as ``mevbot.errors``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils.crypto import keccak
from mevbot.chain.arb_calldata import decode_arb_error, decode_arb_result, encode_plan
from mevbot.chain.artifacts import load_artifact
from mevbot.chain.rpc import RevertError, RpcClient
from mevbot.chainconfig import FlashLoanSource
from mevbot.errors import MevbotError, RpcError
from mevbot.gas.l1 import L1Quote
from mevbot.gas.oracle import GasOracle
from mevbot.messages import ExecutionPlan, FlashSourceKind
from mevbot.rpc.aio import AioRpc

from services.validator.core import SimulationOutcome
from services.validator.flash import FlashOption

_BALANCE_OF = keccak(text="balanceOf(address)")[:4]
_PROTOCOL_FEES_COLLECTOR = keccak(text="getProtocolFeesCollector()")[:4]
_FLASH_FEE_PERCENTAGE = keccak(text="getFlashLoanFeePercentage()")[:4]
_FLASHLOAN_PREMIUM_TOTAL = keccak(text="FLASHLOAN_PREMIUM_TOTAL()")[:4]
_V3_FEE = keccak(text="fee()")[:4]
_PROBE_SELECTOR = keccak(text="probe(address,address,uint256)")[:4]
#: a neutral address for the probe's peer when no executor contract is configured
_PROBE_PEER = "0x000000000000000000000000000000000000dead"


@cache
def probe_runtime_code() -> str:
    data = json.loads((Path(__file__).parent / "probe" / "TransferProbe.json").read_text())
    return str(data["deployedBytecode"])


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def _call(to: str, data: bytes, sender: str | None = None) -> dict:
    tx = {"to": to, "data": _hex(data)}
    if sender:
        tx["from"] = sender
    return tx


def _parse_head(block: dict) -> tuple[int, int]:
    return int(block["number"], 16), int(block.get("baseFeePerGas") or "0x0", 16)


def _word(result: str) -> int:
    raw = bytes.fromhex(str(result).removeprefix("0x"))
    return int.from_bytes(raw[:32], "big") if len(raw) >= 32 else 0


class ChainAccess:
    """``rpc`` (synchronous) serves the tests, the benchmarks and the cold path (lender fee rates,
    the fee-on-transfer probe: read once, then cached); ``arpc`` (async, optional) the service's
    hot path: the ``*_async`` methods, called on the event loop, many candidates at once."""

    #: lender balances read at block B serve candidates up to block B + this (each plan is then
    #: simulated exactly, or checked exactly by the executor: a balance a block old can only pick
    #: a lender that no longer lends enough, and that transaction fails its simulation)
    BALANCE_MAX_AGE_BLOCKS = 1

    def __init__(self, rpc: RpcClient, *, executor: str | None, sender: str | None, oracle: GasOracle,
                 v2_exact_out: bool = True, flash_balance_ttl_s: float = 0.0, arpc: AioRpc | None = None) -> None:
        self.rpc = rpc
        self.arpc = arpc
        self.executor = executor
        self.sender = sender
        self.oracle = oracle
        self.v2_exact_out = v2_exact_out
        self.flash_balance_ttl_s = flash_balance_ttl_s
        self._fee_rates: dict[tuple[FlashSourceKind, str, str], tuple[int, str]] = {}  # -> (rate, balance holder)
        self._balances: dict[tuple[str, str], tuple[float, int]] = {}
        self._fot: dict[str, tuple[bool, str]] = {}
        self._no_lender: set[tuple[FlashSourceKind, str, str]] = set()  # the lender refused the token
        self._block_balances: dict[tuple[str, str], tuple[int, int]] = {}  # (token, holder) -> (block, balance)
        self._simulate_v1 = True

    # --- head ----------------------------------------------------------------------------------------

    def head(self) -> tuple[int, int]:
        """``(block number, base fee in wei)`` of the latest block."""
        return _parse_head(self.rpc.call("eth_getBlockByNumber", "latest", False))

    def head_and_flash_options(self, token: str, sources: Iterable[FlashLoanSource],
                               v3_lenders: Sequence[str] = ()) -> tuple[int, int, list[FlashOption]]:
        """Head, base fee and the lenders of ``token`` with live balances, in one batch."""
        entries = self._lender_entries(token, sources, v3_lenders)
        calls = [("eth_getBlockByNumber", ["latest", False])]
        calls += [("eth_call", [_call(token, _BALANCE_OF + abi_encode(["address"], [e[3]])), "latest"]) for e in entries]
        results = self.rpc.batch(calls)
        head, base_fee = _parse_head(results[0])
        options = [FlashOption(kind, addr, token, _word(r), rate) for (kind, addr, rate, _), r in zip(entries, results[1:])]
        return head, base_fee, options

    # --- flash-loan lenders -------------------------------------------------------------------------

    def _rate_and_holder(self, source: FlashLoanSource | tuple[FlashSourceKind, str], token: str) -> tuple[int, str]:
        kind, address = (source.kind, source.address) if isinstance(source, FlashLoanSource) else source
        key = (kind, address, token)
        hit = self._fee_rates.get(key)
        if hit is not None:
            return hit
        if kind is FlashSourceKind.BALANCER_V2:
            collector = "0x" + self.rpc.call("eth_call", _call(address, _PROTOCOL_FEES_COLLECTOR), "latest")[-40:]
            rate = _word(self.rpc.call("eth_call", _call(collector, _FLASH_FEE_PERCENTAGE), "latest"))
            holder = address
        elif kind is FlashSourceKind.AAVE_V3:
            rate = _word(self.rpc.call("eth_call", _call(address, _FLASHLOAN_PREMIUM_TOTAL), "latest"))
            pool = load_artifact("AavePool").codec
            raw = self.rpc.call("eth_call", _call(address, pool.encode_call("getReserveData", token)), "latest")
            (reserve,) = pool.decode_output("getReserveData", bytes.fromhex(raw[2:]))
            holder = str(reserve[8]).lower()  # aTokenAddress: the reserve's cash sits there
        else:
            rate = _word(self.rpc.call("eth_call", _call(address, _V3_FEE), "latest"))
            holder = address
        self._fee_rates[key] = (rate, holder)
        return rate, holder

    def flash_options(self, token: str, sources: Iterable[FlashLoanSource],
                      v3_lenders: Sequence[str] = ()) -> list[FlashOption]:
        """Lenders of ``token`` with their live fee rate and lendable balance."""
        entries = self._lender_entries(token, sources, v3_lenders)
        balances = self.balances(token, [e[3] for e in entries])
        return [FlashOption(kind, addr, token, bal, rate) for (kind, addr, rate, _), bal in zip(entries, balances)]

    def _lender_entries(self, token: str, sources: Iterable[FlashLoanSource],
                        v3_lenders: Sequence[str]) -> list[tuple[FlashSourceKind, str, int, str]]:
        """(kind, address, fee rate, holder of the lendable balance) per usable lender (rates cached)."""
        entries: list[tuple[FlashSourceKind, str, int, str]] = []
        for s in sources:
            if s.kind is FlashSourceKind.UNISWAP_V3:
                continue  # V3 lenders are pools of the token, given per candidate
            if (s.kind, s.address, token) in self._no_lender:
                continue
            try:
                rate, holder = self._rate_and_holder(s, token)
            except RevertError:
                self._no_lender.add((s.kind, s.address, token))  # a contract's answer: it stays so
                continue  # the lender does not list this token (Aave reverts on unknown reserves)
            except MevbotError:
                continue  # transport: asked again next time
            if holder == "0x" + "0" * 40:
                continue
            entries.append((s.kind, s.address, rate, holder))
        for pool in v3_lenders:
            rate, holder = self._rate_and_holder((FlashSourceKind.UNISWAP_V3, pool), token)
            entries.append((FlashSourceKind.UNISWAP_V3, pool, rate, holder))
        return entries

    def balances(self, token: str, holders: Sequence[str]) -> list[int]:
        now = time.monotonic()
        out: list[int | None] = []
        missing = []
        for h in holders:
            hit = self._balances.get((token, h))
            if hit is not None and now - hit[0] < self.flash_balance_ttl_s:
                out.append(hit[1])
            else:
                out.append(None)
                missing.append(h)
        if missing:
            calls = [("eth_call", [_call(token, _BALANCE_OF + abi_encode(["address"], [h])), "latest"]) for h in missing]
            fetched = dict(zip(missing, (_word(r) for r in self.rpc.batch(calls))))
            for h, bal in fetched.items():
                self._balances[(token, h)] = (now, bal)
            out = [fetched[h] if v is None else v for h, v in zip(holders, out)]
        return [int(v) for v in out]  # type: ignore[arg-type]

    # --- the async hot path ---------------------------------------------------------------------------

    def _cached_entries(self, token: str, sources: Iterable[FlashLoanSource],
                        v3_lenders: Sequence[str]) -> list[tuple[FlashSourceKind, str, int, str]] | None:
        """:meth:`_lender_entries` when every fee rate is known (no RPC), else None."""
        for s in sources:
            key = (s.kind, s.address, token)
            if s.kind is not FlashSourceKind.UNISWAP_V3 and key not in self._fee_rates and key not in self._no_lender:
                return None
        if any((FlashSourceKind.UNISWAP_V3, p, token) not in self._fee_rates for p in v3_lenders):
            return None
        return self._lender_entries(token, sources, v3_lenders)

    async def head_and_flash_options_async(
        self, token: str, sources: Sequence[FlashLoanSource], v3_lenders: Sequence[str] = (),
        head: tuple[int, int] | None = None,
    ) -> tuple[int, int, list[FlashOption]]:
        """As :meth:`head_and_flash_options`; ``head`` (block, base fee) known already (the market
        mirror's last ``BlockHead``) saves the block read, and balances read at most
        :attr:`BALANCE_MAX_AGE_BLOCKS` before it are reused: usually no RPC at all."""
        assert self.arpc is not None
        entries = self._cached_entries(token, sources, v3_lenders)
        if entries is None:  # cold: a lender's fee rate not read yet (once per lender and token)
            entries = await asyncio.to_thread(self._lender_entries, token, sources, v3_lenders)
        holders = [e[3] for e in entries]
        if head is None:
            calls = [("eth_getBlockByNumber", ["latest", False])]
            missing = holders
        else:
            calls = []
            floor = head[0] - self.BALANCE_MAX_AGE_BLOCKS
            missing = [h for h in holders if self._block_balances.get((token, h), (-1, 0))[0] < floor]
        calls += [("eth_call", [_call(token, _BALANCE_OF + abi_encode(["address"], [h])), "latest"]) for h in missing]
        results = await self.arpc.batch(calls) if calls else []
        if head is None:
            head, results = _parse_head(results[0]), results[1:]
        for h, r in zip(missing, results):
            self._block_balances[(token, h)] = (head[0], _word(r))
        options = [FlashOption(kind, addr, token, self._block_balances[(token, holder)][1], rate)
                   for kind, addr, rate, holder in entries]
        return head[0], head[1], options

    async def refresh_balances(self, block: int) -> None:
        """Re-read, in one batch, every lender balance read before ``block`` (called once per new
        block, in the background, so the hot path finds them fresh)."""
        assert self.arpc is not None
        stale = [k for k, (b, _) in self._block_balances.items() if b < block]
        if not stale:
            return
        calls = [("eth_call", [_call(t, _BALANCE_OF + abi_encode(["address"], [h])), "latest"]) for t, h in stale]
        results = await self.arpc.batch(calls)
        for key, r in zip(stale, results):
            if self._block_balances.get(key, (-1, 0))[0] < block:
                self._block_balances[key] = (block, _word(r))

    async def fee_on_transfer_async(self, token: str, holder: str, amount: int) -> tuple[bool, str]:
        hit = self._fot.get(token)
        if hit is not None:
            return hit
        return await asyncio.to_thread(self.fee_on_transfer, token, holder, amount)  # once per token

    async def simulate_async(self, plans: Sequence[ExecutionPlan], base_fee_wei: int) -> list[tuple[SimulationOutcome, L1Quote]]:
        """:meth:`simulate` over the async client (same batch, same parsing)."""
        assert self.arpc is not None
        if self.oracle.source is None:  # probe once which source answers
            await asyncio.to_thread(self.oracle.l1_quote, self.sender or _PROBE_PEER, self.executor or _PROBE_PEER,
                                    self.calldata(plans[0]), base_fee_wei)
        calls, calldatas, l1_calls = self._simulation_calls(plans)
        try:
            results = await self.arpc.batch(calls)
        except RevertError as exc:
            return await asyncio.to_thread(self._batch_reverted, exc, calldatas, base_fee_wei)
        except RpcError as exc:
            if self._simulate_v1 and exc.rpc_code in (-32601, -32600, -32602):
                self._simulate_v1 = False  # the node lacks eth_simulateV1
                return await self.simulate_async(plans, base_fee_wei)
            raise
        return self._parse_simulation(results, calldatas, l1_calls, base_fee_wei)

    # --- fee-on-transfer probe ------------------------------------------------------------------------

    def fee_on_transfer(self, token: str, holder: str, amount: int) -> tuple[bool, str]:
        """True when a transfer of ``token`` out of ``holder`` (a pool of the path) to the executor,
        or back, delivers less than was sent. Cached per token: a token's transfer rule is code."""
        hit = self._fot.get(token)
        if hit is not None:
            return hit
        peer = self.executor or _PROBE_PEER
        held = self.balances(token, [holder])[0]
        amount = max(1, min(amount, held // 2))
        if held == 0:
            return True, f"holder {holder} has no {token} to probe with"
        code = probe_runtime_code()
        data = _PROBE_SELECTOR + abi_encode(["address", "address", "uint256"], [token, peer, amount])
        try:
            raw = self.rpc.call("eth_call", _call(holder, data, holder), "latest", {holder: {"code": code}, peer: {"code": code}})
        except RevertError as exc:
            result = (True, f"transfer probe reverted ({exc})")
        except RpcError as exc:
            # a node without eth_call state overrides: not cached, and not fatal: the contract
            # measures balance deltas, so such a token makes the exact simulation revert anyway
            return False, f"transfer probe unavailable ({exc})"
        else:
            received, returned = abi_decode(["uint256", "uint256"], bytes.fromhex(raw[2:]))
            bad = received != amount or returned != received
            result = (bad, f"sent {amount}, received {received}, returned {returned}")
        self._fot[token] = result
        return result

    # --- simulation --------------------------------------------------------------------------------

    def calldata(self, plan: ExecutionPlan) -> bytes:
        return encode_plan(plan, v2_exact=self.v2_exact_out)

    def transaction(self, plan: ExecutionPlan, *, exact: bool) -> dict:
        """The transaction the executor sends (``exact``: with its gas limit and fee bid)."""
        tx = {"from": self.sender, "to": self.executor, "data": _hex(self.calldata(plan))}
        if exact:
            tx.update(gas=hex(plan.gas_limit), maxFeePerGas=hex(plan.max_fee_per_gas_wei),
                      maxPriorityFeePerGas=hex(plan.max_priority_fee_per_gas_wei))
        return tx

    def simulate(self, plans: Sequence[ExecutionPlan], base_fee_wei: int) -> list[tuple[SimulationOutcome, L1Quote]]:
        """Simulate the plans' exact transactions in order on the latest block (each sees the state
        the previous ones leave: the parts of a split) and quote their L1 components, in one
        JSON-RPC batch: ``eth_simulateV1`` (return data and gas used in one execution). Nodes without
        it get ``eth_call`` + ``eth_estimateGas``, which can only simulate the first plan."""
        sender, to = self.sender or _PROBE_PEER, self.executor or _PROBE_PEER
        if self.oracle.source is None:
            self.oracle.l1_quote(sender, to, self.calldata(plans[0]), base_fee_wei)  # probe once which source answers
        calls, calldatas, l1_calls = self._simulation_calls(plans)
        try:
            results = self.rpc.batch(calls)
        except RevertError as exc:
            return self._batch_reverted(exc, calldatas, base_fee_wei)
        except RpcError as exc:
            if self._simulate_v1 and exc.rpc_code in (-32601, -32600, -32602):
                self._simulate_v1 = False  # the node lacks eth_simulateV1
                return self.simulate(plans, base_fee_wei)
            raise
        return self._parse_simulation(results, calldatas, l1_calls, base_fee_wei)

    def _simulation_calls(self, plans: Sequence[ExecutionPlan]) -> tuple[list, list[bytes], list]:
        sender, to = self.sender or _PROBE_PEER, self.executor or _PROBE_PEER
        calldatas = [self.calldata(p) for p in plans]
        txs = [self.transaction(p, exact=True) for p in plans]
        l1_calls = [self.oracle.request(sender, to, cd) for cd in calldatas]
        if self._simulate_v1:
            calls = [("eth_simulateV1", [{"blockStateCalls": [{"calls": txs}]}, "latest"])]
        else:
            calls = [("eth_call", [txs[0], "latest"]), ("eth_estimateGas", [txs[0], "latest"])]
        calls += [c for c in l1_calls if c is not None]
        return calls, calldatas, l1_calls

    def _batch_reverted(self, exc: RevertError, calldatas: list[bytes],
                        base_fee_wei: int) -> list[tuple[SimulationOutcome, L1Quote]]:
        err = decode_arb_error(exc.data) if exc.data else None
        failed = SimulationOutcome(False, error=str(err) if err else str(exc), decoded=err is not None)
        return [(failed, self._l1(None, cd, base_fee_wei)) for cd in calldatas]

    def _parse_simulation(self, results: list, calldatas: list[bytes], l1_calls: list,
                          base_fee_wei: int) -> list[tuple[SimulationOutcome, L1Quote]]:
        l1_results = iter(results[1 if self._simulate_v1 else 2:])
        quotes = [self._l1(next(l1_results) if c is not None else None, cd, base_fee_wei)
                  for c, cd in zip(l1_calls, calldatas)]
        if not self._simulate_v1:
            result = decode_arb_result(bytes.fromhex(results[0][2:]))
            first = SimulationOutcome(True, result.hop_amounts_out_wei, result.profit_wei, int(results[1], 16))
            later = SimulationOutcome(False, error="sequential parts need eth_simulateV1", decoded=True)
            return [(first, quotes[0])] + [(later, q) for q in quotes[1:]]
        out = []
        for call, quote in zip(results[0][0]["calls"], quotes):
            data = bytes.fromhex(call["returnData"][2:])
            gas = int(call.get("gasUsed") or "0x0", 16)
            if call.get("status") != "0x1":
                err = decode_arb_error(data) if data else None
                out.append((SimulationOutcome(False, gas_used=gas, error=str(err) if err else str(call.get("error")),
                                              decoded=err is not None), quote))
            else:
                result = decode_arb_result(data)
                out.append((SimulationOutcome(True, result.hop_amounts_out_wei, result.profit_wei, gas), quote))
        return out

    def _l1(self, result: object, calldata: bytes, base_fee_wei: int) -> L1Quote:
        if result is None:
            return self.oracle.parse("0x", len(calldata), base_fee_wei) if self.oracle.source == "fallback" else \
                self.oracle.l1_quote(self.sender or _PROBE_PEER, self.executor or _PROBE_PEER, calldata, base_fee_wei)
        return self.oracle.parse(result, len(calldata), base_fee_wei)

    def l1_quote(self, plan: ExecutionPlan, base_fee_wei: int) -> L1Quote:
        return self.oracle.l1_quote(self.sender or _PROBE_PEER, self.executor or _PROBE_PEER, self.calldata(plan),
                                    base_fee_wei)
