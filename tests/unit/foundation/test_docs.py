"""The README and docs/configuration.md agree with the code."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from mevbot import subjects
from mevbot.config_keys import scan

ROOT = Path(__file__).resolve().parents[3]
README = (ROOT / "README.md").read_text()
CONFIG_DOC = (ROOT / "docs" / "configuration.md").read_text()


def _section(text: str, begin_prefix: str, end: str) -> str:
    start = text.index(begin_prefix)
    start = text.index("\n", start) + 1
    return text[start : text.index(end, start)].strip()


def _gen_docs():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_subject_table_is_exactly_the_generated_one() -> None:
    table = subjects.markdown_table()
    assert _section(README, "<!-- BEGIN subject table", "<!-- END subject table -->") == table
    assert table in README


def test_subject_table_covers_every_stream_and_message_type() -> None:
    import typing

    from mevbot import messages as m

    documented = set()
    for spec in subjects.SUBJECTS:
        documented.update(typing.get_args(spec.message) or (spec.message,))
    assert documented == set(typing.get_args(m.AnyMessage))
    stream_names = {
        spec.durability.split()[-1] for spec in subjects.SUBJECTS if spec.durability.startswith("JetStream")
    }
    assert stream_names == {s.name for s in subjects.STREAMS}


def readme_config_keys() -> set[str]:
    table = _section(README, "<!-- BEGIN configuration table", "<!-- END configuration table -->")
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", table, flags=re.MULTILINE))


def test_every_documented_key_is_read_by_the_code() -> None:
    read = set(scan(ROOT))
    documented = readme_config_keys()
    assert documented, "README configuration table not found"
    assert documented - read == set(), "documented in README but never read by the code"


def test_every_key_the_code_reads_is_documented() -> None:
    read = set(scan(ROOT))
    documented = readme_config_keys() | set(
        re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", CONFIG_DOC, flags=re.MULTILINE)
    )
    assert read - documented == set(), "read by the code but not documented: run scripts/gen_docs.py"


def test_generated_docs_are_current() -> None:
    stale = [p.name for p, text in _gen_docs().generated().items() if p.read_text() != text]
    assert stale == [], f"{stale} out of date: run .venv/bin/python scripts/gen_docs.py"


def test_runbook_keys_are_all_supported() -> None:
    runbook = {
        "ARBITRUM_RPC_ENDPOINT",
        "ARBITRUM_WS_ENDPOINT",
        "BACKUP_RPC_ENDPOINT",
        "LOG_LEVEL",
        "LOG_FORMAT",
        "LOG_OUTPUT",
        "METRICS_ENABLED",
        "METRICS_PORT",
        "MEV_BOT_ENCRYPTION_KEY",
        "EXECUTION_ENABLED",
        "MAX_POSITION_SIZE",
        "MIN_PROFIT_THRESHOLD",
        "PROVIDER_CONFIG_PATH",
    }
    assert runbook <= readme_config_keys() and runbook <= set(scan(ROOT))


def test_readme_names_the_two_commands_and_ci_calls_exactly_the_test_one() -> None:
    assert "./scripts/run.sh" in README and "./scripts/test.sh" in README
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [line for line in ci.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert any(line.startswith("exec ./scripts/test.sh") for line in commands)
    for script in ("scripts/run.sh", "scripts/test.sh", ".ci/run"):
        assert (ROOT / script).stat().st_mode & 0o111, f"{script} is not executable"
