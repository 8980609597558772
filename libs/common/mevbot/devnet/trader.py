"""Send swaps into the devnet's pools from the market's unlocked accounts (one transaction each).

V3 swaps go through the PoolActor (exact input, optional price limit), V2 swaps through Uniswap's
Router02 (``swapExactTokensForTokens``); both pull from the trader's own balance (approved once
at set-up). Gas limits are explicit so anvil never has to estimate.
"""

from __future__ import annotations

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

    def swap_tx(self, trader: str, pool: PoolMeta, zero_for_one: bool, amount_in: int,
                sqrt_price_limit_x96: int = 0) -> dict[str, str]:
        if pool.kind == "uniswap_v3":
            data = self._actor.encode_call("swap", pool.address, zero_for_one, amount_in, sqrt_price_limit_x96, trader)
            to = self.pool_actor
        else:
            path = [pool.token0, pool.token1] if zero_for_one else [pool.token1, pool.token0]
            data = self._router.encode_call("swapExactTokensForTokens", amount_in, 0, path, trader, NO_DEADLINE)
            to = self.router_v2
        return {"from": trader, "to": to, "gas": hex(SWAP_GAS), "input": "0x" + data.hex()}

    def send(self, txs: list[dict[str, str]]) -> list[str]:
        """Send in one JSON-RPC batch; returns the hashes (anvil assigns nonces in order)."""
        return list(self.rpc.batch([("eth_sendTransaction", [tx]) for tx in txs]))

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
