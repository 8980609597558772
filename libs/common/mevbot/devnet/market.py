"""The devnet's market: noise traders plus large trades that open dislocations, in rounds.

A round: a few noise swaps (random pools, random sides, small USD sizes), then a quiet moment
(no bot transaction for ``quiet_s``), then one large trade on the next pool of a seeded shuffle
that moves its price by ``move_pct`` (V3: exact price limit; V2: size from the reserves). The
trade's block is read back, and :meth:`MarketBook.best_opportunity` records the best cycle it
opened (2- or 3-hop, V2/V3 mix) and its profit: the prediction a perfect searcher would have
made. Then the round waits until the bot captured it (a successful bot transaction through that
pool, seen on chain) or ``capture_timeout_s`` passed.

Why rounds and not a free-running market: a noise trade landing on a dislocated pool between the
bot's detection and its inclusion changes the realized profit (the contract's guard then either
accepts less or reverts). Quiet windows keep the e2e claims exact (realized == predicted);
``noise_during_capture=True`` turns that off for a harsher, more realistic run.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction

from mevbot.amm import UniswapV2Pool, UniswapV3Pool
from mevbot.chain.rpc import RpcClient
from mevbot.devnet.chainwatch import ChainWatcher
from mevbot.devnet.oracle import CycleOpportunity, MarketBook, PoolMeta
from mevbot.devnet.trader import Trader

_BIG_IN = 2**110


@dataclass(frozen=True)
class MarketConfig:
    seed: int = 7
    base_tokens: tuple[str, ...] = ()
    threshold_wei: int = 10**16
    noise_per_round: tuple[int, int] = (2, 6)
    noise_usd: tuple[int, int] = (200, 5_000)
    move_pct: tuple[float, float] = (0.8, 2.0)
    quiet_s: float = 0.75
    max_quiet_wait_s: float = 6.0
    capture_timeout_s: float = 6.0
    settle_s: float = 0.6  # after a capture: more bot txs (split plans, second cycles) may follow
    target_dislocations: int | None = None  # stop after this many above-threshold dislocations
    noise_during_capture: bool = False


@dataclass
class Dislocation:
    index: int
    pool: str
    pool_label: str
    pool_kind: str
    zero_for_one: bool
    amount_in: int
    move_pct: float
    tx_hash: str
    block_number: int
    injected_ns: int
    expected: CycleOpportunity | None
    above_threshold: bool
    capture_txs: list[str] = field(default_factory=list)
    first_capture_block: int | None = None
    first_capture_s: float | None = None  # wall time from injection to seeing the capture mined


@dataclass
class MarketStats:
    noise_swaps: int = 0
    rounds: int = 0
    dislocations: list[Dislocation] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ran_s: float = 0.0  # how long the market actually ran

    @property
    def above_threshold(self) -> list[Dislocation]:
        return [d for d in self.dislocations if d.above_threshold]


class MarketSimulator:
    def __init__(self, rpc_url: str, book: MarketBook, traders: list[str], *, pool_actor: str, router_v2: str,
                 watcher: ChainWatcher, config: MarketConfig) -> None:
        self.rpc = RpcClient(rpc_url)
        self.book = book
        self.traders = traders
        self.trader = Trader(self.rpc, pool_actor=pool_actor, router_v2=router_v2)
        self.watcher = watcher
        self.cfg = config
        self.rng = random.Random(config.seed)
        self.stats = MarketStats()
        self._pools = list(book.pools.values())
        self._order: list[PoolMeta] = []

    def close(self) -> None:
        self.rpc.close()

    # --- the loop -----------------------------------------------------------------------------------

    def run(self, stop: threading.Event, deadline_monotonic: float) -> MarketStats:
        started = time.monotonic()
        consecutive = 0
        try:
            while not stop.is_set() and time.monotonic() < deadline_monotonic:
                if self.cfg.target_dislocations is not None and len(self.stats.above_threshold) >= self.cfg.target_dislocations:
                    break
                try:
                    self.round(stop, deadline_monotonic)
                    consecutive = 0
                except Exception as exc:  # the market keeps going; the report lists every error
                    self.stats.errors.append(f"{type(exc).__name__}: {exc}")
                    consecutive += 1
                    if consecutive > 20:  # broken for good (the chain is gone?)
                        raise
                    time.sleep(0.5)
        finally:
            self.stats.ran_s = round(time.monotonic() - started, 1)
        return self.stats

    def round(self, stop: threading.Event, deadline: float) -> None:
        self.stats.rounds += 1
        self.noise(self.rng.randint(*self.cfg.noise_per_round))
        self.wait_quiet(stop)
        if stop.is_set() or time.monotonic() > deadline:
            return
        dislocation = self.inject(self.next_pool())
        self.wait_capture(dislocation, stop)

    def next_pool(self) -> PoolMeta:
        if not self._order:
            self._order = list(self._pools)
            self.rng.shuffle(self._order)
        return self._order.pop()

    # --- noise ----------------------------------------------------------------------------------------

    def noise(self, count: int) -> None:
        txs = []
        for _ in range(count):
            pool = self.rng.choice(self._pools)
            zfo = self.rng.random() < 0.5
            token_in = pool.token0 if zfo else pool.token1
            usd = self.rng.uniform(*self.cfg.noise_usd)
            amount = int(Fraction(usd) / self.book.usd[token_in] * 10 ** self.book.decimals[token_in])
            txs.append(self.trader.swap_tx(self.rng.choice(self.traders), pool, zfo, amount))
        if txs:
            self.trader.wait_receipts(self.trader.send(txs))
            self.stats.noise_swaps += len(txs)

    def wait_quiet(self, stop: threading.Event) -> None:
        """Until no bot transaction was mined for ``quiet_s`` (the bot finished with the noise)."""
        start = last = time.monotonic()
        while not stop.is_set() and time.monotonic() - start < self.cfg.max_quiet_wait_s:
            if self.watcher.poll():
                last = time.monotonic()
            if time.monotonic() - last >= self.cfg.quiet_s:
                return
            time.sleep(0.05)

    # --- dislocations ---------------------------------------------------------------------------------

    def inject(self, pool: PoolMeta) -> Dislocation:
        states = self.book.read_states(self.rpc)
        state = states[pool.address]
        zfo = self.rng.random() < 0.5
        move = self.rng.uniform(*self.cfg.move_pct)
        if isinstance(state, UniswapV3Pool):
            factor = Fraction(1) - Fraction(move) / 100 if zfo else Fraction(1) + Fraction(move) / 100
            limit = math.isqrt(state.sqrt_price_x96**2 * factor.numerator // factor.denominator)
            amount_in = state.simulate_exact_in(zfo, _BIG_IN, limit).amount_in
        else:
            assert isinstance(state, UniswapV2Pool)
            reserve_in = state.reserve0 if zfo else state.reserve1
            amount_in = int(reserve_in * (math.sqrt(1 + move / 100) - 1) / 0.997)
            limit = 0
        trader = self.rng.choice(self.traders)
        (tx_hash,) = self.trader.send([self.trader.swap_tx(trader, pool, zfo, amount_in, limit)])
        injected_ns = time.time_ns()
        (receipt,) = self.trader.wait_receipts([tx_hash])
        block = int(receipt["blockNumber"], 16)
        after = self.book.read_states(self.rpc, block)
        expected = self.book.best_opportunity(pool.address, after, list(self.cfg.base_tokens))
        d = Dislocation(
            index=len(self.stats.dislocations), pool=pool.address, pool_label=pool.label, pool_kind=pool.kind,
            zero_for_one=zfo, amount_in=amount_in, move_pct=round(move, 3), tx_hash=str(tx_hash).lower(),
            block_number=block, injected_ns=injected_ns, expected=expected,
            above_threshold=receipt["status"] == "0x1" and expected is not None
            and expected.profit_wei >= self.cfg.threshold_wei,
        )
        if receipt["status"] != "0x1":
            self.stats.errors.append(f"dislocation swap on {pool.label} reverted ({tx_hash})")
        self.stats.dislocations.append(d)
        return d

    def wait_capture(self, d: Dislocation, stop: threading.Event) -> None:
        start = time.monotonic()
        captured_at: float | None = None
        while not stop.is_set():
            now = time.monotonic()
            for tx in self.watcher.poll():
                if tx.block_number > d.block_number and d.pool in tx.pools and tx.status == 1:
                    d.capture_txs.append(tx.tx_hash)
                    if d.first_capture_block is None:
                        d.first_capture_block = tx.block_number
                        d.first_capture_s = round((time.time_ns() - d.injected_ns) / 1e9, 3)
                    captured_at = time.monotonic()
            if captured_at is not None and time.monotonic() - captured_at >= self.cfg.settle_s:
                return
            if captured_at is None and now - start >= self.cfg.capture_timeout_s:
                return
            if self.cfg.noise_during_capture and self.rng.random() < 0.1:
                self.noise(1)
            time.sleep(0.03)
