"""A small synchronous JSON-RPC client with batching, for deploy scripts and tests.

web3.py costs ~1 ms of Python per call; deploying a market is ~150 transactions, so the deployer
talks JSON-RPC directly and sends whole phases as one HTTP batch. Errors are translated into
``mevbot.errors`` at this boundary.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, Self

import httpx

from mevbot.errors import RpcError


class RpcClient:
    def __init__(self, url: str, timeout_s: float = 60.0) -> None:
        self.url = url
        self._http = httpx.Client(timeout=timeout_s)
        self._ids = itertools.count(1)

    def close(self) -> None:
        self._http.close()

    def call(self, method: str, *params: Any) -> Any:
        reply = self._post(
            {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        )
        return _result(method, reply)

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Send many calls in one HTTP request; returns results in order; raises on the first error."""
        if not calls:
            return []
        first_id = next(self._ids)
        self._ids = itertools.count(first_id + len(calls))
        payload = [
            {"jsonrpc": "2.0", "id": first_id + i, "method": m, "params": list(p)}
            for i, (m, p) in enumerate(calls)
        ]
        replies = self._post(payload)
        by_id = {r.get("id"): r for r in replies}
        return [_result(calls[i][0], by_id.get(first_id + i, {})) for i in range(len(calls))]

    def _post(self, payload: Any) -> Any:
        try:
            resp = self._http.post(self.url, json=payload)
            resp.raise_for_status()
            return resp.json()
        except httpx.HTTPError as exc:
            raise RpcError(f"JSON-RPC transport to {self.url} failed: {exc}", provider=self.url) from exc

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RevertError(RpcError):
    """``eth_call``/``eth_estimateGas`` reverted; ``data`` holds the raw revert bytes."""

    def __init__(self, message: str, data: bytes, rpc_code: int | None = None) -> None:
        self.data = data
        super().__init__(message, rpc_code=rpc_code)


def _result(method: str, reply: Any) -> Any:
    if not isinstance(reply, dict):
        raise RpcError(f"{method}: malformed reply {reply!r}")
    if "error" in reply and reply["error"] is not None:
        err = reply["error"]
        data = err.get("data")
        code = err.get("code")
        if isinstance(data, str) and data.startswith("0x"):
            raise RevertError(f"{method}: {err.get('message')}", bytes.fromhex(data[2:]), rpc_code=code)
        if "revert" in str(err.get("message", "")).lower():
            raise RevertError(f"{method}: {err.get('message')}", b"", rpc_code=code)
        raise RpcError(f"{method}: {err.get('message')} ({code})", rpc_code=code)
    if "result" not in reply:
        raise RpcError(f"{method}: reply without result")
    return reply["result"]
