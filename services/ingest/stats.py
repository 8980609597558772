"""Ingest's own metrics (``mev_ingest_*``); the shared ones live in :mod:`mevbot.metrics`."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

LOGS = Counter("mev_ingest_logs", "Logs handled by outcome (published, duplicate, not_pool, dead_letter, creation, "
               "buffered)", ["outcome"])
BLOCKS = Counter("mev_ingest_blocks", "Blocks completed (end marker published)", ["source"])
SESSIONS = Counter("mev_ingest_sessions", "Websocket sessions ended, by provider and reason", ["provider", "reason"])
FAILOVERS = Counter("mev_ingest_failovers", "Switches to another websocket provider")
BACKFILL_LOGS_CALLS = Counter("mev_ingest_backfill_get_logs", "eth_getLogs range calls, by outcome", ["outcome"])
REORGS = Counter("mev_ingest_reorgs", "Reorgs handled (blocks rolled back)")
REVERSALS = Counter("mev_ingest_reversals", "Events re-published as reversals (removed=True)")
OUT_OF_ORDER = Counter("mev_ingest_out_of_order", "Logs of a block published after a later log of the same block")
POOL_PROBES = Counter("mev_ingest_pool_probes", "Emitters probed over RPC (cache misses)")
POOLS = Gauge("mev_ingest_pools", "Emitters known to this replica", ["state"])
SNAPSHOTS = Counter("mev_ingest_snapshots", "Pool snapshots published, by reason", ["reason"])
LAST_BLOCK = Gauge("mev_ingest_last_block", "Last completed block number")
RESYNC = Counter("mev_ingest_resync_pools", "Pools of resync requests by outcome (queued, served, ignored, "
                 "failed, duplicate)", ["outcome"])
