"""Send swaps into the devnet's pools from the market's unlocked accounts (one transaction each).

V3 swaps go through the PoolActor (exact input, optional price limit), V2 swaps through Uniswap's
Router02 (``swapExactTokensForTokens``); both pull from the trader's own balance (approved once
at set-up). Gas limits are explicit so anvil never has to estimate.
"""

from __future__ import annotations

import threading

from mevbot.chain.artifacts import load_artifact
from mevbot.chain.rpc import RpcClient
from mevbot.devnet.oracle import PoolMeta

SWAP_GAS = 1_500_000
NO_DEADLINE = 2**40


class Trader:
    def __init__(self, rpc: RpcClient, *, pool_actor: str, router_v2: str) -> None:
        self.rpc = rpc
        self.pool_actor = pool_actor
        self.router_v2 = router_v2
        self._actor = load_artifact("PoolActor").codec
        self._router = load_artifact("UniswapV2Router02").codec
        # our own nonces: anvil may serve a JSON-RPC batch concurrently, and two transactions of one
        # account in one batch would then get the same "pending" nonce ("replacement underpriced")
        self._nonces: dict[str, int] = {}
        self._lock = threading.Lock()

    def _next_nonce(self, account: str) -> int:
        with self._lock:
            if account not in self._nonces:
                self._nonces[account] = int(self.rpc.call("eth_getTransactionCount", account, "pending"), 16)
            nonce = self._nonces[account]
            self._nonces[account] = nonce + 1
            return nonce

    def resync(self) -> None:
        """Forget our nonces (after a failed send); the next transaction reads them again."""
        with self._lock:
            self._nonces.clear()

    def swap_tx(self, trader: str, pool: PoolMeta, zero_for_one: bool, amount_in: int,
                sqrt_price_limit_x96: int = 0) -> dict[str, str]:
        if pool.kind == "uniswap_v3":
            data = self._actor.encode_call("swap", pool.address, zero_for_one, amount_in, sqrt_price_limit_x96, trader)
            to = self.pool_actor
        else:
            path = [pool.token0, pool.token1] if zero_for_one else [pool.token1, pool.token0]
            data = self._router.encode_call("swapExactTokensForTokens", amount_in, 0, path, trader, NO_DEADLINE)
            to = self.router_v2
        return {"from": trader, "to": to, "gas": hex(SWAP_GAS), "input": "0x" + data.hex(),
                "nonce": hex(self._next_nonce(trader))}

    def send(self, txs: list[dict[str, str]]) -> list[str]:
        """Send in one JSON-RPC batch (explicit nonces); returns the hashes."""
        try:
            return list(self.rpc.batch([("eth_sendTransaction", [tx]) for tx in txs]))
        except Exception:
            self.resync()
            raise

    def wait_receipts(self, hashes: list[str], timeout_s: float = 10.0) -> list[dict]:
        import time

        deadline = time.monotonic() + timeout_s
        got: dict[str, dict] = {}
        while len(got) < len(hashes):
            missing = [h for h in hashes if h not in got]
            for h, r in zip(missing, self.rpc.batch([("eth_getTransactionReceipt", [h]) for h in missing]), strict=True):
                if r is not None:
                    got[h] = r
            if len(got) < len(hashes):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{len(hashes) - len(got)} market swaps not mined after {timeout_s} s")
                time.sleep(0.02)
        return [got[h] for h in hashes]
