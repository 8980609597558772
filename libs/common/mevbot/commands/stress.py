"""``mevbot stress``: rising event rates through real NATS into the real services (see docs/benchmarks_e2e.md).

The measurement lives in ``benchmarks/stress_bench.py`` (the repository's; this command runs it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import typer

BENCH = Path(__file__).resolve().parents[4] / "benchmarks" / "stress_bench.py"


def register(app: typer.Typer) -> None:
    @app.command()
    def stress(
        part: str = typer.Option("both", "--part", help="replay | chain | both"),
        rates: str = typer.Option("5000,10000,20000,30000,40000", "--rates", help="replay: offered events/s"),
        chain_rates: str = typer.Option("250,500,1000", "--chain-rates", help="chain: target events/s"),
        step: float = typer.Option(8.0, "--step", help="replay: seconds per rate"),
        chain_step: float = typer.Option(20.0, "--chain-step", help="chain: seconds per rate"),
        exact_check: str = typer.Option("validator", "--exact-check",
                                        help="chain: VALIDATOR_EXACT_CHECK = validator | executor"),
        json_out: Path = typer.Option(None, "--json", help="write the figures as JSON"),
    ) -> None:
        """Sustained events/s (ingest publish -> detector) and per-stage latency (log -> signed -> ready)."""
        if not BENCH.is_file():
            raise typer.BadParameter(f"{BENCH} not found: run from a checkout of the repository")
        spec = importlib.util.spec_from_file_location("stress_bench", BENCH)
        assert spec is not None and spec.loader is not None
        bench = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(bench)
        argv = ["--part", part, "--rates", rates, "--chain-rates", chain_rates, "--step", str(step),
                "--chain-step", str(chain_step), "--exact-check", exact_check] + (["--json", str(json_out)] if json_out else [])
        raise SystemExit(bench.main(argv))
