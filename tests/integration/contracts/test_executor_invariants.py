"""Money-safety invariant under random plans: whatever an allowed key sends (right or wrong
amounts, any lender, any cycle, any minimum profit), the executor either reverts or ends with at
least its starting balance of every token plus the plan's minimum profit, and no lender loses."""

from __future__ import annotations

import random

import pytest
from mevbot.chain.arb_calldata import LenderKind
from mevbot.chain.deployment import Deployment
from mevbot.chain.devtools import (
    ERC20,
    KEEPER,
    Leg,
    build_call,
    fund,
    quote_cycle,
    send,
    swap_v2,
    swap_v3,
)
from mevbot.chain.rpc import RpcClient, RpcError

pytestmark = pytest.mark.integration
SEED = 20261124
N_PLANS = 40


def _cycles(dep: Deployment, start: str, max_len: int) -> list[list[Leg]]:
    edges = [(p.address, p.token0, p.token1, False) for p in dep.v2_pairs]
    edges += [(p.address, p.token0, p.token1, True) for p in dep.v3_pools]
    out: list[list[Leg]] = []

    def walk(token: str, legs: list[Leg], used: set[str]) -> None:
        for pool, t0, t1, is_v3 in edges:
            if pool in used or token.lower() not in (t0.lower(), t1.lower()):
                continue
            nxt = t1 if token.lower() == t0.lower() else t0
            path = [*legs, Leg(pool, token, is_v3)]
            if nxt.lower() == start.lower() and len(path) >= 2:
                out.append(path)
            elif len(path) < max_len:
                walk(nxt, path, used | {pool})

    walk(start, [], set())
    return out


def _balances(rpc: RpcClient, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    calls = [
        ("eth_call", [{"to": t, "input": "0x" + ERC20.encode_call("balanceOf", h).hex()}, "latest"])
        for h, t in keys
    ]
    return {k: int(v, 16) for k, v in zip(keys, rpc.batch(calls), strict=True)}


def test_random_plans_never_lose_money(rpc: RpcClient, market: Deployment) -> None:
    rng = random.Random(SEED)
    dep = market
    tokens = {s: t.address for s, t in dep.tokens.items()}
    for symbol, address in tokens.items():  # inventory a buggy plan could try to spend
        fund(rpc, dep, address, dep.executor, 1_000 * 10 ** dep.tokens[symbol].decimals // 100)
    # open a few dislocations so that some plans win
    swap_v2(rpc, dep, dep.v2_pair("WETH", "USDC").address, tokens["USDC"], 500_000 * 10**6)
    swap_v3(rpc, dep, dep.v3_pool("WETH", "ARB", 3000).address, tokens["WETH"], 300 * 10**18)
    swap_v2(rpc, dep, dep.v2_pair("USDC", "USDT").address, tokens["USDT"], 300_000 * 10**6)

    assert dep.aave is not None
    starts = {"WETH": 10**18, "USDC": 10**6}
    cycles = {s: _cycles(dep, tokens[s], 3) for s in starts}
    winners = []  # (symbol, legs, size) that quote a profit now; they go stale as trades land
    for symbol, unit in starts.items():
        for legs in cycles[symbol]:
            for size in (unit, 10 * unit):
                outs = quote_cycle(rpc, dep, legs, size)
                if outs[-1] > size * 1001 // 1000:
                    winners.append((symbol, legs, size))
    assert winners, "the dislocations should open some profitable cycles"
    outcomes = {"ok": 0, "reverted": 0}
    for _ in range(N_PLANS):
        honest = rng.random() < 0.4
        if honest:
            symbol, legs, amount_in = rng.choice(winners)
        else:
            symbol = rng.choice(list(starts))
            legs = rng.choice(cycles[symbol])
            amount_in = int(starts[symbol] * 10 ** rng.uniform(-1, 2.5))
        token = tokens[symbol]
        try:
            outs = quote_cycle(rpc, dep, legs, amount_in)
        except RpcError:
            continue  # the pool itself cannot take this size
        if not honest:  # a buggy planner may ask too much or too little at any hop
            outs = [max(0, int(o * rng.choice([1, 1, 0.999, 1.001, 0.9, 1.1]))) for o in outs]
        lender_kind = (
            rng.choice([LenderKind.BALANCER_V2, LenderKind.AAVE_V3])
            if honest
            else rng.choice(list(LenderKind))
        )
        lender = {
            LenderKind.BALANCER_V2: dep.balancer_vault,
            LenderKind.AAVE_V3: dep.aave.pool,
            LenderKind.UNISWAP_V3_FLASH: rng.choice(dep.v3_pools).address,  # may be a hop: must fail safe
        }[lender_kind]
        min_profit = 0 if honest else rng.choice([0, 1, amount_in // 1000])
        data = build_call(rpc, lender_kind, lender, token, amount_in, legs, outs, min_profit=min_profit,
                          v2_fee_mode=rng.random() < 0.3)  # fmt: skip
        holders = [dep.executor, dep.balancer_vault, dep.aave.a_tokens[token], lender]
        keys = [(h, t) for h in holders for t in tokens.values()]
        before = _balances(rpc, keys)
        receipt = send(rpc, KEEPER, dep.executor, data, gas=3_000_000)
        after = _balances(rpc, keys)
        hop_pools = {lg.pool for lg in legs}
        for (holder, tok), value in before.items():
            if holder != dep.executor and holder in hop_pools:
                continue  # a V3 pool that is both lender and hop: its balances move by design
            assert after[(holder, tok)] >= value, (holder, tok, value, after[(holder, tok)], legs)
        if receipt["status"] == "0x1":
            outcomes["ok"] += 1
            gain = after[(dep.executor, token)] - before[(dep.executor, token)]
            assert gain >= min_profit
        else:
            outcomes["reverted"] += 1
    assert outcomes["ok"] >= 3 and outcomes["reverted"] >= 3, outcomes
