"""The runbook's RPC providers YAML (``PROVIDER_CONFIG_PATH``), parsed into typed records.

Format (``${VAR}`` and ``${VAR:-default}`` are expanded from the environment before parsing; an
unset variable without a default is an error naming it)::

    providers:
      - name: "chainstack-primary"
        endpoint: "${ARBITRUM_RPC_ENDPOINT}"
        type: "https"          # http | https | ws | wss
        weight: 100
        timeout: 30s           # 250ms, 30s, 5m or a plain number of seconds
        rateLimit: 100         # requests per second
    pooling: {maxIdleConnections: 10, maxOpenConnections: 50, connectionTimeout: 30s, idleTimeout: 300s}
    retry: {maxRetries: 3, retryDelay: 1s, backoffMultiplier: 2, maxBackoff: 8s}

Without ``PROVIDER_CONFIG_PATH`` the providers come from ``ARBITRUM_RPC_ENDPOINT``,
``ARBITRUM_WS_ENDPOINT`` and ``BACKUP_RPC_ENDPOINT``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mevbot.errors import ConfigError

KEY = "PROVIDER_CONFIG_PATH"
PROVIDER_TYPES = ("http", "https", "ws", "wss")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


@dataclass(frozen=True)
class Provider:
    name: str
    endpoint: str
    type: str  # http | https | ws | wss
    weight: int = 100
    timeout_s: float = 30.0
    rate_limit_per_s: float = 100.0

    @property
    def is_websocket(self) -> bool:
        return self.type in ("ws", "wss")

    def __repr__(self) -> str:
        from mevbot.config import redact_url

        return f"Provider(name={self.name!r}, endpoint={redact_url(self.endpoint)!r}, type={self.type!r}, weight={self.weight})"


@dataclass(frozen=True)
class PoolingConfig:
    max_idle_connections: int = 10
    max_open_connections: int = 50
    connection_timeout_s: float = 30.0
    idle_timeout_s: float = 300.0


@dataclass(frozen=True)
class RetryConfig:
    max_retries: int = 3
    retry_delay_s: float = 1.0
    backoff_multiplier: float = 2.0
    max_backoff_s: float = 8.0


@dataclass(frozen=True)
class ProviderConfig:
    providers: tuple[Provider, ...] = ()
    pooling: PoolingConfig = field(default_factory=PoolingConfig)
    retry: RetryConfig = field(default_factory=RetryConfig)

    @property
    def http(self) -> tuple[Provider, ...]:
        """HTTP(S) providers, highest weight first."""
        return tuple(sorted((p for p in self.providers if not p.is_websocket), key=lambda p: -p.weight))

    @property
    def websocket(self) -> tuple[Provider, ...]:
        """WS(S) providers, highest weight first."""
        return tuple(sorted((p for p in self.providers if p.is_websocket), key=lambda p: -p.weight))

    def redacted(self) -> dict[str, Any]:
        from mevbot.config import redact_url

        return {
            "providers": [
                {"name": p.name, "endpoint": redact_url(p.endpoint), "type": p.type, "weight": p.weight,
                 "timeout_s": p.timeout_s, "rate_limit_per_s": p.rate_limit_per_s}
                for p in self.providers
            ],
            "pooling": vars(self.pooling),
            "retry": vars(self.retry),
        }


def default_providers(rpc: str | None, ws: str | None, backup: str | None) -> ProviderConfig:
    providers = []
    if rpc:
        providers.append(Provider("primary", rpc, _type_of_url("ARBITRUM_RPC_ENDPOINT", rpc), weight=100))
    if ws:
        providers.append(Provider("primary-ws", ws, _type_of_url("ARBITRUM_WS_ENDPOINT", ws), weight=90))
    if backup:
        providers.append(Provider("backup", backup, _type_of_url("BACKUP_RPC_ENDPOINT", backup), weight=50))
    return ProviderConfig(tuple(providers))


def expand_vars(text: str, env: Mapping[str, str], *, key: str = KEY) -> str:
    """Replace ``${VAR}`` / ``${VAR:-default}``; an unset ``${VAR}`` is an error naming VAR."""

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = env.get(name)
        if value is None or value == "":
            if default is None:
                raise ConfigError(key, f"references ${{{name}}}, which is not set")
            return default
        return value

    return _VAR.sub(replace, text)


def load_provider_config(path: Path, env: Mapping[str, str]) -> ProviderConfig:
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(KEY, f"cannot read {str(path)!r}: {exc.strerror}") from None
    return parse_provider_config(text, env)


def parse_provider_config(text: str, env: Mapping[str, str]) -> ProviderConfig:
    try:
        doc = yaml.safe_load(expand_vars(text, env))
    except yaml.YAMLError as exc:
        raise ConfigError(KEY, f"invalid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise ConfigError(KEY, "expected a mapping with a 'providers' list")
    items = doc.get("providers")
    if not isinstance(items, list) or not items:
        raise ConfigError(KEY, "'providers' must be a non-empty list")
    providers = tuple(_provider(i, item) for i, item in enumerate(items))
    names = [p.name for p in providers]
    if len(set(names)) != len(names):
        raise ConfigError(KEY, f"provider names must be unique, got {names}")
    return ProviderConfig(providers, _pooling(doc.get("pooling") or {}), _retry(doc.get("retry") or {}))


def _provider(index: int, item: Any) -> Provider:
    where = f"providers[{index}]"
    if not isinstance(item, dict):
        raise ConfigError(KEY, f"{where} must be a mapping")
    name = str(_required(item, "name", where))
    where = f"providers[{index}] ({name})"
    endpoint = str(_required(item, "endpoint", where))
    kind = str(item.get("type") or _type_of_url(KEY, endpoint)).lower()
    if kind not in PROVIDER_TYPES:
        raise ConfigError(KEY, f"{where}.type must be one of {', '.join(PROVIDER_TYPES)}, got {kind!r}")
    scheme = endpoint.split("://", 1)[0].lower() if "://" in endpoint else ""
    if scheme not in PROVIDER_TYPES or (scheme in ("ws", "wss")) != (kind in ("ws", "wss")):
        raise ConfigError(KEY, f"{where}.endpoint scheme {scheme or '(none)'!r} does not match type {kind!r}")
    return Provider(
        name=name,
        endpoint=endpoint,
        type=kind,
        weight=_int(item.get("weight", 100), f"{where}.weight"),
        timeout_s=parse_duration_s(item.get("timeout", "30s"), f"{where}.timeout"),
        rate_limit_per_s=_number(item.get("rateLimit", 100), f"{where}.rateLimit"),
    )


def _pooling(section: Any) -> PoolingConfig:
    if not isinstance(section, dict):
        raise ConfigError(KEY, "'pooling' must be a mapping")
    d = PoolingConfig()
    return PoolingConfig(
        max_idle_connections=_int(section.get("maxIdleConnections", d.max_idle_connections), "pooling.maxIdleConnections"),
        max_open_connections=_int(section.get("maxOpenConnections", d.max_open_connections), "pooling.maxOpenConnections"),
        connection_timeout_s=parse_duration_s(section.get("connectionTimeout", d.connection_timeout_s), "pooling.connectionTimeout"),
        idle_timeout_s=parse_duration_s(section.get("idleTimeout", d.idle_timeout_s), "pooling.idleTimeout"),
    )


def _retry(section: Any) -> RetryConfig:
    if not isinstance(section, dict):
        raise ConfigError(KEY, "'retry' must be a mapping")
    d = RetryConfig()
    return RetryConfig(
        max_retries=_int(section.get("maxRetries", d.max_retries), "retry.maxRetries"),
        retry_delay_s=parse_duration_s(section.get("retryDelay", d.retry_delay_s), "retry.retryDelay"),
        backoff_multiplier=_number(section.get("backoffMultiplier", d.backoff_multiplier), "retry.backoffMultiplier"),
        max_backoff_s=parse_duration_s(section.get("maxBackoff", d.max_backoff_s), "retry.maxBackoff"),
    )


def parse_duration_s(value: Any, where: str) -> float:
    """``250ms``, ``30s``, ``5m``, ``1h`` or a bare number of seconds."""
    if isinstance(value, bool):
        raise ConfigError(KEY, f"{where} must be a duration like 30s, got {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ConfigError(KEY, f"{where} must be a duration like 30s, got {value!r}")
        seconds = float(match.group(1)) * _UNIT_S[match.group(2)]
    if seconds < 0:
        raise ConfigError(KEY, f"{where} must not be negative")
    return seconds


def _required(item: dict[str, Any], name: str, where: str) -> Any:
    value = item.get(name)
    if value is None or value == "":
        raise ConfigError(KEY, f"{where}.{name} is required")
    return value


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ConfigError(KEY, f"{where} must be an integer, got {value!r}")
    try:
        result = int(value)
    except ValueError:
        raise ConfigError(KEY, f"{where} must be an integer, got {value!r}") from None
    if result < 0:
        raise ConfigError(KEY, f"{where} must not be negative")
    return result


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise ConfigError(KEY, f"{where} must be a number, got {value!r}")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise ConfigError(KEY, f"{where} must be a number, got {value!r}") from None
    if result < 0:
        raise ConfigError(KEY, f"{where} must not be negative")
    return result


def _type_of_url(key: str, url: str) -> str:
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in PROVIDER_TYPES:
        raise ConfigError(key, f"expected an http(s):// or ws(s):// URL, got scheme {scheme or '(none)'!r}")
    return scheme
