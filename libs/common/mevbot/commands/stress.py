"""``mevbot stress``: rising event rates through real NATS into the real services (see docs/benchmarks_e2e.md).

The measurement lives in ``benchmarks/stress_bench.py`` (the repository's; this command runs it)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import typer

BENCH = Path(__file__).resolve().parents[4] / "benchmarks" / "stress_bench.py"


def load_bench() -> ModuleType:
    """The repository's ``benchmarks/stress_bench.py`` as a module (it is not part of the package)."""
    if not BENCH.is_file():
        raise typer.BadParameter(f"{BENCH} not found: run from a checkout of the repository")
    spec = importlib.util.spec_from_file_location("stress_bench", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # dataclasses look their module up while it executes
    spec.loader.exec_module(bench)
    return bench


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
        execute: bool = typer.Option(False, "--execute",
                                     help="chain: EXECUTION_ENABLED=true (plans are sent and close their opportunities)"),
        json_out: str = typer.Option("", "--json", help="write the figures as JSON to this file"),
    ) -> None:
        """Sustained events/s (ingest publish -> detector) and per-stage latency (log -> signed -> ready)."""
        bench = load_bench()
        argv = ["--part", part, "--rates", rates, "--chain-rates", chain_rates, "--step", str(step),
                "--chain-step", str(chain_step), "--exact-check", exact_check]
        argv += (["--json", json_out] if json_out else []) + (["--execute"] if execute else [])
        raise SystemExit(bench.main(argv))
