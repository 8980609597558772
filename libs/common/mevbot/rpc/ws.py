"""One JSON-RPC websocket connection: requests, ``eth_subscribe`` and its notifications.

Keep-alive: websocket pings every ``ping_interval_s``; a pong missing for ``ping_timeout_s``
closes the connection. Silence is the caller's to judge (:meth:`WsConnection.next` raises
:class:`ProviderStalledError` when no notification came within its timeout), because a stalled
provider may still answer pings. Errors are translated here: an HTTP 429 at the handshake is a
:class:`RateLimitedError`, a closed or refused connection a :class:`ProviderUnavailable`.

Notifications are stamped with ``time.time_ns()`` as they are read (the latency reference).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import ssl
import time
from typing import Any, Self

import msgspec
import websockets
import websockets.exceptions
from websockets.asyncio.client import ClientConnection, connect

from mevbot import metrics
from mevbot.errors import ProviderStalledError, RateLimitedError, RpcError
from mevbot.provider_config import Provider
from mevbot.rpc.client import ProviderUnavailable

_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode
_CLOSED = object()


class Notification(msgspec.Struct, array_like=True):
    subscription: str
    result: Any
    received_ns: int


def tls_context_for(endpoint: str) -> ssl.SSLContext | None:
    """The process's one client TLS context for a ``wss://`` endpoint (None for ``ws://``).

    Left to itself, websockets builds a new default context at every connect: ~22 ms of CPU on the
    event loop (it loads the CA store), at every reconnect and at every retry of the preferred
    provider while on a backup.
    """
    return _default_tls_context() if endpoint.lower().startswith("wss://") else None


@functools.cache
def _default_tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


class WsConnection:
    def __init__(self, provider: Provider, *, ping_interval_s: float = 5.0, ping_timeout_s: float = 5.0,
                 open_timeout_s: float = 5.0, request_timeout_s: float | None = None) -> None:
        self.provider = provider
        self.name = provider.name
        self.ping_interval_s = ping_interval_s
        self.ping_timeout_s = ping_timeout_s
        self.open_timeout_s = open_timeout_s
        self.request_timeout_s = request_timeout_s or provider.timeout_s
        self._ws: ClientConnection | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None
        self._closed: BaseException | None = None

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        try:
            tls = tls_context_for(self.provider.endpoint)
            self._ws = await connect(self.provider.endpoint, ping_interval=self.ping_interval_s,
                                     ping_timeout=self.ping_timeout_s, open_timeout=self.open_timeout_s,
                                     close_timeout=min(1.0, self.ping_timeout_s), max_size=None, max_queue=None,
                                     compression=None, **({"ssl": tls} if tls is not None else {}))
        except websockets.exceptions.InvalidStatus as exc:
            status = exc.response.status_code
            if status == 429:
                raise RateLimitedError(f"{self.name}: websocket handshake HTTP 429", rpc_code=429,
                                       provider=self.name) from exc
            raise ProviderUnavailable(f"{self.name}: websocket handshake HTTP {status}", provider=self.name) from exc
        except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as exc:
            raise ProviderUnavailable(f"{self.name}: websocket connect failed: {type(exc).__name__}: {exc}",
                                      provider=self.name) from exc
        self._reader = asyncio.create_task(self._read(), name=f"ws-reader-{self.name}")

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None
        if self._ws is not None:
            try:
                await asyncio.wait_for(self._ws.close(), timeout=1.0)
            except (TimeoutError, OSError, websockets.exceptions.WebSocketException):
                pass
            self._ws = None
        self._fail(ProviderUnavailable(f"{self.name}: connection closed", provider=self.name))

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    async def _read(self) -> None:
        ws = self._ws
        assert ws is not None
        try:
            async for raw in ws:
                now = time.time_ns()
                try:
                    msg = _decode(raw)
                except msgspec.DecodeError:
                    continue  # garbage frame: ignore (a sane provider never sends it)
                if isinstance(msg, list):  # batch answer
                    for item in msg:
                        self._dispatch(item, now)
                else:
                    self._dispatch(msg, now)
            self._fail(ProviderUnavailable(f"{self.name}: websocket closed by peer", provider=self.name))
        except websockets.exceptions.ConnectionClosed as exc:
            self._fail(ProviderUnavailable(f"{self.name}: websocket closed ({exc})", provider=self.name))
        except (OSError, websockets.exceptions.WebSocketException) as exc:
            self._fail(ProviderUnavailable(f"{self.name}: websocket error {type(exc).__name__}: {exc}",
                                           provider=self.name))

    def _dispatch(self, msg: Any, now: int) -> None:
        if not isinstance(msg, dict):
            return
        if msg.get("method") == "eth_subscription":
            params = msg.get("params") or {}
            self._queue.put_nowait(Notification(params.get("subscription"), params.get("result"), now))
            return
        future = self._waiting.pop(msg.get("id"), None)
        if future is not None and not future.done():
            future.set_result(msg)

    def _fail(self, exc: BaseException) -> None:
        if self._closed is None:
            self._closed = exc
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(exc)
        self._waiting.clear()
        self._queue.put_nowait(_CLOSED)

    async def request(self, method: str, params: list[Any] | None = None, *, timeout_s: float | None = None) -> Any:
        if self._closed is not None or self._ws is None:
            raise self._closed or ProviderUnavailable(f"{self.name}: not connected", provider=self.name)
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        payload = _encode({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or []})
        try:
            async with asyncio.timeout(timeout_s or self.request_timeout_s):
                await self._ws.send(payload)
                reply = await future
        except TimeoutError:
            metrics.RPC_CALLS.labels(self.name, method, "timeout").inc()
            raise ProviderStalledError(f"{self.name}: {method} unanswered", provider=self.name) from None
        except (websockets.exceptions.ConnectionClosed, OSError) as exc:
            metrics.RPC_CALLS.labels(self.name, method, "transport").inc()
            raise ProviderUnavailable(f"{self.name}: {method}: connection lost", provider=self.name) from exc
        except ProviderUnavailable:
            metrics.RPC_CALLS.labels(self.name, method, "transport").inc()
            raise
        finally:
            self._waiting.pop(request_id, None)
        err = reply.get("error")
        if err:
            code = err.get("code") if isinstance(err, dict) else None
            text = str(err.get("message") if isinstance(err, dict) else err)
            if code in (-32005, 429) or "rate limit" in text.lower():
                metrics.RPC_CALLS.labels(self.name, method, "rate_limited").inc()
                raise RateLimitedError(f"{self.name}: {method}: {text}", rpc_code=code, provider=self.name)
            metrics.RPC_CALLS.labels(self.name, method, "error").inc()
            raise RpcError(f"{self.name}: {method}: {text} ({code})", rpc_code=code, provider=self.name)
        metrics.RPC_CALLS.labels(self.name, method, "ok").inc()
        return reply.get("result")

    async def subscribe(self, *params: Any) -> str:
        """``eth_subscribe`` with ``params`` (e.g. ``"newHeads"`` or ``"logs", {...}``): the id."""
        sub_id = await self.request("eth_subscribe", list(params))
        if not isinstance(sub_id, str):
            raise RpcError(f"{self.name}: eth_subscribe answered {sub_id!r}", provider=self.name)
        return sub_id

    async def next(self, timeout_s: float) -> Notification:
        """The next notification; :class:`ProviderStalledError` after ``timeout_s`` of silence."""
        try:
            item = self._queue.get_nowait()
        except asyncio.QueueEmpty:
            try:
                item = await asyncio.wait_for(self._queue.get(), timeout=timeout_s)
            except TimeoutError:
                raise ProviderStalledError(f"{self.name}: no notification for {timeout_s} s", provider=self.name) from None
        if item is _CLOSED:
            self._queue.put_nowait(_CLOSED)
            raise self._closed or ProviderUnavailable(f"{self.name}: closed", provider=self.name)
        return item

    def drain_nowait(self) -> list[Notification]:
        """Every notification already received (without waiting)."""
        out = []
        while True:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                return out
            if item is _CLOSED:
                self._queue.put_nowait(_CLOSED)
                return out
            out.append(item)
