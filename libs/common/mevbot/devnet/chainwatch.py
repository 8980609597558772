"""On-chain truth for the report: every transaction the bot's key sent, read from blocks and receipts.

Nothing here trusts the services' own messages: a trade counts as captured only when a mined,
successful transaction from the bot's address to the executor contract swapped through the
dislocated pool; its realized profit is the ``Arbitrage(token, amountIn, profit)`` log the contract
emitted. The report then compares that with the plan's prediction (from ``mev.plans``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_utils import keccak

from mevbot.chain.arb_calldata import decode_arb_call
from mevbot.chain.rpc import RpcClient
from mevbot.errors import ValidationError

ARBITRAGE_TOPIC = "0x" + keccak(text="Arbitrage(address,uint256,uint256)").hex()


@dataclass(frozen=True)
class BotTx:
    tx_hash: str
    block_number: int
    nonce: int
    to: str
    status: int  # 1 success, 0 reverted
    gas_used: int
    effective_gas_price_wei: int
    pools: tuple[str, ...] = ()
    token: str = ""
    amount_in: int = 0
    realized_profit: int | None = None  # from the Arbitrage log; None when reverted/not an arb

    @property
    def fee_paid_wei(self) -> int:
        return self.gas_used * self.effective_gas_price_wei


@dataclass
class ChainWatcher:
    rpc_url: str
    bot_address: str
    executor: str
    next_block: int
    txs: list[BotTx] = field(default_factory=list)
    blocks_seen: int = 0
    chain_txs: int = 0

    def __post_init__(self) -> None:
        self.bot_address = self.bot_address.lower()
        self.executor = self.executor.lower()
        self._rpc = RpcClient(self.rpc_url)

    def close(self) -> None:
        self._rpc.close()

    def poll(self) -> list[BotTx]:
        """Read every block mined since the last poll; return the bot's new transactions."""
        head = int(self._rpc.call("eth_blockNumber"), 16)
        if head < self.next_block:
            return []
        numbers = list(range(self.next_block, head + 1))
        blocks = self._rpc.batch([("eth_getBlockByNumber", [hex(n), True]) for n in numbers])
        mine = []
        for block in blocks:
            self.blocks_seen += 1
            for tx in block.get("transactions", []):
                self.chain_txs += 1
                if str(tx.get("from", "")).lower() == self.bot_address:
                    mine.append(tx)
        self.next_block = head + 1
        if not mine:
            return []
        receipts = self._rpc.batch([("eth_getTransactionReceipt", [tx["hash"]]) for tx in mine])
        new = [self._record(tx, r) for tx, r in zip(mine, receipts, strict=True)]
        self.txs.extend(new)
        return new

    def _record(self, tx: dict, receipt: dict) -> BotTx:
        to = str(tx.get("to") or "").lower()
        pools: tuple[str, ...] = ()
        token, amount_in = "", 0
        if to == self.executor:
            try:
                call = decode_arb_call(bytes.fromhex(str(tx["input"])[2:]))
                pools = tuple(h.pool.lower() for h in call.hops)
                token, amount_in = call.token.lower(), call.amount_in_wei
            except ValidationError:
                pass
        profit = None
        for log in receipt.get("logs", []):
            if str(log.get("address", "")).lower() == self.executor and log["topics"][0] == ARBITRAGE_TOPIC:
                data = bytes.fromhex(log["data"][2:])
                profit = int.from_bytes(data[32:64], "big")
        return BotTx(
            tx_hash=str(tx["hash"]).lower(), block_number=int(receipt["blockNumber"], 16), nonce=int(tx["nonce"], 16),
            to=to, status=int(receipt["status"], 16), gas_used=int(receipt["gasUsed"], 16),
            effective_gas_price_wei=int(receipt.get("effectiveGasPrice", "0x0"), 16), pools=pools, token=token,
            amount_in=amount_in, realized_profit=profit,
        )
