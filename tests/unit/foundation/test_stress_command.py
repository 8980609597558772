"""``mevbot stress`` loads the repository's stress benchmark (a file outside the package)."""

from __future__ import annotations

from mevbot.commands.stress import load_bench
from mevbot.devnet.stress import ReplayResult, ReplayStep


def test_stress_command_loads_the_benchmark_module() -> None:
    bench = load_bench()
    assert callable(bench.main)
    # its dataclasses build (they need the module registered while it executes)
    assert "latency_ms" in bench.ChainStep.__dataclass_fields__
    result = ReplayResult(pools=3, steps=[ReplayStep(1000.0, 10, 1000.0, 990.0, 0, 0.0, True)])
    assert result.sustained_per_s == 990.0
