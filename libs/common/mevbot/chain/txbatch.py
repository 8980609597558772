"""Send many transactions from an unlocked dev account (anvil) fast, in JSON-RPC batches.

Every transaction carries an explicit nonce and gas limit (generous; anvil runs with Arbitrum's
2**50 block gas limit so a whole batch fits one block), so anvil needs no estimation and runs
them strictly in nonce order; contract addresses are predicted from (sender, nonce) up front, which
lets one batch contain a deploy and the calls that use it. ``flush()`` waits for every receipt and
raises ``ChainError`` naming the first step that reverted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from mevbot.chain.create2 import create_address
from mevbot.chain.rpc import RevertError, RpcClient
from mevbot.errors import ChainError

CREATE_GAS = 29_000_000
CALL_GAS = 8_000_000


@dataclass
class _Pending:
    label: str
    tx: dict[str, str]


class TxBatch:
    def __init__(self, rpc: RpcClient, sender: str, nonce: int | None = None, chunk: int = 200) -> None:
        self.rpc = rpc
        self.sender = sender
        self.nonce = (
            int(rpc.call("eth_getTransactionCount", sender, "pending"), 16) if nonce is None else nonce
        )
        self._pending: list[_Pending] = []
        self._chunk = chunk
        self.sent = 0

    def create(self, label: str, creation_code: bytes, value_wei: int = 0, gas: int = CREATE_GAS) -> str:
        address = create_address(self.sender, self.nonce)
        self._queue(label, None, creation_code, value_wei, gas)
        return address

    def call(self, label: str, to: str, data: bytes, value_wei: int = 0, gas: int = CALL_GAS) -> None:
        self._queue(label, to, data, value_wei, gas)

    def _queue(self, label: str, to: str | None, data: bytes, value_wei: int, gas: int) -> None:
        tx = {
            "from": self.sender,
            "nonce": hex(self.nonce),
            "gas": hex(gas),
            "value": hex(value_wei),
            "input": "0x" + data.hex(),
        }
        if to is not None:
            tx["to"] = to
        self._pending.append(_Pending(label, tx))
        self.nonce += 1

    def flush(self, timeout_s: float = 60.0) -> list[dict[str, object]]:
        pending, self._pending = self._pending, []
        receipts: list[dict[str, object]] = []
        automine = bool(self.rpc.call("anvil_getAutomine"))
        for start in range(0, len(pending), self._chunk):
            part = pending[start : start + self._chunk]
            # Under automine, anvil mines while the batch is still arriving and, racing, sometimes
            # drops a tx (the nonce gap then stalls all later ones). So pause automine, queue the
            # whole part, mine it as one block, and restore automine. Interval mining is left alone.
            if automine:
                self.rpc.call("evm_setAutomine", False)
            try:
                hashes = self.rpc.batch([("eth_sendTransaction", [p.tx]) for p in part])
                if automine:
                    self.rpc.call("evm_mine")
            finally:
                if automine:
                    self.rpc.call("evm_setAutomine", True)
            self.sent += len(part)
            receipts += self._wait_receipts(part, hashes, timeout_s)
        return receipts

    def _wait_receipts(
        self, part: list[_Pending], hashes: list[str], timeout_s: float
    ) -> list[dict[str, object]]:
        start = time.monotonic()
        deadline = start + timeout_s
        next_kick = start + 0.5
        got: list[dict[str, object] | None] = [None] * len(hashes)
        while True:
            missing = [i for i, r in enumerate(got) if r is None]
            if not missing:
                break
            if time.monotonic() > deadline:
                raise ChainError(f"no receipt after {timeout_s}s for step {part[missing[0]].label!r}")
            results = self.rpc.batch([("eth_getTransactionReceipt", [hashes[i]]) for i in missing])
            for i, r in zip(missing, results, strict=True):
                got[i] = r
            if any(r is None for r in got):
                time.sleep(0.005)
                if time.monotonic() > next_kick:
                    # belt and braces: if ready txs sit in the pool without a new arrival to trigger
                    # automine, one mined block flushes them (an empty block is harmless)
                    self.rpc.call("evm_mine")
                    next_kick = time.monotonic() + 0.5
        for p, r in zip(part, got, strict=True):
            assert r is not None
            if r.get("status") != "0x1":
                raise ChainError(f"deploy step {p.label!r} reverted: {self._revert_reason(p, r)}")
        return [r for r in got if r is not None]

    def _revert_reason(self, p: _Pending, receipt: dict[str, object]) -> str:
        # replay on the parent block: good enough to surface the revert string of a failed step
        block = int(str(receipt.get("blockNumber", "0x1")), 16)
        call = {k: v for k, v in p.tx.items() if k != "nonce"}
        try:
            self.rpc.call("eth_call", call, hex(max(block - 1, 0)))
        except RevertError as exc:
            return f"{exc} data=0x{exc.data.hex()}"
        except ChainError as exc:
            return str(exc)
        return "reverted (no reason on replay)"
