"""Derive the devnet's small copy of real Arbitrum V3 tick maps (run once; output is committed).

    python deploy/devnet/derive_real_pools.py [/work/shared/data/arbitrum]

Reads ``initial_pool_states.json`` + ``pools.json`` (see /work/shared/data/README.md for their
provenance) and writes ``libs/common/mevbot/devnet/data/real_v3_pools.json`` with the few pools the
devnet mints: only pools whose tick map is complete (sum of liquidityNet at or below the current
tick equals the in-range liquidity). The devnet works from a clean clone with this copy alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# real pool -> which devnet pool it shapes (all complete in the snapshot of 2024-11-01)
CHOSEN = {
    "0xc473e2aee3441bf9240be85eb122abb059a3b57c": "WETH/USDC 3000",
    "0x92c63d0e701caae670c9415d91c474f686298f00": "WETH/ARB 3000",
    "0xc82819f72a9e77e2c0c3a69b3196478f44303cf4": "WETH/USDT 3000",
}
OUT = Path(__file__).resolve().parents[2] / "libs/common/mevbot/devnet/data/real_v3_pools.json"


def main(src: Path) -> None:
    states = json.loads((src / "initial_pool_states.json").read_text())
    meta = {p["address"].lower(): p for p in json.loads((src / "pools.json").read_text()) if p.get("chain") == "arbitrum"}
    by_prefix = {a.lower(): a for a in states}
    out = []
    for address, label in CHOSEN.items():
        key = next(k for k in by_prefix if k.startswith(address[:10]))
        st, info = states[by_prefix[key]], meta[key]
        ticks = {int(t): int(n) for t, n in st["ticks"].items() if int(n) != 0}
        tick, liquidity = int(st["tick"]), int(st["liquidity"])
        if sum(n for t, n in ticks.items() if t <= tick) != liquidity:
            raise SystemExit(f"{key}: tick map incomplete")
        out.append({
            "source_pool": key, "devnet_pool": label, "fee_pips": int(info["feeTier"]),
            "token0": info["token0"]["symbol"], "token1": info["token1"]["symbol"],
            "decimals0": int(info["token0"]["decimals"]), "decimals1": int(info["token1"]["decimals"]),
            "tick": tick, "liquidity": str(liquidity), "sqrt_price_x96": str(st["sqrt_price"]),
            "ticks": {str(t): str(n) for t, n in sorted(ticks.items())},
        })
    doc = {"_provenance": "Arbitrum One Uniswap V3 pool state at 2024-11-01T00:00:00Z, from "
           "tivas-g/Torres_Shared_Sequencing_Arbitrage data/initial_pool_states.json @ b02acd1 "
           "(via /work/shared/data/arbitrum); derived by deploy/devnet/derive_real_pools.py", "pools": out}
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT} ({len(out)} pools)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/shared/data/arbitrum"))
