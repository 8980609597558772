"""Deploy a whole test market on anvil in ~1 s: tokens + WETH9, Uniswap V2 and V3 with liquidity,
Balancer V2 Vault and Aave V3 Pool as flash lenders, our MevbotArbExecutor, and the Arbitrum
precompile stand-ins. Uses the real npm bytecode throughout.

    with AnvilProcess() as node:
        dep = deploy_market(node.http_url)            # -> Deployment (JSON-serializable)

The deployer is anvil's unlocked account 0; everything is sent as nonce-ordered JSON-RPC batches
(see ``txbatch``). Only for dev chains: it relies on ``eth_sendTransaction`` and ``anvil_*``.
"""

from __future__ import annotations

import time
from fractions import Fraction

from mevbot.chain.artifacts import load_artifact
from mevbot.chain.create2 import (
    UNISWAP_V2_INIT_CODE_HASH,
    UNISWAP_V3_INIT_CODE_HASH,
    sort_tokens,
    v2_pair_address,
    v3_pool_address,
)
from mevbot.chain.deploy_aave import AaveReserve, queue_aave, queue_aave_supply
from mevbot.chain.deployment import AaveInfo, Deployment, TokenInfo, V2PairInfo, V3PoolInfo
from mevbot.chain.market import (
    V3_TICK_SPACING,
    WETH,
    MarketSpec,
    TokenSpec,
    default_market,
    default_positions,
    raw_price,
    sqrt_price_x96,
)
from mevbot.chain.precompiles import install_precompile_stand_ins
from mevbot.chain.rpc import RpcClient
from mevbot.chain.txbatch import TxBatch

# anvil's default dev accounts (mnemonic "test test ... junk"): public keys of public test keys
DEV_ACCOUNTS = (
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
)
# their private keys are printed by anvil itself; index 1 is the default "allowed executor key"
DEV_PRIVATE_KEYS = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
)

_ACTOR_FUND_USD = 2_000_000_000  # PoolActor balance per token, for positions and test swaps
_ERC20 = "TestERC20"


def _units(token: TokenSpec, usd: int | Fraction) -> int:
    return int(Fraction(usd) / Fraction(token.usd_price) * 10**token.decimals)


def deploy_market(
    rpc_url: str,
    spec: MarketSpec | None = None,
    *,
    allowed_executor_keys: tuple[str, ...] = (DEV_ACCOUNTS[1],),
) -> Deployment:
    spec = spec or default_market()
    t0 = time.perf_counter()
    with RpcClient(rpc_url) as rpc:
        deployer = DEV_ACCOUNTS[0]
        chain_id = int(rpc.call("eth_chainId"), 16)
        rpc.call("anvil_setBalance", deployer, hex(10**30))  # WETH liquidity needs ETH to wrap
        if spec.install_precompile_stand_ins:
            install_precompile_stand_ins(rpc)
        batch = TxBatch(rpc, deployer)
        erc20 = load_artifact(_ERC20).codec
        weth_codec = load_artifact("WETH9").codec

        # tokens: always the deployer's first creations, in spec order, so their addresses are
        # known before deploying (create_address(deployer, i)); the devnet relies on it
        addr: dict[str, str] = {}
        for t in spec.tokens:
            if t.symbol == WETH:
                addr[t.symbol] = batch.create("WETH9", load_artifact("WETH9").creation_code())
            else:
                code = load_artifact(_ERC20).creation_code(f"Test {t.symbol}", t.symbol, t.decimals)
                addr[t.symbol] = batch.create(f"token {t.symbol}", code)
        weth = addr.get(WETH, "")
        if weth:  # wrap once, then hand WETH out by transfer
            batch.call("wrap ETH", weth, weth_codec.encode_call("deposit"), value_wei=10**27)

        def fund(symbol: str, to: str, amount_wei: int) -> None:
            if symbol == WETH:
                batch.call(f"WETH to {to}", weth, weth_codec.encode_call("transfer", to, amount_wei))
            else:
                batch.call(f"mint {symbol}", addr[symbol], erc20.encode_call("mint", to, amount_wei))

        actor = batch.create("PoolActor", load_artifact("PoolActor").creation_code())
        for t in spec.tokens:
            fund(t.symbol, actor, _units(t, _ACTOR_FUND_USD))

        # Uniswap V2 ---------------------------------------------------------------------------
        v2f_art = load_artifact("UniswapV2Factory")
        v2_factory = batch.create("UniswapV2Factory", v2f_art.creation_code(deployer))
        pair_codec = load_artifact("UniswapV2Pair").codec
        v2_pairs: list[V2PairInfo] = []
        for p in spec.v2_pairs:
            ta, tb = spec.token(p.symbol_a), spec.token(p.symbol_b)
            a, b = addr[ta.symbol], addr[tb.symbol]
            pair = v2_pair_address(v2_factory, a, b)
            batch.call(
                f"createPair {ta.symbol}/{tb.symbol}",
                v2_factory,
                v2f_art.codec.encode_call("createPair", a, b),
            )
            fund(ta.symbol, pair, _units(ta, Fraction(p.depth_usd, 2)))
            fund(tb.symbol, pair, _units(tb, Fraction(p.depth_usd, 2)))
            batch.call(f"pair mint {ta.symbol}/{tb.symbol}", pair, pair_codec.encode_call("mint", deployer))
            t0_, t1_ = sort_tokens(a, b)
            v2_pairs.append(V2PairInfo(pair, t0_, t1_, 3000))

        # Uniswap V3 ---------------------------------------------------------------------------
        v3f_art = load_artifact("UniswapV3Factory")
        v3_factory = batch.create("UniswapV3Factory", v3f_art.creation_code())
        batch.call("enable fee 100", v3_factory, v3f_art.codec.encode_call("enableFeeAmount", 100, 1))
        pool_codec = load_artifact("UniswapV3Pool").codec
        actor_codec = load_artifact("PoolActor").codec
        v3_pools: list[V3PoolInfo] = []
        for p in spec.v3_pools:
            ta, tb = spec.token(p.symbol_a), spec.token(p.symbol_b)
            a, b = addr[ta.symbol], addr[tb.symbol]
            t0a, t1a = sort_tokens(a, b)
            tok0, tok1 = (ta, tb) if t0a == a else (tb, ta)
            pool = v3_pool_address(v3_factory, a, b, p.fee_pips)
            label = f"{ta.symbol}/{tb.symbol}/{p.fee_pips}"
            batch.call(
                f"createPool {label}", v3_factory, v3f_art.codec.encode_call("createPool", a, b, p.fee_pips)
            )
            price = raw_price(tok0, tok1)
            sqrt_p = p.sqrt_price_x96 or sqrt_price_x96(price)
            batch.call(f"initialize {label}", pool, pool_codec.encode_call("initialize", sqrt_p))
            positions = p.positions or default_positions(price, p.fee_pips, p.depth_usd, tok0)
            for pos in positions:
                data = actor_codec.encode_call("mint", pool, pos.tick_lower, pos.tick_upper, pos.liquidity)
                batch.call(f"position {label}", actor, data)
            v3_pools.append(V3PoolInfo(pool, t0a, t1a, p.fee_pips, V3_TICK_SPACING[p.fee_pips]))

        # Balancer V2 Vault (flash loans lend the vault's balance, fee 0) --------------------------
        auth_art = load_artifact("BalancerAuthorizer")
        authorizer = batch.create("Balancer Authorizer", auth_art.creation_code(deployer))
        vault = batch.create(
            "Balancer Vault", load_artifact("BalancerVault").creation_code(authorizer, weth or deployer, 0, 0)
        )
        for symbol, whole in spec.balancer_funding.items():
            fund(symbol, vault, whole * 10 ** spec.token(symbol).decimals)

        # Aave V3 -----------------------------------------------------------------------------
        aave_info: AaveInfo | None = None
        if spec.aave_supply:
            reserves = [AaveReserve(addr[s], s, spec.token(s).decimals) for s in spec.aave_supply]
            aave = queue_aave(batch, deployer, reserves, spec.aave_premium_bps)
            for symbol, whole in spec.aave_supply.items():
                amount = whole * 10 ** spec.token(symbol).decimals
                fund(symbol, deployer, amount) if symbol != WETH else None  # deployer already holds WETH
                queue_aave_supply(batch, aave.pool, deployer, addr[symbol], amount, symbol)
            aave_info = AaveInfo(
                aave.pool,
                aave.addresses_provider,
                aave.pool_configurator,
                aave.acl_manager,
                spec.aave_premium_bps,
            )

        # our executor ------------------------------------------------------------------------
        executor = None
        if spec.deploy_executor:
            ex_art = load_artifact("MevbotArbExecutor")
            executor = batch.create("MevbotArbExecutor", ex_art.creation_code(deployer))
            for key in allowed_executor_keys:
                batch.call("executor allow", executor, ex_art.codec.encode_call("setAllowed", key, True))

        batch.flush()
        if aave_info is not None:
            aave_info = _with_a_tokens(rpc, aave_info, [addr[s] for s in spec.aave_supply])
        block = int(rpc.call("eth_blockNumber"), 16)

    tokens = {
        t.symbol: TokenInfo(t.symbol, addr[t.symbol], t.decimals, float(Fraction(t.usd_price)))
        for t in spec.tokens
    }
    return Deployment(
        chain_id=chain_id,
        rpc_url=rpc_url,
        deployer=deployer,
        tokens=tokens,
        weth=weth,
        uniswap_v2_factory=v2_factory,
        uniswap_v2_init_code_hash=UNISWAP_V2_INIT_CODE_HASH,
        uniswap_v3_factory=v3_factory,
        uniswap_v3_init_code_hash=UNISWAP_V3_INIT_CODE_HASH,
        v2_pairs=v2_pairs,
        v3_pools=v3_pools,
        balancer_vault=vault,
        balancer_authorizer=authorizer,
        aave=aave_info,
        pool_actor=actor,
        executor=executor,
        executor_owner=deployer if executor else None,
        executor_allowed=list(allowed_executor_keys) if executor else [],
        precompile_stand_ins=spec.install_precompile_stand_ins,
        block_number=block,
        deploy_seconds=round(time.perf_counter() - t0, 3),
        tx_count=batch.sent,
    )


def _with_a_tokens(rpc: RpcClient, info: AaveInfo, assets: list[str]) -> AaveInfo:
    codec = load_artifact("AavePool").codec
    calls = [("eth_call", [{"to": info.pool, "data": "0x" + codec.encode_call("getReserveData", a).hex()}, "latest"])
             for a in assets]  # fmt: skip
    a_tokens = {}
    for asset, out in zip(assets, rpc.batch(calls), strict=True):
        (reserve,) = codec.decode_output("getReserveData", bytes.fromhex(out[2:]))
        a_tokens[asset] = reserve[8]  # ReserveData.aTokenAddress
    return AaveInfo(info.pool, info.addresses_provider, info.pool_configurator, info.acl_manager,
                    info.flash_premium_bps, a_tokens)  # fmt: skip
