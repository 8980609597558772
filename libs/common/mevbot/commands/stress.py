"""``mevbot stress``: rising event rates through real NATS into the real services (see docs/benchmarks_e2e.md)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def stress(
        part: str = typer.Option("both", "--part", help="replay | chain | both"),
        rates: str = typer.Option("5000,10000,20000,30000,40000", "--rates", help="replay: offered events/s"),
        chain_rates: str = typer.Option("250,500,1000", "--chain-rates", help="chain: target events/s"),
        step: float = typer.Option(8.0, "--step", help="replay: seconds per rate"),
        chain_step: float = typer.Option(20.0, "--chain-step", help="chain: seconds per rate"),
        json_out: Path = typer.Option(None, "--json", help="write the figures as JSON"),
    ) -> None:
        """Sustained events/s (ingest publish -> detector) and per-stage latency (log -> signed)."""
        from mevbot.devnet.stress import main

        argv = ["--part", part, "--rates", rates, "--chain-rates", chain_rates, "--step", str(step),
                "--chain-step", str(chain_step)] + (["--json", str(json_out)] if json_out else [])
        raise SystemExit(main(argv))
