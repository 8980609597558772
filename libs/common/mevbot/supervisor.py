"""Run the four services as child processes on one machine (``mevbot up`` / ``mevbot start``).

Each replica is ``python -m services.<name>`` with its own ``HTTP_PORT`` and ``REPLICA_ID``. The
supervisor restarts a child that dies (with backoff), serves an aggregate health endpoint
(``/health/live``, ``/health/ready``, ``/health/startup``: ready when every child is ready) on
``METRICS_PORT`` (9090 by default, as in the runbook), and on stop sends SIGTERM to every child
(each drains) before killing stragglers.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from mevbot.errors import ConfigError
from mevbot.runtime.localstack import die_with_parent, free_port, port_open

# name -> default HTTP port (health + metrics). The order is the pipeline's.
SERVICES: dict[str, int] = {"ingest": 9101, "detector": 9102, "validator": 9103, "executor": 9104}
SUPERVISOR_DEFAULT_PORT = 9090


def service_module(name: str) -> str:
    return f"services.{name}"


def service_available(name: str) -> bool:
    """True when ``services/<name>/__main__.py`` exists (the service engineers add it)."""
    try:
        return importlib.util.find_spec(f"{service_module(name)}.__main__") is not None
    except ModuleNotFoundError:
        return False


def parse_scale(items: list[str] | tuple[str, ...]) -> dict[str, int]:
    """``["detector=2", "validator=3"]`` -> replicas per service (unlisted: 1)."""
    scale = dict.fromkeys(SERVICES, 1)
    for item in items:
        name, _, count = item.partition("=")
        if name not in SERVICES:
            raise ConfigError("--scale", f"unknown service {name!r} (one of {', '.join(SERVICES)})")
        if not count.isdigit():
            raise ConfigError("--scale", f"expected {name}=<replicas>, got {item!r}")
        scale[name] = int(count)
    return scale


#: runtime keys a supervisor sets per service from ``<SERVICE>_<KEY>`` (mevbot.runtime.cpu)
PER_SERVICE_KEYS = ("CPU_AFFINITY", "BUSY_POLL")


class ChildService:
    """One service replica as a child process."""

    def __init__(self, service: str, module: str, *, port: int, env: Mapping[str, str], replica: int = 0,
                 log_path: Path | None = None) -> None:
        self.service = service
        self.module = module
        self.port = port
        self.replica = replica
        self.env = dict(env)
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    @property
    def label(self) -> str:
        return f"{self.service}-{self.replica}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def process_env(self) -> dict[str, str]:
        """The child's environment: ``<SERVICE>_CPU_AFFINITY`` / ``<SERVICE>_BUSY_POLL`` become its
        ``CPU_AFFINITY`` / ``BUSY_POLL`` (a core of its own for one service, not for all of them;
        the same names docker-compose.yml passes)."""
        env = {**self.env, "HTTP_PORT": str(self.port), "REPLICA_ID": self.env.get("REPLICA_ID") or self.label}
        env.pop("METRICS_PORT", None)
        for key in PER_SERVICE_KEYS:
            value = self.env.get(f"{self.service.upper()}_{key}")
            if value is not None:
                env[key] = value
        return env

    def start(self) -> ChildService:
        env = self.process_env()
        out = open(self.log_path, "ab") if self.log_path else None  # noqa: SIM115
        # Own session (a terminal's Ctrl-C reaches the supervisor only, which drains children in
        # order); SIGTERM from the kernel if the supervisor dies hard, so no child is orphaned.
        self.proc = subprocess.Popen([sys.executable, "-m", self.module], env=env, stdout=out,
                                     stderr=subprocess.STDOUT if out else None, start_new_session=True,
                                     preexec_fn=die_with_parent)  # noqa: PLW1509
        return self

    def health(self, probe: str = "ready", timeout_s: float = 1.0) -> bool:
        try:
            return httpx.get(f"{self.base_url}/health/{probe}", timeout=timeout_s).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout_s: float = 30.0, probe: str = "ready") -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive:
                raise RuntimeError(f"{self.label} exited with code {self.proc.returncode if self.proc else None}"
                                   + (f"; log: {self.log_path}" if self.log_path else ""))
            if self.health(probe):
                return
            time.sleep(0.1)
        raise TimeoutError(f"{self.label} not {probe} on {self.base_url} within {timeout_s} s")

    def terminate(self) -> None:
        if self.alive and self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self, timeout_s: float = 20.0) -> int | None:
        if self.proc is None:
            return None
        self.terminate()
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=5)


@dataclass
class _Backoff:
    next_start: float = 0.0
    delay_s: float = 1.0


class Supervisor:
    def __init__(self, children: list[ChildService], *, restart: bool = True) -> None:
        self.children = children
        self.restart = restart
        self._stop = threading.Event()
        self._backoff = {id(c): _Backoff() for c in children}
        self._http: ThreadingHTTPServer | None = None

    @classmethod
    def build(cls, scale: Mapping[str, int], env: Mapping[str, str], *, log_dir: Path | None = None,
              restart: bool = True, base_ports: Mapping[str, int] = SERVICES) -> Supervisor:
        children = []
        for name, replicas in scale.items():
            for i in range(replicas):
                preferred = base_ports[name] + 10 * i
                port = preferred if not port_open("127.0.0.1", preferred) else free_port()
                log_path = log_dir / f"{name}-{i}.log" if log_dir else None
                children.append(ChildService(name, service_module(name), port=port, env=env, replica=i, log_path=log_path))
        return cls(children, restart=restart)

    def start_all(self) -> None:
        for child in self.children:
            child.start()

    def wait_all_ready(self, timeout_s: float = 60.0) -> None:
        for child in self.children:
            child.wait_ready(timeout_s)

    def status(self) -> dict[str, dict[str, object]]:
        return {
            c.label: {"url": c.base_url, "alive": c.alive, "ready": c.alive and c.health("ready", 0.5),
                      "restarts": c.restarts}
            for c in self.children
        }

    def watch(self, poll_s: float = 0.5) -> None:
        """Block until :meth:`request_stop`; restart children that exit (exponential backoff)."""
        while not self._stop.wait(poll_s):
            if not self.restart:
                continue
            now = time.monotonic()
            for child in self.children:
                if child.alive:
                    continue
                backoff = self._backoff[id(child)]
                if child.proc is not None:  # just noticed the exit
                    print(f"mevbot: {child.label} exited (code {child.proc.returncode}); "
                          f"restarting in {backoff.delay_s:.0f} s", file=sys.stderr)
                    child.proc = None
                    backoff.next_start = now + backoff.delay_s
                    backoff.delay_s = min(backoff.delay_s * 2, 30.0)
                elif now >= backoff.next_start:
                    child.restarts += 1
                    child.start()

    def request_stop(self) -> None:
        self._stop.set()

    def stop_all(self, timeout_s: float = 20.0) -> None:
        self._stop.set()
        for child in self.children:
            child.terminate()  # all at once: they drain in parallel
        for child in self.children:
            child.stop(timeout_s)
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()

    def serve_health(self, host: str, port: int) -> int:
        """Aggregate /health/* on ``port`` in a thread; returns the bound port."""
        supervisor = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status = supervisor.status()
                if self.path == "/health/live":
                    ok, body = True, {"status": "healthy", "children": status}
                elif self.path in ("/health/ready", "/health/startup"):
                    ok = bool(status) and all(s["ready"] for s in status.values())
                    body = {"status": "ready" if ok else "not_ready", "children": status}
                else:
                    ok, body = False, {"error": "not found"}
                data = json.dumps(body).encode()
                self.send_response(200 if ok else (404 if "error" in body else 503))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                return None

        self._http = ThreadingHTTPServer((host, port), Handler)
        threading.Thread(target=self._http.serve_forever, name="supervisor-health", daemon=True).start()
        return int(self._http.server_address[1])


def child_env(base: Mapping[str, str] | None = None, **overrides: str) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env.update({k: v for k, v in overrides.items() if v is not None})
    return env
