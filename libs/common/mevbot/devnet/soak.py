"""``mevbot soak``: the runbook's 24-hour validation test on the devnet, with a generated report.

The devnet (chain, NATS/Redis, the four services, the market in rounds) runs for ``duration_s``;
every ``sample_s`` the soak records, per service, resident memory and cache hit rate (from
``/metrics``), and for the pipeline the cumulative events, candidates (opportunities), approved
plans, executions by status, rejections, dead letters, bot transactions (succeeded / reverted)
and service restarts. The report (JSON + markdown) shows the totals, memory growth per service
(first vs last tenth of the run) and the time series.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from mevbot.devnet.chainwatch import ChainWatcher
from mevbot.devnet.configfile import BASE_SYMBOLS
from mevbot.devnet.market import MarketConfig, MarketSimulator
from mevbot.devnet.options import DevnetOptions
from mevbot.devnet.report import build_report
from mevbot.devnet.run import _scrape_all, devnet_environment


def run_soak(opts: DevnetOptions, *, sample_s: float = 30.0, out_dir: Path | None = None,
             console: Console | None = None) -> dict[str, Any]:
    return asyncio.run(_soak(opts, sample_s, out_dir, console or Console()))


async def _soak(opts: DevnetOptions, sample_s: float, out_dir: Path | None, console: Console) -> dict[str, Any]:
    samples: list[dict[str, Any]] = []
    async with devnet_environment(opts, console) as dn:
        dep = dn.info.deployment
        watcher = ChainWatcher(dn.info.http_url, dn.info.bot_address, dep.executor or "", dn.first_block)
        sim = MarketSimulator(dn.info.http_url, dn.book, dn.info.traders, pool_actor=dep.pool_actor,
                              router_v2=dn.info.router_v2, watcher=watcher,
                              config=MarketConfig(seed=opts.seed, threshold_wei=opts.min_profit_threshold_wei,
                                                  base_tokens=tuple(dep.token(s).lower() for s in BASE_SYMBOLS)))
        stop = threading.Event()
        started = time.monotonic()
        thread = threading.Thread(target=sim.run, args=(stop, started + opts.duration_s), daemon=True)
        thread.start()
        console.print(f"soak: {opts.duration_s:.0f}s, sampling every {sample_s:.0f}s")
        next_sample = started
        try:
            while thread.is_alive():
                await asyncio.sleep(0.5)
                if time.monotonic() >= next_sample:
                    next_sample += sample_s
                    sample = _sample(dn, sim, watcher, started, await asyncio.to_thread(_scrape_all, dn.supervisor))
                    samples.append(sample)
                    console.print(_sample_line(sample))
        finally:
            stop.set()
            thread.join(timeout=30)
        await asyncio.sleep(2.0)
        samples.append(_sample(dn, sim, watcher, started, await asyncio.to_thread(_scrape_all, dn.supervisor)))
        with __import__("mevbot.chain.rpc", fromlist=["RpcClient"]).RpcClient(dn.info.http_url) as rpc:
            nonce_end = int(rpc.call("eth_getTransactionCount", dn.info.bot_address, "latest"), 16)
            last_block = int(rpc.call("eth_blockNumber"), 16)
        devnet_report = build_report(
            options=opts.as_dict(), market=sim.stats, txs=watcher.txs, pipeline=dn.tap.stats, book=dn.book,
            bot_address=dn.info.bot_address, bot_nonce_start=dn.bot_nonce_start, bot_nonce_end=nonce_end,
            blocks={"first": dn.first_block, "last": last_block, "seen": watcher.blocks_seen,
                    "chain_txs": watcher.chain_txs}, services=samples[-1]["services"],
        )
        restarts = {c.label: c.restarts for c in dn.supervisor.children}
        sim.close()
        watcher.close()
    report = {"duration_s": opts.duration_s, "sample_s": sample_s, "restarts": restarts,
              "memory": _memory_growth(samples), "samples": samples, "devnet": devnet_report}
    out_dir = out_dir or Path(opts.work_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "soak_report.json").write_text(json.dumps(report, indent=1, default=str) + "\n")
    (out_dir / "soak_report.md").write_text(render_markdown(report))
    console.print(render_markdown(report))
    return report


def _sample(dn: Any, sim: MarketSimulator, watcher: ChainWatcher, started: float,
            services: dict[str, dict[str, float]]) -> dict[str, Any]:
    st = dn.tap.stats
    return {
        "t_s": round(time.monotonic() - started, 1),
        "events": st.events, "snapshots": st.snapshots, "candidates": st.candidates, "plans": len(st.plans),
        "rejections": sum(st.rejections.values()), "executions": dict(st.statuses),
        "dead_letters": sum(st.dead_letters.values()),
        "dislocations": len(sim.stats.dislocations), "captured": sum(1 for d in sim.stats.above_threshold if d.capture_txs),
        "above_threshold": len(sim.stats.above_threshold),
        "bot_txs_ok": sum(1 for t in watcher.txs if t.status == 1), "bot_txs_reverted": sum(1 for t in watcher.txs if t.status == 0),
        "market_errors": len(sim.stats.errors),
        "restarts": sum(c.restarts for c in dn.supervisor.children),
        "services": services,
    }


def _sample_line(s: dict[str, Any]) -> str:
    rss = " ".join(f"{k.split('-')[0]}={v.get('rss_bytes', 0) / 2**20:.0f}MB" for k, v in s["services"].items())
    return (f"t={s['t_s']:>7.1f}s events={s['events']} candidates={s['candidates']} plans={s['plans']} "
            f"captured={s['captured']}/{s['above_threshold']} ok={s['bot_txs_ok']} reverted={s['bot_txs_reverted']} "
            f"dlq={s['dead_letters']} restarts={s['restarts']} {rss}")


def _memory_growth(samples: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    if len(samples) < 2:
        return out
    tenth = max(1, len(samples) // 10)
    for name in samples[-1]["services"]:
        def avg(part: list[dict[str, Any]], name: str = name) -> float:
            values = [s["services"].get(name, {}).get("rss_bytes") for s in part]
            values = [v for v in values if v]
            return sum(values) / len(values) / 2**20 if values else 0.0
        first, last = avg(samples[:tenth]), avg(samples[-tenth:])
        peak = max((s["services"].get(name, {}).get("rss_bytes") or 0) for s in samples) / 2**20
        out[name] = {"first_mb": round(first, 1), "last_mb": round(last, 1), "peak_mb": round(peak, 1),
                     "growth_mb": round(last - first, 1)}
    return out


def render_markdown(report: dict[str, Any]) -> str:
    d = report["devnet"]
    s = d["summary"]
    p = d["pipeline"]
    last = report["samples"][-1] if report["samples"] else {}
    lines = [
        "# Soak report (generated by `mevbot soak`)",
        "",
        (f"Duration {report['duration_s']:.0f} s planned, market ran {s.get('market_ran_s', '?')} s; sampled every {report['sample_s']:.0f} s; 2 shared cores "
         "(other engineers' jobs ran at the same time: timings are noisy)."),
        "",
        "## Totals",
        "",
        "| what | value |",
        "|---|---|",
        f"| pool events (ingest -> bus) | {p['events']} |",
        f"| opportunities (detector candidates) | {p['candidates']} |",
        f"| approved plans (validator) | {p['plans']} |",
        f"| rejections by reason | {p['rejections']} |",
        f"| executions by status | {p['execution_statuses']} |",
        (f"| dislocations injected / above threshold / captured | {s['dislocations_injected']} / "
         f"{s['dislocations_above_threshold']} / {s['dislocations_captured']} ({s['capture_rate']}) |"),
        f"| bot transactions: succeeded / reverted | {s['successful_trades']} / {s['reverted_transactions']} |",
        f"| realized == predicted | {s['trades_realized_equals_predicted']} / {s['successful_trades']} |",
        f"| realized profit (ETH-equivalent) | {s['realized_profit_wei_total'] / 1e18:.4f} |",
        (f"| errors: dead letters / market errors / service restarts | {sum(p['dead_letters'].values())} / "
         f"{len(s['market_errors'])} / {sum(report['restarts'].values())} |"),
        f"| cache hit rate (ingest, last sample) | {last.get('services', {}).get('ingest-0', {}).get('cache_hit_rate', '-')} |",
        "",
        "## Memory per service (resident, MB)",
        "",
        "| service | first tenth | last tenth | peak | growth |",
        "|---|---|---|---|---|",
    ]
    for name, mem in report["memory"].items():
        lines.append(f"| {name} | {mem['first_mb']} | {mem['last_mb']} | {mem['peak_mb']} | {mem['growth_mb']} |")
    lines += ["", "## Latency from log received (ms)", "", "| stage | n | p50 | p90 | p99 | max |", "|---|---|---|---|---|---|"]
    for stage, v in p["latency_from_log_received"].items():
        lines.append(f"| {stage} | {v['n']} | {v['p50_ms']} | {v['p90_ms']} | {v['p99_ms']} | {v['max_ms']} |")
    lines += ["", "## Time series", "", "| t (s) | events | candidates | plans | captured | ok txs | reverted | dlq | "
              + " | ".join(f"{n} MB" for n in (last.get("services") or {})) + " |",
              "|---|---|---|---|---|---|---|---|" + "---|" * len(last.get("services") or {})]
    step = max(1, len(report["samples"]) // 40)
    for smp in report["samples"][::step]:
        mems = " | ".join(f"{(v.get('rss_bytes') or 0) / 2**20:.0f}" for v in smp["services"].values())
        lines.append(f"| {smp['t_s']} | {smp['events']} | {smp['candidates']} | {smp['plans']} | {smp['captured']} | "
                     f"{smp['bot_txs_ok']} | {smp['bot_txs_reverted']} | {smp['dead_letters']} | {mems} |")
    return "\n".join(lines) + "\n"
