"""Typed settings, read once from the environment (the runbook's names are the interface).

Two layers:

* small typed readers (:func:`env_str`, :func:`env_int`, :func:`env_bool`, :func:`env_wei`, ...)
  that every service uses for its own keys. A missing or bad value raises
  :class:`~mevbot.errors.ConfigError` naming the key, and the runtime stops start-up with it.
* :class:`Settings`, the shared keys every service understands, built by :func:`load_settings`.

Every key read anywhere in the code must appear in the README's configuration table (a test scans
the sources for ``env_*("KEY"`` calls and checks both directions).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation, localcontext
from pathlib import Path
from typing import TypeVar

from mevbot.errors import ConfigError
from mevbot.provider_config import ProviderConfig, default_providers, load_provider_config

Env = Mapping[str, str]
T = TypeVar("T")

_MISSING = object()
_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f", ""}
# Units accepted by env_wei, as powers of ten of one wei.
_WEI_UNITS = {"wei": 0, "kwei": 3, "mwei": 6, "gwei": 9, "szabo": 12, "finney": 15, "eth": 18, "ether": 18}


class Secret:
    """A secret string whose repr/str never shows the value. Call :meth:`reveal` to use it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


# --- typed readers -----------------------------------------------------------------------------


def _raw(env: Env | None, key: str) -> str | None:
    value = (os.environ if env is None else env).get(key)
    if value is None:
        return None
    value = value.strip()
    return value if value != "" else None


def _present(env: Env | None, key: str, default: object) -> str | None:
    """The key's value, or None when it is unset and has a default; unset and required raises."""
    value = _raw(env, key)
    if value is None and default is _MISSING:
        raise ConfigError(key, "is required but not set")
    return value


def env_str(key: str, default: str | None | object = _MISSING, *, env: Env | None = None) -> str:
    """A string; without ``default`` the key is required. An empty value counts as missing."""
    value = _present(env, key, default)
    return default if value is None else value  # type: ignore[return-value]


def env_opt_str(key: str, *, env: Env | None = None) -> str | None:
    return _raw(env, key)


def env_int(
    key: str,
    default: int | object = _MISSING,
    *,
    min_value: int | None = None,
    max_value: int | None = None,
    env: Env | None = None,
) -> int:
    """An integer (decimal, ``0x`` hex or with ``_`` separators), optionally range-checked."""
    value = _present(env, key, default)
    if value is None:
        result = int(default)  # type: ignore[call-overload]
    else:
        try:
            result = int(value, 0) if value.lower().startswith(("0x", "-0x")) else int(value.replace("_", ""))
        except ValueError:
            raise ConfigError(key, f"expected an integer, got {value!r}") from None
    _check_range(key, result, min_value, max_value)
    return result


def env_float(
    key: str,
    default: float | object = _MISSING,
    *,
    min_value: float | None = None,
    max_value: float | None = None,
    env: Env | None = None,
) -> float:
    value = _present(env, key, default)
    if value is None:
        result = float(default)  # type: ignore[arg-type]
    else:
        try:
            result = float(value)
        except ValueError:
            raise ConfigError(key, f"expected a number, got {value!r}") from None
    _check_range(key, result, min_value, max_value)
    return result


def env_bool(key: str, default: bool | object = _MISSING, *, env: Env | None = None) -> bool:
    """``true/false``, ``1/0``, ``yes/no``, ``on/off`` (any case). Anything else is an error."""
    raw = (os.environ if env is None else env).get(key)
    if raw is None:
        if default is _MISSING:
            raise ConfigError(key, "is required but not set")
        return bool(default)
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(key, f"expected a boolean (true/false), got {raw!r}")


def env_wei(
    key: str,
    default: int | object = _MISSING,
    *,
    min_value: int | None = 0,
    env: Env | None = None,
) -> int:
    """An amount in wei: ``50000000000000000``, ``5e16``, ``0.05 ether``, ``30 gwei``.

    Parsed with :class:`~decimal.Decimal`, never float: the result is exact or an error.
    """
    value = _present(env, key, default)
    if value is None:
        result = int(default)  # type: ignore[call-overload]
    else:
        result = parse_wei(value, key=key)
    _check_range(key, result, min_value, None)
    return result


def parse_wei(text: str, *, key: str = "amount") -> int:
    parts = text.replace("_", "").split()
    if len(parts) == 1:
        number, exponent = parts[0], 0
        for unit, power in _WEI_UNITS.items():
            if number.lower().endswith(unit) and not number[: -len(unit)].lower().endswith(("e", "x")):
                number, exponent = number[: -len(unit)], power
                break
    elif len(parts) == 2 and parts[1].lower() in _WEI_UNITS:
        number, exponent = parts[0], _WEI_UNITS[parts[1].lower()]
    else:
        raise ConfigError(key, f"expected an amount in wei (e.g. 50000000000000000 or '0.05 ether'), got {text!r}")
    try:
        with localcontext() as ctx:
            ctx.prec = 200  # exact for any uint256 amount in any unit
            amount = Decimal(number).scaleb(exponent)
    except InvalidOperation:
        raise ConfigError(key, f"expected an amount in wei, got {text!r}") from None
    if not amount.is_finite() or amount != amount.to_integral_value():
        raise ConfigError(key, f"{text!r} is not a whole number of wei")
    return int(amount)


def env_choice(key: str, choices: tuple[str, ...], default: str | object = _MISSING, *, env: Env | None = None) -> str:
    value = env_str(key, default, env=env).lower()
    if value not in choices:
        raise ConfigError(key, f"expected one of {', '.join(choices)}, got {value!r}")
    return value


def env_path(key: str, default: str | None | object = _MISSING, *, must_exist: bool = True, env: Env | None = None) -> Path | None:
    value = env_str(key, default, env=env)
    if value is None:
        return None
    path = Path(value).expanduser()
    if must_exist and not path.exists():
        raise ConfigError(key, f"file {str(path)!r} does not exist")
    return path


def env_list(key: str, default: tuple[str, ...] = (), *, env: Env | None = None) -> tuple[str, ...]:
    """A comma-separated list; blanks dropped."""
    value = _raw(env, key)
    if value is None:
        return default
    return tuple(item.strip() for item in value.split(",") if item.strip())


def env_cpu_list(key: str, *, env: Env | None = None) -> frozenset[int] | None:
    """CPU ids in the kernel's cpulist form (``"1"``, ``"0,2"``, ``"2-3"``, ``"0-1,4"``); None when
    unset or blank."""
    value = _raw(env, key)
    if value is None:
        return None
    cpus: set[int] = set()
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        low, sep, high = part.partition("-")
        try:
            first = int(low)
            last = int(high) if sep else first
        except ValueError:
            raise ConfigError(key, f"expected CPU ids like '1', '0,2' or '2-3', got {value!r}") from None
        if first < 0 or last < first:
            raise ConfigError(key, f"bad CPU range {part!r} in {value!r}")
        cpus.update(range(first, last + 1))
    if not cpus:
        raise ConfigError(key, f"names no CPU: {value!r}")
    return frozenset(cpus)


def env_secret(key: str, *, min_length: int = 0, env: Env | None = None) -> Secret | None:
    """A secret (``None`` when unset). Its value never appears in an error or a repr."""
    value = _raw(env, key)
    if value is None:
        return None
    if len(value) < min_length:
        raise ConfigError(key, f"must be at least {min_length} characters long (got {len(value)})")
    return Secret(value)


def _check_range(key: str, value: float, low: float | None, high: float | None) -> None:
    if low is not None and value < low:
        raise ConfigError(key, f"must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ConfigError(key, f"must be <= {high}, got {value}")


# --- shared settings -----------------------------------------------------------------------------

LOG_FORMATS = ("json", "console")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
ENCRYPTION_KEY_MIN_LENGTH = 32


@dataclass(frozen=True, repr=False)
class Settings:
    """The shared configuration every service reads (see the README's configuration table)."""

    rpc_endpoint: str | None
    ws_endpoint: str | None
    backup_rpc_endpoint: str | None
    providers: ProviderConfig
    log_level: str = "info"
    log_format: str = "json"
    log_output: str = "stdout"
    metrics_enabled: bool = True
    metrics_port: int | None = None  # runbook name for the HTTP port (health + metrics)
    http_port: int | None = None  # overrides METRICS_PORT; 0 = pick a free port
    http_host: str = "0.0.0.0"
    encryption_key: Secret | None = field(default=None, repr=False)
    execution_enabled: bool = False
    max_position_size_wei: int = 10**18
    min_profit_threshold_wei: int = 5 * 10**16
    nats_url: str = DEFAULT_NATS_URL
    namespace: str = ""  # prefixes every NATS subject, stream name and Redis key (isolation)
    redis_url: str = DEFAULT_REDIS_URL
    chain_config_path: Path | None = None
    replica_id: str | None = None
    cpu_affinity: frozenset[int] | None = None  # CPU_AFFINITY: pin the process (mevbot.runtime.cpu)
    busy_poll: bool = False  # BUSY_POLL: the event loop never blocks (mevbot.runtime.cpu)

    def port_for(self, default_port: int) -> int:
        """The HTTP port: HTTP_PORT, else METRICS_PORT, else the service's default."""
        if self.http_port is not None:
            return self.http_port
        if self.metrics_port is not None:
            return self.metrics_port
        return default_port

    def __repr__(self) -> str:
        return f"Settings({self.redacted()})"

    def redacted(self) -> dict[str, object]:
        """Every setting with secrets masked and URL passwords hidden (for ``mevbot config``)."""
        out: dict[str, object] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, Secret):
                value = "**********"
            elif isinstance(value, str):
                value = redact_url(value)
            elif isinstance(value, ProviderConfig):
                value = value.redacted()
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, frozenset):
                value = sorted(value)
            out[name] = value
        return out


def load_settings(env: Env | None = None) -> Settings:
    """Read every shared key once. Raises :class:`ConfigError` naming the first bad key."""
    rpc = env_opt_str("ARBITRUM_RPC_ENDPOINT", env=env)
    ws = env_opt_str("ARBITRUM_WS_ENDPOINT", env=env)
    backup = env_opt_str("BACKUP_RPC_ENDPOINT", env=env)
    provider_path = env_path("PROVIDER_CONFIG_PATH", None, env=env)
    providers = (
        load_provider_config(provider_path, env=os.environ if env is None else env)
        if provider_path is not None
        else default_providers(rpc, ws, backup)
    )
    http_port = _raw(env, "HTTP_PORT")
    metrics_port = _raw(env, "METRICS_PORT")
    return Settings(
        rpc_endpoint=rpc,
        ws_endpoint=ws,
        backup_rpc_endpoint=backup,
        providers=providers,
        log_level=env_choice("LOG_LEVEL", LOG_LEVELS, "info", env=env),
        log_format=env_choice("LOG_FORMAT", LOG_FORMATS, "json", env=env),
        log_output=env_str("LOG_OUTPUT", "stdout", env=env),
        metrics_enabled=env_bool("METRICS_ENABLED", True, env=env),
        metrics_port=None if metrics_port is None else env_int("METRICS_PORT", min_value=0, max_value=65535, env=env),
        http_port=None if http_port is None else env_int("HTTP_PORT", min_value=0, max_value=65535, env=env),
        http_host=env_str("HTTP_HOST", "0.0.0.0", env=env),
        encryption_key=env_secret("MEV_BOT_ENCRYPTION_KEY", min_length=ENCRYPTION_KEY_MIN_LENGTH, env=env),
        execution_enabled=env_bool("EXECUTION_ENABLED", False, env=env),
        max_position_size_wei=env_wei("MAX_POSITION_SIZE", 10**18, min_value=1, env=env),
        min_profit_threshold_wei=env_wei("MIN_PROFIT_THRESHOLD", 5 * 10**16, env=env),
        nats_url=_url("NATS_URL", env_str("NATS_URL", DEFAULT_NATS_URL, env=env), ("nats", "tls", "ws", "wss")),
        namespace=_namespace(env_str("MEV_NAMESPACE", "", env=env)),
        redis_url=_url("REDIS_URL", env_str("REDIS_URL", DEFAULT_REDIS_URL, env=env), ("redis", "rediss", "unix")),
        chain_config_path=env_path("CHAIN_CONFIG_PATH", None, env=env),
        replica_id=env_opt_str("REPLICA_ID", env=env),
        cpu_affinity=env_cpu_list("CPU_AFFINITY", env=env),
        busy_poll=env_bool("BUSY_POLL", False, env=env),
    )


def _url(key: str, value: str, schemes: tuple[str, ...]) -> str:
    """Comma-separated URLs (NATS accepts a server list), each with one of ``schemes``."""
    for url in value.split(","):
        scheme = url.strip().split("://", 1)[0].lower() if "://" in url else ""
        if scheme not in schemes:
            raise ConfigError(key, f"expected a {'/'.join(s + '://' for s in schemes)} URL, got {redact_url(url.strip())!r}")
    return value


def _namespace(value: str) -> str:
    if value and not all(c.isalnum() or c in "_-" for c in value):
        raise ConfigError("MEV_NAMESPACE", f"only letters, digits, '_' and '-' allowed, got {value!r}")
    return value


def redact_url(value: str) -> str:
    """Hide the password of ``scheme://user:password@host`` URLs and API keys in RPC paths."""
    if "://" not in value:
        return value
    scheme, rest = value.split("://", 1)
    if "@" in rest.split("/", 1)[0]:
        creds, host = rest.split("@", 1)
        user = creds.split(":", 1)[0]
        rest = f"{user}:***@{host}"
    host, _, path = rest.partition("/")
    host, _, query = host.partition("?")
    # RPC providers put the API key in the path (/v2/<key>, /<key>) or the query: hide both.
    if (path or query) and scheme in ("http", "https", "ws", "wss"):
        return f"{scheme}://{host}/***"
    return f"{scheme}://{host}" + (f"/{path}" if path else "")
