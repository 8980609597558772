"""The ``mevbot`` console script.

Commands live in :mod:`mevbot.commands`, one module each, every module exposing
``register(app: typer.Typer) -> None``. They are discovered here with :mod:`pkgutil`, so adding a
command never means editing this file. A command module that fails to import is reported on
stderr and skipped: one broken command must not take the others down.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

from mevbot import commands

app = typer.Typer(
    name="mevbot",
    help="DEX arbitrage on Arbitrum One: ingest -> detector -> validator -> executor over NATS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_registered = False


def register_commands(target: typer.Typer = app) -> list[str]:
    """Import every module of :mod:`mevbot.commands` and let it register its commands."""
    global _registered
    names = []
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        try:
            module = importlib.import_module(f"{commands.__name__}.{info.name}")
        except Exception as exc:  # noqa: BLE001 - report and keep the other commands usable
            print(f"mevbot: command module {info.name!r} failed to import: {exc}", file=sys.stderr)
            continue
        register = getattr(module, "register", None)
        if register is None:
            continue
        register(target)
        names.append(info.name)
    _registered = True
    return names


def main() -> None:
    if not _registered:
        register_commands()
    app()


if __name__ == "__main__":
    main()
