"""A token bucket per provider: ``rate_per_s`` requests per second, bursts up to ``burst``."""

from __future__ import annotations

import asyncio
import time


class TokenBucket:
    def __init__(self, rate_per_s: float, burst: float | None = None) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst if burst is not None else max(1.0, rate_per_s)
        self._tokens = self.burst
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate_per_s)
        self._stamp = now

    def wait_s(self, n: float = 1.0) -> float:
        """How long :meth:`acquire` would wait now for ``n`` tokens (0 when available)."""
        if self.rate_per_s <= 0:
            return 0.0
        self._refill()
        missing = min(n, self.burst) - self._tokens
        return max(0.0, missing / self.rate_per_s)

    async def acquire(self, n: float = 1.0) -> None:
        """Take ``n`` tokens (a batch counts each call), waiting for them. Rate 0 = unlimited."""
        if self.rate_per_s <= 0:
            return
        n = min(n, self.burst)  # a batch bigger than the burst takes the whole bucket
        async with self._lock:
            while True:
                self._refill()
                if self._tokens >= n:
                    self._tokens -= n
                    return
                await asyncio.sleep((n - self._tokens) / self.rate_per_s)
