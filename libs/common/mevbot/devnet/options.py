"""Options of one devnet run (the command line of ``mevbot devnet``, and what the e2e test sets)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class DevnetOptions:
    duration_s: float = 120.0
    seed: int = 7
    block_time_s: float = 0.25
    execute: bool = True  # EXECUTION_ENABLED for the executor
    work_dir: Path = Path("var/devnet")
    nats_url: str = "nats://127.0.0.1:4222"
    redis_url: str = "redis://127.0.0.1:6379/0"
    namespace: str | None = None  # default: devnet-<seed>-<pid>
    min_profit_threshold_wei: int = 10**16  # MIN_PROFIT_THRESHOLD for the validator (0.01 ETH)
    target_dislocations: int | None = None  # stop early after this many above-threshold ones
    live: bool = True  # rich live view
    anvil_port: int | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    keep_running: bool = False

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["work_dir"] = str(self.work_dir)
        return out
