"""Configuration: typed readers, the shared settings, the providers YAML. Errors name the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from mevbot.config import (
    Secret,
    env_bool,
    env_int,
    env_str,
    env_wei,
    load_settings,
    parse_wei,
    redact_url,
)
from mevbot.errors import ConfigError
from mevbot.provider_config import parse_provider_config

RUNBOOK_YAML = """
providers:
  - name: "chainstack-primary"
    endpoint: "${ARBITRUM_RPC_ENDPOINT}"
    type: "https"
    weight: 100
    timeout: 30s
    rateLimit: 100
  - name: "chainstack-websocket"
    endpoint: "${ARBITRUM_WS_ENDPOINT}"
    type: "wss"
    weight: 90
    timeout: 30s
    rateLimit: 100
  - name: "public-fallback"
    endpoint: "https://arb1.arbitrum.io/rpc"
    type: "https"
    weight: 50
    timeout: 30s
    rateLimit: 50
pooling:
  maxIdleConnections: 10
  maxOpenConnections: 50
  connectionTimeout: 30s
  idleTimeout: 300s
retry:
  maxRetries: 3
  retryDelay: 1s
  backoffMultiplier: 2
  maxBackoff: 8s
"""
ENV = {
    "ARBITRUM_RPC_ENDPOINT": "https://rpc.example/KEY123",
    "ARBITRUM_WS_ENDPOINT": "wss://ws.example/KEY123",
}


def raises_naming(key: str):  # type: ignore[no-untyped-def]
    return pytest.raises(ConfigError, match=rf"^configuration {key}: ")


# --- typed readers ---------------------------------------------------------------------------


def test_missing_required_value_names_the_key() -> None:
    with raises_naming("DETECTOR_MAX_HOPS") as info:
        env_int("DETECTOR_MAX_HOPS", env={})
    assert info.value.key == "DETECTOR_MAX_HOPS" and "required" in str(info.value)
    with raises_naming("SOME_URL"):
        env_str("SOME_URL", env={"SOME_URL": "   "})  # blank counts as missing


@pytest.mark.parametrize("raw", ["12x", "1.5", "", "ten"])
def test_bad_int_names_the_key(raw: str) -> None:
    env = {"METRICS_PORT": raw}
    if raw == "":
        assert env_int("METRICS_PORT", 5, env=env) == 5
        return
    with raises_naming("METRICS_PORT"):
        env_int("METRICS_PORT", env=env)


def test_int_forms_and_ranges() -> None:
    assert env_int("X", env={"X": "0x10"}) == 16
    assert env_int("X", env={"X": "1_000"}) == 1000
    with raises_naming("X"):
        env_int("X", env={"X": "70000"}, max_value=65535)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("FALSE", False), ("1", True), ("0", False), ("yes", True), ("off", False)],
)
def test_bool_forms(raw: str, expected: bool) -> None:
    assert env_bool("EXECUTION_ENABLED", env={"EXECUTION_ENABLED": raw}) is expected


def test_bad_bool_names_the_key() -> None:
    with raises_naming("EXECUTION_ENABLED"):
        load_settings({"EXECUTION_ENABLED": "maybe"})


@pytest.mark.parametrize(
    ("raw", "wei"),
    [
        ("50000000000000000", 5 * 10**16),
        ("5e16", 5 * 10**16),
        ("0.05 ether", 5 * 10**16),
        ("0.05ether", 5 * 10**16),
        ("30 gwei", 30 * 10**9),
        ("1_000", 1000),
        (str(2**256 - 1), 2**256 - 1),
    ],
)
def test_wei_forms_are_exact(raw: str, wei: int) -> None:
    assert parse_wei(raw) == wei


@pytest.mark.parametrize("raw", ["0.5 wei", "1e-3", "abc", "1 bananas", "nan"])
def test_bad_wei_names_the_key(raw: str) -> None:
    with raises_naming("MIN_PROFIT_THRESHOLD"):
        env_wei("MIN_PROFIT_THRESHOLD", env={"MIN_PROFIT_THRESHOLD": raw})


def test_negative_wei_rejected() -> None:
    with raises_naming("MAX_POSITION_SIZE"):
        load_settings({"MAX_POSITION_SIZE": "-1"})


# --- shared settings ---------------------------------------------------------------------------


def test_defaults_are_safe() -> None:
    s = load_settings({})
    assert s.execution_enabled is False
    assert s.max_position_size_wei == 10**18 and s.min_profit_threshold_wei == 5 * 10**16
    assert s.log_format == "json" and s.metrics_enabled is True
    assert s.port_for(9102) == 9102


def test_port_precedence() -> None:
    assert load_settings({"METRICS_PORT": "9090"}).port_for(9102) == 9090
    assert load_settings({"METRICS_PORT": "9090", "HTTP_PORT": "0"}).port_for(9102) == 0


def test_bad_log_format_names_the_key() -> None:
    with raises_naming("LOG_FORMAT"):
        load_settings({"LOG_FORMAT": "xml"})


def test_encryption_key_is_never_shown() -> None:
    key = "k" * 40
    s = load_settings({"MEV_BOT_ENCRYPTION_KEY": key})
    assert isinstance(s.encryption_key, Secret) and s.encryption_key.reveal() == key
    assert key not in repr(s) and key not in str(s.redacted()) and key not in repr(s.encryption_key)


def test_short_encryption_key_rejected_without_echoing_it() -> None:
    with raises_naming("MEV_BOT_ENCRYPTION_KEY") as info:
        load_settings({"MEV_BOT_ENCRYPTION_KEY": "short-secret"})
    assert "short-secret" not in str(info.value)


def test_providers_from_endpoints_when_no_yaml() -> None:
    s = load_settings({**ENV, "BACKUP_RPC_ENDPOINT": "https://arb1.arbitrum.io/rpc"})
    assert [p.name for p in s.providers.http] == ["primary", "backup"]
    assert [p.type for p in s.providers.websocket] == ["wss"]
    assert "KEY123" not in str(s.redacted())


def test_redact_url() -> None:
    assert redact_url("redis://user:pw@host:6379/0") == "redis://user:***@host:6379/0"
    assert "abcdef0123456789abcdef" not in redact_url(
        "https://arb-mainnet.g.alchemy.com/v2/abcdef0123456789abcdef"
    )


# --- providers YAML ----------------------------------------------------------------------------


def test_runbook_yaml_parses_with_expansion() -> None:
    config = parse_provider_config(RUNBOOK_YAML, ENV)
    assert [p.name for p in config.providers] == [
        "chainstack-primary",
        "chainstack-websocket",
        "public-fallback",
    ]
    primary = config.providers[0]
    assert primary.endpoint == ENV["ARBITRUM_RPC_ENDPOINT"] and primary.type == "https"
    assert primary.timeout_s == 30.0 and primary.rate_limit_per_s == 100 and primary.weight == 100
    assert config.websocket[0].endpoint == ENV["ARBITRUM_WS_ENDPOINT"]
    assert config.pooling.idle_timeout_s == 300.0 and config.pooling.max_open_connections == 50
    assert config.retry.max_retries == 3 and config.retry.max_backoff_s == 8.0
    assert config.retry.backoff_multiplier == 2.0


def test_unset_variable_in_yaml_names_both(tmp_path: Path) -> None:
    path = tmp_path / "providers.yaml"
    path.write_text(RUNBOOK_YAML)
    with raises_naming("PROVIDER_CONFIG_PATH") as info:
        load_settings({"PROVIDER_CONFIG_PATH": str(path), "ARBITRUM_RPC_ENDPOINT": "https://x"})
    assert "ARBITRUM_WS_ENDPOINT" in str(info.value)


def test_default_in_expansion() -> None:
    text = 'providers: [{name: a, endpoint: "${NOPE:-https://fallback}", type: https}]'
    assert parse_provider_config(text, {}).providers[0].endpoint == "https://fallback"


def test_yaml_file_loaded_through_settings(tmp_path: Path) -> None:
    path = tmp_path / "providers.yaml"
    path.write_text(RUNBOOK_YAML)
    s = load_settings({**ENV, "PROVIDER_CONFIG_PATH": str(path)})
    assert len(s.providers.providers) == 3 and s.providers.http[0].name == "chainstack-primary"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("providers: [a, b", "invalid YAML"),
        ("- just a list", "mapping"),
        ("providers: []", "non-empty"),
        ("providers: [{name: a, endpoint: 'https://x', type: ftp}]", "type"),
        ("providers: [{name: a, endpoint: 'https://x', type: wss}]", "does not match"),
        ("providers: [{name: a, endpoint: 'https://x', timeout: soon}]", "timeout"),
        ("providers: [{name: a, endpoint: 'https://x', weight: -3}]", "weight"),
        ("providers: [{endpoint: 'https://x'}]", "name"),
        ("providers: [{name: a, endpoint: 'https://x'}, {name: a, endpoint: 'https://y'}]", "unique"),
        ("providers: [{name: a, endpoint: 'https://x'}]\nretry: {maxRetries: many}", "retry.maxRetries"),
    ],
)
def test_bad_yaml_names_the_key(text: str, fragment: str) -> None:
    with raises_naming("PROVIDER_CONFIG_PATH") as info:
        parse_provider_config(text, {})
    assert fragment in str(info.value)


def test_missing_provider_file_names_the_key(tmp_path: Path) -> None:
    with raises_naming("PROVIDER_CONFIG_PATH"):
        load_settings({"PROVIDER_CONFIG_PATH": str(tmp_path / "nope.yaml")})


def test_bad_namespace_names_the_key() -> None:
    with raises_naming("MEV_NAMESPACE"):
        load_settings({"MEV_NAMESPACE": "a.b"})


def test_settings_repr_hides_rpc_keys_and_secrets() -> None:
    s = load_settings({**ENV, "MEV_BOT_ENCRYPTION_KEY": "s" * 32})
    assert "KEY123" not in repr(s) and "s" * 32 not in repr(s)


@pytest.mark.parametrize(("key", "value"), [("NATS_URL", "localhost:4222"), ("NATS_URL", "http://x:4222"),
                                            ("REDIS_URL", "nats://127.0.0.1:6379")])
def test_bad_server_urls_name_the_key(key: str, value: str) -> None:
    with raises_naming(key):
        load_settings({key: value})


def test_nats_server_list_accepted() -> None:
    assert load_settings({"NATS_URL": "nats://a:4222,nats://b:4222"}).nats_url == "nats://a:4222,nats://b:4222"
