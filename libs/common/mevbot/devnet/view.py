"""The live terminal view of a devnet run (rich): what the pipeline is doing, refreshed ~4x/s."""

from __future__ import annotations

import time

from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from mevbot.devnet.chainwatch import ChainWatcher
from mevbot.devnet.market import MarketStats
from mevbot.devnet.oracle import MarketBook
from mevbot.devnet.tap import PipelineStats, percentile


def render(*, pipeline: PipelineStats, market: MarketStats, watcher: ChainWatcher, book: MarketBook,
           started: float, duration_s: float, services: dict[str, dict[str, float]]) -> Panel:
    elapsed = time.monotonic() - started
    top = Table.grid(padding=(0, 3))
    for _ in range(4):
        top.add_column()
    ok = [t for t in watcher.txs if t.status == 1]
    realized_wei = sum(book.to_wei(t.token, t.realized_profit or 0) for t in ok if t.token)
    above = market.above_threshold
    captured = sum(1 for d in above if d.capture_txs)
    top.add_row(f"[b]events/s[/] {pipeline.events_per_s():8.1f}", f"[b]events[/] {pipeline.events}",
                f"[b]candidates[/] {pipeline.candidates}", f"[b]approved plans[/] {len(pipeline.plans)}")
    top.add_row(f"[b]dislocations[/] {len(market.dislocations)} ({len(above)} > thr)",
                f"[b]captured[/] {captured}/{len(above)}", f"[b]bot txs[/] {len(ok)} ok, "
                f"{sum(1 for t in watcher.txs if t.status == 0)} reverted",
                f"[b]realized[/] {realized_wei / 1e18:.4f} ETH")
    top.add_row(f"[b]noise swaps[/] {market.noise_swaps}", f"[b]blocks[/] {watcher.blocks_seen}",
                f"[b]executions[/] {dict(pipeline.statuses)}", f"[b]dead letters[/] {sum(pipeline.dead_letters.values())}")
    rej = Table(title="rejections by reason", show_edge=False, expand=False)
    rej.add_column("reason")
    rej.add_column("n", justify="right")
    for reason, n in pipeline.rejections.most_common(8):
        rej.add_row(reason, str(n))
    lat = Table(title="latency from log received (ms)", show_edge=False)
    for col in ("stage", "n", "p50", "p99"):
        lat.add_column(col, justify="right")
    for stage, values in pipeline.latency_ms.items():
        p50, p99 = percentile(values, 50), percentile(values, 99)
        lat.add_row(stage, str(len(values)), "-" if p50 is None else f"{p50:.2f}", "-" if p99 is None else f"{p99:.2f}")
    svc = Table(title="services", show_edge=False)
    for col in ("service", "rss MB", "cache hit"):
        svc.add_column(col, justify="right")
    for name, figures in services.items():
        rss = figures.get("rss_bytes")
        hit = figures.get("cache_hit_rate")
        svc.add_row(name, "-" if rss is None else f"{rss / 2**20:.0f}", "-" if hit is None else f"{hit:.2f}")
    recent = Table(title="last dislocations", show_edge=False)
    for col in ("#", "pool", "move %", "best", "exp. ETH", "captured"):
        recent.add_column(col)
    for d in market.dislocations[-6:]:
        e = d.expected
        recent.add_row(str(d.index), d.pool_label, f"{d.move_pct:.2f}", f"{e.hops}-hop" if e else "-",
                       f"{e.profit_wei / 1e18:.4f}" if e else "-",
                       (f"yes (+{d.first_capture_block - d.block_number} blk)" if d.first_capture_block else "no")
                       if d.above_threshold else "below thr")
    middle = Table.grid(padding=(0, 4))
    middle.add_row(lat, rej, svc)
    title = f"mevbot devnet  {elapsed:6.1f}s / {duration_s:.0f}s"
    return Panel(Group(top, middle, recent), title=title)
