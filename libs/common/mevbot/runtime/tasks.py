"""Stopping asyncio tasks for sure.

``task.cancel()`` then ``await task`` is not enough when a library swallows the cancellation:
nats-py's internal flush (``Client._flush_pending``) catches ``CancelledError`` and returns, so a
task cancelled while inside it runs on, and a shutdown that awaits it waits forever (what a CI
hang looked like: an ingest engine still running after its test cancelled it, following a NATS
restart; not reproduced here). :func:`cancel_and_wait` cancels again while a task is still
running, and gives up after a bound, reporting what is left.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

#: how often a task that is still running after its cancellation is cancelled again
RECANCEL_EVERY_S = 0.2


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]], timeout_s: float = 10.0) -> set[asyncio.Task[Any]]:
    """Cancel ``tasks`` until each has ended, for at most ``timeout_s``; the tasks still running."""
    tasks = list(tasks)
    pending = {task for task in tasks if not task.done()}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while pending:
        for task in pending:
            task.cancel()
        left_s = deadline - loop.time()
        if left_s <= 0:
            break
        _, pending = await asyncio.wait(pending, timeout=min(RECANCEL_EVERY_S, left_s))
    for task in tasks:  # as gather(return_exceptions=True) did: no "exception never retrieved"
        if task.done() and not task.cancelled():
            task.exception()
    return pending
