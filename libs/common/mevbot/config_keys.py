"""Find every configuration key the code reads, so the docs can be checked against the code.

Reads the sources with :mod:`ast` (not regexes): a key is the first argument, a string literal,
of a call to one of the ``mevbot.config`` readers (``env_int("DETECTOR_MAX_HOPS", 4)``) or of
``os.environ.get`` / ``os.getenv`` / ``os.environ[...]``. ``mevbot config --docs`` prints the table
kept in ``docs/configuration.md``; a test fails when the code and the docs disagree.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

READERS = {
    "env_str", "env_opt_str", "env_int", "env_float", "env_bool", "env_wei", "env_choice", "env_path",
    "env_list", "env_secret", "env_cpu_list",
}
SCAN_DIRS = ("libs/common/mevbot", "services")


@dataclass
class KeyUse:
    key: str
    readers: set[str] = field(default_factory=set)
    defaults: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        inner = func.value
        if func.attr == "get" and isinstance(inner, ast.Attribute) and inner.attr == "environ":
            return "os.environ.get"
        if func.attr == "getenv":
            return "os.getenv"
        return func.attr
    return None


def _default(node: ast.Call, name: str | None) -> str:
    for kw in node.keywords:
        if kw.arg == "default":
            return ast.unparse(kw.value)
    position = 2 if name == "env_choice" else 1  # env_choice(key, choices, default)
    if len(node.args) > position and not isinstance(node.args[position], ast.Starred):
        return ast.unparse(node.args[position])
    return ""


def scan_source(text: str, filename: str, found: dict[str, KeyUse]) -> None:
    tree = ast.parse(text, filename=filename)
    for node in ast.walk(tree):
        key: str | None = None
        reader = ""
        default = ""
        if isinstance(node, ast.Call):
            name = _call_name(node)
            first = node.args[0] if node.args else None
            if (name in READERS or name in ("os.environ.get", "os.getenv")) and isinstance(first, ast.Constant) \
                    and isinstance(first.value, str):
                key, reader, default = first.value, name or "", _default(node, name)
        elif isinstance(node, ast.Subscript):
            value = node.value
            if isinstance(value, ast.Attribute) and value.attr == "environ" and isinstance(node.slice, ast.Constant) \
                    and isinstance(node.slice.value, str):
                key, reader = node.slice.value, "os.environ[]"
        if key and key.isupper():
            use = found.setdefault(key, KeyUse(key))
            use.readers.add(reader)
            if default:
                use.defaults.add(default)
            use.files.add(filename)


def repo_root() -> Path:
    """The source tree this package runs from (``libs/common/mevbot`` -> repository root)."""
    return Path(__file__).resolve().parents[3]


def scan(repo_root: Path, dirs: tuple[str, ...] = SCAN_DIRS) -> dict[str, KeyUse]:
    found: dict[str, KeyUse] = {}
    for directory in dirs:
        for path in sorted((repo_root / directory).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            scan_source(path.read_text(), str(path.relative_to(repo_root)), found)
    found.pop("KEY", None)  # the variable name used in error helpers, not a key
    return dict(sorted(found.items()))


def markdown_table(found: dict[str, KeyUse]) -> str:
    rows = ["| key | read as | default | read in |", "|---|---|---|---|"]
    for use in found.values():
        readers = ", ".join(sorted(r.removeprefix("env_") for r in use.readers))
        defaults = " / ".join(f"`{d}`" for d in sorted(use.defaults)) or "(required or unset)"
        files = ", ".join(f"`{f}`" for f in sorted(use.files))
        defaults = defaults.replace("|", "\\|")
        rows.append(f"| `{use.key}` | {readers} | {defaults} | {files} |")
    return "\n".join(rows)
