"""The RPC readiness check (mevbot.health.RpcProbe) against a real local HTTP JSON-RPC endpoint.

The endpoint is a small asyncio HTTP server in the test whose behaviour can be switched: answer
``eth_chainId``, answer HTTP 500, or hold the request open (a node too busy to answer). What is
checked: a first verdict is waited for; after it a probe answers at once from the last verdict and
refreshes in the background, one refresh at a time; one lost answer does not flip a ready
service to "not ready", two consecutive ones do, and the first good answer brings it back.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Self

import pytest
from mevbot.health import Health, RpcProbe


class Endpoint:
    """A JSON-RPC endpoint on 127.0.0.1 with a switchable ``mode``: ok, error, hang."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.requests = 0
        self.url = ""
        self._server: asyncio.base_events.Server | None = None
        self._release = asyncio.Event()

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._release.set()
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length"))
            body = json.loads(await reader.readexactly(length))
            self.requests += 1
            if self.mode == "hang":
                await self._release.wait()
                return
            if self.mode == "error":
                status, payload = b"500 Internal Server Error", b'{"error": "busy"}'
            else:
                status = b"200 OK"
                payload = json.dumps({"jsonrpc": "2.0", "id": body["id"], "result": "0xa4b1"}).encode()
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(payload)).encode() + b"\r\nConnection: close\r\n\r\n" + payload)
            await writer.drain()
        finally:
            writer.close()


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


async def settle(probe: RpcProbe) -> None:
    """Wait for the background refresh a call may have started."""
    task = probe._refresh_task
    if task is not None:
        await task


async def test_first_verdict_is_waited_for_and_ready_when_the_node_answers() -> None:
    async with Endpoint() as endpoint:
        probe = RpcProbe(endpoint.url, cache_s=60)
        assert await probe() is True
        assert endpoint.requests == 1
        assert await probe() is True  # cached: no second request within cache_s
        assert endpoint.requests == 1


async def test_not_ready_while_the_node_never_answered() -> None:
    probe = RpcProbe(closed_port_url(), cache_s=60, timeout_s=1)
    assert await probe() is False
    await settle(probe)
    assert await probe() is False  # not ready: retried at every probe, still refused
    await settle(probe)
    assert probe.failures >= 2


async def test_one_lost_answer_keeps_it_ready_two_do_not_and_one_good_answer_restores_it() -> None:
    async with Endpoint() as endpoint:
        probe = RpcProbe(endpoint.url, cache_s=0, failure_threshold=2)
        assert await probe() is True
        endpoint.mode = "error"
        assert await probe() is True  # answered from the last verdict; a refresh started
        await settle(probe)
        assert (probe.failures, probe.ok) == (1, True)  # one failed answer: still ready
        assert await probe() is True
        await settle(probe)
        assert (probe.failures, probe.ok) == (2, False)  # two in a row: not ready
        assert await probe() is False
        await settle(probe)
        endpoint.mode = "ok"
        await probe()
        await settle(probe)
        assert (probe.failures, probe.ok) == (0, True)
        assert await probe() is True


async def test_a_hanging_node_does_not_hold_the_probe_and_gets_one_request_at_a_time() -> None:
    async with Endpoint() as endpoint:
        probe = RpcProbe(endpoint.url, cache_s=0, timeout_s=3.0, failure_threshold=2)
        assert await probe() is True
        endpoint.mode = "hang"
        started = time.monotonic()
        answers = [await probe() for _ in range(20)]
        waited = time.monotonic() - started
        assert answers == [True] * 20
        assert waited < 1.0, f"the probe waited {waited:.2f} s for a hanging node (timeout 3 s)"
        await asyncio.sleep(0.2)
        assert endpoint.requests == 2  # the first answer, then a single refresh in flight
        await settle(probe)  # the refresh times out after 3 s: one failure
        assert (probe.failures, probe.ok) == (1, True)


async def test_readiness_reports_the_rpc_check_through_health() -> None:
    async with Endpoint() as endpoint:
        health = Health("ingest")
        health.add_check("rpc", RpcProbe(endpoint.url, cache_s=0, failure_threshold=1))
        assert await health.readiness() == (True, {"rpc": "ok"})
        endpoint.mode = "error"
        await health.readiness()  # starts the refresh that fails
        await settle(health.checks["rpc"])  # type: ignore[arg-type]
        assert await health.readiness() == (False, {"rpc": "fail"})


def test_a_threshold_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        RpcProbe("http://127.0.0.1:1", failure_threshold=0)


async def test_refreshes_share_one_client() -> None:
    """Building an httpx client costs ~36 ms of CPU (its TLS context loads the CA store): one per
    refresh stalled the service's event loop that long every ``cache_s`` while a probe was polled
    (measured 21-36 ms here)."""
    async with Endpoint() as endpoint:
        probe = RpcProbe(endpoint.url, cache_s=0)
        assert await probe() is True  # the first answer makes the client
        for _ in range(10):
            await probe()
            await settle(probe)
        assert endpoint.requests == 11
        assert probe.ok and probe.clients_made == 1
        await probe.aclose()
        assert probe._client is None
