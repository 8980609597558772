"""Pure pieces of ``mevbot.rpc``: token bucket arithmetic, rate-limit and error recognition."""

from __future__ import annotations

import asyncio
import time

from mevbot.errors import RpcError
from mevbot.rpc.client import _error_of, _rate_limit_error, _retry_after_s
from mevbot.rpc.ratelimit import TokenBucket


def test_token_bucket_waits_for_tokens() -> None:
    bucket = TokenBucket(100.0, burst=10)
    assert bucket.wait_s(10) == 0.0

    async def take() -> float:
        start = time.perf_counter()
        for _ in range(30):
            await bucket.acquire()
        return time.perf_counter() - start

    elapsed = asyncio.run(take())
    assert 0.15 <= elapsed < 1.0  # 10 at once, 20 more at 100/s
    assert TokenBucket(0).wait_s(1000) == 0.0  # rate 0 = unlimited


def test_rate_limit_answers_are_recognised() -> None:
    assert _rate_limit_error({"jsonrpc": "2.0", "id": 1, "error": {"code": -32005, "message": "limit"}})
    assert _rate_limit_error([{"id": 1, "result": "0x1"}, {"id": 2, "error": {"code": -1, "message": "Rate limit hit"}}])
    assert _rate_limit_error({"id": 1, "error": {"code": 3, "message": "execution reverted"}}) is None
    # Infura's -32005 also means "query too big": that is an answer (the caller splits), not a rate limit
    assert _rate_limit_error({"id": 1, "error": {"code": -32005, "message": "query returned more than 10000 results"}}) is None
    assert _retry_after_s("2") == 2.0 and _retry_after_s("soon") is None and _retry_after_s(None) is None


def test_error_answers_become_rpc_errors_with_code() -> None:
    err = _error_of("eth_call", {"id": 1, "error": {"code": 3, "message": "execution reverted", "data": "0x08c379a0"}})
    assert isinstance(err, RpcError) and err.rpc_code == 3 and err.data == "0x08c379a0"
    assert _error_of("eth_call", {"id": 1, "result": "0x"}) is None
    assert isinstance(_error_of("eth_call", {"id": 1}), RpcError)
    assert isinstance(_error_of("eth_call", "garbage"), RpcError)
