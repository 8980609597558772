"""``mevbot config``: print the effective configuration (secrets redacted)."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from mevbot.chainconfig import load_chain_config
from mevbot.commands import fail_on_config_error
from mevbot.config import load_settings
from mevbot.config_keys import markdown_table, repo_root, scan


def register(app: typer.Typer) -> None:
    @app.command("config")
    def show_config(
        as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
        docs: bool = typer.Option(False, "--docs", help="print the table of every key the code reads"),
    ) -> None:
        """Print the effective configuration (from the environment), secrets redacted."""
        if docs:
            typer.echo(markdown_table(scan(repo_root())))
            return
        with fail_on_config_error():
            settings = load_settings()
            chain = load_chain_config(settings.chain_config_path)
        values = settings.redacted()
        values["chain"] = {
            "chain_id": chain.chain_id, "name": chain.name, "dexes": [d.name for d in chain.dexes],
            "tokens": len(chain.tokens), "base_tokens": len(chain.base_tokens),
            "source": str(settings.chain_config_path or "packaged arbitrum.json"),
        }
        if as_json:
            typer.echo(json.dumps(values, indent=2, default=str))
            return
        table = Table(title="mevbot effective configuration", show_lines=False)
        table.add_column("setting")
        table.add_column("value", overflow="fold")
        for key, value in values.items():
            table.add_row(key, json.dumps(value, default=str) if isinstance(value, (dict, list)) else str(value))
        Console().print(table)
