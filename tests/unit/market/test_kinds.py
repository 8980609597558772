"""Every pool kind the AMM library models goes through the store: Camelot V2 and Algebra too."""

from __future__ import annotations

from mevbot import messages as m
from mevbot.amm.tick_math import sqrt_ratio_at_tick
from mevbot.market import MarketStore

from services.detector.core import DetectorCore
from tests.unit.market.helpers import CHAIN_ID, block_hash, head, meta, sync

WETH, USDC = "0x" + "11" * 20, "0x" + "22" * 20
CAMELOT, ALGEBRA = "0x" + "c2" * 20, "0x" + "c3" * 20


def camelot_snapshot(r0: int, r1: int) -> m.PoolSnapshot:
    info = m.PoolInfo(address=CAMELOT, kind=m.PoolKind.CAMELOT_V2, dex="camelot_v2", factory="0xf", token0=USDC,
                      token1=WETH, fee_pips=3000, token0_fee_pips=3000, token1_fee_pips=1000)
    return m.PoolSnapshot(chain_id=CHAIN_ID, pool=info, block_number=100, block_hash=block_hash(100),
                          reserve0=r0, reserve1=r1)


def algebra_snapshot() -> m.PoolSnapshot:
    info = m.PoolInfo(address=ALGEBRA, kind=m.PoolKind.ALGEBRA, dex="camelot_v3", factory="0xf", token0=USDC,
                      token1=WETH, fee_pips=500, tick_spacing=60)
    tick = 193_380  # ~ 2.5e-9 WETH-wei... per USDC unit: ~2,500 USDC per WETH
    return m.PoolSnapshot(chain_id=CHAIN_ID, pool=info, block_number=100, block_hash=block_hash(100),
                          sqrt_price_x96=sqrt_ratio_at_tick(tick), tick=tick, liquidity=10**20, fee_pips=500,
                          ticks=[(-887220, 10**20), (887220, -(10**20))])


def test_camelot_and_algebra_pools_load_apply_and_trade() -> None:
    store = MarketStore()
    assert store.add_snapshot(camelot_snapshot(2_500 * 10**9, 10**21))[0] is not None
    assert store.add_snapshot(algebra_snapshot())[0] is not None
    fee = m.AlgebraFee(chain_id=CHAIN_ID, pool=ALGEBRA, meta=meta(101), fee_pips=2500)
    assert store.apply_event(fee) == ALGEBRA
    assert store.ready_pool(ALGEBRA).fee_pips == 2500
    assert store.apply_event(sync(CAMELOT, 2_400 * 10**9, 10**21, meta(101, 1, 1))) == CAMELOT
    assert store.ready_pool(CAMELOT).reserve0 == 2_400 * 10**9

    det = DetectorCore(chain_id=CHAIN_ID, detector_id="d", base_tokens=[WETH, USDC], native_token=WETH)
    det.on_snapshot(camelot_snapshot(2_500 * 10**9, 10**21))
    det.on_snapshot(algebra_snapshot())
    det.flush()
    det.on_event(sync(CAMELOT, 2_000 * 10**9, 125 * 10**19, meta(101)))  # WETH much cheaper on Camelot
    assert det.on_block_head(head(101, 1)) == 0
    candidates = det.flush()
    assert candidates
    kinds = {h.pool: (h.kind, h.fee_pips) for c in candidates for h in c.hops}
    assert kinds[CAMELOT][0] is m.PoolKind.CAMELOT_V2 and kinds[ALGEBRA] == (m.PoolKind.ALGEBRA, 500)
    for c in candidates:  # directional Camelot fee: WETH in (token1) pays 1000 pips
        for h in c.hops:
            if h.pool == CAMELOT:
                assert h.fee_pips == (3000 if h.zero_for_one else 1000)
