"""Async JSON-RPC over one persistent aiohttp session: the transport of the hot paths (the
validator's simulation of every plan, the executor's checks and sends).

aiohttp rather than httpx (:mod:`mevbot.rpc.client`, the provider pool of ingest): on loopback a
request costs ~0.2 ms with aiohttp against ~1-2.5 ms with httpx's async client, and on these paths
every millisecond is a race lost. Errors are translated into ``mevbot.errors`` at this boundary:
transport failures into :class:`RpcError`, JSON-RPC errors as :class:`mevbot.chain.rpc.RpcClient`
does (the same ``_result``: reverts into ``RevertError``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import aiohttp
import msgspec

from mevbot.chain.rpc import _result
from mevbot.errors import RpcError

_JSON = {"Content-Type": "application/json"}


class AioRpc:
    def __init__(self, url: str, *, timeout_s: float = 10.0, provider: str = "rpc") -> None:
        self.url = url
        self.provider = provider
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._http: aiohttp.ClientSession | None = None
        self._ids = itertools.count(1)

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=self._timeout,
                                               connector=aiohttp.TCPConnector(limit=64, ttl_dns_cache=300))
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    def request(self, method: str, params: Sequence[Any]) -> dict[str, Any]:
        """One JSON-RPC request object with a fresh id."""
        return {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}

    async def post(self, payload: Any, *, url: str | None = None) -> Any:
        """POST ``payload`` (a request or a batch) to ``url`` (default: this client's) and return the
        decoded reply; transport failures raise :class:`RpcError`."""
        try:
            async with self._session().post(url or self.url, data=msgspec.json.encode(payload),
                                            headers=_JSON) as resp:
                resp.raise_for_status()
                return msgspec.json.decode(await resp.read())
        except (TimeoutError, aiohttp.ClientError, msgspec.DecodeError) as exc:
            raise RpcError(f"JSON-RPC transport failed: {type(exc).__name__}: {exc}", provider=self.provider) from None

    async def call(self, method: str, *params: Any) -> Any:
        return _result(method, await self.post(self.request(method, params)))

    async def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Many calls in one HTTP request; results in order; raises on the first error (as RpcClient)."""
        if not calls:
            return []
        requests = [self.request(method, params) for method, params in calls]
        replies = await self.post(requests)
        if not isinstance(replies, list):  # a node answers a malformed batch with one error object
            return [_result(calls[0][0], replies)]
        by_id = {r.get("id"): r for r in replies if isinstance(r, dict)}
        return [_result(c[0], by_id.get(r["id"], {})) for r, c in zip(requests, calls)]
