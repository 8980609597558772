"""The detector's own configuration keys (read once at start; a bad value names its key)."""

from __future__ import annotations

from dataclasses import dataclass

from mevbot.chainconfig import ChainConfig
from mevbot.config import Env, env_bool, env_choice, env_int, env_list, env_wei
from mevbot.errors import ConfigError

#: ``DETECTOR_SIZING`` values (see :attr:`DetectorSettings.sizing`)
SIZING_MODES = ("fast", "full")


@dataclass(frozen=True)
class DetectorSettings:
    base_tokens: tuple[str, ...]  # priority order: a cycle starts at its first base token
    native_token: str
    max_hops: int = 3
    min_profit_wei: int = 0  # gross; the validator applies MIN_PROFIT_THRESHOLD net of costs
    heartbeat_interval_ms: int = 1000
    heartbeat_ttl_ms: int = 3500
    # evaluate this long after the inbox drained inside a block whose end marker has not come yet;
    # 0 (default) = at once: evaluate-on-drain, the latency path (a swap is evaluated as soon as
    # it is applied, not when its block ends); > 0 = wait for the BlockHead up to this long
    idle_flush_ms: int = 0
    max_coalesce_ms: int = 100  # under backlog, evaluate at least this often anyway
    replay: bool = True  # rebuild state from the retained chain stream on start
    resync_interval_ms: int = 5000  # ask ingest again for a pool still stale after this long
    # exact sizing on the hot path: "fast" = optimize_cycle's exact integer refinement without the
    # staircase polish (a local integer optimum with the exact amount of every hop, ~15x cheaper,
    # within ~1e-7 of the polished profit on real-size cycles; the validator re-sizes every
    # candidate with the full search anyway); "full" = with the polish (the pre-2026-11-24 path)
    sizing: str = "fast"

    @classmethod
    def from_env(cls, chain: ChainConfig, env: Env | None = None) -> DetectorSettings:
        base = tuple(a.lower() for a in env_list("DETECTOR_BASE_TOKENS", tuple(chain.base_tokens), env=env))
        for token in base:
            if not (token.startswith("0x") and len(token) == 42):
                raise ConfigError("DETECTOR_BASE_TOKENS", f"{token!r} is not an address")
        if not base:
            raise ConfigError("DETECTOR_BASE_TOKENS", "at least one base token is required")
        interval = env_int("DETECTOR_HEARTBEAT_INTERVAL_MS", 1000, min_value=50, env=env)
        return cls(
            base_tokens=base,
            native_token=chain.wrapped_native.lower(),
            max_hops=env_int("DETECTOR_MAX_HOPS", 3, min_value=2, max_value=4, env=env),
            min_profit_wei=env_wei("DETECTOR_MIN_PROFIT_WEI", 0, env=env),
            heartbeat_interval_ms=interval,
            heartbeat_ttl_ms=env_int("DETECTOR_HEARTBEAT_TTL_MS", int(interval * 3.5), min_value=interval, env=env),
            idle_flush_ms=env_int("DETECTOR_IDLE_FLUSH_MS", 0, min_value=0, env=env),
            max_coalesce_ms=env_int("DETECTOR_MAX_COALESCE_MS", 100, min_value=0, env=env),
            replay=env_bool("DETECTOR_REPLAY", True, env=env),
            resync_interval_ms=env_int("DETECTOR_RESYNC_INTERVAL_MS", 5000, min_value=50, env=env),
            sizing=env_choice("DETECTOR_SIZING", SIZING_MODES, "fast", env=env),
        )
