"""The fee-on-transfer probe's committed runtime code is what solcjs builds from its source."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from services.validator.chain import probe_runtime_code

PROBE_DIR = Path(__file__).resolve().parents[3] / "services" / "validator" / "probe"


def test_probe_code_is_loaded() -> None:
    code = probe_runtime_code()
    assert code.startswith("0x") and len(code) > 200


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_probe_artifact_matches_its_source() -> None:
    result = subprocess.run(
        ["node", str(PROBE_DIR / "build.mjs"), "--check"], check=False, capture_output=True, timeout=60
    )
    assert result.returncode == 0, "TransferProbe.json is stale: run node services/validator/probe/build.mjs"
