"""The executor's own configuration keys (read once at start-up; a bad value names its key).

Shared keys (``EXECUTION_ENABLED``, ``MAX_POSITION_SIZE``, ``MIN_PROFIT_THRESHOLD``,
``MEV_BOT_ENCRYPTION_KEY``, RPC providers) come from :class:`mevbot.config.Settings`.
"""

from __future__ import annotations

from dataclasses import dataclass

from mevbot.config import Env, env_bool, env_choice, env_int, env_list, env_opt_str, env_str, env_wei
from mevbot.keystore import keystore_dir

from services.executor.fees import FeePolicy


@dataclass(frozen=True)
class ExecutorSettings:
    keystore_dir: str
    key_addresses: tuple[str, ...]  # empty: every keystore in the directory
    keys_per_replica: int
    contract_address: str | None
    contract_file: str
    send_endpoints: tuple[str, ...]  # extra eth_sendRawTransaction endpoints (e.g. the sequencer)
    fee_policy: FeePolicy
    gas_source: str
    v2_exact: bool
    max_plan_age_ms: int
    receipt_timeout_s: int
    receipt_poll_ms: int
    lease_ttl_ms: int
    dedupe_ttl_s: int
    native_token: str | None
    concurrency: int
    head_poll_ms: int
    max_consecutive_reverts: int


def load_executor_settings(env: Env | None = None) -> ExecutorSettings:
    return ExecutorSettings(
        keystore_dir=str(keystore_dir(env)),  # type: ignore[arg-type]
        key_addresses=tuple(a.lower() for a in env_list("EXECUTOR_KEYS", env=env)),
        keys_per_replica=env_int("EXECUTOR_KEYS_PER_REPLICA", 1, min_value=1, env=env),
        contract_address=env_opt_str("EXECUTOR_CONTRACT_ADDRESS", env=env),
        contract_file=env_str("EXECUTOR_CONTRACT_FILE", "~/.mevbot/executor_contract.json", env=env),
        send_endpoints=env_list("EXECUTOR_SEND_ENDPOINTS", env=env),
        fee_policy=FeePolicy(
            priority_share_bps=env_int("EXECUTOR_PRIORITY_SHARE_BPS", 1_000, min_value=0, max_value=9_000, env=env),
            min_priority_fee_wei=env_wei("EXECUTOR_MIN_PRIORITY_FEE", 0, env=env),
            max_priority_fee_wei=env_wei("EXECUTOR_MAX_PRIORITY_FEE", 2 * 10**9, env=env),
            base_fee_multiplier=env_int("EXECUTOR_BASE_FEE_MULTIPLIER", 2, min_value=1, max_value=10, env=env),
            max_fee_per_gas_cap_wei=env_wei("EXECUTOR_MAX_FEE_PER_GAS", 100 * 10**9, min_value=1, env=env),
            gas_margin_bps=env_int("EXECUTOR_GAS_MARGIN_BPS", 2_000, min_value=0, max_value=20_000, env=env),
        ),
        gas_source=env_choice("EXECUTOR_GAS_SOURCE", ("plan", "estimate"), "plan", env=env),
        v2_exact=env_bool("EXECUTOR_V2_EXACT", True, env=env),
        max_plan_age_ms=env_int("EXECUTOR_MAX_PLAN_AGE_MS", 2_000, min_value=0, env=env),
        receipt_timeout_s=env_int("EXECUTOR_RECEIPT_TIMEOUT_S", 30, min_value=1, env=env),
        receipt_poll_ms=env_int("EXECUTOR_RECEIPT_POLL_MS", 50, min_value=1, env=env),
        lease_ttl_ms=env_int("EXECUTOR_LEASE_TTL_MS", 5_000, min_value=500, env=env),
        dedupe_ttl_s=env_int("EXECUTOR_DEDUPE_TTL_S", 86_400, min_value=1, env=env),
        native_token=env_opt_str("EXECUTOR_NATIVE_TOKEN", env=env),
        concurrency=env_int("EXECUTOR_CONCURRENCY", 32, min_value=1, max_value=256, env=env),
        head_poll_ms=env_int("EXECUTOR_HEAD_POLL_MS", 100, min_value=10, env=env),
        max_consecutive_reverts=env_int("EXECUTOR_MAX_CONSECUTIVE_REVERTS", 3, min_value=0, env=env),
    )
