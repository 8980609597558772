"""The validator's downsizing / splitting (``services.validator.split.recommend``) on real pools.

Cases: each of the first 30 complete Arbitrum V3 pools of ``../shared/data/arbitrum/`` paired with
a constant-product pool on the same tokens priced 1.5 % off (both directions of the dislocation,
both hop orders): 120 two-hop paths whose optimum breaks a 5,000 ppm hop / 10,000 ppm path / 10
ticks limit, so every one is searched. Prints the time of ``recommend`` over all cases (median of
``--repeat``), and the trials of the largest-size search against a plain bisection's.

    .venv/bin/python benchmarks/validator_split.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mevbot.amm.v2 import UniswapV2Pool

from services.validator.split import Limits, _Book, max_size_within_limits, recommend
from tests.unit.validator.test_split_trial import COMPLETE, STATES, bisection, counted_probes

LIMITS = Limits(5_000, 10_000, 10, 10**24)


def cases() -> list[tuple[UniswapV2Pool, object, bool]]:
    rng = random.Random(3)
    out = []
    for address in COMPLETE[:30]:
        v3 = STATES[address][0]
        price = (v3.sqrt_price_x96 / 2**96) ** 2
        r0 = 10 ** rng.uniform(18, 24)
        for zero_for_one in (True, False):
            for off in (1.015, 1 / 1.015):
                v2 = UniswapV2Pool("0x" + "cd" * 20, v3.token0, v3.token1, int(r0), max(1, int(r0 * price * off)), 3000)
                out.append((v2, v3, zero_for_one))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    paths = [[(v2, z), (v3, not z)] for v2, v3, z in cases()]
    timings = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        decisions = [recommend(path, LIMITS, lambda amount: 10**9, {}, 3) for path in paths]
        timings.append(time.perf_counter() - start)
    probes = {"search": 0, "bisection": 0}
    for path in paths:
        for name, search in (("search", max_size_within_limits), ("bisection", bisection)):
            with counted_probes() as counter:
                search(_Book([p for p, _ in path]), path, LIMITS)
            probes[name] += counter["n"]
    print(json.dumps({
        "cases": len(paths), "decisions": sum(d is not None for d in decisions),
        "recommend_all_ms": round(statistics.median(timings) * 1e3, 1),
        "recommend_per_case_ms": round(statistics.median(timings) * 1e3 / len(paths), 3),
        "trials_per_search": {k: round(v / len(paths), 1) for k, v in probes.items()},
    }))


if __name__ == "__main__":
    main()
