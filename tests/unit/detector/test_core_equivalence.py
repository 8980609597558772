"""The optimised detector core emits exactly what the pre-optimisation evaluation path emits.

Two cores are fed the same generated chain stream (V2, Camelot V2 with directional fees, Uniswap
V3, Algebra with fee changes, a block with a missing event that makes every pool stale, then resync
snapshots): one flushes with its own (optimised) code, the other through
:class:`tests.unit.detector.reference_core.ReferenceFlush`, the old code path verbatim. After every
event the candidate lists must be byte-identical when encoded (ids, amounts, hop fields, versions,
order) and every counter equal. Further tests pin the pieces the optimisation changed: the screen's
rate memory across flushes (failed rates, resync snapshots, reorg replacements at the same chain
position), the per-class fee look-up, the candidate id from the cycle's precomputed text.
"""

from __future__ import annotations

import msgspec
import pytest
from mevbot import messages as m
from mevbot.amm.algebra_pool import AlgebraPool
from mevbot.amm.camelot_v2 import CamelotV2Pool
from mevbot.amm.tick_math import sqrt_ratio_at_tick
from mevbot.amm.v2 import UniswapV2Pool
from mevbot.amm.v3_pool import UniswapV3Pool

from services.detector import evaluate
from services.detector.core import DetectorCore, _cycle_candidate_id, candidate_id_of
from services.detector.cycles import Cycle
from services.detector.synthetic import BASE_TOKENS, CHAIN_ID, WETH, Arbitrageur, SyntheticMarket
from tests.unit.detector import reference_core as ref
from tests.unit.market.helpers import head, meta, sync, v2_info, v2_snapshot


def _mixed(snapshot: m.PoolSnapshot, i: int) -> m.PoolSnapshot:
    """Every third V2 pair as Camelot V2 (directional fees), every third V3 pool as Algebra."""
    info = snapshot.pool
    if i % 3:
        return snapshot
    if info.kind is m.PoolKind.UNISWAP_V2:
        info = msgspec.structs.replace(info, kind=m.PoolKind.CAMELOT_V2, dex="camelot_v2",
                                       token0_fee_pips=2000 + 100 * (i % 7), token1_fee_pips=3000)
    else:
        info = msgspec.structs.replace(info, kind=m.PoolKind.ALGEBRA, dex="camelot_v3")
    return msgspec.structs.replace(snapshot, pool=info)


def _stream(seed: int, n_blocks: int = 10) -> tuple[list[m.PoolSnapshot], list[m.Message]]:
    """Snapshots, then the live stream: swaps, Algebra fee changes, one incomplete block (every
    pool stale) and the resync snapshots that follow it."""
    market = SyntheticMarket(n_tokens=18, n_pools=70, v3_share=0.4, seed=seed)
    market.equilibrate()
    index = {a: i for i, a in enumerate(market.pools)}
    snapshots = [_mixed(market.snapshot_of(a), index[a]) for a in market.pools]
    algebra = [s.pool.address for s in snapshots if s.pool.kind is m.PoolKind.ALGEBRA]
    stream: list[m.Message] = []
    blocks = market.blocks(n_blocks, 40, (1e-4, 2e-2), arbitrageur=Arbitrageur(market, max_trades=6))
    for k, (events, end) in enumerate(blocks):
        events = list(events)
        if k % 3 == 1 and algebra:  # a fee change of an Algebra pool: same prices, new fee
            n = len(events)
            fee_meta = m.EventMeta(block_number=end.block_number, block_hash=end.block_hash,
                               tx_hash="0x" + "fe" * 32, tx_index=n, log_index=n)
            events.append(m.AlgebraFee(chain_id=CHAIN_ID, pool=algebra[k % len(algebra)], meta=fee_meta,
                                       fee_pips=(500, 3000, 10000)[k % 3] + k))
            end = msgspec.structs.replace(end, event_count=len(events))
        if k == n_blocks // 2:
            # one event never arrived: every pool goes stale, then ingest resyncs them all
            stream.extend(events)
            stream.append(msgspec.structs.replace(end, event_count=len(events) + 1))
            stream.extend(msgspec.structs.replace(_mixed(market.snapshot_of(a), index[a]), reason="resync")
                          for a in market.pools)
            continue
        stream.extend(events)
        stream.append(end)
    return snapshots, stream


def _core(replica: str, sizing: str) -> DetectorCore:
    return DetectorCore(chain_id=CHAIN_ID, detector_id=replica, base_tokens=BASE_TOKENS, native_token=WETH,
                        clock_ns=lambda: 7, sizing=sizing)


def _feed(cores, message: m.Message) -> None:
    """One chain message to every core, as the service hands it over."""
    for core in cores:
        if isinstance(message, m.BlockHead):
            core.on_block_head(message)
        elif isinstance(message, m.PoolSnapshot):
            core.on_snapshot(message)
        else:
            core.on_event(message)


def _counters(core: DetectorCore) -> tuple:
    s = core.stats
    return (s.evaluated, s.screened_out, s.unprofitable, s.profitable, s.refused, s.errors,
            core.duplicates_suppressed, core.emitted)


def _run(seed: int, sizing: str, replicas: tuple[str, ...], n_blocks: int = 10) -> set[m.PoolKind]:
    """Kinds of the pools the emitted candidates went through."""
    snapshots, stream = _stream(seed, n_blocks)
    kinds: set[m.PoolKind] = set()
    for replica in replicas:
        new, old = _core(replica, sizing), _core(replica, sizing)
        reference = ref.ReferenceFlush(old)
        for core in (new, old):
            core.set_members(replicas)
            for snap in snapshots:
                core.on_snapshot(snap, live=False)
        for i, message in enumerate(stream):
            _feed((new, old), message)
            if isinstance(message, m.BlockHead):
                continue  # evaluate-on-drain: after every event and snapshot
            assert new.dirty == old.dirty, i
            got, want = new.flush(), reference.flush()
            assert [m.encode(c) for c in got] == [m.encode(c) for c in want], i
            assert _counters(new) == _counters(old), i
            kinds.update(h.kind for c in got for h in c.hops)
        assert new._last_emitted == reference.last_emitted
    return kinds


@pytest.mark.parametrize("seed", [3, 11])
def test_candidates_and_counters_match_the_reference_path(seed: int) -> None:
    assert _run(seed, "fast", ("d0",)) == set(m.PoolKind)


def test_sharded_replicas_match_the_reference_path() -> None:
    assert _run(5, "fast", ("d0", "d1"))


def test_full_sizing_matches_the_reference_path() -> None:
    assert _run(7, "full", ("d0",), n_blocks=2)


def test_failed_screen_rates_count_once_per_flush_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    """A (pool, direction) whose rate raises is remembered across flushes, and still counted as an
    error in every flush that needs it, exactly as when it was computed every flush."""
    snapshots, stream = _stream(2, n_blocks=3)
    bad = next(s.pool.address for s in snapshots if s.pool.kind is m.PoolKind.UNISWAP_V3)

    def failing(pool, zero_for_one: bool) -> float:
        if pool.address == bad and zero_for_one:
            raise ZeroDivisionError("test")
        return ref.marginal_rate_bound(pool, zero_for_one)

    monkeypatch.setattr("services.detector.core.marginal_rate_bound", failing)
    new, old = _core("d0", "fast"), _core("d0", "fast")
    reference = ref.ReferenceFlush(old, rate=failing)
    for core in (new, old):
        for snap in snapshots:
            core.on_snapshot(snap, live=False)
    for message in stream:
        _feed((new, old), message)
        if not isinstance(message, m.BlockHead):
            assert [m.encode(c) for c in new.flush()] == [m.encode(c) for c in reference.flush()]
            assert _counters(new) == _counters(old)
    assert new.stats.errors > 1


def test_a_resync_snapshot_at_the_same_version_is_screened_on_its_new_state() -> None:
    """The screen's rate memory is keyed by the pool's state object: a snapshot that replaces a stale
    pool at the same block (so the same store version) must not reuse the old rate."""
    snapshots, _ = _stream(4, n_blocks=1)
    core = _core("d0", "fast")
    for snap in snapshots:
        core.on_snapshot(snap, live=False)
    v2 = next(s for s in snapshots if s.pool.kind is m.PoolKind.UNISWAP_V2 and core.index.cycles_through(s.pool.address))
    address = v2.pool.address
    core.dirty = dict.fromkeys(core.index.cycles_through(address), 0)
    core.flush()
    before = {k: v[2] for k, v in core._rates.items() if k.startswith(address)}
    assert before
    entry = core.store.entries[address]
    core.store.mark_stale(address, "test")
    core.on_snapshot(msgspec.structs.replace(v2, reserve0=v2.reserve0 * 2, reason="resync"))
    assert core.store.entries[address] is not entry and core.store.entries[address].version == entry.version
    core.flush()
    after = {k: v[2] for k, v in core._rates.items() if k.startswith(address)}
    assert after.keys() == before.keys()
    for key, rate in after.items():
        z = key.endswith(":1")
        assert rate == ref.marginal_rate_bound(core.store.entries[address].state, z) != before[key]


def test_a_reorg_replacement_at_the_same_chain_position_is_screened_on_its_new_state() -> None:
    """A removed log and its replacement at the same (block, tx, log) give the pool the same store
    version with another state: the screen's memory must not serve the removed state's rate."""
    weth, usdc, arb = "0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20
    p1, p2, p3, p4 = ("0x" + f"{i:02x}" * 20 for i in (0xA1, 0xA2, 0xA3, 0xA4))
    cores = [DetectorCore(chain_id=CHAIN_ID, detector_id="d0", base_tokens=[weth, usdc], native_token=weth,
                          clock_ns=lambda: 7) for _ in range(2)]
    new, old = cores
    reference = ref.ReferenceFlush(old)
    snapshots = [
        v2_snapshot(v2_info(p1, usdc, weth), 3_000 * 10**9, 10**21),
        v2_snapshot(v2_info(p2, usdc, weth), 6_000 * 10**9, 2 * 10**21),
        v2_snapshot(v2_info(p3, arb, weth), 2 * 10**24, 10**21),
        v2_snapshot(v2_info(p4, arb, usdc), 3 * 10**24, 4_500_000 * 10**6),
    ]
    steps = [
        [sync(p1, 3_000 * 10**9 + 1, 10**21, meta(101)), head(101, 1)],  # balanced: nothing to do
        # the block is reorged away and replaced, before the next flush: same position, new state
        [sync(p1, 3_000 * 10**9 + 1, 10**21, meta(101, removed=True)),
         sync(p1, 4_000 * 10**9, 75 * 10**19, meta(101, fork="f")), head(101, 1, fork="f")],
    ]
    for core in cores:
        for snap in snapshots:
            core.on_snapshot(snap, live=False)
    found = []
    for step in steps:
        for message in step:
            _feed(cores, message)
        assert new.store.entries[p1].version == old.store.entries[p1].version
        got = new.flush()
        assert [m.encode(c) for c in got] == [m.encode(c) for c in reference.flush()]
        assert _counters(new) == _counters(old)
        found.append(got)
    assert not found[0] and found[1]  # the replacement's dislocation is reported


def test_fee_of_matches_the_getattr_probe_for_every_pool_class() -> None:
    t0, t1 = "0x" + "01" * 20, "0x" + "02" * 20
    price = sqrt_ratio_at_tick(0)
    ticks = {-600: 10**18, 600: -(10**18)}
    algebra = AlgebraPool("0xa1", t0, t1, 900, 60, price, 0, 10**18, ticks)
    algebra_directional = AlgebraPool("0xa2", t0, t1, 900, 60, price, 0, 10**18, ticks)
    algebra_directional.apply_fee(800, block_number=1, fee_otz_pips=1700)
    pools = [
        UniswapV2Pool("0xb1", t0, t1, 10**20, 10**21, 2500),
        CamelotV2Pool("0xb2", t0, t1, 10**20, 10**21, 2000, 3500),
        UniswapV3Pool("0xb3", t0, t1, 500, 10, price, 0, 10**18, ticks),
        algebra,
        algebra_directional,
    ]
    for pool in pools:
        for zero_for_one in (True, False):
            assert evaluate._fee_of(pool, zero_for_one) == ref.fee_of(pool, zero_for_one)
    assert evaluate._fee_of(algebra_directional, False) == 1700
    assert evaluate._fee_of(pools[1], True) == 2000 and evaluate._fee_of(pools[1], False) == 3500

    class Plain:  # no fee method on the class: the instance is probed as before
        def __init__(self, fee_for=None) -> None:
            self.fee_pips = 123
            if fee_for is not None:
                self._fee_for = fee_for

    assert evaluate._fee_of(Plain(), True) == 123 == ref.fee_of(Plain(), True)
    assert evaluate._fee_of(Plain(lambda z: 7 if z else 8), False) == 8


def test_candidate_id_from_the_cycle_pieces_is_the_published_function() -> None:
    cycle = Cycle(WETH, ("0x" + "aa" * 20, "0x" + "bb" * 20), (WETH, "0x" + "cc" * 20, WETH), (True, False))
    for versions in ([0, 1], [(12_345 << 40) | (3 << 20) | 7, 10**15], [2**63, 5]):
        pairs = list(zip(cycle.pools, versions))
        assert _cycle_candidate_id(cycle, versions) == candidate_id_of(cycle.cycle_id, pairs) \
            == ref.candidate_id_of(cycle.cycle_id, pairs)
    # pinned (computed with the original core.candidate_id_of and cycles.cycle_id_of): ids are
    # compared across replicas and restarts, so neither function may drift
    assert cycle.cycle_id == "ebaa4044955b8241"
    assert _cycle_candidate_id(cycle, [1, 2]) == "0bff6da371cb0675a6551a5e2240fd22"
