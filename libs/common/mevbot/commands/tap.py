"""``mevbot tap 'mev.>'``: decode and pretty-print live bus traffic.

Filters (``--filter``, repeatable, all must match): ``type=v3_swap``, ``pool=0xabc...``,
``chain_id=42161``; a key may be a dotted path (``meta.block_number=123``). Values compare as
strings, case-insensitively (addresses). Messages that do not decode are shown raw, flagged.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import Any

import msgspec
import nats
import nats.errors
import typer
from rich.console import Console
from rich.json import JSON

from mevbot import messages as m
from mevbot import subjects as subj
from mevbot.commands import fail_on_config_error
from mevbot.config import load_settings
from mevbot.errors import ConfigError, WireError


def parse_filters(items: list[str]) -> list[tuple[list[str], str]]:
    filters = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError("--filter", f"expected key=value, got {item!r}")
        filters.append((key.split("."), value.lower()))
    return filters


def matches(doc: Any, filters: list[tuple[list[str], str]]) -> bool:
    for path, expected in filters:
        value = doc
        for part in path:
            if isinstance(value, dict) and part in value:
                value = value[part]
            else:
                return False
        if str(value).lower() != expected:
            return False
    return True


def render(subject: str, data: bytes, filters: list[tuple[list[str], str]]) -> tuple[str, Any] | None:
    """(header, body) for a message that passes the filters; ``None`` when filtered out."""
    try:
        message = m.decode(data, subj.message_type_for(subject))
        doc = m.to_builtins(message)
        label = doc.get("type", "?")
    except WireError as exc:
        try:
            doc = msgspec.json.decode(data)
        except msgspec.DecodeError:
            doc = {"raw": data.decode("utf-8", errors="replace")}
        label = f"UNDECODABLE ({exc})"
    if not matches(doc, filters):
        return None
    return f"{time.strftime('%H:%M:%S')} {subject} {label}", doc


async def tap(url: str, subject: str, filters: list[tuple[list[str], str]], *, namespace: str = "",
              count: int = 0, compact: bool = False, console: Console | None = None,
              ready: Callable[[], None] | None = None) -> int:
    """Print messages until ``count`` were shown (0 = forever). Returns how many were shown."""
    console = console or Console()
    prefix = f"{namespace}." if namespace else ""
    shown = 0
    done = asyncio.Event()

    async def on_msg(msg: Any) -> None:
        nonlocal shown
        subject_plain = msg.subject[len(prefix):] if prefix else msg.subject
        rendered = render(subject_plain, msg.data, filters)
        if rendered is None or done.is_set():
            return
        header, doc = rendered
        if compact:
            console.print(f"[bold cyan]{header}[/] {msgspec.json.encode(doc).decode()}", soft_wrap=True, highlight=False)
        else:
            console.print(f"[bold cyan]{header}[/]")
            console.print(JSON.from_data(doc))
        shown += 1
        if count and shown >= count:
            done.set()

    nc = await nats.connect(url, max_reconnect_attempts=-1, connect_timeout=2)
    try:
        await nc.subscribe(prefix + subject, cb=on_msg)
        await nc.flush()
        if ready:
            ready()
        await done.wait()
    finally:
        await nc.drain()
    return shown


def register(app: typer.Typer) -> None:
    @app.command("tap")
    def tap_command(
        subject: str = typer.Argument("mev.>", help="subject or wildcard, e.g. 'mev.events.>'"),
        filter_: list[str] = typer.Option([], "--filter", "-f", help="key=value, repeatable (type=v3_swap, pool=0x..)"),
        count: int = typer.Option(0, "--count", "-n", help="stop after this many messages (0 = run until Ctrl-C)"),
        compact: bool = typer.Option(False, "--compact", "-c", help="one line per message"),
        nats_url: str = typer.Option(None, "--nats-url", help="default: NATS_URL"),
        namespace: str = typer.Option(None, "--namespace", help="default: MEV_NAMESPACE"),
    ) -> None:
        """Decode and pretty-print live messages (every mev.* subject by default)."""
        with fail_on_config_error():
            settings = load_settings()
            filters = parse_filters(filter_)
        url = nats_url or settings.nats_url
        ns = settings.namespace if namespace is None else namespace

        def announce() -> None:
            print(f"tapping {subject} on {url}" + (f" (namespace {ns})" if ns else ""), file=sys.stderr, flush=True)

        try:
            asyncio.run(tap(url, subject, filters, namespace=ns, count=count, compact=compact, ready=announce))
        except KeyboardInterrupt:
            pass
        except (nats.errors.NoServersError, OSError) as exc:
            print(f"mevbot tap: cannot reach NATS at {url}: {exc}", file=sys.stderr)
            raise SystemExit(1) from None
