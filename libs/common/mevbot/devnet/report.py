"""The devnet's end-of-run report: injected vs captured dislocations, realized vs predicted profit
per trade, reverted transactions, pipeline counters and per-stage latencies. JSON + a summary.

Captured = a successful bot transaction through the dislocated pool, mined after it (read from the
chain by :class:`ChainWatcher`). Realized profit = the contract's ``Arbitrage`` log. Predicted =
the validator's ``ExecutionPlan.expected_profit`` of the plan the executor sent (joined through
``ExecutionResult.tx_hash``).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from mevbot.devnet.chainwatch import BotTx
from mevbot.devnet.market import Dislocation, MarketStats
from mevbot.devnet.oracle import MarketBook
from mevbot.devnet.tap import PipelineStats


def _category(d: Dislocation) -> dict[str, Any]:
    e = d.expected
    if e is None:
        return {"hops": None, "mix": None}
    kinds = set(e.kinds)
    mix = "v2+v3" if kinds == {"uniswap_v2", "uniswap_v3"} else ("v2" if kinds == {"uniswap_v2"} else "v3")
    return {"hops": e.hops, "mix": mix}


def build_report(*, options: dict[str, Any], market: MarketStats, txs: list[BotTx], pipeline: PipelineStats,
                 book: MarketBook, bot_address: str, bot_nonce_start: int, bot_nonce_end: int,
                 blocks: dict[str, int], services: dict[str, Any]) -> dict[str, Any]:
    dislocations = []
    for d in market.dislocations:
        e = d.expected
        dislocations.append({
            "index": d.index, "pool": d.pool, "pool_label": d.pool_label, "pool_kind": d.pool_kind,
            "move_pct": d.move_pct, "tx_hash": d.tx_hash, "block": d.block_number,
            "above_threshold": d.above_threshold, **_category(d),
            "expected_best": None if e is None else {
                "pools": [book.pools[p].label for p in e.pools], "start_token": book.sym(e.start_token),
                "amount_in": e.amount_in, "profit": e.profit, "profit_wei": e.profit_wei},
            "captured": bool(d.capture_txs), "capture_txs": d.capture_txs, "first_capture_block": d.first_capture_block,
            "blocks_to_capture": None if d.first_capture_block is None else d.first_capture_block - d.block_number,
            "seconds_to_capture": d.first_capture_s,
        })
    trades = []
    for tx in txs:
        result = pipeline.result_for_tx(tx.tx_hash)
        plan = pipeline.plans.get(result.plan_id) if result is not None else None
        predicted = plan.expected_profit if plan is not None else (result.predicted_profit if result else None)
        trades.append({
            "tx_hash": tx.tx_hash, "block": tx.block_number, "nonce": tx.nonce, "status": "success" if tx.status else "reverted",
            "pools": [book.pools[p].label if p in book.pools else p for p in tx.pools],
            "token": book.sym(tx.token) if tx.token else "", "amount_in": tx.amount_in,
            "token_decimals": book.decimals.get(tx.token, 18) if tx.token else 18,
            "predicted_profit": predicted, "realized_profit": tx.realized_profit,
            "realized_profit_wei": book.to_wei(tx.token, tx.realized_profit) if tx.token and tx.realized_profit else 0,
            "exact": predicted is not None and tx.realized_profit == predicted,
            "gas_used": tx.gas_used, "fee_paid_wei": tx.fee_paid_wei,
            "plan_id": plan.plan_id if plan else None,
        })
    above = [x for x in dislocations if x["above_threshold"]]
    captured = [x for x in above if x["captured"]]

    def cat_counts(items: list[dict[str, Any]]) -> dict[str, int]:
        out: dict[str, int] = {}
        for x in items:
            for key in (f"{x['hops']}-hop", x["mix"]):
                out[str(key)] = out.get(str(key), 0) + 1
        return out

    succeeded = [t for t in trades if t["status"] == "success"]
    summary = {
        "dislocations_injected": len(dislocations),
        "dislocations_above_threshold": len(above),
        "dislocations_captured": len(captured),
        "capture_rate": round(len(captured) / len(above), 4) if above else None,
        "above_threshold_by_category": cat_counts(above),
        "captured_by_category": cat_counts(captured),
        "bot_transactions": len(trades),
        "bot_nonce_delta": bot_nonce_end - bot_nonce_start,
        "successful_trades": len(succeeded),
        "reverted_transactions": sum(1 for t in trades if t["status"] == "reverted"),
        "trades_realized_equals_predicted": sum(1 for t in succeeded if t["exact"]),
        "trades_without_prediction": sum(1 for t in succeeded if t["predicted_profit"] is None),
        "realized_profit_wei_total": sum(t["realized_profit_wei"] for t in succeeded),
        "expected_best_profit_wei_total": sum(x["expected_best"]["profit_wei"] for x in above if x["expected_best"]),
        "gas_fees_paid_wei": sum(t["fee_paid_wei"] for t in trades),
        "noise_swaps": market.noise_swaps,
        "market_ran_s": market.ran_s,
        "market_errors": market.errors,
    }
    return {
        "options": options, "blocks": blocks, "bot_address": bot_address, "summary": summary,
        "pipeline": {
            "events": pipeline.events, "events_by_type": dict(pipeline.events_by_type), "snapshots": pipeline.snapshots,
            "block_heads": pipeline.blocks, "candidates": pipeline.candidates, "plans": len(pipeline.plans),
            "rejections": dict(pipeline.rejections), "execution_statuses": dict(pipeline.statuses),
            "dead_letters": dict(pipeline.dead_letters), "pools_rejected": pipeline.pools_rejected,
            "latency_from_log_received": pipeline.latency_summary(),
        },
        "services": services, "dislocations": dislocations, "trades": trades,
    }


def write_report(report: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(report, indent=1, default=_default) + "\n")
    return path


def _default(o: Any) -> Any:
    if hasattr(o, "__dataclass_fields__"):
        return asdict(o)
    return str(o)


def eth(wei: int | None) -> str:
    return "-" if wei is None else f"{wei / 1e18:.6f}"


def _units(amount: int | None, decimals: int) -> str:
    return "-" if amount is None else f"{amount / 10**decimals:.6g}"


def print_summary(report: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    s = report["summary"]
    p = report["pipeline"]
    console.rule("[bold]mevbot devnet report")
    rate = "-" if s["capture_rate"] is None else f"{100 * s['capture_rate']:.1f}%"
    console.print(f"dislocations injected {s['dislocations_injected']}, above threshold "
                  f"{s['dislocations_above_threshold']} {s['above_threshold_by_category']}; captured on chain "
                  f"{s['dislocations_captured']} ({rate}) {s['captured_by_category']}")
    console.print(f"bot transactions {s['bot_transactions']}: {s['successful_trades']} succeeded, "
                  f"{s['reverted_transactions']} reverted; realized == predicted for "
                  f"{s['trades_realized_equals_predicted']}/{s['successful_trades']}")
    console.print(f"realized profit {eth(s['realized_profit_wei_total'])} ETH-equivalent "
                  f"(best possible per dislocation, summed: {eth(s['expected_best_profit_wei_total'])}); "
                  f"gas paid {eth(s['gas_fees_paid_wei'])} ETH")
    console.print(f"pipeline: {p['events']} events, {p['candidates']} candidates, {p['plans']} plans, "
                  f"rejections {p['rejections']}, executions {p['execution_statuses']}, dead letters {p['dead_letters']}")
    lat = Table(title="latency from log received (ms)", show_edge=False)
    for col in ("stage", "n", "p50", "p90", "p99", "max"):
        lat.add_column(col, justify="right")
    for stage, v in p["latency_from_log_received"].items():
        lat.add_row(stage, str(v["n"]), *(str(v[k]) if v[k] is not None else "-" for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms")))
    console.print(lat)
    trades = Table(title=f"last trades of {len(report['trades'])} (profit in the loan token)", show_edge=False)
    for col in ("block", "status", "path", "predicted", "realized", "exact"):
        trades.add_column(col)
    for t in report["trades"][-15:]:
        dec = t.get("token_decimals", 18)
        path = " > ".join(p.removeprefix("V3 ").removeprefix("V2 ") + (" v2" if p.startswith("V2") else "")
                          for p in t["pools"])
        trades.add_row(str(t["block"]), t["status"], path, _units(t["predicted_profit"], dec),
                       f"{_units(t['realized_profit'], dec)} {t['token']}", "yes" if t["exact"] else "NO")
    console.print(trades)
    missed = [d for d in report["dislocations"] if d["above_threshold"] and not d["captured"]]
    for d in missed:
        console.print(f"[yellow]missed[/] #{d['index']} {d['pool_label']} move {d['move_pct']}% "
                      f"best {d['hops']}-hop {eth(d['expected_best']['profit_wei'] if d['expected_best'] else None)} ETH")
