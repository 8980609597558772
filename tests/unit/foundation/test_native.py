"""The compiled hot modules (mevbot.native, scripts/build_native.py): used when built from the
sources as they are, never when a source changed, and identical in every answer to plain Python."""

from __future__ import annotations

import importlib
import importlib.machinery
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mevbot import native

ROOT = Path(__file__).resolve().parents[3]
WORKLOAD = Path(__file__).with_name("native_workload.py")


def _build_is_current() -> bool:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_native.py"), "--check"], check=False,
                          capture_output=True, text=True, timeout=60)
    return done.returncode == 0


def test_setup_built_every_hot_module_and_they_are_the_ones_imported() -> None:
    # scripts/setup.sh builds them (the test command runs it first); MEVBOT_NATIVE=0 opts out
    if os.environ.get("MEVBOT_NATIVE", "1") in ("0", "false", "no", "off"):
        pytest.skip("MEVBOT_NATIVE=0: the plain Python sources run")
    assert _build_is_current(), "scripts/build_native.py --check: the native build is missing or stale"
    for name in native.MODULES:
        module = importlib.import_module(name)
        assert native.is_compiled(module), f"{name} runs from {module.__file__}"
    status = native.status()
    assert status["enabled"] and set(native.MODULES) <= set(status["loaded"]) and not status["skipped"]


def _manifest(tag: str, module: str, digest: str, file: str) -> dict:
    return {"tag": tag, "modules": {module: {"file": file, "source_sha256": digest}}}


def test_a_module_whose_source_changed_is_imported_from_its_source(tmp_path: Path) -> None:
    module = "mevbot.amm.cycle"
    binary = tmp_path / "cycle.so"
    binary.write_bytes(b"\0")
    current = native.source_digest(module)

    fresh = native.NativeFinder(tmp_path, _manifest(native.build_tag(), module, current, "cycle.so"))
    spec = fresh.find_spec(module)
    assert spec is not None and isinstance(spec.loader, importlib.machinery.ExtensionFileLoader)
    assert spec.origin == str(binary) and fresh.loaded == [module]

    edited = native.NativeFinder(tmp_path, _manifest(native.build_tag(), module, "0" * 64, "cycle.so"))
    assert edited.find_spec(module) is None
    assert "source changed" in edited.skipped[module] and edited.loaded == []

    other_python = native.NativeFinder(tmp_path, _manifest("cpython-39-x", module, current, "cycle.so"))
    assert other_python.find_spec(module) is None and "built for cpython-39-x" in other_python.skipped["*"]

    missing = native.NativeFinder(tmp_path, _manifest(native.build_tag(), module, current, "gone.so"))
    assert missing.find_spec(module) is None and "missing" in missing.skipped[module]

    # modules outside the manifest are never its business
    assert fresh.find_spec("mevbot.messages") is None and fresh.find_spec("json") is None


def test_a_pxd_beside_the_source_is_part_of_its_digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "libs" / "common" / "mevbot" / "amm"
    package.mkdir(parents=True)
    (package / "cycle.py").write_text("x = 1\n")
    monkeypatch.setattr(native, "ROOT", tmp_path)
    alone = native.source_digest("mevbot.amm.cycle")
    (package / "cycle.pxd").write_text("cdef double y\n")
    assert native.source_digest("mevbot.amm.cycle") != alone


def _workload(native_env: str) -> dict:
    env = {**os.environ, "MEVBOT_NATIVE": native_env}
    done = subprocess.run([sys.executable, str(WORKLOAD)], check=False, capture_output=True, text=True, env=env,
                          timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_compiled_and_plain_python_give_the_same_candidates_and_quotes() -> None:
    compiled = _workload("1")
    plain = _workload("0")
    assert plain["compiled"] is False
    if os.environ.get("MEVBOT_NATIVE", "1") not in ("0", "false", "no", "off"):
        assert compiled["compiled"] is True, "the workload did not run the compiled build"
    assert compiled["candidates"] > 1000  # 2- and 3-hop, V2 and V3: enough to mean something
    assert compiled["candidates_sha256"] == plain["candidates_sha256"]
    assert compiled["quotes_sha256"] == plain["quotes_sha256"]
    assert compiled["walks_sha256"] == plain["walks_sha256"]
