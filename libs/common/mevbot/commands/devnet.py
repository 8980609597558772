"""``mevbot devnet``: the newcomer's first command - the whole system capturing arbitrage locally."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from mevbot.commands import fail_on_config_error
from mevbot.config import DEFAULT_NATS_URL, DEFAULT_REDIS_URL, env_str, parse_wei


def register(app: typer.Typer) -> None:
    @app.command()
    def devnet(
        duration: float = typer.Option(120.0, "--duration", help="seconds of market after the services are ready"),
        seed: int = typer.Option(7, "--seed", help="market seed (same seed, same trades)"),
        block_time: float = typer.Option(0.25, "--block-time", help="anvil block time in seconds (Arbitrum: 0.25)"),
        no_execute: bool = typer.Option(False, "--no-execute", help="EXECUTION_ENABLED=false: sign, never send"),
        work_dir: Path = typer.Option(Path("var/devnet"), "--work-dir", help="chain config, env, logs, report.json"),
        min_profit: str = typer.Option("0.01 ether", "--min-profit", help="MIN_PROFIT_THRESHOLD for the validator"),
        dislocations: int = typer.Option(None, "--dislocations", help="stop after N dislocations above the threshold"),
        no_live: bool = typer.Option(False, "--no-live", help="no live view (logs/CI)"),
    ) -> None:
        """Run anvil + real protocols + NATS/Redis + the four services + a market; print a report."""
        from mevbot.devnet.options import DevnetOptions
        from mevbot.devnet.run import run_devnet

        with fail_on_config_error():
            opts = DevnetOptions(
                duration_s=duration, seed=seed, block_time_s=block_time, execute=not no_execute, work_dir=work_dir,
                nats_url=env_str("NATS_URL", DEFAULT_NATS_URL), redis_url=env_str("REDIS_URL", DEFAULT_REDIS_URL),
                min_profit_threshold_wei=parse_wei(min_profit, key="--min-profit"), target_dislocations=dislocations,
                live=not no_live and sys.stdout.isatty(),
            )
        try:
            report = run_devnet(opts)
        except KeyboardInterrupt:
            raise SystemExit(130) from None
        s = report["summary"]
        ok = s["reverted_transactions"] == 0 and (not opts.execute or s["capture_rate"] is None or s["capture_rate"] >= 0.95)
        raise SystemExit(0 if ok else 1)
