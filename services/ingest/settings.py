"""Ingest's own configuration keys (the shared ones are in :mod:`mevbot.config`)."""

from __future__ import annotations

from dataclasses import dataclass

from mevbot.config import Env, env_bool, env_int, env_list
from mevbot.errors import ConfigError


@dataclass(frozen=True)
class IngestSettings:
    pools: tuple[str, ...] = ()  # pools to snapshot at start
    start_block: int | None = None  # first run without a checkpoint: start after this block (default: head)
    discover_from_block: int | None = None  # scan factory creation logs from here at start
    reset_checkpoint: bool = False
    get_logs_max_blocks: int = 2000
    stall_timeout_ms: int = 5000
    ping_interval_ms: int = 5000
    negative_ttl_s: int = 3600
    checkpoint_interval_ms: int = 250
    reorg_window_blocks: int = 256
    failover_backoff_ms: int = 200
    primary_retry_ms: int = 60_000  # on a backup websocket provider: try the preferred one again after this

    @classmethod
    def from_env(cls, env: Env | None = None) -> IngestSettings:
        pools = tuple(p.lower() for p in env_list("INGEST_POOLS", env=env))
        for p in pools:
            if len(p) != 42 or not p.startswith("0x"):
                raise ConfigError("INGEST_POOLS", f"{p!r} is not an address")
        start = env_int("INGEST_START_BLOCK", -1, min_value=-1, env=env)
        discover = env_int("INGEST_DISCOVER_FROM_BLOCK", -1, min_value=-1, env=env)
        return cls(
            pools=pools,
            start_block=None if start < 0 else start,
            discover_from_block=None if discover < 0 else discover,
            reset_checkpoint=env_bool("INGEST_RESET_CHECKPOINT", False, env=env),
            get_logs_max_blocks=env_int("INGEST_GETLOGS_MAX_BLOCKS", 2000, min_value=1, env=env),
            stall_timeout_ms=env_int("INGEST_STALL_TIMEOUT_MS", 5000, min_value=50, env=env),
            ping_interval_ms=env_int("INGEST_PING_INTERVAL_MS", 5000, min_value=50, env=env),
            negative_ttl_s=env_int("INGEST_NEGATIVE_CACHE_TTL_S", 3600, min_value=1, env=env),
            checkpoint_interval_ms=env_int("INGEST_CHECKPOINT_INTERVAL_MS", 250, min_value=10, env=env),
            reorg_window_blocks=env_int("INGEST_REORG_WINDOW_BLOCKS", 256, min_value=2, env=env),
            failover_backoff_ms=env_int("INGEST_FAILOVER_BACKOFF_MS", 200, min_value=0, env=env),
            primary_retry_ms=env_int("INGEST_PRIMARY_RETRY_MS", 60_000, min_value=100, env=env),
        )
