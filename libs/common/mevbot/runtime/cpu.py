"""A service's CPU: pin it to chosen cores (``CPU_AFFINITY``) and keep its loop polling (``BUSY_POLL``).

A service that waits in ``epoll`` between messages pays for every message a wake-up: the kernel
schedules the process back in, and the interpreter resumes with cold caches. On the detector at
1,000 events/s (one event per wake-up) that was about 75 µs of Python per event, as much as half
its evaluation, and its tail latency was queueing of that cost. Latency-critical deployments give
such a process a core of its own and never let it sleep (what HFT and MEV systems do with kernel
bypass; here, the event loop keeps polling with a zero timeout):

* ``CPU_AFFINITY`` (``"1"``, ``"2-3"``, ``"0,2"``): the CPUs the process may run on
  (``sched_setaffinity``); unset or blank: every CPU the process was given.
* ``BUSY_POLL`` (default false): the loop never blocks; a ready callback re-arms itself every
  iteration, so the loop polls its sockets with a zero timeout. The process then uses its whole
  core (100 % CPU by design: do not alert on it), and a message is handled within one loop
  iteration (a few µs) of its arrival. Only worth it on a core nothing else needs: on a machine
  whose cores are all busy, a spinning process takes CPU time the others (nats-server, the chain
  node) wait for. Measured in ``docs/benchmarks.md`` (seventh session).
"""

from __future__ import annotations

import asyncio
import os

from mevbot.errors import ConfigError

AFFINITY_KEY = "CPU_AFFINITY"


def pin_to(cpus: frozenset[int], key: str = AFFINITY_KEY) -> frozenset[int]:
    """Restrict this process to ``cpus`` (any of the machine's CPUs, not only those of the mask it
    inherited); returns the affinity now in force, which must be exactly ``cpus``."""
    count = os.cpu_count() or 1
    missing = sorted(cpu for cpu in cpus if cpu >= count)
    if missing:
        raise ConfigError(key, f"CPU {', '.join(map(str, missing))} does not exist (this machine has CPUs 0-{count - 1})")
    try:
        os.sched_setaffinity(0, cpus)
    except OSError as exc:
        raise ConfigError(key, f"could not pin to CPUs {sorted(cpus)}: {exc}") from exc
    now = frozenset(os.sched_getaffinity(0))
    if now != cpus:
        raise ConfigError(key, f"asked for CPUs {sorted(cpus)}, the kernel allowed {sorted(now)}")
    return now


class BusyPoller:
    """Keeps an event loop from blocking: one ready callback that re-arms itself each iteration.

    A loop with a ready callback polls its selector with a zero timeout, so the next socket read
    is noticed within one iteration instead of after a wake-up. A plain callback (no task, no
    coroutine frame) keeps each idle iteration to a few µs. ``spins`` counts the iterations.
    """

    def __init__(self) -> None:
        self.spins = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.Handle | None = None

    @property
    def running(self) -> bool:
        return self._handle is not None

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        if self._handle is None:
            self._loop = loop or asyncio.get_running_loop()
            self._handle = self._loop.call_soon(self._spin)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _spin(self) -> None:
        self.spins += 1
        self._handle = self._loop.call_soon(self._spin)
