"""``mevbot up``: starts what is missing, runs replicas, reports health, stops everything on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from mevbot.runtime.localstack import free_port, port_open
from mevbot.supervisor import service_available

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not service_available("detector"), reason="services/detector/__main__.py not there yet"
    ),
]


def start_up(env: dict[str, str], *args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mevbot.cli",
            "up",
            "--only",
            "detector",
            "--scale",
            "detector=2",
            "--health-port",
            "0",
            "--no-restart",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
        cwd=cwd,
    )


def read_endpoints(proc: subprocess.Popen[str], timeout_s: float = 60.0) -> tuple[list[str], str, list[str]]:
    replicas: list[str] = []
    lines: list[str] = []
    deadline = time.monotonic() + timeout_s
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if match := re.match(r"detector-\d+\s+(http://127\.0\.0\.1:\d+)/health/ready", line):
            replicas.append(match.group(1))
        if match := re.match(r"all\s+(http://127\.0\.0\.1:\d+)/health/ready", line):
            return replicas, match.group(1), lines
    raise AssertionError("mevbot up did not print its endpoints:\n" + "".join(lines))


def wait_ready(url: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} not ready")


def test_up_starts_own_servers_scales_and_stops_cleanly(tmp_path: Path) -> None:
    nats_port, redis_port = free_port(), free_port()
    env = {
        **os.environ,
        "NATS_URL": f"nats://127.0.0.1:{nats_port}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "LOG_LEVEL": "warning",
    }
    env.pop("METRICS_PORT", None)
    proc = start_up(env, cwd=tmp_path)
    try:
        replicas, aggregate, lines = read_endpoints(proc)
        text = "".join(lines)
        assert f"started nats-server at nats://127.0.0.1:{nats_port}" in text
        assert f"started redis-server at redis://127.0.0.1:{redis_port}/0" in text
        assert len(replicas) == 2 and len(set(replicas)) == 2
        wait_ready(aggregate)
        for url in replicas:
            assert httpx.get(f"{url}/health/live").status_code == 200
            assert "mev_bus_connected" in httpx.get(f"{url}/metrics").text
        status = httpx.get(f"{aggregate}/health/ready").json()
        assert set(status["children"]) == {"detector-0", "detector-1"}
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert not port_open("127.0.0.1", nats_port) and not port_open("127.0.0.1", redis_port)
    for url in replicas:
        port = int(url.rsplit(":", 1)[1])
        assert not port_open("127.0.0.1", port), "a replica outlived mevbot up"


def test_up_uses_running_servers(nats_url: str, redis_url: str, namespace: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "NATS_URL": nats_url,
        "REDIS_URL": redis_url,
        "MEV_NAMESPACE": namespace,
        "LOG_LEVEL": "warning",
    }
    env.pop("METRICS_PORT", None)
    proc = start_up(env, cwd=tmp_path)
    try:
        _, aggregate, lines = read_endpoints(proc)
        assert f"using running server at {nats_url}" in "".join(lines)
        wait_ready(aggregate)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert port_open(*nats_url.removeprefix("nats://").split(":")[0:1], int(nats_url.rsplit(":", 1)[1]))


def test_up_refuses_unknown_service(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mevbot.cli", "up", "--scale", "oracle=2"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "--scale" in result.stderr and "oracle" in result.stderr
