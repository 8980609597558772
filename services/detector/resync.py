"""Asking ingest for fresh snapshots of the pools whose state the detector lost.

A pool needs a resync when the store marked it stale (missed Mint/Burn, a block with missing
events, a reorg deeper than the journal) or when events of it arrive but its snapshot never did
(after stream retention expired, a restarted detector replays a stream that no longer holds the
snapshots). :class:`ResyncRequester` decides which of those pools to ask for now: each pool at most
once per ``min_interval_s`` (a lost request or answer is asked again later, a flood of stale pools
never turns into a flood of requests), in messages of at most ``max_pools`` pools. Pure: the
caller passes the clock.
"""

from __future__ import annotations

from collections.abc import Mapping

from mevbot import messages as m
from mevbot.market import MarketStore

ORPHAN_REASON = "events without a snapshot (snapshot no longer in the stream?)"


def pools_needing_resync(store: MarketStore) -> dict[str, str]:
    """Stale pools and pools with buffered events but no snapshot (pool -> reason)."""
    out = {address: entry.stale_reason or "stale" for address, entry in store.entries.items() if not entry.ready}
    for address in store.orphan_pools():
        out.setdefault(address, store.rejected.get(address) or ORPHAN_REASON)
    return out


class ResyncRequester:
    def __init__(self, *, chain_id: int, requested_by: str, min_interval_s: float, max_pools: int = 200) -> None:
        self.chain_id = chain_id
        self.requested_by = requested_by
        self.min_interval_s = min_interval_s
        self.max_pools = max_pools
        self._last: dict[str, float] = {}  # pool -> when it was last asked for
        self.requested = 0  # pools asked for so far (repeats included)

    def due(self, pools: Mapping[str, str], now: float) -> dict[str, str]:
        """The pools to ask for now, marked as asked (pool -> reason)."""
        last = self._last
        for address in [a for a in last if a not in pools]:
            del last[address]  # ready again: a later staleness is asked for at once
        out = {}
        for address, reason in pools.items():
            when = last.get(address)
            if when is None or now - when >= self.min_interval_s:
                out[address] = reason
                last[address] = now
        self.requested += len(out)
        return out

    def forget(self, pools: list[str]) -> None:
        """A request was not sent: ask for these pools again at the next opportunity."""
        for address in pools:
            self._last.pop(address, None)

    def messages(self, pools: Mapping[str, str], block_number: int) -> list[m.ResyncRequest]:
        """``ResyncRequest`` messages for ``pools``, at most ``max_pools`` pools each."""
        items = sorted(pools.items())
        out = []
        for i in range(0, len(items), self.max_pools):
            chunk = items[i : i + self.max_pools]
            reasons = dict.fromkeys(reason for _, reason in chunk)
            reason = next(iter(reasons))
            if len(reasons) > 1:
                reason += f" (and {len(reasons) - 1} other reasons)"
            out.append(m.ResyncRequest(chain_id=self.chain_id, pools=[a for a, _ in chunk], reason=reason[:500],
                                       requested_by=self.requested_by, block_number=block_number))
        return out
