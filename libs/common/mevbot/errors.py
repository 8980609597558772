"""The one error tree of mevbot.

Every error the project raises derives from :class:`MevbotError`. Adapters translate library
errors (nats, redis, web3, websockets, httpx) into these classes at the boundary, so handlers and
the pure cores only ever see this tree. Each class names one rule; messages carry the offending
values (never a key or a secret).
"""

from __future__ import annotations


class MevbotError(Exception):
    """Base of every error raised by mevbot."""

    #: Short machine-readable code, used as a metric label and in dead-letter messages.
    code: str = "error"


# --- configuration -----------------------------------------------------------------------------


class ConfigError(MevbotError):
    """A configuration value is missing or invalid. The message names the key."""

    code = "config"

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"configuration {key}: {problem}")


# --- wire / messages ---------------------------------------------------------------------------


class WireError(MevbotError):
    """A message could not be encoded or decoded, or has an unsupported schema version."""

    code = "wire"


class SchemaVersionError(WireError):
    code = "schema_version"


# --- transports and infrastructure -------------------------------------------------------------


class TransportError(MevbotError):
    """NATS, Redis or HTTP transport failed (translated from the library's exception)."""

    code = "transport"


class BusError(TransportError):
    code = "bus"


class CacheError(TransportError):
    code = "cache"


# --- chain access ------------------------------------------------------------------------------


class ChainError(MevbotError):
    """The chain or an RPC provider misbehaved."""

    code = "chain"


class RpcError(ChainError):
    """A JSON-RPC call failed; ``rpc_code`` is the provider's error code when there is one."""

    code = "rpc"

    def __init__(self, message: str, *, rpc_code: int | None = None, provider: str | None = None) -> None:
        self.rpc_code = rpc_code
        self.provider = provider
        super().__init__(message)


class RateLimitedError(RpcError):
    code = "rate_limited"


class ProviderStalledError(RpcError):
    code = "provider_stalled"


class ContractError(ChainError):
    """A contract call reverted or returned something that cannot be decoded."""

    code = "contract"


# --- domain ------------------------------------------------------------------------------------


class DecodeError(MevbotError):
    """A log or payload is malformed (short data, wrong topic count, out-of-range value)."""

    code = "decode"


class PoolDetectionError(MevbotError):
    """An emitter could not be identified as an allowed pool."""

    code = "pool_detection"


class AmmError(MevbotError):
    """AMM math failed a rule the pool contract enforces (the contract would revert)."""

    code = "amm"


class StateError(MevbotError):
    """Pool state is incomplete, stale or inconsistent (sequence gap, unknown pool, reorg too deep)."""

    code = "state"


class ValidationError(MevbotError):
    """A candidate or plan failed a validation rule."""

    code = "validation"


class SafetyError(MevbotError):
    """A money-safety rule refused an action (position too big, profit too small, execution disabled)."""

    code = "safety"


class ExecutionError(MevbotError):
    """Signing, sending or tracking a transaction failed."""

    code = "execution"


class KeystoreError(MevbotError):
    """The encrypted keystore could not be read or written. Never carries key material."""

    code = "keystore"
