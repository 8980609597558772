"""Synthetic markets for tests and benchmarks: consistent pool states and the events a chain would log.

Every token has a reference price in the native token; pools are created at that price (V2 reserves,
or a V3 pool with a few positions around the price tick), so the market starts without arbitrage
larger than the fees. :meth:`SyntheticMarket.swap_events` then moves pools with real swaps on shadow
pool objects (the "chain"), returning exactly the ``V2Sync``/``V3Swap`` events the pools would log.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

from mevbot import messages as m
from mevbot.amm.tick_math import MAX_TICK, MIN_TICK, sqrt_ratio_at_tick
from mevbot.amm.v2 import UniswapV2Pool
from mevbot.amm.v3_pool import UniswapV3Pool

# Arbitrum One addresses (the packaged chain config's base tokens)
WETH = "0x82af49447d8a07e3bd95bd0d56f35241523fbab1"
USDC = "0xaf88d065e77c8cc2239327c5edb3a432268e5831"
USDC_E = "0xff970a61a04b1ca14834a43f5de4533ebddb5cc8"
USDT = "0xfd086bc7cd5c481dcc9c85ebe478a1c0b69fcbb9"
ARB = "0x912ce59144191c1204e64559fe8253a0e49e6548"
WBTC = "0x2f2a2543b76a4166549f7aab2e75bef0aefc5b0f"
BASE_TOKENS = (WETH, USDC, USDC_E, USDT, ARB, WBTC)
CHAIN_ID = 42161


def _address(prefix: int, i: int) -> str:
    return "0x" + f"{prefix:02x}" + f"{i:038x}"


def block_hash_of(block: int) -> str:
    return "0x" + f"{block:064x}"


class SyntheticMarket:
    """A market of generated pools (``__init__``) or of given snapshots (:meth:`from_snapshots`)."""

    @classmethod
    def from_snapshots(cls, snapshots: list[m.PoolSnapshot], seed: int = 1) -> SyntheticMarket:
        """Drive real pool states (e.g. the Arbitrum data set) with random swaps."""
        from mevbot.market.build import pool_from_snapshot

        market = cls(n_tokens=0, n_pools=0, seed=seed, block=max(s.block_number for s in snapshots))
        for snap in snapshots:
            market.pools[snap.pool.address] = snap.pool
            market.shadow[snap.pool.address] = pool_from_snapshot(snap)
            market.snapshots.append(snap)
        return market

    def __init__(self, *, n_tokens: int, n_pools: int, v3_share: float = 0.3, seed: int = 1,
                 base_tokens: tuple[str, ...] = BASE_TOKENS, block: int = 1_000) -> None:
        rng = self.rng = random.Random(seed)
        self.block = block
        others = [_address(0xEE, i) for i in range(max(0, n_tokens - len(base_tokens)))]
        self.tokens = list(base_tokens) + others
        # price of one raw unit of the token in wei of WETH (log-uniform)
        self.price = {t: 10 ** rng.uniform(-6, 3) for t in self.tokens}
        self.price[WETH] = 1.0
        self.pools: dict[str, m.PoolInfo] = {}
        self.shadow: dict[str, object] = {}
        self.snapshots: list[m.PoolSnapshot] = []
        for i in range(n_pools):
            # half the pools touch a base token (that is how real markets look: hubs)
            a = rng.choice(base_tokens) if rng.random() < 0.6 else rng.choice(self.tokens)
            b = rng.choice(self.tokens)
            while b == a:
                b = rng.choice(self.tokens)
            token0, token1 = sorted((a, b))
            address = _address(0xA0, i)
            if rng.random() < v3_share:
                self._add_v3(address, token0, token1)
            else:
                self._add_v2(address, token0, token1)

    def _add_v2(self, address: str, token0: str, token1: str) -> None:
        rng = self.rng
        depth_wei = 10 ** rng.uniform(19, 22)  # 10 to 10,000 WETH per side
        noise = 1 + rng.uniform(-0.001, 0.001)
        r0 = int(depth_wei / self.price[token0] * noise)
        r1 = int(depth_wei / self.price[token1])
        r0, r1 = max(r0, 10**3), max(r1, 10**3)
        info = m.PoolInfo(address=address, kind=m.PoolKind.UNISWAP_V2, dex="uniswap_v2", factory="0x" + "f2" * 20,
                          token0=token0, token1=token1, fee_pips=3000)
        self.pools[address] = info
        self.shadow[address] = UniswapV2Pool(address, token0, token1, r0, r1, 3000, block_number=self.block)
        self.snapshots.append(m.PoolSnapshot(chain_id=CHAIN_ID, pool=info, block_number=self.block,
                                             block_hash=block_hash_of(self.block), reserve0=r0, reserve1=r1))

    def _add_v3(self, address: str, token0: str, token1: str) -> None:
        rng = self.rng
        fee, spacing = rng.choice([(500, 10), (3000, 60), (10000, 200)])
        ratio = self.price[token0] / self.price[token1] * (1 + rng.uniform(-0.001, 0.001))  # token1 per token0
        tick = math.floor(math.log(ratio) / math.log(1.0001))
        tick = max(MIN_TICK + 10 * spacing, min(MAX_TICK - 10 * spacing, tick))
        sqrt_price = sqrt_ratio_at_tick(tick)
        depth_wei = 10 ** rng.uniform(19, 22)
        # L ~ sqrt(x*y) for the depth at this price
        liquidity = int(math.sqrt(depth_wei / self.price[token0] * depth_wei / self.price[token1]))
        liquidity = max(liquidity, 10**6)
        base = (tick // spacing) * spacing
        ticks: dict[int, int] = {}
        positions = [(base - 2000 * spacing, base + 2000 * spacing, liquidity // 2)]
        for _ in range(3):
            lo = base - rng.randint(1, 60) * spacing
            hi = base + rng.randint(1, 60) * spacing
            positions.append((lo, hi, liquidity // 6))
        current = 0
        for lo, hi, amount in positions:
            lo = max(lo, (MIN_TICK // spacing + 1) * spacing)
            hi = min(hi, (MAX_TICK // spacing) * spacing)
            ticks[lo] = ticks.get(lo, 0) + amount
            ticks[hi] = ticks.get(hi, 0) - amount
            if lo <= tick < hi:
                current += amount
        info = m.PoolInfo(address=address, kind=m.PoolKind.UNISWAP_V3, dex="uniswap_v3", factory="0x" + "f3" * 20,
                          token0=token0, token1=token1, fee_pips=fee, tick_spacing=spacing)
        self.pools[address] = info
        self.shadow[address] = UniswapV3Pool(address, token0, token1, fee, spacing, sqrt_price, tick, current,
                                             ticks, block_number=self.block)
        self.snapshots.append(m.PoolSnapshot(chain_id=CHAIN_ID, pool=info, block_number=self.block,
                                             block_hash=block_hash_of(self.block), sqrt_price_x96=sqrt_price,
                                             tick=tick, liquidity=current, fee_pips=fee,
                                             ticks=sorted(ticks.items())))

    def swap_event(self, address: str, block: int, tx_index: int, log_index: int,
                   size_fraction: float, zero_for_one: bool | None = None) -> m.PoolEvent | None:
        """Swap ``size_fraction`` of the pool's input-side depth on the shadow pool; its event."""
        rng = self.rng
        pool = self.shadow[address]
        if zero_for_one is None:
            zero_for_one = rng.random() < 0.5
        meta = m.EventMeta(block_number=block, block_hash=block_hash_of(block), tx_hash="0x" + "cd" * 32,
                           tx_index=tx_index, log_index=log_index)
        if isinstance(pool, UniswapV2Pool):
            reserve_in = pool.reserve0 if zero_for_one else pool.reserve1
            amount = max(1, int(reserve_in * size_fraction))
            try:
                pool.execute_swap(zero_for_one, amount, block_number=block)
            except Exception:  # noqa: BLE001 - a swap the pair refuses simply does not happen
                return None
            return m.V2Sync(chain_id=CHAIN_ID, pool=address, meta=meta, reserve0=pool.reserve0, reserve1=pool.reserve1)
        depth = pool.liquidity * (1 << 96) // pool.sqrt_price_x96 if zero_for_one else \
            pool.liquidity * pool.sqrt_price_x96 >> 96
        amount = max(1, int(depth * size_fraction))
        try:
            result = pool.execute_swap(zero_for_one, amount, block_number=block)
        except Exception:  # noqa: BLE001
            return None
        return m.V3Swap(chain_id=CHAIN_ID, pool=address, meta=meta, sender="0x" + "01" * 20,
                        recipient="0x" + "01" * 20, amount0=result.amount0, amount1=result.amount1,
                        sqrt_price_x96=result.sqrt_price_x96_after, liquidity=result.liquidity_after,
                        tick=result.tick_after)

    def blocks(self, n_blocks: int, events_per_block: int, size_fraction: tuple[float, float] = (1e-4, 2e-2),
               start_block: int | None = None, arbitrageur: Arbitrageur | None = None,
               ) -> Iterator[tuple[list[m.PoolEvent], m.BlockHead]]:
        """Blocks of random swaps (the events, then the block's end marker).

        With an ``arbitrageur``, each block starts with the trades that close the opportunities the
        previous block left (as competing searchers would), so dislocations do not pile up.
        """
        rng = self.rng
        addresses = list(self.pools)
        block = (start_block if start_block is not None else self.block + 1)
        self.block = block - 1
        for _ in range(n_blocks):
            events = arbitrageur.close(self, block) if arbitrageur is not None else []
            for _ in range(events_per_block):
                i = len(events)
                event = self.swap_event(rng.choice(addresses), block, i, i, rng.uniform(*size_fraction))
                if event is not None:
                    events.append(event)
            head = m.BlockHead(chain_id=CHAIN_ID, block_number=block, block_hash=block_hash_of(block),
                               parent_hash=block_hash_of(block - 1), timestamp=block, event_count=len(events))
            if arbitrageur is not None:
                arbitrageur.observe(events, head)
            yield events, head
            self.block = block
            block += 1

    def equilibrate(self, base_tokens: tuple[str, ...] = BASE_TOKENS, max_rounds: int = 200) -> int:
        """Arbitrage the market flat (on the shadow pools) and re-take the snapshots; returns trades made."""
        arb = Arbitrageur(self, base_tokens)
        trades = 0
        for _ in range(max_rounds):
            events = arb.close(self, self.block)
            if not events:
                break
            trades += 1
            arb.observe(events, None)
        self.snapshots = [self.snapshot_of(address) for address in self.pools]
        return trades

    def snapshot_of(self, address: str) -> m.PoolSnapshot:
        info, pool = self.pools[address], self.shadow[address]
        common = {"chain_id": CHAIN_ID, "pool": info, "block_number": self.block,
                  "block_hash": block_hash_of(self.block)}
        if isinstance(pool, UniswapV2Pool):
            return m.PoolSnapshot(reserve0=pool.reserve0, reserve1=pool.reserve1, **common)
        return m.PoolSnapshot(sqrt_price_x96=pool.sqrt_price_x96, tick=pool.tick, liquidity=pool.liquidity,
                              fee_pips=pool.fee_pips, ticks=sorted(pool.ticks.items()), **common)


class Arbitrageur:
    """A competing searcher: sees the same chain, executes the best non-overlapping opportunities."""

    def __init__(self, market: SyntheticMarket, base_tokens: tuple[str, ...] = BASE_TOKENS,
                 max_trades: int = 8) -> None:
        from services.detector.core import DetectorCore

        self.max_trades = max_trades
        self.core = DetectorCore(chain_id=CHAIN_ID, detector_id="arbitrageur", base_tokens=base_tokens,
                                 native_token=WETH)
        for snap in market.snapshots:
            self.core.on_snapshot(market.snapshot_of(snap.pool.address) if market.shadow else snap)

    def observe(self, events: list[m.PoolEvent], head: m.BlockHead | None) -> None:
        for event in events:
            self.core.on_event(event)
        if head is not None:
            self.core.on_block_head(head)

    def close(self, market: SyntheticMarket, block: int) -> list[m.PoolEvent]:
        candidates = sorted(self.core.flush(), key=lambda c: -c.gross_profit_wei)
        used: set[str] = set()
        events: list[m.PoolEvent] = []
        for candidate in candidates:
            if len(used) >= 3 * self.max_trades:
                self.core.dirty[candidate.cycle_id] = 0
                self.core._last_emitted.pop(candidate.cycle_id, None)
                continue
            pools = [h.pool for h in candidate.hops]
            if used.intersection(pools):
                # still open: look at it again next time even if nothing it uses changes
                self.core.dirty[candidate.cycle_id] = 0
                self.core._last_emitted.pop(candidate.cycle_id, None)
                continue
            used.update(pools)
            for hop in candidate.hops:
                i = len(events)
                meta = m.EventMeta(block_number=block, block_hash=block_hash_of(block), tx_hash="0x" + "aa" * 32,
                                   tx_index=i, log_index=i)
                pool = market.shadow[hop.pool]
                if isinstance(pool, UniswapV2Pool):
                    pool.execute_swap(hop.zero_for_one, hop.amount_in, block_number=block)
                    events.append(m.V2Sync(chain_id=CHAIN_ID, pool=hop.pool, meta=meta, reserve0=pool.reserve0,
                                           reserve1=pool.reserve1))
                else:
                    r = pool.execute_swap(hop.zero_for_one, hop.amount_in, block_number=block)
                    events.append(m.V3Swap(chain_id=CHAIN_ID, pool=hop.pool, meta=meta, sender="0x" + "aa" * 20,
                                           recipient="0x" + "aa" * 20, amount0=r.amount0, amount1=r.amount1,
                                           sqrt_price_x96=r.sqrt_price_x96_after, liquidity=r.liquidity_after,
                                           tick=r.tick_after))
        return events
