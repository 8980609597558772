import pytest
from mevbot.errors import ConfigError

from services.executor.settings import load_executor_settings


def test_defaults_are_safe():
    s = load_executor_settings({})
    assert s.gas_source == "plan" and s.v2_exact and s.keys_per_replica == 1
    assert s.fee_policy.priority_share_bps == 1_000 and s.fee_policy.max_priority_fee_wei == 2 * 10**9
    assert s.max_plan_age_ms == 2_000 and s.key_addresses == () and s.send_endpoints == ()


def test_values_are_parsed_with_units():
    s = load_executor_settings({
        "EXECUTOR_KEYS": "0xAB, 0xCD", "EXECUTOR_MAX_PRIORITY_FEE": "0.5 gwei", "EXECUTOR_GAS_SOURCE": "estimate",
        "EXECUTOR_SEND_ENDPOINTS": "https://a.example/rpc,https://b.example/rpc", "EXECUTOR_PRIORITY_SHARE_BPS": "2500",
    })  # fmt: skip
    assert s.key_addresses == ("0xab", "0xcd") and s.fee_policy.max_priority_fee_wei == 5 * 10**8
    assert s.gas_source == "estimate" and len(s.send_endpoints) == 2 and s.fee_policy.priority_share_bps == 2_500


@pytest.mark.parametrize(("key", "value"), [
    ("EXECUTOR_PRIORITY_SHARE_BPS", "9500"),  # never bid away (almost) the whole profit
    ("EXECUTOR_GAS_SOURCE", "guess"),
    ("EXECUTOR_LEASE_TTL_MS", "10"),
    ("EXECUTOR_V2_EXACT", "maybe"),
])  # fmt: skip
def test_bad_values_name_their_key(key, value):
    with pytest.raises(ConfigError) as exc:
        load_executor_settings({key: value})
    assert exc.value.key == key
