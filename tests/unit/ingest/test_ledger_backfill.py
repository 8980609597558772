"""Dedupe, ordering, reorg rollback (ledger) and getLogs range planning (backfill)."""

from __future__ import annotations

import pytest
from mevbot.errors import RpcError, StateError

from services.ingest.backfill import is_range_cap_error, plan_ranges, split_range
from services.ingest.decode import decode_log
from services.ingest.ledger import Ledger, Place
from tests.unit.ingest.logs import v2_sync


def h(n: int, fork: str = "a") -> str:
    return "0x" + (fork * 2 + format(n, "062x"))[-64:]


def ev(block: int, index: int, fork: str = "a"):
    return decode_log(v2_sync(index, block, block=block, block_hash=h(block, fork), log_index=index), 1)


def test_dedupe_and_places() -> None:
    ledger = Ledger(10, h(10))
    assert ledger.place(11, h(11)) is Place.OPEN
    assert ledger.place(12, h(12)) is Place.FUTURE
    assert ledger.place(10, h(10)) is Place.DONE
    assert ledger.place(10, h(10, "b")) is Place.FORK
    assert ledger.record(ev(11, 0)) is True
    assert ledger.record(ev(11, 0)) is False  # same (block hash, log index): duplicate
    assert ledger.is_published(h(11), 0) and not ledger.is_published(h(11), 1)
    assert ledger.place(11, h(11, "b")) is Place.FORK  # open block with another hash
    ledger.record(ev(11, 3))
    assert ledger.max_open_log_index == 3
    record = ledger.complete(11, h(11), h(10))
    assert [e.meta.log_index for e in record.events] == [0, 3]
    assert ledger.place(11, h(11)) is Place.DONE and ledger.next_number == 12


def test_complete_refuses_a_broken_chain() -> None:
    ledger = Ledger(10, h(10))
    with pytest.raises(StateError, match="parent"):
        ledger.complete(11, h(11), h(10, "b"))
    with pytest.raises(StateError, match="next is 11"):
        ledger.complete(12, h(12), h(11))
    with pytest.raises(StateError):
        ledger.record(ev(13, 0))


def test_rollback_returns_reversals_newest_first() -> None:
    ledger = Ledger(10, h(10))
    for block in (11, 12):
        ledger.record(ev(block, 0))
        ledger.record(ev(block, 1))
        ledger.complete(block, h(block), h(block - 1))
    ledger.record(ev(13, 0))  # open block
    assert ledger.find_ancestor({12: h(12, "b"), 11: h(11), 10: h(10)}) == 11
    reversals = ledger.rollback_to(11)
    assert [(e.meta.block_number, e.meta.log_index) for e in reversals] == [(13, 0), (12, 1), (12, 0)]
    assert all(e.meta.removed for e in reversals)
    assert ledger.last.number == 11 and ledger.open is None
    assert ledger.place(12, h(12, "b")) is Place.OPEN


def test_window_bounds_memory_and_deep_reorgs() -> None:
    ledger = Ledger(0, h(0), window=4)
    for n in range(1, 10):
        ledger.complete(n, h(n), h(n - 1))
    assert sorted(ledger.completed) == [6, 7, 8, 9]
    with pytest.raises(StateError, match="window"):
        ledger.rollback_to(3)
    assert ledger.place(2, h(2, "b")) is Place.DONE  # older than the window: ignored


def test_plan_and_split_ranges() -> None:
    assert plan_ranges(10, 25, 10) == [(10, 19), (20, 25)]
    assert plan_ranges(5, 5, 100) == [(5, 5)]
    assert plan_ranges(6, 5, 100) == []
    assert split_range(10, 19) == [(10, 14), (15, 19)]
    with pytest.raises(ValueError):
        split_range(7, 7)


@pytest.mark.parametrize(
    ("message", "cap"),
    [
        ("eth_getLogs: query returned more than 10000 results (-32005)", True),
        ("eth_getLogs: block range is too wide (-32600)", True),
        ("eth_getLogs: exceed maximum block range: 5000 (-32000)", True),
        ("eth_getLogs: Log response size exceeded (-32602)", True),
        ("eth_getLogs: header not found (-32000)", False),
    ],
)
def test_range_cap_errors_recognised(message: str, cap: bool) -> None:
    assert is_range_cap_error(RpcError(message, rpc_code=-32000)) is cap
    assert is_range_cap_error(ValueError(message)) is False
