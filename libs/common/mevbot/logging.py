"""structlog set-up: ``LOG_LEVEL``, ``LOG_FORMAT`` (json | console), ``LOG_OUTPUT`` (stdout, stderr or a file).

Standard-library loggers (uvicorn, nats) are routed through the same renderer so one process writes
one format. Call :func:`setup_logging` once at start-up; :func:`get_logger` anywhere.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any, TextIO

import structlog

_configured_output: TextIO | None = None


def _open_output(output: str) -> TextIO:
    if output in ("", "stdout", "-"):
        return sys.stdout
    if output == "stderr":
        return sys.stderr
    path = Path(output).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("a", buffering=1, encoding="utf-8")


def setup_logging(level: str = "info", fmt: str = "json", output: str = "stdout", *, service: str | None = None) -> None:
    """Configure structlog and the stdlib root logger. Idempotent (re-configures on each call)."""
    global _configured_output
    stream = _open_output(output)
    if _configured_output not in (None, sys.stdout, sys.stderr) and _configured_output is not stream:
        _configured_output.close()  # type: ignore[union-attr]
    _configured_output = stream
    numeric_level = logging.getLevelName(level.upper())
    if not isinstance(numeric_level, int):
        numeric_level = logging.INFO

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if service:
        structlog.contextvars.bind_contextvars(service=service)
    renderer: Any
    if fmt == "console":
        renderer = structlog.dev.ConsoleRenderer(colors=stream.isatty())
    else:
        renderer = structlog.processors.JSONRenderer()

    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder(), _drop_color_message],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric_level)
    # uvicorn's access log is per request (health probes every few seconds): keep it quiet.
    logging.getLogger("uvicorn.access").setLevel(max(numeric_level, logging.WARNING))
    # httpx logs every request at INFO: an RPC-heavy service would drown its own logs.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(max(numeric_level, logging.WARNING))
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def _drop_color_message(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    event.pop("color_message", None)  # uvicorn's ANSI duplicate of the message
    return event


def get_logger(name: str | None = None, **bound: Any) -> Any:
    return structlog.get_logger(name, **bound) if name else structlog.get_logger(**bound)
