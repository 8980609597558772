"""CLI commands, one module each; every module exposes ``register(app: typer.Typer) -> None``.

``mevbot.cli`` imports every module here automatically. A new command is a new module::

    import typer

    def register(app: typer.Typer) -> None:
        @app.command()
        def hello(name: str = "world") -> None:
            \"\"\"Say hello.\"\"\"
            typer.echo(f"hello {name}")

Exit codes: 0 success, 1 failure, 2 configuration error (print the ``ConfigError``, which names
the key). Helpers shared by commands: :func:`fail_on_config_error`.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from mevbot.errors import ConfigError


@contextlib.contextmanager
def fail_on_config_error() -> Iterator[None]:
    """Turn a :class:`ConfigError` into one line on stderr and exit code 2."""
    try:
        yield
    except ConfigError as exc:
        print(f"mevbot: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
