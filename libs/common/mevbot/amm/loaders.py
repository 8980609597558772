"""Build pool-state objects from plain data (JSON files, dicts) with no network.

* :func:`pool_from_dict`: the format of ``peers/degenbot/cases.json`` (``kind`` = uniswap_v2 or
  uniswap_v3, big integers as decimal strings).
* :func:`load_initial_pool_states`: ``data/arbitrum/initial_pool_states.json`` joined with
  ``pools.json`` (fee tier, tokens); reports whether each tick map is complete.
"""

from __future__ import annotations

import json
from pathlib import Path

from mevbot.amm.base import PoolState
from mevbot.amm.v2 import UniswapV2Pool
from mevbot.amm.v3_pool import UniswapV3Pool
from mevbot.errors import StateError

#: Uniswap V3 fee tier (pips) -> tick spacing (PancakeSwap V3 differs: see PANCAKE_V3_TICK_SPACING)
UNISWAP_V3_TICK_SPACING = {100: 1, 500: 10, 3000: 60, 10000: 200}
PANCAKE_V3_TICK_SPACING = {100: 1, 500: 10, 2500: 50, 10000: 200}


def pool_from_dict(d: dict, block_number: int = 0) -> PoolState:
    kind = d["kind"]
    token0 = d["token0"]["address"] if isinstance(d["token0"], dict) else d["token0"]
    token1 = d["token1"]["address"] if isinstance(d["token1"], dict) else d["token1"]
    if kind == "uniswap_v2":
        if "fee_pips" in d:
            fee_pips = int(d["fee_pips"])
        else:
            numerator, denominator = int(d["fee_numerator"]), int(d["fee_denominator"])
            if (numerator * 1_000_000) % denominator:
                raise StateError(f"V2 fee {numerator}/{denominator} is not a whole number of pips")
            fee_pips = numerator * 1_000_000 // denominator
        return UniswapV2Pool(d["address"], token0, token1, int(d["reserve0"]), int(d["reserve1"]),
                             fee_pips, block_number=block_number)
    if kind == "uniswap_v3":
        fee = int(d.get("fee_pips", d.get("fee")))
        return UniswapV3Pool(
            d["address"], token0, token1, fee, int(d["tick_spacing"]), int(d["sqrt_price_x96"]),
            int(d["tick"]), int(d["liquidity"]), {int(t): int(n) for t, n in d["ticks"].items()},
            block_number=block_number,
        )
    raise StateError(f"unknown pool kind {kind!r}")


def tick_map_is_complete(tick: int, liquidity: int, ticks: dict[int, int]) -> bool:
    """True when the liquidityNet of every tick at or below ``tick`` sums to ``liquidity``."""
    return sum(n for t, n in ticks.items() if t <= tick) == liquidity


def load_initial_pool_states(states_path: str | Path, pools_path: str | Path,
                             chain: str = "arbitrum") -> dict[str, tuple[UniswapV3Pool, bool]]:
    """V3 pools of ``chain`` in the snapshot: address -> (pool, tick map complete?)."""
    states = json.loads(Path(states_path).read_text())
    meta = {p["address"].lower(): p for p in json.loads(Path(pools_path).read_text())
            if p.get("chain") == chain and p.get("version") == "v3"}
    out: dict[str, tuple[UniswapV3Pool, bool]] = {}
    for address, state in states.items():
        info = meta.get(address.lower())
        if info is None or "ticks" not in state:
            continue
        fee = int(info["feeTier"])
        spacing = UNISWAP_V3_TICK_SPACING[fee]
        ticks = {int(t): int(n) for t, n in state["ticks"].items() if int(n) != 0}
        tick, liquidity = int(state["tick"]), int(state["liquidity"])
        pool = UniswapV3Pool(address, info["token0"]["address"], info["token1"]["address"], fee, spacing,
                             int(state["sqrt_price"]), tick, liquidity, ticks)
        out[address.lower()] = (pool, tick_map_is_complete(tick, liquidity, ticks))
    return out
