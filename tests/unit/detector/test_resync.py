"""Resync requests: which pools, how often, and the detector publishing them after a gap."""

from __future__ import annotations

import asyncio

from mevbot import messages as m
from mevbot import subjects as subj
from mevbot.bus import InMemoryBus
from mevbot.logging import get_logger
from mevbot.market import MarketStore

from services.detector.app import DetectorService
from services.detector.core import DetectorCore
from services.detector.resync import ORPHAN_REASON, ResyncRequester, pools_needing_resync
from tests.unit.market.helpers import head, meta, sync, v2_info, v2_snapshot

WETH, USDC = "0x" + "11" * 20, "0x" + "22" * 20
P1, P2, P3 = ("0x" + f"{i:02x}" * 20 for i in (0xA1, 0xA2, 0xA3))


def requester(**kw) -> ResyncRequester:
    return ResyncRequester(chain_id=42161, requested_by="d0", min_interval_s=5.0, **kw)


def test_each_pool_is_asked_at_most_once_per_interval() -> None:
    r = requester()
    assert r.due({P1: "gap"}, now=100.0) == {P1: "gap"}
    assert r.due({P1: "gap", P2: "missed Mint"}, now=101.0) == {P2: "missed Mint"}  # P1 asked 1 s ago
    assert r.due({P1: "gap", P2: "missed Mint"}, now=104.9) == {}
    assert r.due({P1: "gap", P2: "missed Mint"}, now=105.0) == {P1: "gap"}  # no answer yet: ask again
    assert r.due({P2: "missed Mint"}, now=106.0) == {P2: "missed Mint"}
    # P1 became ready (no longer listed), then stale again: asked at once, not after the interval
    assert r.due({P1: "reorg"}, now=106.5) == {P1: "reorg"}
    # a request that could not be sent is forgotten: asked again at the next opportunity
    r.forget([P1])
    assert r.due({P1: "reorg"}, now=106.6) == {P1: "reorg"}
    assert r.requested == 6


def test_messages_are_chunked_and_carry_the_request_fields() -> None:
    r = requester(max_pools=2)
    msgs = r.messages({P3: "gap", P1: "gap", P2: "missed Mint"}, block_number=77)
    assert [msg.pools for msg in msgs] == [[P1, P2], [P3]]
    assert all(isinstance(msg, m.ResyncRequest) and msg.requested_by == "d0" and msg.block_number == 77
               and msg.chain_id == 42161 for msg in msgs)
    assert msgs[0].reason == "gap (and 1 other reasons)" and msgs[1].reason == "gap"
    assert m.decode(m.encode(msgs[0])) == msgs[0]


def test_stale_and_snapshotless_pools_need_a_resync() -> None:
    store = MarketStore()
    store.add_snapshot(v2_snapshot(v2_info(P1, USDC, WETH), 10**12, 10**21))
    store.add_snapshot(v2_snapshot(v2_info(P2, USDC, WETH), 10**12, 10**21))
    store.mark_stale(P1, "missed Mint")
    store.apply_event(sync(P3, 5, 6, meta(101)))  # no snapshot of P3 in the stream
    assert pools_needing_resync(store) == {P1: "missed Mint", P3: ORPHAN_REASON}


class _Ctx:
    def __init__(self, bus: InMemoryBus) -> None:
        self.bus = bus
        self.chain_id = 42161
        self.replica_id = "d0"
        self.log = get_logger("test.detector")

    async def publish(self, subject: str, message: m.Message) -> None:
        await self.bus.publish(subject, message)


async def test_detector_requests_a_resync_right_after_a_gap_then_rate_limits() -> None:
    bus = InMemoryBus("detector", chain_id=42161)
    svc = DetectorService()
    svc.ctx = _Ctx(bus)
    svc.core = DetectorCore(chain_id=42161, detector_id="d0", base_tokens=[WETH], native_token=WETH)
    svc.resync = ResyncRequester(chain_id=42161, requested_by="d0", min_interval_s=60.0)
    for pool in (P1, P2):
        svc.on_chain_message(v2_snapshot(v2_info(pool, USDC, WETH), 3_000 * 10**9, 10**21), True)
    svc.on_chain_message(sync(P1, 3_100 * 10**9, 10**21, meta(101)), True)
    assert svc.on_chain_message(head(101, 1), True)  # complete block: nothing to ask
    await asyncio.sleep(0.01)
    assert bus.messages(subj.POOL_RESYNC) == []
    svc.on_chain_message(sync(P1, 3_200 * 10**9, 10**21, meta(102)), True)
    svc.on_chain_message(head(102, 2), True)  # one event of block 102 is missing: every pool stale
    await asyncio.sleep(0.01)  # the request goes out right away, not at the next periodic tick
    (request,) = bus.messages(subj.POOL_RESYNC)
    assert isinstance(request, m.ResyncRequest)
    assert sorted(request.pools) == [P1, P2] and request.requested_by == "d0" and request.block_number == 102
    assert "block 102" in request.reason
    # asked again before the interval: nothing new is published
    assert await svc.request_resyncs() == 0
    assert len(bus.messages(subj.POOL_RESYNC)) == 1
    # ingest answers P1: ready again, only P2 is still asked for (once its interval passed)
    svc.on_chain_message(m.PoolSnapshot(**{**{f: getattr(v2_snapshot(v2_info(P1, USDC, WETH), 1, 2, block=102), f)
                                              for f in m.PoolSnapshot.__struct_fields__}, "reason": "resync"}), True)
    assert svc.core.store.is_ready(P1) and not svc.core.store.is_ready(P2)
    svc.resync.min_interval_s = 0.0
    assert await svc.request_resyncs() == 1
    assert bus.messages(subj.POOL_RESYNC)[-1].pools == [P2]
