"""Async JSON-RPC over HTTP with a provider pool: weights, timeouts, rate limits, retries, failover.

Providers come from the providers YAML (:class:`mevbot.provider_config.ProviderConfig`). A call
goes to the highest-weight provider that is not cooling down; providers of equal weight take
turns. A provider that times out, answers HTTP 429/5xx, a rate-limit JSON-RPC error or garbage is
put in cooldown (429: ``Retry-After`` when given) and the call fails over to the next one, with
exponential backoff (``retry`` section) once every provider was tried. A JSON-RPC error that is
the answer itself (a revert, a bad parameter) is returned to the caller, never retried elsewhere.

Each call counts ``mev_rpc_calls_total{provider,method,outcome}`` with outcome ``ok``, ``error``
(a JSON-RPC error answer), ``rate_limited``, ``timeout`` or ``transport``. Errors are
:mod:`mevbot.errors` classes: :class:`RpcError` (answer or exhausted retries),
:class:`RateLimitedError`, :class:`ProviderStalledError`.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import Sequence
from typing import Any

import httpx
import msgspec

from mevbot import metrics
from mevbot.errors import ProviderStalledError, RateLimitedError, RpcError
from mevbot.provider_config import Provider, ProviderConfig, RetryConfig
from mevbot.rpc.ratelimit import TokenBucket

_RATE_LIMIT_CODES = {-32005, -32029, 429}
_SIZE_CAP = re.compile(r"more than \d+ results|range|response size|too many (results|logs)")
_json_decode = msgspec.json.Decoder().decode
_json_encode = msgspec.json.Encoder().encode


class ProviderUnavailable(RpcError):
    """A provider-side failure (transport, HTTP status, garbage): fail over."""

    code = "rpc_transport"


class _Endpoint:
    def __init__(self, provider: Provider, pooling_max: int) -> None:
        self.provider = provider
        self.name = provider.name
        self.bucket = TokenBucket(provider.rate_limit_per_s)
        self.client = httpx.AsyncClient(
            timeout=provider.timeout_s,
            limits=httpx.Limits(max_connections=pooling_max, max_keepalive_connections=pooling_max),
            headers={"content-type": "application/json"},
        )
        self.cooldown_until = 0.0
        self.failures = 0

    def available(self, now: float) -> bool:
        return now >= self.cooldown_until


class HttpRpc:
    """The provider pool. ``call`` one method, ``batch`` many in one HTTP request."""

    def __init__(
        self,
        providers: Sequence[Provider],
        *,
        retry: RetryConfig | None = None,
        cooldown_s: float = 5.0,
        max_connections: int = 50,
        timeout_s: float | None = None,
    ) -> None:
        http = [p for p in providers if not p.is_websocket]
        if not http:
            raise RpcError("no HTTP(S) JSON-RPC provider configured")
        self.retry = retry or RetryConfig()
        self.cooldown_s = cooldown_s
        self.timeout_s = timeout_s
        self.endpoints = [_Endpoint(p, max_connections) for p in sorted(http, key=lambda p: -p.weight)]
        self._ids = itertools.count(1)
        self._turn = itertools.count()

    @classmethod
    def from_config(cls, config: ProviderConfig, **kwargs: Any) -> HttpRpc:
        return cls(config.providers, retry=config.retry, max_connections=config.pooling.max_open_connections, **kwargs)

    async def close(self) -> None:
        for endpoint in self.endpoints:
            await endpoint.client.aclose()

    # --- choosing -----------------------------------------------------------------------------

    def _order(self) -> list[_Endpoint]:
        """Available providers by weight (ties rotate), then the cooling ones by readiness."""
        now = time.monotonic()
        ready = [e for e in self.endpoints if e.available(now)]
        cooling = sorted((e for e in self.endpoints if not e.available(now)), key=lambda e: e.cooldown_until)
        if ready:
            top = ready[0].provider.weight
            ties = [e for e in ready if e.provider.weight == top]
            if len(ties) > 1:
                k = next(self._turn) % len(ties)
                ties = ties[k:] + ties[:k]
                ready = ties + [e for e in ready if e.provider.weight != top]
        return ready + cooling

    def _cool(self, endpoint: _Endpoint, seconds: float | None = None) -> None:
        endpoint.failures += 1
        endpoint.cooldown_until = time.monotonic() + (seconds if seconds is not None else self.cooldown_s)

    # --- calls --------------------------------------------------------------------------------

    async def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One call; raises :class:`RpcError` for an error answer or when every retry failed."""
        payload = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        reply = await self._send(payload, [method])
        return _result(method, reply)

    async def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Many calls in one request. Each item is the result or an :class:`RpcError` instance."""
        if not calls:
            return []
        first = next(self._ids)
        self._ids = itertools.count(first + len(calls))
        payload = [{"jsonrpc": "2.0", "id": first + i, "method": m, "params": list(p)} for i, (m, p) in enumerate(calls)]
        replies = await self._send(payload, [m for m, _ in calls])
        if not isinstance(replies, list):
            # some servers answer a whole-batch error as one object
            err = _error_of("batch", replies) or RpcError(f"batch: malformed reply {str(replies)[:200]}")
            return [err] * len(calls)
        by_id = {r.get("id"): r for r in replies if isinstance(r, dict)}
        out: list[Any] = []
        for i, (method, _) in enumerate(calls):
            reply = by_id.get(first + i)
            if reply is None:
                out.append(RpcError(f"{method}: no reply in batch"))
                continue
            err = _error_of(method, reply)
            out.append(err if err is not None else reply.get("result"))
        return out

    async def _send(self, payload: Any, methods: list[str]) -> Any:
        body = _json_encode(payload)
        retry = self.retry
        attempts = retry.max_retries + 1
        delay_s = retry.retry_delay_s
        last: BaseException | None = None
        tried: set[str] = set()
        for attempt in range(attempts):
            order = self._order()
            endpoint = next((e for e in order if e.name not in tried), None)
            if endpoint is None:  # every provider failed once: back off, then start over
                await asyncio.sleep(min(delay_s, retry.max_backoff_s))
                delay_s *= retry.backoff_multiplier
                tried.clear()
                endpoint = order[0]
            tried.add(endpoint.name)
            try:
                reply = await self._post(endpoint, body, len(methods))
            except (ProviderUnavailable, RateLimitedError, ProviderStalledError) as exc:
                outcome = ("rate_limited" if isinstance(exc, RateLimitedError)
                           else "timeout" if isinstance(exc, ProviderStalledError) else "transport")
                for method in methods:
                    metrics.RPC_CALLS.labels(endpoint.name, method, outcome).inc()
                last = exc
                continue
            limited = _rate_limit_error(reply)
            if limited is not None:
                for method in methods:
                    metrics.RPC_CALLS.labels(endpoint.name, method, "rate_limited").inc()
                self._cool(endpoint)
                last = RateLimitedError(f"{endpoint.name}: {limited}", provider=endpoint.name)
                continue
            endpoint.failures = 0
            replies = reply if isinstance(reply, list) else [reply]
            for method, r in zip(methods, replies):
                outcome = "error" if isinstance(r, dict) and r.get("error") else "ok"
                metrics.RPC_CALLS.labels(endpoint.name, method, outcome).inc()
            return reply
        what = methods[0] if len(methods) == 1 else f"{methods[0]}+{len(methods) - 1}"
        raise RpcError(f"{what}: every provider failed after {attempts} attempts; last: {last}",
                       provider=getattr(last, "provider", None))

    async def _post(self, endpoint: _Endpoint, body: bytes, n_calls: int) -> Any:
        await endpoint.bucket.acquire(n_calls)
        try:
            resp = await endpoint.client.post(endpoint.provider.endpoint, content=body,
                                              timeout=self.timeout_s or endpoint.provider.timeout_s)
        except httpx.TimeoutException as exc:
            self._cool(endpoint)
            raise ProviderStalledError(f"{endpoint.name}: timed out ({type(exc).__name__})", provider=endpoint.name) from exc
        except httpx.HTTPError as exc:
            self._cool(endpoint)
            raise ProviderUnavailable(f"{endpoint.name}: {type(exc).__name__}: {exc}", provider=endpoint.name) from exc
        if resp.status_code == 429:
            self._cool(endpoint, _retry_after_s(resp.headers.get("retry-after")))
            raise RateLimitedError(f"{endpoint.name}: HTTP 429", rpc_code=429, provider=endpoint.name)
        if resp.status_code >= 500 or resp.status_code in (401, 403, 404, 408):
            self._cool(endpoint)
            raise ProviderUnavailable(f"{endpoint.name}: HTTP {resp.status_code}", provider=endpoint.name)
        try:
            return _json_decode(resp.content)
        except msgspec.DecodeError as exc:
            self._cool(endpoint)
            raise ProviderUnavailable(f"{endpoint.name}: unreadable reply (HTTP {resp.status_code})",
                                      provider=endpoint.name) from exc


def _retry_after_s(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _rate_limit_error(reply: Any) -> str | None:
    """A JSON-RPC error that means 'slow down' (some providers answer 200 with it)."""
    items = reply if isinstance(reply, list) else [reply]
    for item in items:
        err = item.get("error") if isinstance(item, dict) else None
        if isinstance(err, dict):
            text = str(err.get("message", "")).lower()
            if _SIZE_CAP.search(text):
                continue  # -32005 also means "query too big": an answer for the caller (it splits), not a 429
            if err.get("code") in _RATE_LIMIT_CODES or "rate limit" in text or "too many requests" in text:
                return f"{err.get('message')} ({err.get('code')})"
    return None


def _error_of(method: str, reply: Any) -> RpcError | None:
    if not isinstance(reply, dict):
        return RpcError(f"{method}: malformed reply {str(reply)[:200]}")
    err = reply.get("error")
    if err is None:
        if "result" not in reply:
            return RpcError(f"{method}: reply without result")
        return None
    if not isinstance(err, dict):
        return RpcError(f"{method}: {err}")
    message = f"{method}: {err.get('message')} ({err.get('code')})"
    data = err.get("data")
    exc = RpcError(message, rpc_code=err.get("code"))
    exc.data = data  # type: ignore[attr-defined]
    return exc


def _result(method: str, reply: Any) -> Any:
    err = _error_of(method, reply)
    if err is not None:
        raise err
    return reply["result"]
