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
            "compiled": native.is_compiled(cycle)}


if __name__ == "__main__":
    print(json.dumps(run()))
