"""Stress test (the runbook's, redone): rising event rates through real NATS into the real services.

    .venv/bin/python benchmarks/stress_bench.py [--part replay|chain|both] [--rates 5000,10000,20000,...]
        [--chain-rates 250,500,1000] [--json out.json]

Same as ``mevbot stress``. What each part measures: see :mod:`mevbot.devnet.stress`.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mevbot.devnet.stress import main

if __name__ == "__main__":
    raise SystemExit(main())
