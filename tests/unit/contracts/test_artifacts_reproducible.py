"""The committed artifacts are exactly what the committed sources compile to (offline solcjs)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from mevbot.chain.artifacts import NPM_ARTIFACTS, load_artifact
from mevbot.chain.paths import REPO_ROOT, contracts_dir, project_artifacts_dir


def test_recompiling_reproduces_every_artifact_byte_for_byte() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required to compile the contracts (npm solc)")
    proc = subprocess.run(
        [node, str(contracts_dir() / "build.mjs"), "--check", "--quiet"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_every_source_contract_has_an_artifact() -> None:
    names = {p.stem for p in project_artifacts_dir().glob("*.json")}
    assert {"MevbotArbExecutor", "TestERC20", "FeeOnTransferToken", "PoolActor", "SwapEventBait", "FakePool",
            "FakeLender", "AlgebraStylePool", "ArbSysStandIn", "ArbGasInfoStandIn", "NodeInterfaceStandIn"} <= names  # fmt: skip
    art = load_artifact("MevbotArbExecutor")
    code_size = len(bytes.fromhex(art.deployed_bytecode[2:]))
    assert 0 < code_size <= 24_576  # EIP-170: deployable on Arbitrum One


def test_no_function_selector_can_be_confused_with_a_packed_plan() -> None:
    # plans start with version byte 0x00; a selector starting with 0x00 could shadow the fallback
    for sig, sel in load_artifact("MevbotArbExecutor").codec.selectors().items():
        assert sel[0] != 0x00, f"{sig} starts with 0x00: rename it"


@pytest.mark.parametrize("name", sorted(NPM_ARTIFACTS))
def test_npm_protocol_artifacts_load_and_link(name: str) -> None:
    art = load_artifact(name)
    assert art.bytecode.startswith("0x") and len(art.bytecode) > 100
    if art.needs_linking:
        linked = art.linked({lib: "0x" + "ab" * 20 for lib in art.library_names()})
        assert "__$" not in linked.bytecode and "ab" * 20 in linked.bytecode
