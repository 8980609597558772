"""A lab on a private anvil: real Uniswap V2/V3 bytecode from npm, positions and swaps through the
project's PoolActor helper, and the pool's own Swap events read back for comparison.

Uses ``mevbot.chain`` (anvil process, artifacts, JSON-RPC batches). Every pool gets two fresh
TestERC20 tokens so any fee tier can be created; the actor holds 2**200 of each.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from mevbot.amm.tick_math import MAX_SQRT_RATIO, MAX_TICK, MIN_SQRT_RATIO, MIN_TICK, getSqrtRatioAtTick
from mevbot.amm.v2 import UniswapV2Pool
from mevbot.amm.v3_pool import UniswapV3Pool
from mevbot.chain.artifacts import load_artifact
from mevbot.chain.create2 import sort_tokens, v2_pair_address, v3_pool_address
from mevbot.chain.deploy import DEV_ACCOUNTS
from mevbot.chain.rpc import RpcClient
from mevbot.chain.txbatch import TxBatch
from mevbot.errors import AmmError

SWAP_TOPIC = "0xc42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67"
V2_SYNC_TOPIC = "0x1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1"
TICK_SPACING = {100: 1, 500: 10, 3000: 60, 10000: 200}
BIG = 2**200
SWAP_GAS = 500_000_000  # real pools: a swap may cross thousands of initialized ticks
QUOTE_GAS = 2**36


def _signed(word: str) -> int:
    value = int(word, 16)
    return value - (1 << 256) if value >= 1 << 255 else value


@dataclass
class ChainSwap:
    amount0: int
    amount1: int
    sqrt_price_x96: int
    liquidity: int
    tick: int


def decode_swap(log: dict) -> ChainSwap:
    data = log["data"][2:]
    words = [data[i : i + 64] for i in range(0, len(data), 64)]
    return ChainSwap(
        _signed(words[0]), _signed(words[1]), int(words[2], 16), int(words[3], 16), _signed(words[4])
    )


class V3Lab:
    def __init__(self, rpc: RpcClient) -> None:
        self.rpc = rpc
        self.deployer = DEV_ACCOUNTS[0]
        self.batch = TxBatch(rpc, self.deployer, chunk=250)
        self.erc20 = load_artifact("TestERC20")
        self.factory_art = load_artifact("UniswapV3Factory")
        self.pool_codec = load_artifact("UniswapV3Pool").codec
        self.actor_codec = load_artifact("PoolActor").codec
        self.v2_factory_art = load_artifact("UniswapV2Factory")
        self.pair_codec = load_artifact("UniswapV2Pair").codec
        self.factory = self.batch.create("UniswapV3Factory", self.factory_art.creation_code())
        self.batch.call(
            "enable fee 100", self.factory, self.factory_art.codec.encode_call("enableFeeAmount", 100, 1)
        )
        self.v2_factory = self.batch.create(
            "UniswapV2Factory", self.v2_factory_art.creation_code(self.deployer)
        )
        self.actor = self.batch.create("PoolActor", load_artifact("PoolActor").creation_code())
        self.batch.flush()
        self._n_tokens = 0

    # --- set-up -------------------------------------------------------------------------------

    def token_pair(self) -> tuple[str, str]:
        """Two fresh tokens (sorted), 2**200 of each minted to the actor and the deployer."""
        out = []
        for _ in range(2):
            self._n_tokens += 1
            symbol = f"T{self._n_tokens}"
            token = self.batch.create(symbol, self.erc20.creation_code(f"Test {symbol}", symbol, 18))
            for holder in (self.actor, self.deployer):
                self.batch.call(f"mint {symbol}", token, self.erc20.codec.encode_call("mint", holder, BIG))
            out.append(token)
        return sort_tokens(out[0], out[1])

    def create_v3_pool(
        self,
        fee: int,
        sqrt_price_x96: int,
        positions: list[tuple[int, int, int]],
        tokens: tuple[str, str] | None = None,
    ) -> tuple[str, UniswapV3Pool]:
        """Create + initialize a real pool, mint ``positions`` [(lower, upper, liquidity)]; returns
        (address, our model of it built by replaying the same mints)."""
        t0, t1 = tokens or self.token_pair()
        pool = v3_pool_address(self.factory, t0, t1, fee)
        self.batch.call(
            "createPool", self.factory, self.factory_art.codec.encode_call("createPool", t0, t1, fee)
        )
        self.batch.call("initialize", pool, self.pool_codec.encode_call("initialize", sqrt_price_x96))
        from mevbot.amm.tick_math import getTickAtSqrtRatio

        model = UniswapV3Pool(
            pool, t0, t1, fee, TICK_SPACING[fee], sqrt_price_x96, getTickAtSqrtRatio(sqrt_price_x96), 0
        )
        for lower, upper, liquidity in positions:
            self.batch.call(
                "mint",
                self.actor,
                self.actor_codec.encode_call("mint", pool, lower, upper, liquidity),
                gas=SWAP_GAS,
            )
            model.apply_mint(lower, upper, liquidity, block_number=0)
        self.batch.flush()
        return pool, model

    def create_v2_pair(
        self, reserve0: int, reserve1: int, tokens: tuple[str, str] | None = None
    ) -> tuple[str, UniswapV2Pool]:
        t0, t1 = tokens or self.token_pair()
        pair = v2_pair_address(self.v2_factory, t0, t1)
        self.batch.call(
            "createPair", self.v2_factory, self.v2_factory_art.codec.encode_call("createPair", t0, t1)
        )
        self.batch.call("fund0", t0, self.erc20.codec.encode_call("transfer", pair, reserve0))
        self.batch.call("fund1", t1, self.erc20.codec.encode_call("transfer", pair, reserve1))
        self.batch.call("pair mint", pair, self.pair_codec.encode_call("mint", self.deployer))
        self.batch.flush()
        reserves = self.pair_codec.decode_output(
            "getReserves", self.eth_call(pair, self.pair_codec.encode_call("getReserves"))
        )
        return pair, UniswapV2Pool(pair, t0, t1, reserves[0], reserves[1], 3000)

    # --- swaps --------------------------------------------------------------------------------

    def swap_call_data(self, pool: str, zero_for_one: bool, amount_specified: int, limit: int) -> bytes:
        return self.actor_codec.encode_call("swap", pool, zero_for_one, amount_specified, limit, self.actor)

    def send_swaps(self, pool: str, swaps: list[tuple[bool, int, int]]) -> list[ChainSwap]:
        """Send the swaps in order (JSON-RPC batches; anvil mines each); the pool's Swap events."""
        for zero_for_one, amount, limit in swaps:
            self.batch.call(
                "swap", self.actor, self.swap_call_data(pool, zero_for_one, amount, limit), gas=SWAP_GAS
            )
        receipts = self.batch.flush()
        events = []
        for receipt in receipts:
            logs = [
                lg
                for lg in receipt["logs"]
                if lg["address"].lower() == pool.lower() and lg["topics"][0] == SWAP_TOPIC
            ]
            assert len(logs) == 1, f"expected one Swap log, got {len(logs)}"
            events.append(decode_swap(logs[0]))
        return events

    def eth_call(self, to: str, data: bytes, sender: str | None = None) -> bytes:
        result = self.rpc.call(
            "eth_call", {"from": sender or self.deployer, "to": to, "data": "0x" + data.hex()}, "latest"
        )
        return bytes.fromhex(result[2:])

    def quote_call(self, pool: str, zero_for_one: bool, amount_specified: int, limit: int) -> tuple[int, int] | None:
        """(amount0, amount1) of one swap simulated by eth_call, or None when the pool reverts."""
        from mevbot.chain.rpc import RevertError

        try:
            # generous gas: a swap to the price limit walks thousands of bitmap words
            raw = self.rpc.call("eth_call", {"from": self.deployer, "to": self.actor, "gas": hex(QUOTE_GAS),
                                             "data": "0x" + self.swap_call_data(pool, zero_for_one, amount_specified,
                                                                                limit).hex()}, "latest")
        except RevertError:
            return None
        return self.actor_codec.decode_output("swap", bytes.fromhex(raw[2:]))

    def quote_calls(self, pool: str, swaps: list[tuple[bool, int, int]]) -> list[tuple[int, int]]:
        """(amount0, amount1) of each swap simulated by eth_call on the current state (batched;
        raises if any reverts)."""
        calls = [
            (
                "eth_call",
                [
                    {
                        "from": self.deployer,
                        "to": self.actor,
                        "data": "0x" + self.swap_call_data(pool, z, a, lim).hex(),
                        "gas": hex(SWAP_GAS),
                    },
                    "latest",
                ],
            )
            for z, a, lim in swaps
        ]
        out = []
        for start in range(0, len(calls), 200):
            for raw in self.rpc.batch(calls[start : start + 200]):
                out.append(self.actor_codec.decode_output("swap", bytes.fromhex(raw[2:])))
        return out

    def v2_swap_exact(
        self, pair: str, token_in: str, amount_in: int, amount0_out: int, amount1_out: int
    ) -> dict:
        """Transfer ``amount_in`` to the pair and call swap(out0, out1) from the deployer."""
        self.batch.call("v2 pay", token_in, self.erc20.codec.encode_call("transfer", pair, amount_in))
        self.batch.call(
            "v2 swap", pair, self.pair_codec.encode_call("swap", amount0_out, amount1_out, self.deployer, b"")
        )
        return self.batch.flush()[-1]


# --- random pools and swaps (model-driven, so every swap is valid and moves the price) -----------


def random_positions(rng: random.Random, fee: int, centre_tick: int, n: int) -> list[tuple[int, int, int]]:
    spacing = TICK_SPACING[fee]
    max_c = MAX_TICK // spacing
    positions = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.5:  # narrow, near the price
            width = rng.randint(1, 12)
            lo = centre_tick // spacing + rng.randint(-400, 400)
        elif kind < 0.9:  # medium
            width = rng.randint(12, 900)
            lo = centre_tick // spacing + rng.randint(-1500, 600)
        else:  # wide or full range
            width = rng.randint(900, 2 * max_c)
            lo = centre_tick // spacing - rng.randint(0, width)
        lo = max(-max_c, min(max_c - 1, lo))
        hi = max(lo + 1, min(max_c, lo + width))
        positions.append((lo * spacing, hi * spacing, int(10 ** rng.uniform(12, 22))))
    return positions


def random_swaps(rng: random.Random, model: UniswapV3Pool, n: int, centre_tick: int) -> list[tuple]:
    """``n`` swaps generated from the evolving model state and executed on ``model``:
    [(zero_for_one, amount_specified, price_limit, model SwapResult)]."""
    spacing = model.tick_spacing
    swaps = []
    while len(swaps) < n:
        drift = (model.tick - centre_tick) / (300 * spacing)
        zero_for_one = rng.random() < 0.5 + max(-0.45, min(0.45, drift))
        reach = rng.choice([1, 3, 10, 60, 256, 700, 1500]) * spacing  # crosses bitmap words too
        tick_limit = model.tick - reach if zero_for_one else model.tick + reach
        tick_limit = max(MIN_TICK + 1, min(MAX_TICK - 1, tick_limit))
        limit = getSqrtRatioAtTick(tick_limit)
        if (
            zero_for_one
            and not limit < model.sqrt_price_x96
            or not zero_for_one
            and not limit > model.sqrt_price_x96
        ):
            continue
        limit = max(MIN_SQRT_RATIO + 1, min(MAX_SQRT_RATIO - 1, limit))
        exact_out = rng.random() < 0.3
        try:
            full = (
                model.simulate_exact_out(zero_for_one, 2**120, limit)
                if exact_out
                else model.simulate_exact_in(zero_for_one, 2**120, limit)
            )
        except AmmError:
            continue
        scale = full.amount_out if exact_out else full.amount_in
        if scale <= 1:
            amount = rng.randint(1, 10**6)
        else:
            amount = max(1, int(scale * rng.uniform(0.05, 1.3)))
        specified = -amount if exact_out else amount
        try:
            result = model.execute_swap(zero_for_one, specified, limit)
        except AmmError:
            continue
        swaps.append((zero_for_one, specified, limit, result))
    return swaps
