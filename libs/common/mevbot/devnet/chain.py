"""Bring up the devnet chain: deploy under automine, dump the state, restart with real block times.

anvil cannot switch to interval mining at run time, and deploying ~2,000 transactions with 0.25 s
blocks would take minutes, so: start anvil in automine, ``deploy_market`` (tokens, WETH9, Uniswap
V2 + V3 with the real tick maps, Balancer Vault, Aave V3 Pool, MevbotArbExecutor, precompile
stand-ins), add a Uniswap V2 Router02 for the noise traders and fund the traders, ``anvil_dumpState``,
stop, and start again on the same port with ``--block-time`` and ``--load-state``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import msgspec

from mevbot.chain.anvil import AnvilConfig, AnvilProcess, free_port
from mevbot.chain.artifacts import load_artifact
from mevbot.chain.deploy import DEV_ACCOUNTS, deploy_market
from mevbot.chain.deployment import Deployment
from mevbot.chain.market import MarketSpec
from mevbot.chain.rpc import RpcClient
from mevbot.chain.txbatch import TxBatch
from mevbot.devnet.spec import devnet_market, predicted_token_addresses
from mevbot.errors import ChainError

# anvil's mnemonic accounts: 0 deployer, 1 the bot's executor key, 2.. market participants
BOT_ACCOUNT_INDEX = 1
TRADER_INDEXES = range(2, 6)
TRADER_FUND_USD = 200_000_000


class DevnetChain(msgspec.Struct, frozen=True):
    """What the rest of the devnet needs beyond the Deployment: the router and the traders."""

    deployment: Deployment
    router_v2: str
    traders: list[str]
    bot_address: str
    http_url: str
    ws_url: str
    block_time_s: float
    state_path: str
    start_block: int


@dataclass
class ChainHandle:
    node: AnvilProcess
    info: DevnetChain

    def stop(self) -> None:
        self.node.stop()


def start_devnet_chain(work_dir: Path, *, block_time_s: float = 0.25, port: int | None = None,
                       spec: MarketSpec | None = None) -> ChainHandle:
    spec = spec or devnet_market()
    port = port or free_port()
    t0 = time.perf_counter()
    with AnvilProcess(AnvilConfig(port=port)) as deployer_node:
        deployment = deploy_market(deployer_node.http_url, spec)
        _check_token_prediction(spec, deployment)
        accounts = [str(a).lower() for a in deployer_node.rpc("eth_accounts")]  # type: ignore[union-attr]
        traders = [accounts[i] for i in TRADER_INDEXES]
        router = _deploy_router_and_fund_traders(deployer_node.http_url, deployment, spec, traders)
        state_path = deployer_node.dump_state(work_dir / "devnet-state.json")
    node = AnvilProcess(AnvilConfig(port=port, block_time_s=block_time_s, load_state=state_path)).start()
    try:
        start_block = int(str(node.rpc("eth_blockNumber")), 16)
        if start_block < deployment.block_number:
            raise ChainError(f"restarted chain is at block {start_block}, deploy ended at {deployment.block_number}")
        deployment = msgspec.structs.replace(deployment, rpc_url=node.http_url)
        info = DevnetChain(
            deployment=deployment, router_v2=router, traders=traders,
            bot_address=DEV_ACCOUNTS[BOT_ACCOUNT_INDEX].lower(), http_url=node.http_url, ws_url=node.ws_url,
            block_time_s=block_time_s, state_path=str(state_path), start_block=start_block,
        )
    except BaseException:
        node.stop()
        raise
    _ = time.perf_counter() - t0
    return ChainHandle(node, info)


def _check_token_prediction(spec: MarketSpec, deployment: Deployment) -> None:
    predicted = predicted_token_addresses(spec)
    for symbol, address in predicted.items():
        if deployment.token(symbol).lower() != address:
            raise ChainError(f"token {symbol} deployed at {deployment.token(symbol)}, expected {address}: "
                             "the real tick maps would be oriented wrongly")


def _deploy_router_and_fund_traders(rpc_url: str, dep: Deployment, spec: MarketSpec, traders: list[str]) -> str:
    """Router02 (canonical npm bytecode; its pairFor uses the canonical init-code hash) + balances.

    Traders get every token (ERC20 ``mint`` / WETH ``deposit``) and approve the router and the
    PoolActor, so every swap is one transaction.
    """
    erc20 = load_artifact("TestERC20").codec
    weth = load_artifact("WETH9").codec
    with RpcClient(rpc_url) as rpc:
        deployer = DEV_ACCOUNTS[0]
        batch = TxBatch(rpc, deployer)
        router_art = load_artifact("UniswapV2Router02")
        router = batch.create("UniswapV2Router02", router_art.creation_code(dep.uniswap_v2_factory, dep.weth))
        batch.flush()
        for trader in traders:
            rpc.call("anvil_setBalance", trader, hex(10**30))
            tb = TxBatch(rpc, trader)
            for t in spec.tokens:
                amount = int(TRADER_FUND_USD * 10**t.decimals / float(t.usd_price))
                token = dep.token(t.symbol)
                if token.lower() == dep.weth.lower():
                    tb.call("wrap", token, weth.encode_call("deposit"), value_wei=amount)
                else:
                    tb.call(f"mint {t.symbol}", token, erc20.encode_call("mint", trader, amount))
                for spender in (router, dep.pool_actor):
                    tb.call(f"approve {t.symbol}", token, erc20.encode_call("approve", spender, 2**256 - 1))
            tb.flush()
    return router
