"""A TCP proxy in front of anvil that a test can cut, rate-limit or stall (HTTP and websocket).

Modes:
* ``pass``: forward bytes both ways.
* ``http429``: every new connection gets ``HTTP/1.1 429 Too Many Requests`` and is closed (a
  websocket handshake and a JSON-RPC POST alike); existing connections are cut.
* ``stall``: connections are accepted (and existing ones kept) but nothing is forwarded any more:
  a provider that went silent without closing anything.

``cut()`` closes every open connection at once (the client sees a dropped socket).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

_429 = (b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain\r\nContent-Length: 17\r\n"
        b"Retry-After: 1\r\nConnection: close\r\n\r\nToo Many Requests")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CuttableProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.mode = "pass"
        self.cuts = 0
        self.connections = 0
        self._server: asyncio.base_events.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> CuttableProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self.cut(count=False)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    def cut(self, *, count: bool = True) -> int:
        """Close every open connection; returns how many."""
        n = 0
        for writer in list(self._open):
            with contextlib.suppress(Exception):
                writer.transport.abort()
            n += 1
        self._open.clear()
        if count:
            self.cuts += 1
        return n

    def set_mode(self, mode: str) -> None:
        assert mode in ("pass", "http429", "stall")
        self.mode = mode
        if mode == "http429":
            self.cut(count=False)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.mode == "http429":
            with contextlib.suppress(Exception):
                await reader.read(65536)
                writer.write(_429)
                await writer.drain()
                writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._open.update((writer, up_writer))
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True)
        for w in (writer, up_writer):
            self._open.discard(w)
            with contextlib.suppress(Exception):
                w.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            while self.mode == "stall":
                await asyncio.sleep(0.05)  # swallow nothing, forward nothing: silence
            writer.write(data)
            await writer.drain()
        with contextlib.suppress(Exception):
            writer.transport.abort()
