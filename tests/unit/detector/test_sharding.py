"""Rendezvous sharding: every cycle is owned by exactly one live replica; rebalances are minimal."""

from __future__ import annotations

import pytest

from services.detector.sharding import Membership, ShardFilter, owner_of

CYCLES = [f"cycle{i:05d}" for i in range(6000)]


@pytest.mark.parametrize("n_replicas", [1, 2, 3])
def test_shares_cover_every_cycle_exactly_once(n_replicas: int) -> None:
    replicas = [f"detector-{i}" for i in range(n_replicas)]
    filters = [ShardFilter(r) for r in replicas]
    for f in filters:
        f.set_members(replicas)
    for cycle in CYCLES:
        assert sum(f.owns(cycle) for f in filters) == 1
    shares = [sum(f.owns(c) for c in CYCLES) for f in filters]
    assert min(shares) > len(CYCLES) / n_replicas * 0.85  # roughly balanced


def test_join_and_leave_move_only_the_affected_cycles() -> None:
    two = ["a", "b"]
    three = ["a", "b", "c"]
    before = {c: owner_of(c, two) for c in CYCLES}
    after = {c: owner_of(c, three) for c in CYCLES}
    moved = [c for c in CYCLES if before[c] != after[c]]
    assert all(after[c] == "c" for c in moved)  # a join only takes cycles for the newcomer
    assert 0.25 < len(moved) / len(CYCLES) < 0.42
    # the leave of "c" gives back exactly its cycles
    assert {c: owner_of(c, two) for c in CYCLES} == before


def test_membership_from_heartbeats_with_expiry() -> None:
    m = Membership("a", ttl_ns=3_000)
    assert m.members() == ("a",)
    assert m.observe("b", now_ns=1_000) is True
    assert m.observe("b", now_ns=2_000) is False
    assert m.observe("a", now_ns=2_000) is False  # self is always live
    assert m.observe("c", now_ns=2_500) is True
    assert m.members() == ("a", "b", "c")
    assert m.expire(now_ns=5_100) is True  # b last seen at 2_000
    assert m.members() == ("a", "c")
    assert m.leave("c") is True and m.members() == ("a",)
    f = ShardFilter("a")
    assert f.set_members(["b"]) is True and f.members == ("a", "b")
    assert f.set_members(["a", "b"]) is False
