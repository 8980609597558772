"""Loader for the degenbot peer cases (/work/shared/peers/degenbot): pools, quotes, cycles."""

from __future__ import annotations

import json
from functools import lru_cache

from mevbot.amm.loaders import pool_from_dict

from tests.shared_data import DEGENBOT_PEER

PEER_DIR = DEGENBOT_PEER


@lru_cache(maxsize=1)
def cases() -> dict:
    return json.loads((PEER_DIR / "cases.json").read_text())


@lru_cache(maxsize=2)
def results(version: str = "0.5.0") -> dict:
    return json.loads((PEER_DIR / f"results-{version}.json").read_text())


def build_pools() -> dict:
    return {pid: pool_from_dict(d) for pid, d in cases()["pools"].items()}


def cycle_hops(cycle: dict, pools: dict) -> list:
    hops = []
    token = cycle["input_token"]
    for pid in cycle["pools"]:
        pool = pools[pid]
        zero_for_one = pool.token0 == token
        assert zero_for_one or pool.token1 == token, f"{pid} does not trade {token}"
        hops.append((pool, zero_for_one))
        token = pool.token1 if zero_for_one else pool.token0
    assert token == cycle["input_token"]
    return hops
