"""``mevbot up``: the whole stack on one machine, for development.

Uses NATS and Redis when they answer at ``NATS_URL``/``REDIS_URL``; otherwise starts its own
(``nats-server -js`` from the venv, ``redis-server`` from PATH) under ``var/``. Then runs the four
services as child processes (``--scale detector=2`` for more replicas), prints every health
endpoint and stops everything cleanly on Ctrl-C (children drain first, then our servers stop).
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import typer

from mevbot.commands import fail_on_config_error
from mevbot.config import load_settings
from mevbot.errors import ConfigError, TransportError
from mevbot.runtime.localstack import ManagedProcess, ensure_nats, ensure_redis, free_port, port_open
from mevbot.supervisor import (
    SERVICES,
    SUPERVISOR_DEFAULT_PORT,
    Supervisor,
    child_env,
    parse_scale,
    service_available,
)


def run_stack(*, scale_items: list[str], only: list[str], own_servers: bool, restart: bool,
              log_dir: Path | None, health_port: int | None, var_dir: Path = Path("var")) -> int:
    with fail_on_config_error():
        settings = load_settings()
        scale = parse_scale(scale_items)
        if only:
            unknown = [s for s in only if s not in SERVICES]
            if unknown:
                raise ConfigError("--only", f"unknown service(s) {unknown} (one of {', '.join(SERVICES)})")
            scale = {name: n for name, n in scale.items() if name in only}
    missing = [name for name in scale if not service_available(name)]
    if missing:
        print(f"mevbot: service(s) {', '.join(missing)} have no entry point yet (services/<name>/__main__.py); "
              f"run the others with --only", file=sys.stderr)
        return 2

    servers: list[ManagedProcess] = []
    nats_url, redis_url = settings.nats_url, settings.redis_url
    if own_servers:
        var_dir.mkdir(parents=True, exist_ok=True)
        try:
            nats_url, nats_server = ensure_nats(settings.nats_url, log_path=var_dir / "nats.log")
            redis_url, redis_server = ensure_redis(settings.redis_url, log_path=var_dir / "redis.log")
        except TransportError as exc:
            print(f"mevbot: {exc}", file=sys.stderr)
            return 1
        for server, url in ((nats_server, nats_url), (redis_server, redis_url)):
            if server is not None:
                servers.append(server)
                print(f"started {server.name} at {url}")
            else:
                print(f"using running server at {url}")

    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
    env = child_env(NATS_URL=nats_url, REDIS_URL=redis_url)
    supervisor = Supervisor.build(scale, env, log_dir=log_dir, restart=restart)
    port = health_port if health_port is not None else (settings.metrics_port or SUPERVISOR_DEFAULT_PORT)
    if port and port_open("127.0.0.1", port):
        port = free_port()
    bound = supervisor.serve_health(settings.http_host, port)

    def on_signal(signum: int, _frame: object) -> None:
        supervisor.request_stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        supervisor.start_all()
        print(f"\n{'replica':<14} health")
        for child in supervisor.children:
            print(f"{child.label:<14} {child.base_url}/health/ready   (metrics: {child.base_url}/metrics)")
        print(f"{'all':<14} http://127.0.0.1:{bound}/health/ready\n\nCtrl-C stops everything.", flush=True)
        supervisor.watch()
    finally:
        print("stopping services (drain)...", file=sys.stderr)
        supervisor.stop_all()
        for server in reversed(servers):
            server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def register(app: typer.Typer) -> None:
    @app.command()
    def up(
        scale: list[str] = typer.Option([], "--scale", help="replicas, e.g. --scale detector=2 (repeatable)"),
        only: list[str] = typer.Option([], "--only", help="run only these services (repeatable)"),
        log_dir: Path = typer.Option(None, "--log-dir", help="write each replica's log to DIR/<name>-<i>.log"),
        health_port: int = typer.Option(None, "--health-port", help="aggregate health port (default METRICS_PORT or 9090)"),
        restart: bool = typer.Option(True, "--restart/--no-restart", help="restart a replica that exits"),
    ) -> None:
        """Run the whole pipeline locally (starts NATS/Redis if they are not running)."""
        raise SystemExit(run_stack(scale_items=scale, only=only, own_servers=True, restart=restart,
                                   log_dir=log_dir, health_port=health_port))
