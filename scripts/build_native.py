"""Compile the hot modules (``mevbot.native.MODULES``) with Cython into ``build/native/``.

The sources are compiled as they are, with plain Python semantics (``annotation_typing=False``:
an ``int`` annotation is not a C type, ``None`` stays allowed where Python allows it). The
manifest records each source's sha256 and the interpreter's tag; :mod:`mevbot.native` loads a
compiled module only when both still match, so an edited source runs as Python until the next
build. Nothing is needed at run time: without a build everything runs as plain Python.

    .venv/bin/python scripts/build_native.py          # build what is missing or out of date
    .venv/bin/python scripts/build_native.py --check  # exit 1 when a build is missing or stale
    .venv/bin/python scripts/build_native.py --force  # rebuild all

Needs Cython (``pip install -e '.[native]'``) and a C compiler with the Python headers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "libs" / "common"), str(ROOT)]
os.environ["MEVBOT_NATIVE"] = "0"  # this process imports nothing compiled

from mevbot import native

DIRECTIVES = {
    "language_level": 3,
    "annotation_typing": False,  # Python semantics: annotations stay annotations
    "binding": True,  # functions keep introspection (signatures, __defaults__) like Python's
    "embedsignature": True,
}


def wanted() -> dict[str, str]:
    return {module: native.source_digest(module) for module in native.MODULES}


def current_manifest(directory: Path) -> dict:
    try:
        return json.loads((directory / native.MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def stale_modules(directory: Path) -> list[str]:
    manifest = current_manifest(directory)
    built = manifest.get("modules", {}) if manifest.get("tag") == native.build_tag() else {}
    stale = []
    for module, digest in wanted().items():
        entry = built.get(module)
        if entry is None or entry["source_sha256"] != digest or not (directory / entry["file"]).is_file():
            stale.append(module)
    return stale


def build(directory: Path, modules: list[str], jobs: int) -> dict:
    from Cython.Build import cythonize
    from setuptools import Extension
    from setuptools.dist import Distribution

    with tempfile.TemporaryDirectory(prefix="mevbot-native-") as tmp:
        extensions = [Extension(module, [str(native.source_path(module))]) for module in modules]
        compiled = cythonize(extensions, compiler_directives=DIRECTIVES, build_dir=str(Path(tmp) / "c"),
                             nthreads=jobs, quiet=True, force=True)
        dist = Distribution({"ext_modules": compiled, "script_name": "build_native.py"})
        cmd = dist.get_command_obj("build_ext")
        cmd.build_lib = str(directory)
        cmd.build_temp = str(Path(tmp) / "obj")
        cmd.parallel = jobs
        cmd.ensure_finalized()
        cmd.run()
        files = {}
        for module in modules:
            files[module] = str(Path(cmd.get_ext_fullpath(module)).relative_to(directory))
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 when the build is missing or stale")
    parser.add_argument("--force", action="store_true", help="rebuild every module")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    directory = native.build_dir()
    stale = list(native.MODULES) if args.force else stale_modules(directory)
    if args.check:
        if stale:
            print(f"native build stale or missing: {', '.join(stale)}")
            return 1
        print(f"native build up to date: {len(native.MODULES)} modules in {directory}")
        return 0
    if not stale:
        print(f"native build up to date: {len(native.MODULES)} modules in {directory}")
        return 0
    start = time.monotonic()
    manifest = current_manifest(directory)
    if manifest.get("tag") != native.build_tag():
        shutil.rmtree(directory, ignore_errors=True)
        manifest = {}
        stale = list(native.MODULES)
    directory.mkdir(parents=True, exist_ok=True)
    # a build is only trusted through the manifest: drop it first, write it last
    (directory / native.MANIFEST).unlink(missing_ok=True)
    digests = wanted()  # before compiling: a source edited meanwhile then no longer matches
    files = build(directory, stale, max(1, args.jobs))
    import Cython

    modules = {m: e for m, e in manifest.get("modules", {}).items() if m in native.MODULES and m not in files}
    for module, file in files.items():
        modules[module] = {"file": file, "source_sha256": digests[module]}
    (directory / native.MANIFEST).write_text(json.dumps(
        {"tag": native.build_tag(), "cython": Cython.__version__, "modules": modules}, indent=1, sort_keys=True))
    print(f"native build: {len(files)} modules compiled in {time.monotonic() - start:.0f} s into {directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
