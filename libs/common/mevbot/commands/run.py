"""``mevbot run <service>``: run one service in the foreground (same as ``python -m services.<name>``)."""

from __future__ import annotations

import runpy
import sys

import typer

from mevbot.supervisor import SERVICES, service_available, service_module


def register(app: typer.Typer) -> None:
    @app.command()
    def run(service: str = typer.Argument(..., help=f"one of: {', '.join(SERVICES)}")) -> None:
        """Run one service in the foreground (health + metrics on its own port)."""
        if service not in SERVICES:
            print(f"mevbot run: unknown service {service!r} (one of {', '.join(SERVICES)})", file=sys.stderr)
            raise SystemExit(2)
        if not service_available(service):
            print(f"mevbot run: service {service!r} has no entry point yet "
                  f"(services/{service}/__main__.py is missing)", file=sys.stderr)
            raise SystemExit(2)
        sys.argv = [service_module(service)]
        runpy.run_module(service_module(service), run_name="__main__", alter_sys=True)
