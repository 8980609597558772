"""Async JSON-RPC to the chain (adapter): reads from the primary endpoint, sends to all of them,
over the shared aiohttp transport (:class:`mevbot.rpc.aio.AioRpc`, one session for every endpoint).

``broadcast`` posts ``eth_sendRawTransaction`` to every configured endpoint concurrently and
returns as soon as one accepts (the other posts finish in the background and are logged), or
when all have answered. Endpoints are named; URLs (which may carry API keys) never leave here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from mevbot import metrics
from mevbot.chain.rpc import RevertError
from mevbot.errors import RpcError
from mevbot.logging import get_logger
from mevbot.rpc.aio import AioRpc

from services.executor.sending import Answer, EndpointAnswer, classify_error

log = get_logger("mevbot.executor.rpc")


@dataclass(frozen=True)
class Endpoint:
    name: str
    url: str

    def __repr__(self) -> str:
        return f"Endpoint({self.name!r})"


class ChainRpc:
    def __init__(self, endpoints: list[Endpoint], *, timeout_s: float = 5.0) -> None:
        if not endpoints:
            raise RpcError("no RPC endpoint configured")
        self.endpoints = endpoints
        self.primary = endpoints[0]
        self._rpc = AioRpc(self.primary.url, timeout_s=timeout_s, provider=self.primary.name)
        self._background: set[asyncio.Task[Any]] = set()

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await self._rpc.close()

    async def _post(self, endpoint: Endpoint, method: str, params: list[Any]) -> dict[str, Any]:
        try:
            reply = await self._rpc.post(self._rpc.request(method, params), url=endpoint.url)
        except RpcError as exc:
            metrics.RPC_CALLS.labels(endpoint.name, method, "transport").inc()
            raise RpcError(f"{method} to {endpoint.name} failed: {exc}", provider=endpoint.name) from None
        if not isinstance(reply, dict):
            metrics.RPC_CALLS.labels(endpoint.name, method, "error").inc()
            raise RpcError(f"{method}: malformed reply from {endpoint.name}", provider=endpoint.name)
        metrics.RPC_CALLS.labels(endpoint.name, method, "error" if reply.get("error") else "ok").inc()
        return reply

    async def call(self, method: str, *params: Any) -> Any:
        reply = await self._post(self.primary, method, list(params))
        err = reply.get("error")
        if err:
            message = str(err.get("message", err)) if isinstance(err, dict) else str(err)
            data = err.get("data") if isinstance(err, dict) else None
            code = err.get("code") if isinstance(err, dict) else None
            if isinstance(data, str) and data.startswith("0x"):
                raise RevertError(f"{method}: {message}", bytes.fromhex(data[2:]), rpc_code=code)
            if "revert" in message.lower():
                raise RevertError(f"{method}: {message}", b"", rpc_code=code)
            raise RpcError(f"{method}: {message}", rpc_code=code, provider=self.primary.name)
        return reply.get("result")

    # --- typed helpers ---------------------------------------------------------------------------

    async def chain_id(self) -> int:
        return int(await self.call("eth_chainId"), 16)

    async def nonce(self, address: str, tag: str = "pending") -> int:
        return int(await self.call("eth_getTransactionCount", address, tag), 16)

    async def head(self) -> tuple[int, int]:
        """(block number, base fee per gas in wei) of the latest block."""
        block = await self.call("eth_getBlockByNumber", "latest", False)
        return int(block["number"], 16), int(block.get("baseFeePerGas") or "0x0", 16)

    async def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        return await self.call("eth_getTransactionReceipt", tx_hash)

    async def transaction(self, tx_hash: str) -> dict[str, Any] | None:
        return await self.call("eth_getTransactionByHash", tx_hash)

    async def keep_warm(self, interval_s: float = 5.0) -> None:
        """Background: a cheap call to every endpoint now and then, so the connection a send
        needs is already open (a cold TLS handshake to a remote sequencer costs tens of ms)."""
        while True:
            await asyncio.gather(*(self._ping(e) for e in self.endpoints[1:]))
            await asyncio.sleep(interval_s)

    async def _ping(self, endpoint: Endpoint) -> None:
        try:
            await self._post(endpoint, "eth_chainId", [])
        except RpcError:
            pass  # counted in mev_rpc_calls_total{outcome="transport"}; a send will say more

    # --- sending ---------------------------------------------------------------------------------

    async def _send_one(self, endpoint: Endpoint, raw_hex: str) -> EndpointAnswer:
        try:
            reply = await self._post(endpoint, "eth_sendRawTransaction", [raw_hex])
        except RpcError as exc:
            return EndpointAnswer(endpoint.name, Answer.TRANSPORT, str(exc))
        err = reply.get("error")
        if not err:
            return EndpointAnswer(endpoint.name, Answer.ACCEPTED)
        message = str(err.get("message", err)) if isinstance(err, dict) else str(err)
        return EndpointAnswer(endpoint.name, classify_error(message), message[:300])

    async def broadcast(self, raw_tx: bytes) -> list[EndpointAnswer]:
        """Send to every endpoint at once; return at the first acceptance or when all answered."""
        raw_hex = "0x" + raw_tx.hex()
        tasks = [asyncio.create_task(self._send_one(e, raw_hex)) for e in self.endpoints]
        answers: list[EndpointAnswer] = []
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                answers.append(task.result())
            if any(a.answer in (Answer.ACCEPTED, Answer.ALREADY_KNOWN) for a in answers):
                break
        for task in pending:  # the slower endpoints: let them finish, log what they said
            self._background.add(task)
            task.add_done_callback(self._late_answer)
        return answers

    def _late_answer(self, task: asyncio.Task[EndpointAnswer]) -> None:
        self._background.discard(task)
        if task.cancelled() or task.exception() is not None:
            return
        answer = task.result()
        if answer.answer not in (Answer.ACCEPTED, Answer.ALREADY_KNOWN):
            log.info("late endpoint answer", endpoint=answer.endpoint, answer=answer.answer.value, detail=answer.detail)
