"""``mevbot start``: the runbook's production start (systemd ``ExecStart=... mevbot start``).

Same supervisor as ``mevbot up`` (four services as child processes, restarted when they exit,
aggregate ``/health/*`` on ``METRICS_PORT``, 9090 by default), but it never starts NATS or Redis:
in production they are infrastructure, and a missing one shows as ``/health/ready`` 503 while
the services keep reconnecting. For one service per container/unit use ``mevbot run <service>``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from mevbot.commands.up import run_stack


def register(app: typer.Typer) -> None:
    @app.command()
    def start(
        scale: list[str] = typer.Option([], "--scale", help="replicas, e.g. --scale validator=3 (repeatable)"),
        log_dir: Path = typer.Option(None, "--log-dir", help="write each replica's log to DIR/<name>-<i>.log"),
    ) -> None:
        """Start the whole pipeline against the configured NATS/Redis (production)."""
        raise SystemExit(run_stack(scale_items=scale, only=[], own_servers=False, restart=True,
                                   log_dir=log_dir, health_port=None))
