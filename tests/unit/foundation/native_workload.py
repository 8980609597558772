"""A deterministic detector workload whose output digest must not depend on compilation.

Run as a script (``python tests/unit/foundation/native_workload.py``): a synthetic market (V2 and
V3 pools, 2- and 3-hop cycles) is driven by random swaps and an arbitrageur; every event goes
through the detector's pure core (decode, exact state update, screen, exact sizing, candidates).
Prints one JSON line: the sha256 of every candidate's encoding in order, their count, a digest of
exact V3 quotes and whether the hot modules ran compiled.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import msgspec

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from mevbot import messages as m
from mevbot import native
from mevbot.amm import cycle
from mevbot.bus import Decoders

from benchmarks.detector_bench import subject_of
from services.detector.core import DetectorCore
from services.detector.synthetic import BASE_TOKENS, WETH, Arbitrageur, SyntheticMarket


def run(blocks: int = 6, events_per_block: int = 120) -> dict:
    market = SyntheticMarket(n_tokens=24, n_pools=120, v3_share=0.5, seed=11)
    market.equilibrate()
    core = DetectorCore(chain_id=42161, detector_id="native", base_tokens=BASE_TOKENS, native_token=WETH)
    for address in market.pools:
        core.on_snapshot(market.snapshot_of(address), live=False)
    decoders = Decoders()
    digest = hashlib.sha256()
    candidates = 0
    for events, head in market.blocks(blocks, events_per_block, (1e-4, 2e-2),
                                      arbitrageur=Arbitrageur(market, max_trades=8)):
        for message in [*events, head]:
            decoded = decoders.decode(subject_of(message), m.encode(message))
            if isinstance(decoded, m.BlockHead):
                core.on_block_head(decoded)
                continue
            core.on_event(decoded)
            for candidate in core.flush():
                # (wall-clock stamps differ between runs)
                digest.update(m.encode(msgspec.structs.replace(candidate, detected_ns=0, event_received_ns=0)))
                candidates += 1
    quotes = hashlib.sha256()
    for address, pool in sorted(market.shadow.items()):
        for zero_for_one in (True, False):
            for amount in (1, 10**6, 10**12, 10**18, 10**21):
                try:
                    quotes.update(str(pool.quote_exact_in(zero_for_one, amount)).encode())
                except Exception as exc:  # noqa: BLE001 - the error's type is part of the answer
                    quotes.update(type(exc).__name__.encode())
    return {"candidates": candidates, "candidates_sha256": digest.hexdigest(), "quotes_sha256": quotes.hexdigest(),
            "walks_sha256": _walks_digest(core), "compiled": native.is_compiled(cycle)}


def _walks_digest(core: DetectorCore) -> str:
    """The float model's answers (the optimum's location, its curvature, the segments and slope at
    a few inputs) on every cycle of the final state, bit for bit: its locals are C doubles in the
    compiled build (mevbot/amm/cycle.pxd)."""
    walks = hashlib.sha256()
    entries = core.store.entries
    for cycle_id in sorted(core.index.cycles):
        c = core.index.cycles[cycle_id]
        hops = [(entries[pool].state, z) for pool, z in zip(c.pools, c.zero_for_one)]
        curves = [pool.float_segments(z) for pool, z in hops]
        if any(curve is None for curve in curves):
            continue
        for max_input in (float("inf"), 1e21, 1e9, 3.0):
            x, curvature = cycle._float_walk(hops, max_input)
            walks.update(f"{x.hex()} {curvature.hex()}|".encode())
            # the linear walk (the bisection's reference) and its resumable form
            x, curvature = cycle._walk(curves, max_input)
            walks.update(f"{x.hex()} {curvature.hex()}|".encode())
        for x in (1.0, 1e6, 1e12, 1e18, 1e24, 1e30):
            ks, slope = cycle._locate(curves, x)
            walks.update(f"{ks} {slope.hex()}|".encode())
    # long walks (hundreds to thousands of pieces: the bisection of _walk_search and _locate)
    from tests.unit.amm.test_walk_bisect import long_cycle

    for seed in range(8):
        hops = long_cycle(seed)
        for max_input in (float("inf"), 1e30):
            x, curvature = cycle._float_walk(hops, max_input)
            walks.update(f"{x.hex()} {curvature.hex()}|".encode())
    return walks.hexdigest()


if __name__ == "__main__":
    print(json.dumps(run()))
