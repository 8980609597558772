"""Where the offline EVM tooling lives: repo-root ``node_modules`` (override ``MEVBOT_NODE_MODULES``)
and the project's compiled contract artifacts under ``contracts/artifacts``."""

from __future__ import annotations

import os
from pathlib import Path

from mevbot.errors import ConfigError

# libs/common/mevbot/chain/paths.py -> repo root is four parents up from this file's directory
REPO_ROOT = Path(__file__).resolve().parents[4]


def node_modules_dir() -> Path:
    override = os.environ.get("MEVBOT_NODE_MODULES")
    path = Path(override) if override else REPO_ROOT / "node_modules"
    if not path.is_dir():
        raise ConfigError("MEVBOT_NODE_MODULES", f"node_modules directory not found at {path}")
    return path


def anvil_binary() -> Path:
    path = node_modules_dir() / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
    if not path.is_file():
        raise ConfigError("MEVBOT_NODE_MODULES", f"anvil binary missing at {path} (npm install?)")
    return path


def contracts_dir() -> Path:
    return REPO_ROOT / "contracts"


def project_artifacts_dir() -> Path:
    return contracts_dir() / "artifacts"
