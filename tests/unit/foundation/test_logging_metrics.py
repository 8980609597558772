"""structlog set-up and the shared metrics."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from mevbot import metrics
from mevbot.logging import get_logger, setup_logging


def test_json_logs_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "logs" / "mev_bot.log"
    setup_logging("info", "json", str(out), service="detector")
    try:
        get_logger("test").info("cycle found", profit_wei=2**200)
        get_logger("test").debug("not shown at info")
        logging.getLogger("uvicorn.error").warning("from the stdlib")
        lines = [json.loads(line) for line in out.read_text().splitlines()]
    finally:
        setup_logging("info", "console", "stderr")
    assert [line["event"] for line in lines] == ["cycle found", "from the stdlib"]
    assert lines[0]["profit_wei"] == 2**200 and lines[0]["service"] == "detector" and lines[0]["level"] == "info"
    assert "timestamp" in lines[0] and "color_message" not in lines[1]


def test_stage_timer_and_latency_from_stamps() -> None:
    before = _count("unit_test_stage")
    with metrics.stage_timer("unit_test_stage"):
        pass
    metrics.observe_since_ns("unit_test_stage", 1)  # a stamp from long ago still counts
    metrics.observe_since_ns("unit_test_stage", 0)  # no stamp: ignored
    assert _count("unit_test_stage") == before + 2


def test_exposition_has_the_runbook_names() -> None:
    body, content_type = metrics.render_latest()
    text = body.decode()
    assert content_type.startswith("text/plain")
    for name in ("mev_opportunities_detected_total", "mev_opportunities_profitable_total", "mev_cache_hit_rate",
                 "mev_rpc_calls_total", "mev_executions_total", "mev_stage_latency_seconds",
                 "mev_messages_total", "mev_dead_letters_total"):
        assert f"# TYPE {name.removesuffix('_total')}" in text or f"# TYPE {name}" in text, name


def _count(stage: str) -> float:
    for family in metrics.STAGE_LATENCY.collect():
        for sample in family.samples:
            if sample.name == "mev_stage_latency_seconds_count" and sample.labels.get("stage") == stage:
                return sample.value
    return 0.0
