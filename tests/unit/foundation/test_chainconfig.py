"""Chain configuration: packaged Arbitrum defaults match the shared data; files override them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from mevbot.chainconfig import default_chain_config, load_chain_config, parse_chain_config, to_json
from mevbot.errors import ConfigError
from mevbot.messages import FlashSourceKind, PoolKind

from tests.shared_data import ARBITRUM_DATA

SHARED = ARBITRUM_DATA


def test_arbitrum_defaults() -> None:
    c = default_chain_config()
    assert c.chain_id == 42161
    assert c.wrapped_native == "0x82af49447d8a07e3bd95bd0d56f35241523fbab1"
    assert c.decimals("0xaf88d065e77c8cC2239327C5EDb3A432268e5831") == 6  # native USDC, any case
    uni = c.dex("uniswap_v3")
    assert uni.kind is PoolKind.UNISWAP_V3 and uni.fee_tiers == {100: 1, 500: 10, 3000: 60, 10000: 200}
    assert uni.init_code_hash == "0xe34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54"
    algebra = c.dex("camelot_v3")
    assert (
        algebra.kind is PoolKind.ALGEBRA
        and algebra.create2_deployer == "0x6dd3fb9653b10e806650f107c3b5a0a6ff974f65"
    )
    assert c.dex("pancakeswap_v3").fee_tiers[2500] == 50
    assert c.dex_by_factory("0xf1D7CC64Fb4452F05c498126312eBE29f30Fbcf9").name == "uniswap_v2"
    assert c.flash_source(FlashSourceKind.BALANCER_V2).fee_pips == 0
    assert c.flash_source(FlashSourceKind.AAVE_V3).fee_pips == 500
    assert set(c.base_tokens) <= {t.address for t in c.tokens}


@pytest.mark.skipif(not SHARED.exists(), reason="shared reference data not on this machine")
def test_defaults_copy_the_shared_registry_exactly() -> None:
    c = default_chain_config()
    registry = json.loads((SHARED / "arbitrum_dex_registry.json").read_text())
    pairs = {(d["factory"].lower(), d["init_code_hash"].lower()) for d in registry["dexes"]}
    assert {(d.factory, d.init_code_hash) for d in c.dexes} == pairs
    with (SHARED / "arbitrum_tokens_with_decimals.csv").open() as fh:
        for row in csv.DictReader(fh):
            assert c.decimals(row["address"]) == int(row["decimals"])


def test_round_trip_through_a_yaml_file(tmp_path: Path) -> None:
    c = default_chain_config()
    path = tmp_path / "chain.json"
    path.write_bytes(to_json(c))
    assert load_chain_config(path) == c


def test_local_chain_config_from_yaml(tmp_path: Path) -> None:
    weth, usdc, factory = "0x" + "aa" * 20, "0x" + "bb" * 20, "0x" + "cc" * 20
    path = tmp_path / "devnet.yaml"
    path.write_text(f"""
chain_id: 31337
name: devnet
wrapped_native: "{weth.upper().replace("0X", "0x")}"
multicall3: "0x{"dd" * 20}"
dexes:
  - {{name: uniswap_v2, kind: uniswap_v2, factory: "{factory}", init_code_hash: "0x{"11" * 32}", fee_pips: 3000}}
base_tokens: ["{weth}"]
tokens:
  - {{address: "{weth}", symbol: WETH, decimals: 18}}
  - {{address: "{usdc}", symbol: USDC, decimals: 6}}
""")
    c = load_chain_config(path)
    assert c.chain_id == 31337 and c.wrapped_native == weth and c.dexes[0].fee_pips == 3000


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda d: d.update(wrapped_native="0x123"), "wrapped_native"),
        (lambda d: d["dexes"][0].update(init_code_hash="0xdead"), "init_code_hash"),
        (lambda d: d["dexes"][0].update(kind="balancer"), "kind"),
        (lambda d: d.update(base_tokens=["0x" + "ee" * 20]), "base token"),
        (lambda d: d.pop("chain_id"), "chain_id"),
        (lambda d: d["dexes"].append(dict(d["dexes"][0])), "unique"),
    ],
)
def test_bad_chain_config_names_the_key(mutate, fragment) -> None:  # type: ignore[no-untyped-def]
    raw = json.loads(to_json(default_chain_config()))
    mutate(raw)
    with pytest.raises(ConfigError, match="CHAIN_CONFIG_PATH") as info:
        parse_chain_config(raw)
    assert fragment in str(info.value)


def test_unreadable_file_names_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "chain.yaml"
    bad.write_text("chain_id: [1, 2")
    with pytest.raises(ConfigError, match="CHAIN_CONFIG_PATH"):
        load_chain_config(bad)
    with pytest.raises(ConfigError, match="CHAIN_CONFIG_PATH"):
        load_chain_config(tmp_path / "missing.json")
