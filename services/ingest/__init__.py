"""Ingest: every Arbitrum swap and liquidity event onto NATS, no gaps, pools detected and cached.

Modules: ``topics`` (topic0s), ``decode`` (hex -> events, pure), ``ledger`` (dedupe, order,
reorgs, pure), ``backfill`` (range planning, pure), ``classify`` (pool detection, pure),
``registry`` (detection cache + probes), ``snapshot`` (exact pool state via batches), ``outputs``
(bus + checkpoint adapters), ``engine`` (sessions, failover, backfill, reorgs), ``app`` (wiring).
"""
