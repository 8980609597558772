"""The validator's configuration, read once from the environment (documented defaults).

Profile: ``VALIDATOR_PROFILE`` = conservative | default | aggressive picks the thresholds of
``services.validator.profiles.PROFILES``; each threshold may be overridden on its own. The
runbook's ``MIN_PROFIT_THRESHOLD`` and ``MAX_POSITION_SIZE`` (wei) then tighten the profile: the
stricter of the two values applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from mevbot.config import Settings, env_bool, env_choice, env_int, env_list, env_opt_str, env_str, env_wei
from mevbot.errors import ConfigError
from mevbot.gas.l1 import DEFAULT_FALLBACK_WEI_PER_BYTE, DEFAULT_TX_OVERHEAD_BYTES, L1Fallback

from services.validator.core import CoreSettings
from services.validator.profiles import PPM_PER_BPS, PROFILES, ImpactProfile, RiskCategory, categories_up_to

Env = Mapping[str, str]


@dataclass(frozen=True)
class ValidatorConfig:
    core: CoreSettings
    l1_fallback: L1Fallback
    executor_contract: str | None  # MevbotArbExecutor address (the transaction's `to`)
    sender: str | None  # the executor's signing address (the transaction's `from`)
    simulate: bool
    v2_exact_out: bool  # encode V2 hops with exact outputs (must match the executor's encoding)
    v3_flash_lenders: int  # how many Uniswap V3 pools of the loan token to consider as lenders (0: none)
    #: where each plan is checked exactly before it is sent: "validator" (simulated here, before the
    #: plan is published) or "executor" (a simulated shape's plan goes out at once, priced on its
    #: gas bound; the executor signs it and simulates the signed transaction before sending)
    exact_check: str = "validator"
    concurrency: int = 64  # candidates in hand at once (waiting on a pool, or their simulations in flight)


def _addr(key: str, env: Env | None) -> str | None:
    value = env_opt_str(key, env=env)
    if value is None:
        return None
    value = value.lower()
    if len(value) != 42 or not value.startswith("0x"):
        raise ConfigError(key, f"expected a 0x-prefixed 20-byte address, got {value!r}")
    try:
        int(value, 16)
    except ValueError:
        raise ConfigError(key, f"expected a hex address, got {value!r}") from None
    return value


def _executor_identity(env: Env | None) -> tuple[str | None, str | None]:
    """The executor's contract and signing address, as the executor finds them: the contract from
    ``EXECUTOR_CONTRACT_ADDRESS`` or the record ``mevbot deploy-executor`` wrote
    (``EXECUTOR_CONTRACT_FILE``); the sender from ``EXECUTOR_SENDER_ADDRESS``, else the first of
    ``EXECUTOR_KEYS``, else a key the record allows (every allowed key simulates identically)."""
    contract = _addr("EXECUTOR_CONTRACT_ADDRESS", env)
    sender = _addr("EXECUTOR_SENDER_ADDRESS", env)
    keys = env_list("EXECUTOR_KEYS", env=env)
    if sender is None and keys:
        sender = keys[0].lower()
    if contract is None or sender is None:
        path = Path(env_str("EXECUTOR_CONTRACT_FILE", "~/.mevbot/executor_contract.json", env=env)).expanduser()
        if path.is_file():
            from mevbot.commands.deploy_executor import ContractRecord

            record = ContractRecord.read(path)
            contract = contract or record.address.lower()
            sender = sender or (record.allowed[0] if record.allowed else record.owner).lower()
    return contract, sender


def load_profile(settings: Settings, env: Env | None = None) -> ImpactProfile:
    name = env_choice("VALIDATOR_PROFILE", tuple(PROFILES), "default", env=env)
    base = PROFILES[name]
    worst = env_opt_str("VALIDATOR_ACCEPTED_CATEGORIES", env=env)
    accepted = base.accepted
    if worst is not None:
        try:
            accepted = categories_up_to(RiskCategory(worst.lower()))
        except ValueError:
            raise ConfigError(
                "VALIDATOR_ACCEPTED_CATEGORIES", f"expected the worst accepted category, one of "
                f"{', '.join(c.value for c in RiskCategory)}; got {worst!r}"
            ) from None
    profile = replace(
        base,
        max_hop_impact_ppm=PPM_PER_BPS * env_int(
            "VALIDATOR_MAX_HOP_IMPACT_BPS", base.max_hop_impact_ppm // PPM_PER_BPS, min_value=0, max_value=10_000, env=env),
        max_path_impact_ppm=PPM_PER_BPS * env_int(
            "VALIDATOR_MAX_PATH_IMPACT_BPS", base.max_path_impact_ppm // PPM_PER_BPS, min_value=0, max_value=10_000,
            env=env),
        max_ticks_crossed=env_int("VALIDATOR_MAX_TICKS_CROSSED", base.max_ticks_crossed, min_value=0, env=env),
        min_net_profit_wei=env_wei("VALIDATOR_MIN_NET_PROFIT_WEI", base.min_net_profit_wei, env=env),
        max_position_wei=env_wei("VALIDATOR_MAX_POSITION_WEI", base.max_position_wei, min_value=1, env=env),
        accepted=accepted,
    )
    return profile.with_global_limits(settings.min_profit_threshold_wei, settings.max_position_size_wei)


def _tokens(key: str, env: Env | None) -> frozenset[str] | None:
    items = env_list(key, env=env)
    return frozenset(t.lower() for t in items) if items else None


def load_validator_config(settings: Settings, native_token: str, env: Env | None = None) -> ValidatorConfig:
    profile = load_profile(settings, env)
    core = CoreSettings(
        profile=profile,
        native_token=native_token.lower(),
        max_state_age_blocks=env_int("VALIDATOR_MAX_STATE_AGE_BLOCKS", 2, min_value=0, env=env),
        deadline_blocks=env_int("VALIDATOR_DEADLINE_BLOCKS", 8, min_value=1, env=env),
        gas_limit_margin_bps=env_int("VALIDATOR_GAS_LIMIT_MARGIN_BPS", 5_000, min_value=0, env=env),
        hop_slippage_bps=env_int("VALIDATOR_HOP_SLIPPAGE_BPS", 0, min_value=0, max_value=10_000, env=env),
        base_fee_multiplier=env_int("VALIDATOR_BASE_FEE_MULTIPLIER", 2, min_value=1, env=env),
        priority_fee_floor_wei=env_wei("VALIDATOR_PRIORITY_FEE_WEI", 0, env=env),
        # the executor's default tip policy (EXECUTOR_PRIORITY_SHARE_BPS): priced in, never a surprise
        priority_fee_share_bps=env_int("VALIDATOR_PRIORITY_FEE_SHARE_BPS", 1_000, min_value=0, max_value=10_000, env=env),
        prescreen_gas_base=env_int("VALIDATOR_PRESCREEN_GAS_BASE", 100_000, min_value=0, env=env),
        prescreen_gas_per_hop=env_int("VALIDATOR_PRESCREEN_GAS_PER_HOP", 70_000, min_value=0, env=env),
        max_parts=env_int("VALIDATOR_MAX_SPLIT_PARTS", 3, min_value=1, max_value=8, env=env),
        gas_estimate_includes_l1=env_bool("GAS_ESTIMATE_INCLUDES_L1", True, env=env),
        allowed_tokens=_tokens("VALIDATOR_TOKEN_ALLOWLIST", env),
        denied_tokens=_tokens("VALIDATOR_TOKEN_DENYLIST", env) or frozenset(),
    )
    contract, sender = _executor_identity(env)
    return ValidatorConfig(
        core=core,
        l1_fallback=L1Fallback(
            wei_per_byte=env_wei("GAS_L1_FALLBACK_WEI_PER_BYTE", DEFAULT_FALLBACK_WEI_PER_BYTE, env=env),
            tx_overhead_bytes=env_int("GAS_L1_TX_OVERHEAD_BYTES", DEFAULT_TX_OVERHEAD_BYTES, min_value=0, env=env),
        ),
        executor_contract=contract,
        sender=sender,
        simulate=env_bool("VALIDATOR_SIMULATE", True, env=env),
        v2_exact_out=env_bool("VALIDATOR_V2_EXACT_OUT", True, env=env),
        v3_flash_lenders=env_int("VALIDATOR_V3_FLASH_LENDERS", 2, min_value=0, max_value=16, env=env),
        exact_check=env_choice("VALIDATOR_EXACT_CHECK", ("validator", "executor"), "validator", env=env),
        concurrency=env_int("VALIDATOR_CONCURRENCY", 64, min_value=1, max_value=1024, env=env),
    )
