#!/usr/bin/env python3
"""Generate deploy/grafana/dashboards/mevbot.json (the provisioned Grafana dashboard).

    .venv/bin/python scripts/gen_dashboard.py > deploy/grafana/dashboards/mevbot.json

Panels use only the shared metric names of ``mevbot.metrics``; a test checks that every metric
the dashboard queries exists there.
"""

from __future__ import annotations

import json
import sys

DS = {"type": "prometheus", "uid": "mevbot-prometheus"}

PANELS = [
    # title, unit, [(expr, legend)]
    ("Opportunities per second", "ops", [
        ("sum(rate(mev_opportunities_detected_total[1m]))", "detected"),
        ("sum(rate(mev_opportunities_profitable_total[1m]))", "profitable"),
    ]),
    ("Executions by status (per minute)", "short", [
        ("sum by (status) (increase(mev_executions_total[1m]))", "{{status}}"),
    ]),
    ("Realized profit (ETH, cumulative)", "none", [("sum(mev_profit_wei_total) / 1e18", "profit")]),
    ("Pool-detection cache hit rate", "percentunit", [("max by (cache) (mev_cache_hit_rate)", "{{cache}}")]),
    ("Stage latency p50 / p99", "s", [
        ("histogram_quantile(0.5, sum by (le, stage) (rate(mev_stage_latency_seconds_bucket[1m])))", "p50 {{stage}}"),
        ("histogram_quantile(0.99, sum by (le, stage) (rate(mev_stage_latency_seconds_bucket[1m])))", "p99 {{stage}}"),
    ]),
    ("Bus messages per second", "ops", [
        ("sum by (service, outcome) (rate(mev_messages_total[1m]))", "{{service}} {{outcome}}"),
    ]),
    ("Dead letters (per minute)", "short", [
        ("sum by (service, reason) (increase(mev_dead_letters_total[1m]))", "{{service}} {{reason}}"),
    ]),
    ("RPC calls per second", "ops", [
        ("sum by (provider, outcome) (rate(mev_rpc_calls_total[1m]))", "{{provider}} {{outcome}}"),
    ]),
    ("Replicas ready / NATS connected", "short", [
        ("sum by (service) (mev_service_ready)", "ready {{service}}"),
        ("sum by (service) (mev_bus_connected)", "nats {{service}}"),
    ]),
    ("NATS reconnects (per 5 min)", "short", [
        ("sum by (service) (increase(mev_bus_reconnects_total[5m]))", "{{service}}"),
    ]),
]


def panel(i: int, title: str, unit: str, targets: list[tuple[str, str]]) -> dict:
    return {
        "id": i + 1,
        "type": "timeseries",
        "title": title,
        "datasource": DS,
        "gridPos": {"h": 8, "w": 12, "x": 12 * (i % 2), "y": 8 * (i // 2)},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "targets": [
            {"refId": chr(ord("A") + j), "datasource": DS, "expr": expr, "legendFormat": legend}
            for j, (expr, legend) in enumerate(targets)
        ],
    }


def dashboard() -> dict:
    return {
        "uid": "mevbot-overview",
        "title": "mevbot overview",
        "tags": ["mevbot"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "5s",
        "time": {"from": "now-1h", "to": "now"},
        "panels": [panel(i, *spec) for i, spec in enumerate(PANELS)],
    }


if __name__ == "__main__":
    json.dump(dashboard(), sys.stdout, indent=2)
    sys.stdout.write("\n")
