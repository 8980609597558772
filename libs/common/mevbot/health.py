"""Health probes and the HTTP app every service serves (FastAPI).

* ``GET /health/live``: 200 while the process runs its event loop.
* ``GET /health/ready``: 200 when every registered readiness check passes (NATS connected,
  Redis answering, RPC reachable, ...), else 503 with the failing checks. 503 while stopping, so
  a load balancer stops sending before the drain.
* ``GET /health/startup``: 200 once the service called ``mark_started()`` (initial sync done).
* ``GET /metrics``: Prometheus exposition (404 when ``METRICS_ENABLED=false``).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

from mevbot import metrics

Check = Callable[[], "bool | Awaitable[bool]"]
CHECK_TIMEOUT_S = 2.0


class Health:
    def __init__(self, service: str) -> None:
        self.service = service
        self.checks: dict[str, Check] = {}
        self.started = False
        self.stopping = False
        self.started_at = time.time()

    def add_check(self, name: str, check: Check) -> None:
        """Register a readiness check: a sync or async callable returning True when healthy."""
        self.checks[name] = check

    def mark_started(self) -> None:
        self.started = True

    async def readiness(self) -> tuple[bool, dict[str, str]]:
        names = list(self.checks)
        results = await asyncio.gather(*(self._run(self.checks[n]) for n in names))
        detail = dict(zip(names, results, strict=True))
        if self.stopping:
            detail["stopping"] = "fail"
        ready = all(v == "ok" for v in detail.values())
        metrics.SERVICE_READY.labels(self.service).set(1 if ready else 0)
        return ready, detail

    @staticmethod
    async def _run(check: Check) -> str:
        try:
            result = check()
            if inspect.isawaitable(result):
                result = await asyncio.wait_for(result, timeout=CHECK_TIMEOUT_S)
            return "ok" if result else "fail"
        except TimeoutError:
            return "timeout"
        except Exception as exc:  # noqa: BLE001 - a failing check is a "not ready", not a crash
            return f"error: {type(exc).__name__}"


def build_app(health: Health, *, metrics_enabled: bool = True) -> FastAPI:
    app = FastAPI(title=f"mevbot {health.service}", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/health/live")
    async def live() -> dict[str, object]:
        return {"status": "healthy", "service": health.service, "uptime_s": round(time.time() - health.started_at, 3)}

    @app.get("/health/ready")
    async def ready() -> JSONResponse:
        ok, detail = await health.readiness()
        return JSONResponse({"status": "ready" if ok else "not_ready", "checks": detail}, status_code=200 if ok else 503)

    @app.get("/health/startup")
    async def startup() -> JSONResponse:
        ok = health.started and not health.stopping
        return JSONResponse({"status": "started" if ok else "starting"}, status_code=200 if ok else 503)

    @app.get("/metrics")
    async def metrics_endpoint() -> Response:
        if not metrics_enabled:
            return Response("metrics disabled (METRICS_ENABLED=false)\n", status_code=404)
        body, content_type = metrics.render_latest()
        return Response(body, media_type=content_type)

    return app


class RpcProbe:
    """A readiness check that an HTTP JSON-RPC endpoint answers ``eth_chainId``.

    A probe must answer fast and must not flap: one slow or lost answer from a busy node is not an
    outage. So the first call waits for an answer (not ready until the endpoint answered once);
    after that, a call answers at once from the last verdict and, when that is older than
    ``cache_s`` (or "not ready"), starts one refresh in the background (never two at once). The verdict turns to
    "not ready" after ``failure_threshold`` consecutive failed answers (a timeout, an error, no
    ``result``), and back to "ready" at the first good one: a dead endpoint is reported within
    about ``failure_threshold x (cache_s + timeout_s)`` of probing.

    One HTTP client serves every refresh (keep-alive), built in a worker thread at the first:
    building an ``httpx.AsyncClient`` costs ~36 ms of CPU (its TLS context loads the CA store),
    which a client per refresh spent on the service's event loop every ``cache_s`` while probed.
    """

    def __init__(self, url: str, *, timeout_s: float = CHECK_TIMEOUT_S, cache_s: float = 2.0,
                 failure_threshold: int = 2) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be >= 1")
        self.url = url
        self.timeout_s = timeout_s
        self.cache_s = cache_s
        self.failure_threshold = failure_threshold
        self.ok = False
        self.failures = 0  # consecutive failed answers
        self.checked_at: float | None = None  # monotonic time of the last answer (or failure)
        self._refresh_task: asyncio.Task | None = None
        self._client: httpx.AsyncClient | None = None
        self.clients_made = 0

    async def __call__(self) -> bool:
        task = self._refresh_task
        if self.checked_at is None:  # never answered yet: wait for the first verdict
            if task is None or task.done():
                task = self._refresh_task = asyncio.ensure_future(self._refresh())
            await asyncio.shield(task)
        elif (task is None or task.done()) and (not self.ok or time.monotonic() - self.checked_at >= self.cache_s):
            self._refresh_task = asyncio.ensure_future(self._refresh())
        return self.ok

    async def _refresh(self) -> None:
        answered = await self._ask()
        self.checked_at = time.monotonic()
        if answered:
            self.failures = 0
            self.ok = True
        else:
            self.failures += 1
            if self.failures >= self.failure_threshold:
                self.ok = False

    async def _ask(self) -> bool:
        if self._client is None:  # built off the event loop: even once, ~36 ms is a stall
            self._client = await asyncio.to_thread(httpx.AsyncClient, timeout=self.timeout_s)
            self.clients_made += 1
        try:
            reply = await self._client.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId",
                                                            "params": []})
            return reply.status_code == 200 and "result" in reply.json()
        except (httpx.HTTPError, ValueError):
            return False

    async def aclose(self) -> None:
        """Stop a refresh under way and close the client."""
        task = self._refresh_task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None
