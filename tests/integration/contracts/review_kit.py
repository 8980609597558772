"""Shared pieces of the adversarial-review tests (``test_review_*.py``): fixed-rate V3-shaped
pools (``ReviewPool``) around WETH and a second token, so a cycle's profit is known exactly."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_abi import encode as abi_encode
from mevbot.chain.arb_calldata import ArbCall, ArbHop, HopKind, LenderKind, decode_arb_error, encode_arb_call
from mevbot.chain.artifacts import load_artifact
from mevbot.chain.deployment import Deployment
from mevbot.chain.devtools import OWNER, block_number, deploy_contract, fund, send
from mevbot.chain.rpc import RpcClient

E18 = 10**18
POOL = load_artifact("ReviewPool")
HOOK = load_artifact("ReviewHookToken")
NORET = load_artifact("ReviewNoReturnToken")
AAVE_LIKE = load_artifact("ReviewAaveLikeLender")
PANCAKE = load_artifact("ReviewPancakeFlashPool")
TEST_ERC20 = load_artifact("TestERC20")

# WETH -> X at 2000 X per WETH in pool A, X -> WETH at 1990 X per WETH in pool B: +0.5025% per cycle
RATE_A, RATE_B = 2000, 1990


def err(data: bytes) -> tuple[str, tuple]:
    e = decode_arb_error(data)
    assert e is not None, f"undecodable revert 0x{data.hex()}"
    return e.name, e.args


def cycle_outs(amount_in: int, rate_a: int = RATE_A, rate_b: int = RATE_B) -> tuple[int, int]:
    mid = amount_in * rate_a
    return mid, mid // rate_b


@dataclass(frozen=True)
class FixedCycle:
    weth: str
    token: str  # the middle token X
    pool_a: str  # token0 WETH, token1 X: WETH -> X (zeroForOne)
    pool_b: str  # token0 WETH, token1 X: X -> WETH (oneForZero)

    def call(
        self,
        rpc: RpcClient,
        lender_kind: LenderKind,
        lender: str,
        amount_in: int,
        *,
        min_profit: int = 0,
        mins: tuple[int, int] = (1, 1),
        dry_run: bool = False,
    ) -> bytes:
        return encode_arb_call(
            ArbCall(
                lender_kind, lender, self.weth, amount_in, min_profit, block_number(rpc) + 20,
                (ArbHop(self.pool_a, HopKind.V3, True, mins[0]), ArbHop(self.pool_b, HopKind.V3, False, mins[1])),
                dry_run=dry_run,
            )
        )  # fmt: skip


def mint_x(rpc: RpcClient, token: str, to: str, amount: int, artifact=TEST_ERC20) -> None:  # type: ignore[no-untyped-def]
    assert send(rpc, OWNER, token, artifact.codec.encode_call("mint", to, amount))["status"] == "0x1"


def fixed_cycle(
    rpc: RpcClient,
    dep: Deployment,
    token: str | None = None,
    token_artifact=TEST_ERC20,  # type: ignore[no-untyped-def]
    rate_a: int = RATE_A,
    rate_b: int = RATE_B,
) -> FixedCycle:
    weth = dep.token("WETH")
    if token is None:
        token = deploy_contract(rpc, TEST_ERC20.creation_code("X token", "X", 18))
    pool_a = deploy_contract(rpc, POOL.creation_code(weth, token, rate_a, 1))
    pool_b = deploy_contract(rpc, POOL.creation_code(weth, token, rate_b, 1))
    mint_x(rpc, token, pool_a, 1_000_000 * E18, token_artifact)  # pool A pays X
    fund(rpc, dep, weth, pool_b, 100 * E18)  # pool B pays WETH
    return FixedCycle(weth, token, pool_a, pool_b)


# --- mutation testing (opt-in): tests/integration/contracts/review_mutants.py -----------------------
# With MEVBOT_REVIEW_MUTANT=<artifact json>, every review test runs against that (deliberately
# broken) executor: its runtime code replaces the deployed executor's for the test's duration.


@pytest.fixture(autouse=True)
def _executor_mutant(request: pytest.FixtureRequest) -> Iterator[None]:
    path = os.environ.get("MEVBOT_REVIEW_MUTANT")
    if not path or "market" not in request.fixturenames:
        yield
        return
    dep: Deployment = request.getfixturevalue("market")
    rpc: RpcClient = request.getfixturevalue("rpc")
    art = json.loads(Path(path).read_text())
    creation = bytes.fromhex(art["bytecode"][2:]) + abi_encode(["address"], [OWNER])
    mutant = deploy_contract(rpc, creation)
    original = rpc.call("eth_getCode", dep.executor, "latest")
    rpc.call("anvil_setCode", dep.executor, rpc.call("eth_getCode", mutant, "latest"))
    try:
        yield
    finally:
        rpc.call("anvil_setCode", dep.executor, original)
