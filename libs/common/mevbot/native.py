"""Compiled hot modules: the same Python sources, compiled by Cython, loaded when they match.

``scripts/build_native.py`` (run by ``scripts/setup.sh`` and the Dockerfile) compiles the modules of
:data:`MODULES` with Cython, unchanged (plain Python semantics: annotations are not turned into C
types), into ``build/native/`` with a manifest of each source's sha256. At import, the finder
installed by ``mevbot/__init__.py`` loads a compiled module only when the manifest says it was
built from the source file as it is now, by this interpreter; otherwise (no build, a source edited
since, another Python) the source is imported as usual. So a compiled module can never run code
that differs from its source, and everything works without a compiler.

``MEVBOT_NATIVE=0`` turns it off (profiling with py-spy, or comparing both). ``MEVBOT_NATIVE_DIR``
points at another build directory. :func:`status` tells what was loaded and why not.

Measured (``benchmarks/detector_core_bench.py``): the detector's CPU per event about -20 %; see
``docs/benchmarks.md``.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from pathlib import Path

#: the hot path: AMM math and sizing, pool state, the detector's evaluation, ingest's decoding
MODULES: tuple[str, ...] = (
    "mevbot.amm.base",
    "mevbot.amm.bit_math",
    "mevbot.amm.full_math",
    "mevbot.amm.liquidity_math",
    "mevbot.amm.sqrt_price_math",
    "mevbot.amm.swap_math",
    "mevbot.amm.tick_bitmap",
    "mevbot.amm.tick_math",
    "mevbot.amm.v2",
    "mevbot.amm.v3_pool",
    "mevbot.amm.v3_steps",
    "mevbot.amm.algebra_pool",
    "mevbot.amm.camelot_v2",
    "mevbot.amm.mobius",
    "mevbot.amm.cycle",
    "mevbot.amm.events",
    "mevbot.market.build",
    "mevbot.market.pricing",
    "mevbot.market.store",
    "mevbot.market.versions",
    "services.detector.core",
    "services.detector.cycles",
    "services.detector.evaluate",
    "services.ingest.decode",
    "services.ingest.engine",
)

ROOT = Path(__file__).resolve().parents[3]  # the repository (libs/common/mevbot/native.py)
MANIFEST = "manifest.json"


def build_dir() -> Path:
    return Path(os.environ.get("MEVBOT_NATIVE_DIR") or ROOT / "build" / "native")


def build_tag() -> str:
    """What a compiled module must have been built by: interpreter, version, platform."""
    return f"{sys.implementation.cache_tag}-{importlib.machinery.EXTENSION_SUFFIXES[0]}"


def source_path(module: str) -> Path:
    """The source file of one of :data:`MODULES` (``mevbot.*`` under libs/common)."""
    parts = module.split(".")
    base = ROOT / "libs" / "common" if parts[0] == "mevbot" else ROOT
    return base.joinpath(*parts[:-1], parts[-1] + ".py")


def source_digest(module: str) -> str:
    """sha256 of the module's source, and of its ``.pxd`` (C type declarations) when it has one."""
    path = source_path(module)
    digest = hashlib.sha256(path.read_bytes())
    pxd = path.with_suffix(".pxd")
    if pxd.is_file():
        digest.update(b"\0pxd\0" + pxd.read_bytes())
    return digest.hexdigest()


class NativeFinder(importlib.abc.MetaPathFinder):
    """Finds the compiled form of a module of the manifest when its source is unchanged."""

    def __init__(self, directory: Path, manifest: dict) -> None:
        self.directory = directory
        self.modules: dict = manifest.get("modules", {}) if manifest.get("tag") == build_tag() else {}
        self.loaded: list[str] = []
        self.skipped: dict[str, str] = {}
        if manifest.get("tag") != build_tag():
            self.skipped["*"] = f"built for {manifest.get('tag')}, this is {build_tag()}"

    def find_spec(self, fullname, path=None, target=None):
        entry = self.modules.get(fullname)
        if entry is None:
            return None
        try:
            current = source_digest(fullname)
        except OSError as exc:
            self.skipped[fullname] = f"source unreadable: {exc}"
            return None
        if current != entry["source_sha256"]:
            self.skipped[fullname] = "source changed since the build (run scripts/build_native.py)"
            return None
        binary = self.directory / entry["file"]
        if not binary.is_file():
            self.skipped[fullname] = f"{entry['file']} missing"
            return None
        self.loaded.append(fullname)
        loader = importlib.machinery.ExtensionFileLoader(fullname, str(binary))
        return importlib.util.spec_from_file_location(fullname, binary, loader=loader)


_finder: NativeFinder | None = None
_disabled_reason = ""


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once; called by ``mevbot/__init__``)."""
    global _finder, _disabled_reason
    if _finder is not None or _disabled_reason:
        return
    if os.environ.get("MEVBOT_NATIVE", "1").strip().lower() in ("0", "false", "no", "off"):
        _disabled_reason = "MEVBOT_NATIVE=0"
        return
    directory = build_dir()
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except FileNotFoundError:
        _disabled_reason = f"not built ({directory / MANIFEST} absent: scripts/build_native.py)"
        return
    except (OSError, ValueError) as exc:
        _disabled_reason = f"unreadable manifest: {exc}"
        return
    _finder = NativeFinder(directory, manifest)
    sys.meta_path.insert(0, _finder)


def status() -> dict:
    """What was compiled and loaded: ``{"enabled", "loaded", "skipped", "reason"}``."""
    if _finder is None:
        return {"enabled": False, "loaded": [], "skipped": {}, "reason": _disabled_reason}
    return {"enabled": True, "loaded": sorted(_finder.loaded), "skipped": dict(_finder.skipped), "reason": ""}


def is_compiled(module: object) -> bool:
    """True when ``module`` runs from a compiled extension."""
    return str(getattr(module, "__file__", "")).endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
