"""``mevbot soak``: the runbook's 24-hour validation test, on the devnet, with a generated report."""

from __future__ import annotations

from pathlib import Path

import typer

from mevbot.config import DEFAULT_NATS_URL, DEFAULT_REDIS_URL, env_str


def register(app: typer.Typer) -> None:
    @app.command()
    def soak(
        duration: float = typer.Option(86_400.0, "--duration", help="seconds (the runbook: 24 h)"),
        sample: float = typer.Option(30.0, "--sample", help="seconds between samples"),
        seed: int = typer.Option(7, "--seed"),
        work_dir: Path = typer.Option(Path("var/soak"), "--work-dir", help="logs, soak_report.json/.md"),
    ) -> None:
        """Run the devnet for --duration and write soak_report.{json,md} (memory, errors, throughput)."""
        from mevbot.devnet.options import DevnetOptions
        from mevbot.devnet.soak import run_soak

        opts = DevnetOptions(duration_s=duration, seed=seed, work_dir=work_dir, live=False,
                             nats_url=env_str("NATS_URL", DEFAULT_NATS_URL), redis_url=env_str("REDIS_URL", DEFAULT_REDIS_URL),
                             extra_env={"LOG_LEVEL": "warning"})
        report = run_soak(opts, sample_s=sample)
        s = report["devnet"]["summary"]
        raise SystemExit(0 if s["reverted_transactions"] == 0 and not s["market_errors"] else 1)
