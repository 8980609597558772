"""CREATE2 pool-address derivation reproduces real Arbitrum pools from the DEX registry."""

from __future__ import annotations

import csv
import json

import pytest
from mevbot.chain.create2 import (
    algebra_pool_address,
    create_address,
    sort_tokens,
    v2_pair_address,
    v3_pool_address,
)
from mevbot.errors import ConfigError

from tests.shared_data import ARBITRUM_DATA

DATA = ARBITRUM_DATA
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="shared Arbitrum data not present")


def _registry() -> dict[str, dict]:
    return {d["name"]: d for d in json.loads((DATA / "arbitrum_dex_registry.json").read_text())["dexes"]}


def _derive(row: dict[str, str], reg: dict[str, dict]) -> str | None:
    project, version, fee = row["project"], row["version"], row["fee"]
    t0, t1 = row["token0"], row["token1"]
    if project == "uniswap" and version == "3":
        d = reg["Uniswap V3"]
        return v3_pool_address(d["factory"], t0, t1, int(fee), d["init_code_hash"])
    if project == "sushiswap" and version == "2" and row["uni_fork_flag"] == "v3":
        d = reg["SushiSwap V3"]
        return v3_pool_address(d["factory"], t0, t1, int(fee), d["init_code_hash"])
    if project == "pancakeswap" and version == "3":
        d = reg["PancakeSwap V3"]
        return v3_pool_address(d["pool_deployer_for_create2"], t0, t1, int(fee), d["init_code_hash"])
    if project == "camelot" and version == "3":
        d = reg["Camelot V3 (Algebra 1.9, dynamic fee)"]
        return algebra_pool_address(d["pool_deployer_for_create2"], t0, t1, d["init_code_hash"])
    if project == "uniswap" and version == "2":
        d = reg["Uniswap V2"]
        return v2_pair_address(d["factory"], t0, t1, d["init_code_hash"])
    if project == "sushiswap" and version == "1":
        d = reg["SushiSwap V2"]
        return v2_pair_address(d["factory"], t0, t1, d["init_code_hash"])
    if project == "camelot" and version == "2":
        d = reg["Camelot V2"]
        return v2_pair_address(d["factory"], t0, t1, d["init_code_hash"])
    return None


def test_real_arbitrum_pools_are_reproduced() -> None:
    reg = _registry()
    rows = [
        r for r in csv.DictReader((DATA / "top_pools_over_100m.csv").open()) if r["blockchain"] == "arbitrum"
    ]
    checked = 0
    mismatched = []
    for row in rows:
        derived = _derive(row, reg)
        if derived is None:
            continue
        checked += 1
        if derived.lower() != row["pool_contract"].lower():
            mismatched.append((row["project"], row["version"], row["pool_contract"], derived))
    assert checked == 99, checked  # every V2/V3/Algebra-style pool in the list
    assert not mismatched, mismatched[:5]


def test_known_pools_by_hand() -> None:
    weth, usdc = "0x82af49447d8a07e3bd95bd0d56f35241523fbab1", "0xaf88d065e77c8cc2239327c5edb3a432268e5831"
    assert v3_pool_address("0x1F98431c8aD98523631AE4a59f267346ea31F984", usdc, weth, 500) == (
        "0xC6962004f452bE9203591991D15f6b388e09E8D0"
    )
    assert (
        create_address("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", 0)
        == "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    )
    assert sort_tokens(weth, usdc) == (weth, usdc)
    with pytest.raises(ConfigError):
        sort_tokens(weth, weth)
