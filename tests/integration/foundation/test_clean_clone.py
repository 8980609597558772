"""The README's test command works from a clean copy of the tree (new venv, npm ci, servers).

Slow (a fresh ``pip install`` and ``npm ci``): ``./scripts/test.sh -m slow -k clean_clone``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to list the tree's files")
def test_scripts_test_sh_from_a_clean_copy(tmp_path: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    clone = tmp_path / "clone"
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            target = clone / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTEST"))}
    env["CI"] = "true"
    result = subprocess.run(["./scripts/test.sh", "tests/unit/foundation", "-q", "-p", "no:cacheprovider"],
                            cwd=clone, env=env, capture_output=True, text=True, timeout=1800, stdin=subprocess.DEVNULL,
                            check=False)
    tail = (result.stdout + result.stderr)[-3000:]
    assert result.returncode == 0, tail
    assert (clone / ".venv" / "bin" / "mevbot").exists()
    assert " passed" in result.stdout
