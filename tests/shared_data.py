"""Where the shared reference data lives (real Arbitrum data, v3-core vectors, peer cases).

``MEVBOT_SHARED_DIR`` if set, else ``shared/`` beside the repository (how CI and developers'
machines lay it out), else ``/work/shared``.
"""

from __future__ import annotations

import os
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]


def _locate() -> Path:
    env = os.environ.get("MEVBOT_SHARED_DIR")
    if env:
        return Path(env)
    beside = _REPO.parent / "shared"
    if beside.exists():
        return beside
    return Path("/work/shared")


SHARED_DIR = _locate()
ARBITRUM_DATA = SHARED_DIR / "data" / "arbitrum"
V3_VECTORS = SHARED_DIR / "data" / "uniswap_v3_vectors" / "v3core_pool_swap_vectors.json"
DEGENBOT_PEER = SHARED_DIR / "peers" / "degenbot"
