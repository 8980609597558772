"""Websocket connections to ``wss://`` providers share one client TLS context (a real TLS
handshake with a local server whose self-signed certificate is trusted through SSL_CERT_FILE)."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
import websockets
import websockets.asyncio.server
from mevbot.provider_config import Provider
from mevbot.rpc import ws as ws_module
from mevbot.rpc.ws import WsConnection, tls_context_for

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl binary to make a certificate")


def self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                           "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out",
                           str(cert)], capture_output=True, text=True, check=False)
    if made.returncode != 0:  # e.g. an OpenSSL older than 1.1.1 (no -addext)
        pytest.skip(f"openssl could not make a certificate: {made.stderr.strip()[:200]}")
    return cert, key


async def test_wss_connections_share_one_tls_context_and_really_handshake(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the default context trusts our certificate
    ws_module._default_tls_context.cache_clear()
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    handshakes = 0

    async def handler(connection: websockets.asyncio.server.ServerConnection) -> None:
        nonlocal handshakes
        handshakes += 1
        await connection.wait_closed()

    try:
        async with websockets.asyncio.server.serve(handler, "127.0.0.1", 0, ssl=server_tls) as server:
            port = server.sockets[0].getsockname()[1]
            provider = Provider("tls", f"wss://127.0.0.1:{port}", "ws", weight=1, timeout_s=2, rate_limit_per_s=0)
            for _ in range(3):
                async with WsConnection(provider, open_timeout_s=5):
                    pass
            await asyncio.sleep(0.05)
        assert handshakes == 3
        assert ws_module._default_tls_context.cache_info().misses == 1  # built once, reused twice
        assert tls_context_for(provider.endpoint) is tls_context_for(provider.endpoint.upper())
        assert tls_context_for("ws://127.0.0.1:1") is None
    finally:
        ws_module._default_tls_context.cache_clear()  # no context trusting the test's certificate left behind
