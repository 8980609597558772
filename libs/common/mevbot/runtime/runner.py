"""Start, run and stop one service: config -> logging -> HTTP -> NATS (+Redis) -> service -> signals.

Order matters: the HTTP server comes up first so ``/health/live`` answers while NATS is still
being dialled (``/health/ready`` stays 503 until every dependency is up). Shutdown is the
reverse: readiness goes 503, intake stops, handlers in progress finish and ack, the service's
``stop`` runs, pending publishes are flushed, the NATS connection drains, then HTTP stops.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import Any

from mevbot import metrics, native
from mevbot.bus import Bus
from mevbot.cache import Cache
from mevbot.chainconfig import load_chain_config
from mevbot.config import Settings, load_settings
from mevbot.errors import BusError, ConfigError, MevbotError
from mevbot.health import Health, RpcProbe, build_app
from mevbot.logging import get_logger, setup_logging
from mevbot.runtime.cpu import BusyPoller, pin_to
from mevbot.runtime.http import HttpServer
from mevbot.runtime.service import Service, ServiceContext

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2


def default_replica_id() -> str:
    """Stable per container (hostname); unique per process on one machine (pid)."""
    return f"{socket.gethostname()}-{os.getpid()}"


async def serve(
    service: Service,
    *,
    settings: Settings | None = None,
    bus: Bus | None = None,
    stop: asyncio.Event | None = None,
    install_signals: bool = True,
) -> int:
    """Run ``service`` until ``stop`` is set or SIGTERM/SIGINT arrives. Returns the exit code."""
    settings = settings or load_settings()
    if service.uses_rpc and not settings.providers.http:
        raise ConfigError("ARBITRUM_RPC_ENDPOINT", f"is required by {service.name} (or an http provider in PROVIDER_CONFIG_PATH)")
    chain = load_chain_config(settings.chain_config_path)
    replica_id = settings.replica_id or default_replica_id()
    log = get_logger(f"services.{service.name}", replica=replica_id)
    if settings.cpu_affinity is not None:
        cpus = pin_to(settings.cpu_affinity)
        log.info("pinned to CPUs", cpus=",".join(map(str, sorted(cpus))))
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    if install_signals:
        _install_signal_handlers(loop, stop, log)

    health = Health(service.name)
    app = build_app(health, metrics_enabled=settings.metrics_enabled)
    http = HttpServer(app, settings.http_host, settings.port_for(service.default_port))
    port = await http.start()
    log.info("http listening", host=settings.http_host, port=port,
             health=f"http://127.0.0.1:{port}/health/ready", chain_id=chain.chain_id)
    compiled = native.status()
    log.info("compiled hot modules", loaded=len(compiled["loaded"]), skipped=compiled["skipped"] or None,
             reason=compiled["reason"] or None)
    metrics.SERVICE_INFO.labels(service.name, replica_id, str(chain.chain_id)).set(1)

    if bus is None:
        from mevbot.nats_bus import NatsBus

        bus = NatsBus(settings.nats_url, service=service.name, replica_id=replica_id,
                      namespace=settings.namespace, chain_id=chain.chain_id)
    health.add_check("nats", lambda: bus.connected)
    cache: Cache | None = None
    if service.uses_redis:
        cache = Cache(settings.redis_url, namespace=settings.namespace)
        health.add_check("redis", cache.ping)
    if service.uses_rpc:
        health.add_check("rpc", RpcProbe(settings.providers.http[0].endpoint))

    ctx = ServiceContext(service=service.name, replica_id=replica_id, settings=settings, chain=chain, bus=bus,
                         health=health, cache=cache, http_port=port, app=app, log=log, stopping=stop)
    ctx._fatal = loop.create_future()
    code = EXIT_OK
    started = False
    poller = BusyPoller()
    # not ready before start() returned: the service registers its own checks there (the detector's
    # "caught up with the chain stream" only after its follower subscribed), and until then the
    # checks so far (NATS) would answer 200 for a service still replaying its state
    health.add_check("started", lambda: started)
    try:
        if not await _until_stopped(_connect(bus, log), stop):
            return EXIT_OK
        await service.start(ctx)
        started = True
        if settings.busy_poll:
            poller.start(loop)
            metrics.BUSY_POLL.labels(service.name).set(1)
            if settings.cpu_affinity is None:
                log.warning("busy polling without CPU_AFFINITY: this process keeps a whole CPU busy wherever the "
                            "kernel puts it, taking time from the other processes; give it a core of its own")
            else:
                log.info("busy polling: the event loop never blocks (100 % of a core by design)")
        stop_wait = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({stop_wait, ctx._fatal}, return_when=asyncio.FIRST_COMPLETED)
        stop_wait.cancel()
        if ctx._fatal in done:
            log.error("stopping after a fatal task failure", error=str(ctx._fatal.result()))
            code = EXIT_FAILED
    except MevbotError as exc:
        log.error("service failed", error=str(exc), error_code=exc.code)
        code = EXIT_FAILED
    finally:
        poller.stop()
        metrics.BUSY_POLL.labels(service.name).set(0)
        await _shutdown(service, ctx, http, cache, started, log)
    return code


async def _connect(bus: Bus, log: Any) -> None:
    await bus.connect()
    delay_s = 0.2
    while True:
        try:
            await bus.ensure_streams()
            return
        except BusError as exc:
            log.warning("ensuring streams failed, retrying", error=str(exc), retry_in_s=delay_s)
            await asyncio.sleep(delay_s)
            delay_s = min(delay_s * 2, 5.0)


async def _until_stopped(coro: Any, stop: asyncio.Event) -> bool:
    """Run ``coro`` unless ``stop`` fires first; True when it completed."""
    task = asyncio.ensure_future(coro)
    stop_wait = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({task, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
    stop_wait.cancel()
    if task in done:
        task.result()
        return True
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return False


async def _shutdown(service: Service, ctx: ServiceContext, http: HttpServer, cache: Cache | None, started: bool, log: Any) -> None:
    ctx.health.stopping = True
    ctx.stopping.set()
    log.info("stopping: intake off, draining")
    try:
        await ctx.bus.stop_intake()
        if started:
            await service.stop(ctx)
        await ctx.cancel_tasks()
    except Exception as exc:
        log.error("error during service stop", error=str(exc), exc_info=exc)
    finally:
        await ctx.bus.close()
        if cache is not None:
            await cache.close()
        await http.stop()
        for check in ctx.health.checks.values():
            if isinstance(check, RpcProbe):
                await check.aclose()
        log.info("stopped")


def _install_signal_handlers(loop: asyncio.AbstractEventLoop, stop: asyncio.Event, log: Any) -> None:
    def handle(sig: signal.Signals) -> None:
        if stop.is_set():
            log.warning("second signal: exiting now", signal=sig.name)
            os._exit(128 + sig.value)
        log.info("signal received", signal=sig.name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, handle, sig)


def run_loop(coro: Any) -> Any:
    """``asyncio.run`` on uvloop when it is installed (2-3x less event-loop overhead per message)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def main(factory: Callable[[], Service]) -> None:
    """Process entry point for ``python -m services.<name>``: exits with the service's code.

    A configuration error (bad env value, bad YAML, port in use) exits with code 2 and one line
    on stderr naming the key.
    """
    try:
        settings = load_settings()
        service = factory()
    except ConfigError as exc:
        print(f"mevbot: {exc}", file=sys.stderr)
        sys.exit(EXIT_CONFIG)
    setup_logging(settings.log_level, settings.log_format, settings.log_output, service=service.name)
    try:
        code = run_loop(serve(service, settings=settings))
    except ConfigError as exc:
        print(f"mevbot {service.name}: {exc}", file=sys.stderr)
        code = EXIT_CONFIG
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
