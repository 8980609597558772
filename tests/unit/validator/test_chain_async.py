"""The validator's async chain access with a scripted node: head and base fee from the mirror save
the block read, lender balances are read once per block (reused one block, refreshed in one
batch), fee rates and "this lender does not list the token" are read once."""

from __future__ import annotations

from typing import Any

from mevbot.chain.rpc import RevertError
from mevbot.chainconfig import FlashLoanSource
from mevbot.errors import RpcError
from mevbot.gas.l1 import L1Fallback
from mevbot.gas.oracle import GasOracle
from mevbot.messages import FlashSourceKind

from services.validator.chain import _PROTOCOL_FEES_COLLECTOR, ChainAccess

TOKEN = "0x" + "11" * 20
OTHER = "0x" + "22" * 20
VAULT = "0x" + "aa" * 20
AAVE = "0x" + "bb" * 20
BALANCE = 10**24


class ScriptedNode:
    """Answers the reads ChainAccess makes; counts requests (a batch is one)."""

    def __init__(self) -> None:
        self.requests: list[list[str]] = []
        self.block = 100

    def _answer(self, method: str, params: Any) -> Any:
        if method == "eth_getBlockByNumber":
            return {"number": hex(self.block), "baseFeePerGas": hex(10**7)}
        call = params[0]
        data = call["data"]
        if call["to"] == VAULT and data == "0x" + _PROTOCOL_FEES_COLLECTOR.hex():
            return "0x" + "00" * 12 + "cc" * 20
        if call["to"] == "0x" + "cc" * 20:  # getFlashLoanFeePercentage()
            return "0x" + "00" * 32
        if call["to"] == AAVE:
            raise RevertError("eth_call: execution reverted", b"")  # Aave does not list the token
        return "0x" + BALANCE.to_bytes(32, "big").hex()  # balanceOf

    def call(self, method: str, *params: Any) -> Any:
        self.requests.append([method])
        return self._answer(method, params)

    def batch(self, calls: list) -> list:
        self.requests.append([m for m, _ in calls])
        return [self._answer(m, p) for m, p in calls]


class AsyncNode:
    def __init__(self, node: ScriptedNode) -> None:
        self.node = node

    async def batch(self, calls: list) -> list:
        return self.node.batch(calls)

    async def call(self, method: str, *params: Any) -> Any:
        return self.node.call(method, *params)


SOURCES = [FlashLoanSource(kind=FlashSourceKind.BALANCER_V2, address=VAULT),
           FlashLoanSource(kind=FlashSourceKind.AAVE_V3, address=AAVE)]


def access() -> tuple[ChainAccess, ScriptedNode]:
    node = ScriptedNode()
    chain = ChainAccess(node, executor=None, sender=None, oracle=GasOracle(node, L1Fallback()),  # type: ignore[arg-type]
                        arpc=AsyncNode(node))  # type: ignore[arg-type]
    return chain, node


async def test_head_from_the_mirror_and_balances_once_per_block() -> None:
    chain, node = access()
    head, base_fee, options = await chain.head_and_flash_options_async(TOKEN, SOURCES, (), head=(100, 5))
    assert (head, base_fee) == (100, 5) and [o.kind for o in options] == [FlashSourceKind.BALANCER_V2]
    assert options[0].available == BALANCE and options[0].fee_rate == 0
    cold = len(node.requests)  # fee rates (once per lender and token) and the balance
    assert ["eth_getBlockByNumber"] not in node.requests
    for block in (100, 101):  # the balance read at 100 serves block 101 too: no request
        await chain.head_and_flash_options_async(TOKEN, SOURCES, (), head=(block, 5))
    assert len(node.requests) == cold
    await chain.head_and_flash_options_async(TOKEN, SOURCES, (), head=(102, 5))  # two blocks old: read again
    assert node.requests[-1] == ["eth_call"] and len(node.requests) == cold + 1

    await chain.refresh_balances(103)  # the background refresh: every stale balance, one batch
    assert node.requests[-1] == ["eth_call"] and len(node.requests) == cold + 2
    await chain.head_and_flash_options_async(TOKEN, SOURCES, (), head=(104, 5))
    assert len(node.requests) == cold + 2  # fresh: nothing to read
    assert ("aave_v3" not in [o.kind.value for o in options]) and len(chain._no_lender) == 1


async def test_without_a_known_head_one_batch_reads_head_and_balances() -> None:
    chain, node = access()
    await chain.head_and_flash_options_async(TOKEN, SOURCES, (), head=None)
    node.requests.clear()
    head, base_fee, options = await chain.head_and_flash_options_async(TOKEN, SOURCES, (), head=None)
    assert (head, base_fee) == (100, 10**7) and options[0].available == BALANCE
    assert node.requests == [["eth_getBlockByNumber", "eth_call"]]


async def test_a_transport_error_is_not_taken_for_a_lender_that_refuses_the_token() -> None:
    chain, node = access()
    answer = node._answer

    def flaky(method: str, params: Any) -> Any:
        if params and isinstance(params[0], dict) and params[0].get("to") == AAVE:
            raise RpcError("transport")
        return answer(method, params)

    node._answer = flaky  # type: ignore[method-assign]
    await chain.head_and_flash_options_async(OTHER, SOURCES, (), head=(100, 5))
    assert not chain._no_lender  # asked again next time
