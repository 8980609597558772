"""Cycle enumeration is complete and exact: checked against a brute-force search."""

from __future__ import annotations

import itertools
import random

import pytest

from services.detector.cycles import CycleIndex, cycle_id_of

BASES = ("weth", "usdc", "usdt")


def brute_force(pools: dict[str, tuple[str, str]], bases, max_hops: int) -> set[tuple[str, tuple[str, ...]]]:
    """Every sequence of distinct pools forming a loop over distinct tokens, from its best base token."""
    rank = {t: i for i, t in reversed(list(enumerate(bases)))}
    found = set()
    names = list(pools)
    for hops in range(2, max_hops + 1):
        for seq in itertools.permutations(names, hops):
            for start in bases:
                tokens = [start]
                ok = True
                for pool in seq:
                    t0, t1 = pools[pool]
                    here = tokens[-1]
                    if here == t0:
                        tokens.append(t1)
                    elif here == t1:
                        tokens.append(t0)
                    else:
                        ok = False
                        break
                if not ok or tokens[-1] != start or len(set(tokens[:-1])) != hops:
                    continue
                best = min(tokens[:-1], key=lambda t: rank.get(t, 1 << 30))
                if best == start:
                    found.add((start, seq))
    return found


def random_market(rng: random.Random, n_tokens: int, n_pools: int) -> dict[str, tuple[str, str]]:
    tokens = list(BASES) + [f"tok{i}" for i in range(n_tokens - len(BASES))]
    pools = {}
    for i in range(n_pools):
        a, b = rng.sample(tokens, 2)
        pools[f"pool{i:03d}"] = (a, b)
    return pools


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("max_hops", [2, 3, 4])
def test_incremental_index_equals_brute_force(seed: int, max_hops: int) -> None:
    rng = random.Random(seed * 31 + max_hops)
    pools = random_market(rng, n_tokens=rng.randint(4, 7), n_pools=rng.randint(6, 11 if max_hops < 4 else 9))
    index = CycleIndex(BASES, max_hops=max_hops)
    order = list(pools)
    rng.shuffle(order)  # insertion order must not matter
    for pool in order:
        index.add_pool(pool, *pools[pool])
    got = {c.key() for c in index.cycles.values()}
    assert got == brute_force(pools, BASES, max_hops)
    assert len(got) == len(index.cycles)  # no duplicates under different ids


def test_cycle_structure_and_pool_index() -> None:
    index = CycleIndex(["weth", "usdc"], max_hops=3)
    index.add_pool("p1", "usdc", "weth")  # token0 = usdc
    index.add_pool("p2", "weth", "usdc")
    index.add_pool("p3", "arb", "weth")
    index.add_pool("p4", "arb", "usdc")
    for cycle in index.cycles.values():
        assert cycle.tokens[0] == cycle.tokens[-1] == cycle.start_token == "weth"  # weth outranks usdc
        for i, pool in enumerate(cycle.pools):
            t0, t1 = index.graph.tokens_of(pool)
            assert cycle.zero_for_one[i] == (cycle.tokens[i] == t0)
            assert {cycle.tokens[i], cycle.tokens[i + 1]} == {t0, t1}
        assert cycle.cycle_id == cycle_id_of(cycle.start_token, cycle.pools)
        for pool in cycle.pools:
            assert cycle.cycle_id in index.cycles_through(pool)
    # 2-hop: p1/p2 both orders; 3-hop: weth-usdc-arb-weth over (p1|p2) x p4 x p3, both directions
    assert len(index.cycles) == 2 + 2 * 2
    assert sum(len(index.cycles_through(p)) for p in ("p1", "p2", "p3", "p4")) == 2 * 2 + 4 * 3


def test_loops_without_base_token_are_not_indexed_and_re_adding_is_a_noop() -> None:
    index = CycleIndex(["weth"], max_hops=3)
    assert index.add_pool("p1", "a", "b") == []
    assert index.add_pool("p2", "b", "c") == []
    assert index.add_pool("p3", "c", "a") == []
    assert len(index) == 0
    index.add_pool("p4", "weth", "a")
    assert index.add_pool("p4", "weth", "a") == []
    assert len(index) == 0
    assert len(index.add_pool("p5", "weth", "b")) == 2  # weth-a-b-weth via p4,p1,p5, both directions


def test_rejects_bad_configuration() -> None:
    with pytest.raises(ValueError):
        CycleIndex(["weth"], max_hops=5)
    with pytest.raises(ValueError):
        CycleIndex([], max_hops=3)
