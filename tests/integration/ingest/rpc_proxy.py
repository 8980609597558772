"""An HTTP JSON-RPC proxy in front of anvil that caps ``eth_getLogs`` like public providers do:
a range wider than ``max_blocks`` is refused with "query returned more than 10000 results"."""

from __future__ import annotations

import asyncio
import contextlib
import json

import httpx

from .proxy import free_port


class CappingRpcProxy:
    def __init__(self, target_url: str, max_blocks: int) -> None:
        self.target_url = target_url
        self.max_blocks = max_blocks
        self.port = free_port()
        self.refused = 0
        self.served = 0
        self._server: asyncio.base_events.Server | None = None
        self._client = httpx.AsyncClient(timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> CappingRpcProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
        await self._client.aclose()

    def _refuse(self, request: object) -> dict | None:
        if not isinstance(request, dict) or request.get("method") != "eth_getLogs":
            return None
        flt = (request.get("params") or [{}])[0]
        if "fromBlock" not in flt:
            return None
        span = int(flt["toBlock"], 16) - int(flt["fromBlock"], 16) + 1
        if span <= self.max_blocks:
            return None
        self.refused += 1
        return {"jsonrpc": "2.0", "id": request.get("id"),
                "error": {"code": -32005, "message": "query returned more than 10000 results"}}

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length)
                request = json.loads(body)
                refused = self._refuse(request)
                if refused is not None:
                    out = json.dumps(refused).encode()
                else:
                    self.served += 1
                    out = (await self._client.post(self.target_url, content=body,
                                                   headers={"content-type": "application/json"})).content
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(out)).encode() + b"\r\n\r\n" + out)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()
