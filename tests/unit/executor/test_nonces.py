import pytest
from mevbot.errors import ExecutionError

from services.executor.nonces import NonceManager


def test_reserve_needs_sync_first():
    n = NonceManager()
    assert n.needs_sync
    with pytest.raises(ExecutionError):
        n.reserve()


def test_sequential_commits_are_contiguous():
    n = NonceManager()
    n.sync(7)
    got = []
    for _ in range(5):
        x = n.reserve()
        n.commit(x)
        got.append(x)
    assert got == [7, 8, 9, 10, 11]
    assert n.next_nonce == 12


def test_released_newest_nonce_is_reused():
    n = NonceManager()
    n.sync(3)
    a = n.reserve()
    n.release(a)  # simulation reverted: never sent
    b = n.reserve()
    assert a == b == 3
    n.commit(b)
    assert n.reserve() == 4


def test_older_release_becomes_a_gap_filled_first():
    n = NonceManager()
    n.sync(0)
    a, b = n.reserve(), n.reserve()
    n.commit(b)
    n.release(a)  # a is below a sent nonce: a hole the chain would stall on
    assert n.gaps() == [0]
    assert n.reserve() == 0  # the hole is filled before anything new
    assert n.gaps() == []
    assert n.reserve() == 2


def test_trailing_gaps_collapse_when_newest_released():
    n = NonceManager()
    n.sync(10)
    a, b, c = n.reserve(), n.reserve(), n.reserve()
    n.release(a)
    n.release(b)
    assert n.gaps() == [10, 11]
    n.release(c)
    assert n.gaps() == []
    assert n.next_nonce == 10


def test_floor_from_previous_holder_wins_over_chain():
    n = NonceManager()
    assert n.sync(5, floor=8) == 8
    n.invalidate()
    assert n.sync(9, floor=8) == 9


def test_cannot_resync_with_reservations_outstanding():
    n = NonceManager()
    n.sync(0)
    x = n.reserve()
    with pytest.raises(ExecutionError):
        n.sync(0)
    n.invalidate()
    n.release(x)  # after invalidate the chain decides; release only clears the reservation
    assert n.needs_sync
    n.sync(0)
    assert n.reserve() == 0


def test_double_commit_is_an_error():
    n = NonceManager()
    n.sync(0)
    x = n.reserve()
    n.commit(x)
    with pytest.raises(ExecutionError):
        n.commit(x)
