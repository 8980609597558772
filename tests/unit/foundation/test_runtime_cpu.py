"""CPU_AFFINITY and BUSY_POLL: parsing, pinning, a loop that never blocks, and the runner using both."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import uvloop
from mevbot import metrics
from mevbot.bus import InMemoryBus
from mevbot.config import env_cpu_list, load_settings
from mevbot.errors import ConfigError
from mevbot.runtime import EXIT_OK, Service, ServiceContext, serve
from mevbot.runtime.cpu import BusyPoller, pin_to
from mevbot.supervisor import ChildService

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(("text", "cpus"), [
    ("1", {1}), ("0,2", {0, 2}), ("2-3", {2, 3}), (" 0-1 , 4 ", {0, 1, 4}), ("3,3,2-3", {2, 3}),
])
def test_cpu_lists_in_the_kernel_form(text: str, cpus: set[int]) -> None:
    assert env_cpu_list("CPU_AFFINITY", env={"CPU_AFFINITY": text}) == frozenset(cpus)


def test_unset_or_blank_means_no_pinning() -> None:
    assert env_cpu_list("CPU_AFFINITY", env={}) is None
    assert env_cpu_list("CPU_AFFINITY", env={"CPU_AFFINITY": "  "}) is None
    settings = load_settings({})
    assert settings.cpu_affinity is None and settings.busy_poll is False


@pytest.mark.parametrize("text", ["a", "1-x", "3-1", "-1", ",", "1.5"])
def test_a_bad_cpu_list_names_the_key(text: str) -> None:
    with pytest.raises(ConfigError, match="CPU_AFFINITY"):
        load_settings({"CPU_AFFINITY": text})


def test_settings_read_both_keys() -> None:
    settings = load_settings({"CPU_AFFINITY": "0", "BUSY_POLL": "true"})
    assert settings.cpu_affinity == frozenset({0}) and settings.busy_poll is True
    assert settings.redacted()["cpu_affinity"] == [0]
    with pytest.raises(ConfigError, match="BUSY_POLL"):
        load_settings({"BUSY_POLL": "sometimes"})


def test_pin_to_restricts_the_process_and_refuses_missing_cpus() -> None:
    before = os.sched_getaffinity(0)
    target = frozenset({min(before)})
    try:
        assert pin_to(target) == target
        assert os.sched_getaffinity(0) == target
    finally:
        os.sched_setaffinity(0, before)
    with pytest.raises(ConfigError, match="CPU_AFFINITY.*does not exist"):
        pin_to(frozenset({(os.cpu_count() or 1) + 7}))
    assert os.sched_getaffinity(0) == before


async def _spins_and_cpu_while_sleeping(poller: BusyPoller | None, seconds: float = 0.2) -> tuple[int, float]:
    """Loop iterations the poller made, and the CPU time this process used, while the loop had
    nothing to do but sleep."""
    if poller is not None:
        poller.start()
    spins0, cpu0, wall0 = (poller.spins if poller else 0), time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu_share = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    spins = (poller.spins if poller else 0) - spins0
    if poller is not None:
        poller.stop()
    return spins, cpu_share


@pytest.mark.parametrize("use_uvloop", [True, False], ids=["uvloop", "asyncio"])
def test_the_busy_poller_keeps_the_loop_polling(use_uvloop: bool) -> None:
    run = uvloop.run if use_uvloop else asyncio.run

    async def scenario() -> tuple[tuple[int, float], tuple[int, float], int]:
        poller = BusyPoller()
        busy = await _spins_and_cpu_while_sleeping(poller)
        assert not poller.running
        stopped_at = poller.spins
        idle = await _spins_and_cpu_while_sleeping(None)
        return busy, idle, poller.spins - stopped_at

    (spins, busy_cpu), (_, idle_cpu), after_stop = run(scenario())
    # polling: thousands of loop iterations in 0.2 s and (nearly) a whole core; asleep: next to nothing
    assert spins > 1_000, spins
    assert busy_cpu > 0.4, busy_cpu
    assert idle_cpu < 0.2, idle_cpu
    assert after_stop == 0


def test_a_socket_read_is_handled_within_a_loop_iteration_while_polling() -> None:
    """The reason for polling: data is noticed without a wake-up. A reader callback sees the bytes
    written from another thread, and the loop iterated continuously meanwhile (not one wake-up)."""

    async def scenario() -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        left, right = socket.socketpair()
        left.setblocking(False)
        got = loop.create_future()
        loop.add_reader(left.fileno(), lambda: got.done() or got.set_result(time.perf_counter_ns()))
        poller = BusyPoller()
        poller.start()
        await asyncio.sleep(0.02)
        before = poller.spins
        sent_ns = time.perf_counter_ns()
        threading.Timer(0.05, right.send, [b"x"]).start()  # written 50 ms from now, by another thread
        received_ns = await asyncio.wait_for(got, 5)
        iterations = poller.spins - before
        poller.stop()
        loop.remove_reader(left.fileno())
        left.close()
        right.close()
        return iterations, received_ns - sent_ns

    iterations, took_ns = uvloop.run(scenario())
    assert iterations > 100  # the loop kept iterating (not asleep) until the other thread wrote
    assert 0.05e9 <= took_ns < 5e9  # and then saw the socket become readable


class _Idle(Service):
    name = "cpuprobe"
    default_port = 0

    def __init__(self) -> None:
        self.ctx: ServiceContext | None = None

    async def start(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        ctx.mark_started()


async def test_the_runner_pins_and_busy_polls_when_configured() -> None:
    before = os.sched_getaffinity(0)
    cpu = min(before)
    settings = load_settings({"HTTP_PORT": "0", "HTTP_HOST": "127.0.0.1", "CPU_AFFINITY": str(cpu),
                              "BUSY_POLL": "true"})
    service, stop = _Idle(), asyncio.Event()
    try:
        task = asyncio.create_task(serve(service, settings=settings, bus=InMemoryBus("cpuprobe"), stop=stop,
                                         install_signals=False))
        while service.ctx is None:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert os.sched_getaffinity(0) == {cpu}
        assert metrics.BUSY_POLL.labels("cpuprobe")._value.get() == 1
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(0.2)
        assert (time.process_time() - cpu0) / (time.perf_counter() - wall0) > 0.4  # the loop never slept
        stop.set()
        assert await asyncio.wait_for(task, 10) == EXIT_OK
        assert metrics.BUSY_POLL.labels("cpuprobe")._value.get() == 0
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(0.2)
        assert (time.process_time() - cpu0) / (time.perf_counter() - wall0) < 0.2  # stopped with the service
    finally:
        os.sched_setaffinity(0, before)


def test_a_service_refuses_a_cpu_that_does_not_exist() -> None:
    env = dict(os.environ, CPU_AFFINITY=str((os.cpu_count() or 1) + 7), HTTP_PORT="0",
               NATS_URL="nats://127.0.0.1:1", PYTHONPATH=f"{ROOT}/libs/common:{ROOT}")
    result = subprocess.run([sys.executable, "-m", "services.detector"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "CPU_AFFINITY" in result.stderr and "does not exist" in result.stderr


def test_the_supervisor_gives_one_service_its_own_cpu_keys() -> None:
    env = {"DETECTOR_CPU_AFFINITY": "1", "DETECTOR_BUSY_POLL": "true", "CPU_AFFINITY": "0"}
    detector = ChildService("detector", "services.detector", port=1, env=env).process_env()
    validator = ChildService("validator", "services.validator", port=2, env=env).process_env()
    assert (detector["CPU_AFFINITY"], detector["BUSY_POLL"]) == ("1", "true")
    assert validator["CPU_AFFINITY"] == "0" and "BUSY_POLL" not in validator
