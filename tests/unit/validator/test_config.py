"""Validator configuration: documented defaults, per-threshold overrides, the runbook's global
limits tightening the profile, errors naming the key, the executor's identity as it finds it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mevbot.config import load_settings
from mevbot.errors import ConfigError

from services.validator.config import load_validator_config
from services.validator.profiles import PROFILES, RiskCategory
from tests.unit.validator.helpers import WETH

NO_FILE = {"EXECUTOR_CONTRACT_FILE": "/nonexistent/executor.json"}


def load(**env: str):
    env = {**NO_FILE, **env}
    return load_validator_config(load_settings(env=env), WETH, env=env)


def test_defaults() -> None:
    cfg = load(MIN_PROFIT_THRESHOLD="0", MAX_POSITION_SIZE="1000 ether")
    assert cfg.core.profile == PROFILES["default"]
    assert (cfg.core.max_state_age_blocks, cfg.core.deadline_blocks, cfg.simulate) == (2, 8, True)
    assert cfg.executor_contract is None and cfg.sender is None


def test_runbook_defaults_tighten_the_profile() -> None:
    p = load().core.profile  # MIN_PROFIT_THRESHOLD 0.05 ETH, MAX_POSITION_SIZE 1 ETH by default
    assert (p.min_net_profit_wei, p.max_position_wei) == (5 * 10**16, 10**18)


def test_overrides() -> None:
    p = load(VALIDATOR_PROFILE="Conservative", VALIDATOR_MAX_HOP_IMPACT_BPS="12", VALIDATOR_MAX_PATH_IMPACT_BPS="20",
             VALIDATOR_MAX_TICKS_CROSSED="7", VALIDATOR_MIN_NET_PROFIT_WEI="0.002 ether",
             VALIDATOR_ACCEPTED_CATEGORIES="high", MIN_PROFIT_THRESHOLD="0").core.profile
    assert (p.name, p.max_hop_impact_ppm, p.max_path_impact_ppm, p.max_ticks_crossed) == ("conservative", 1200, 2000, 7)
    assert p.min_net_profit_wei == 2 * 10**15
    assert RiskCategory.HIGH in p.accepted and RiskCategory.EXTREME not in p.accepted


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("VALIDATOR_PROFILE", "yolo"),
        ("VALIDATOR_MAX_HOP_IMPACT_BPS", "-1"),
        ("VALIDATOR_ACCEPTED_CATEGORIES", "catastrophic"),
        ("VALIDATOR_MIN_NET_PROFIT_WEI", "0.5 wei"),
        ("EXECUTOR_CONTRACT_ADDRESS", "0x1234"),
        ("VALIDATOR_HOP_SLIPPAGE_BPS", "20000"),
    ],
)
def test_bad_values_name_the_key(key: str, value: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(**{key: value})
    assert key in str(err.value)


def test_executor_identity_from_keys_and_the_deploy_record(tmp_path: Path) -> None:
    contract, owner, allowed = "0x" + "ab" * 20, "0x" + "cd" * 20, "0x" + "ef" * 20
    record = tmp_path / "executor.json"
    record.write_text(json.dumps({"chain_id": 42161, "address": contract, "owner": owner, "tx_hash": "0x",
                                  "block_number": 1, "allowed": [allowed]}))
    cfg = load(EXECUTOR_CONTRACT_FILE=str(record))
    assert (cfg.executor_contract, cfg.sender) == (contract, allowed)
    key = "0x" + "12" * 20
    cfg = load(EXECUTOR_CONTRACT_FILE=str(record), EXECUTOR_KEYS=f"{key},0x{'34' * 20}")
    assert cfg.sender == key
