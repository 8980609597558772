"""What a mined transaction did (pure): status, gas bill and the realized profit.

Realized profit = the executor contract's balance change in the loan token, summed from the
receipt's ERC-20 ``Transfer`` logs (loan in, hops, repayment out; Aave's pull of the repayment is
a ``Transfer`` from the contract too). The contract's own ``Arbitrage(token, amountIn, profit)``
event is read as a cross-check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak

TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
ARBITRAGE_TOPIC = "0x" + keccak(text="Arbitrage(address,uint256,uint256)").hex()


@dataclass(frozen=True)
class ReceiptOutcome:
    success: bool
    block_number: int
    gas_used: int
    effective_gas_price_wei: int
    realized_profit: int | None  # loan-token units; None when reverted
    event_profit: int | None  # from the contract's Arbitrage event

    @property
    def gas_cost_wei(self) -> int:
        return self.gas_used * self.effective_gas_price_wei


def _int(value: Any) -> int:
    if isinstance(value, int):
        return value
    return int(str(value), 16) if str(value).startswith("0x") else int(value)


def _topic_address(topic: str) -> str:
    return "0x" + topic[-40:].lower()


def token_delta(logs: list[dict[str, Any]], token: str, holder: str) -> int:
    """Net amount of ``token`` that ``holder`` received in these logs (received - sent)."""
    token, holder = token.lower(), holder.lower()
    delta = 0
    for log in logs:
        topics = log.get("topics") or []
        if str(log.get("address", "")).lower() != token or len(topics) != 3 or topics[0].lower() != TRANSFER_TOPIC:
            continue
        amount = _int(log.get("data") or "0x0") if log.get("data") not in ("0x", "") else 0
        if _topic_address(topics[2]) == holder:
            delta += amount
        if _topic_address(topics[1]) == holder:
            delta -= amount
    return delta


def arbitrage_event_profit(logs: list[dict[str, Any]], contract: str) -> int | None:
    contract = contract.lower()
    for log in logs:
        topics = log.get("topics") or []
        if str(log.get("address", "")).lower() == contract and topics and topics[0].lower() == ARBITRAGE_TOPIC:
            data = bytes.fromhex(str(log["data"])[2:])
            return int.from_bytes(data[32:64], "big")
    return None


def read_receipt(receipt: dict[str, Any], *, loan_token: str, contract: str) -> ReceiptOutcome:
    success = _int(receipt.get("status", "0x0")) == 1
    logs = receipt.get("logs") or []
    return ReceiptOutcome(
        success=success,
        block_number=_int(receipt["blockNumber"]),
        gas_used=_int(receipt["gasUsed"]),
        effective_gas_price_wei=_int(receipt.get("effectiveGasPrice") or "0x0"),
        realized_profit=token_delta(logs, loan_token, contract) if success else None,
        event_profit=arbitrage_event_profit(logs, contract) if success else None,
    )
