"""Stopping background tasks for sure, even when a library swallows the cancellation
(nats-py's ``Client._flush_pending`` catches ``CancelledError`` and returns)."""

from __future__ import annotations

import asyncio
import time

from mevbot.runtime.tasks import cancel_and_wait


async def swallowing(times: int, log: list[str]) -> None:
    """Runs until cancelled ``times + 1`` times: the first ``times`` cancellations are swallowed,
    as nats-py's flush swallows one, and the work goes on (``"release"`` in ``log``: ends at the
    next cancellation)."""
    swallowed = 0
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            if swallowed == times or "release" in log:
                log.append("stopped")
                raise
            swallowed += 1
            log.append("swallowed")


async def test_a_task_that_swallows_its_cancellation_is_cancelled_again_until_it_ends() -> None:
    log: list[str] = []
    task = asyncio.create_task(swallowing(2, log))
    await asyncio.sleep(0)
    start = time.monotonic()
    left = await cancel_and_wait([task], timeout_s=5)
    assert left == set() and task.cancelled()
    assert log == ["swallowed", "swallowed", "stopped"]
    assert time.monotonic() - start < 2


async def test_a_task_that_never_ends_is_reported_after_the_bound() -> None:
    log: list[str] = []
    task = asyncio.create_task(swallowing(10**9, log))
    await asyncio.sleep(0)
    start = time.monotonic()
    left = await cancel_and_wait([task], timeout_s=0.5)
    assert left == {task} and not task.done()
    assert 0.45 < time.monotonic() - start < 2
    assert log and set(log) == {"swallowed"}
    log.append("release")
    assert await cancel_and_wait([task], timeout_s=5) == set()


async def test_plain_and_finished_tasks_end_at_once() -> None:
    done = asyncio.create_task(asyncio.sleep(0))
    await done
    plain = asyncio.create_task(asyncio.sleep(3600))
    start = time.monotonic()
    assert await cancel_and_wait([done, plain]) == set()
    assert plain.cancelled() and time.monotonic() - start < 0.5


async def test_a_task_that_failed_has_its_exception_retrieved() -> None:
    async def fails() -> None:
        raise RuntimeError("boom")

    task = asyncio.create_task(fails())
    await asyncio.sleep(0)
    assert await cancel_and_wait([task]) == set()
    assert task._log_traceback is False  # retrieved: no "exception was never retrieved" at GC
