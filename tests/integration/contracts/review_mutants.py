"""Opt-in mutation testing of the review tests (not collected by pytest; ~15 s per mutant):

    .venv/bin/python tests/integration/contracts/review_mutants.py [NAME ...]

Each mutant re-introduces one weakness into contracts/src/MevbotArbExecutor.sol (a removed or
loosened guard, or the pre-review code of a finding), is compiled with the same solcjs settings,
and replaces the executor's runtime code during the review tests (``MEVBOT_REVIEW_MUTANT``, see
``review_kit._executor_mutant``). A mutant must make at least one review test fail ("killed").
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SOURCE = REPO / "contracts/src/MevbotArbExecutor.sol"
TESTS = [
    "tests/integration/contracts/test_review_guards.py",
    "tests/integration/contracts/test_review_findings.py",
]

MUTANTS: dict[str, list[tuple[str, str]]] = {
    "no-initiator-check": [("if (initiator != address(this)) revert UnexpectedCallback(initiator);", "")],
    "no-plan-hash-check": [("if (keccak256(plan) != _planHash) revert PlanMismatch();", "")],
    "no-loan-received-check": [
        ("if (IERC20Like(token).balanceOf(address(this)) < before + amountIn) revert LoanNotReceived();", "")
    ],
    "no-lender-stage-check": [
        ("if (_stage != AWAIT_LOAN || msg.sender != _lender)", "if (msg.sender != _lender)")
    ],
    "no-swap-caller-check": [
        ("if (_stage != RUNNING || pool == address(0) || msg.sender != pool)", "if (_stage != RUNNING)")
    ],
    "pays-twice": [  # payments allowed until the swap returns (each up to the hop input)
        ("_swapPool = address(0); // one payment per swap", ""),
        (
            "if (_swapPool != address(0)) revert UnexpectedCallback(pool); // pool never asked to be paid",
            "_swapPool = address(0);",
        ),
    ],
    "pays-positive-delta": [
        (
            "int256 owed = _swapZeroForOne ? amount0Delta : amount1Delta;",
            (
                "int256 owed = amount0Delta > 0 ? amount0Delta : amount1Delta;"
                " if (amount0Delta <= 0) _swapTokenIn = IPoolTokens(pool).token1();"
                " else _swapTokenIn = IPoolTokens(pool).token0();"
            ),
        )
    ],
    "profit-not-a-delta": [
        ("uint256 required = before + owed +", "uint256 required = owed +"),
        ("_profit = balance - owed - before;", "_profit = balance - owed;"),
    ],
    "aave-max-approval": [
        ("_approve(token, msg.sender, owed);", "_approve(token, msg.sender, type(uint256).max);")
    ],
    "fallback-open": [
        ("if (msg.sender != owner && !allowed[msg.sender]) revert NotAllowed(msg.sender);", "")
    ],
    "fallback-payable": [
        (
            "fallback(bytes calldata plan) external returns",
            "fallback(bytes calldata plan) external payable returns",
        )
    ],
    "no-hop-length-check": [("if (plan.length < off + HOP_LEN) revert MalformedPlan(plan.length);", "")],
    "transfer-needs-bool": [
        ("(ret.length == 0 ? token.code.length == 0 : !abi.decode(ret, (bool)))", "!abi.decode(ret, (bool))")
    ],
    "transfer-ignores-bool": [
        ("(ret.length == 0 ? token.code.length == 0 : !abi.decode(ret, (bool)))", "false")
    ],
    "no-trade-in-progress": [("if (_stage != IDLE) revert TradeInProgress();", "")],
    "no-hop-token-check": [("if (poolIn != tokenIn) revert HopTokenMismatch(i, tokenIn, poolIn);", "")],
    "withdraw-open": [
        (
            "function withdrawToken(address token, address to, uint256 amount) external onlyOwner",
            "function withdrawToken(address token, address to, uint256 amount) external",
        )
    ],
    "R1-arbsys-fails-open": [
        (
            "if (!ok || ret.length != 32) revert ArbBlockNumberUnavailable();\n        return abi.decode(ret, (uint256));",
            "if (!ok || ret.length != 32) return block.number;\n        return abi.decode(ret, (uint256));",
        )
    ],
    "R2-no-pancake-flash": [
        (
            "function pancakeV3FlashCallback(uint256 fee0, uint256 fee1, bytes calldata plan) external {\n        _v3FlashCallback(fee0, fee1, plan);\n    }",
            "",
        )
    ],
}

COMPILE_JS = r"""
const path = require("path"); const fs = require("fs");
const nm = process.env.MEVBOT_NODE_MODULES || path.join(process.argv[2], "node_modules");
const solc = require(path.join(nm, "solc"));
const src = fs.readFileSync(process.argv[3], "utf8");
const input = {language: "Solidity", sources: {"M.sol": {content: src}}, settings: {evmVersion: "cancun", viaIR: true,
  optimizer: {enabled: true, runs: 1000000}, outputSelection: {"*": {"*": ["abi", "evm.bytecode.object"]}}}};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
const errs = (out.errors || []).filter((e) => e.severity === "error");
if (errs.length) { console.error(errs.map((e) => e.formattedMessage).join("\n")); process.exit(2); }
const c = out.contracts["M.sol"]["MevbotArbExecutor"];
fs.writeFileSync(process.argv[4], JSON.stringify({abi: c.abi, bytecode: "0x" + c.evm.bytecode.object}));
"""


def run(name: str, edits: list[tuple[str, str]], tmp: Path) -> bool:
    src = SOURCE.read_text()
    for old, new in edits:
        assert old in src, f"{name}: pattern not found: {old[:60]}"
        src = src.replace(old, new)
    (tmp / f"{name}.sol").write_text(src)
    js = tmp / "compile.js"
    js.write_text(COMPILE_JS)
    art = tmp / f"{name}.json"
    subprocess.run(["node", str(js), str(REPO), str(tmp / f"{name}.sol"), str(art)], check=True, cwd=REPO)
    env = os.environ | {"MEVBOT_REVIEW_MUTANT": str(art)}
    proc = subprocess.run(
        [str(REPO / ".venv/bin/pytest"), "-q", "-p", "no:cacheprovider", "-x", *TESTS],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    killed = proc.returncode != 0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("FAILED")]
    print(f"{name:28s} {'killed' if killed else 'SURVIVED'}  {lines[0][7:120] if lines else ''}", flush=True)
    return killed


def main(names: list[str]) -> int:
    chosen = {n: MUTANTS[n] for n in names} if names else MUTANTS
    with tempfile.TemporaryDirectory() as d:
        survivors = [n for n, e in chosen.items() if not run(n, e, Path(d))]
    print("survivors:", survivors or "none")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
