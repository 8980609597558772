"""Mirror the deployed test market into a ``mevbot.market.MarketStore`` from on-chain reads
(V2 ``getReserves``; V3 ``slot0``, ``liquidity`` and ``ticks(t)`` at the deployed positions'
boundaries), and build candidates exactly as the detector would (``mevbot.amm`` sizing)."""

from __future__ import annotations

import hashlib
from fractions import Fraction

from mevbot.amm.cycle import optimize_cycle
from mevbot.chain.artifacts import load_artifact
from mevbot.chain.deployment import Deployment
from mevbot.chain.market import default_market, default_positions, raw_price
from mevbot.chain.rpc import RpcClient
from mevbot.market import MarketStore
from mevbot.messages import Candidate, Hop, PoolInfo, PoolKind, PoolSnapshot, PoolVersion

PAIR = load_artifact("UniswapV2Pair").codec
V3 = load_artifact("UniswapV3Pool").codec


def _call(rpc: RpcClient, to: str, data: bytes, block: str) -> bytes:
    return bytes.fromhex(rpc.call("eth_call", {"to": to, "data": "0x" + data.hex()}, block)[2:])


def _v3_boundaries(dep: Deployment, pool) -> set[int]:
    spec = default_market()
    by_addr = {t.address.lower(): t.symbol for t in dep.tokens.values()}
    s0, s1 = by_addr[pool.token0.lower()], by_addr[pool.token1.lower()]
    for p in spec.v3_pools:
        if p.fee_pips == pool.fee_pips and {p.symbol_a, p.symbol_b} == {s0, s1}:
            t0, t1 = spec.token(s0), spec.token(s1)
            positions = p.positions or default_positions(raw_price(t0, t1), p.fee_pips, p.depth_usd, t0)
            return {x for pos in positions for x in (pos.tick_lower, pos.tick_upper)}
    raise KeyError(pool.address)


def snapshots(rpc: RpcClient, dep: Deployment) -> list[PoolSnapshot]:
    block = int(rpc.call("eth_blockNumber"), 16)
    tag = hex(block)
    out = []
    for p in dep.v2_pairs:
        r0, r1, _ = PAIR.decode_output(
            "getReserves", _call(rpc, p.address, PAIR.encode_call("getReserves"), tag)
        )
        info = PoolInfo(
            address=p.address.lower(),
            kind=PoolKind.UNISWAP_V2,
            dex="uniswap_v2",
            factory=dep.uniswap_v2_factory.lower(),
            token0=p.token0.lower(),
            token1=p.token1.lower(),
            fee_pips=p.fee_pips,
        )
        out.append(
            PoolSnapshot(
                chain_id=dep.chain_id, pool=info, block_number=block, reserve0=int(r0), reserve1=int(r1)
            )
        )
    for p in dep.v3_pools:
        slot0 = V3.decode_output("slot0", _call(rpc, p.address, V3.encode_call("slot0"), tag))
        (liquidity,) = V3.decode_output("liquidity", _call(rpc, p.address, V3.encode_call("liquidity"), tag))
        ticks = []
        for t in sorted(_v3_boundaries(dep, p)):
            data = V3.decode_output("ticks", _call(rpc, p.address, V3.encode_call("ticks", t), tag))
            if data[1] != 0:
                ticks.append((t, int(data[1])))
        info = PoolInfo(
            address=p.address.lower(),
            kind=PoolKind.UNISWAP_V3,
            dex="uniswap_v3",
            factory=dep.uniswap_v3_factory.lower(),
            token0=p.token0.lower(),
            token1=p.token1.lower(),
            fee_pips=p.fee_pips,
            tick_spacing=p.tick_spacing,
        )
        out.append(
            PoolSnapshot(
                chain_id=dep.chain_id,
                pool=info,
                block_number=block,
                sqrt_price_x96=int(slot0[0]),
                tick=int(slot0[1]),
                liquidity=int(liquidity),
                fee_pips=p.fee_pips,
                ticks=ticks,
            )
        )
    return out


def mirror(rpc: RpcClient, dep: Deployment, store: MarketStore | None = None) -> MarketStore:
    store = store or MarketStore()
    for snap in snapshots(rpc, dep):
        store.add_snapshot(snap)
    return store


def candidate(
    store: MarketStore, dep: Deployment, pools: list[str], start_token: str, *, max_input: int = 10**24
) -> Candidate:
    """The detector's candidate for the cycle through ``pools`` starting with ``start_token``."""
    start = start_token.lower()
    token = start
    path, hops_meta = [], []
    for address in pools:
        entry = store.entry(address.lower())
        state = entry.state
        zfo = state.token0 == token
        path.append((state, zfo))
        hops_meta.append((entry, token, state.token1 if zfo else state.token0, zfo))
        token = state.token1 if zfo else state.token0
    assert token == start, "not a cycle"
    sized = optimize_cycle(path, max_input)
    assert sized is not None and sized.profit > 0, "no profitable size"
    hops = []
    for (entry, t_in, t_out, zfo), a_in, a_out in zip(hops_meta, sized.amounts, sized.amounts[1:]):
        st = entry.state
        if entry.info.kind is PoolKind.UNISWAP_V3:
            r = st.simulate_exact_in(zfo, a_in)
            hops.append(
                Hop(
                    pool=st.address,
                    kind=PoolKind.UNISWAP_V3,
                    token_in=t_in,
                    token_out=t_out,
                    zero_for_one=zfo,
                    amount_in=a_in,
                    amount_out=a_out,
                    fee_pips=st.fee_pips,
                    sqrt_price_x96_before=st.sqrt_price_x96,
                    sqrt_price_x96_after=r.sqrt_price_x96_after,
                    ticks_crossed=r.ticks_crossed,
                    liquidity=st.liquidity,
                )
            )
        else:
            r_in, r_out = (st.reserve0, st.reserve1) if zfo else (st.reserve1, st.reserve0)
            hops.append(
                Hop(
                    pool=st.address,
                    kind=PoolKind.UNISWAP_V2,
                    token_in=t_in,
                    token_out=t_out,
                    zero_for_one=zfo,
                    amount_in=a_in,
                    amount_out=a_out,
                    fee_pips=st.fee_pips,
                    reserve_in=r_in,
                    reserve_out=r_out,
                )
            )
    versions = [PoolVersion(h.pool, store.version(h.pool)) for h in hops]
    cycle_id = hashlib.blake2b("|".join(pools).encode(), digest_size=8).hexdigest()
    cid = hashlib.blake2b(repr((cycle_id, versions)).encode(), digest_size=8).hexdigest()
    profit = sized.profit
    return Candidate(
        chain_id=dep.chain_id,
        candidate_id=cid,
        cycle_id=cycle_id,
        start_token=start,
        hops=hops,
        amount_in=sized.amount_in,
        amount_out=sized.amount_out,
        gross_profit=profit,
        gross_profit_wei=profit if start == dep.weth.lower() else 0,
        block_number=store.block_number,
        state_versions=versions,
    )


__all__ = ["Fraction", "candidate", "mirror", "snapshots"]
