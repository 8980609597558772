"""Aave V3 (npm @aave/core-v3 1.19.3 bytecode) set up just enough for ``flashLoanSimple``.

Sequence (one nonce-ordered batch, addresses predicted): logic libraries, linked Pool and
PoolConfigurator implementations, AddressesProvider (which creates the Pool and Configurator
proxies with CREATE at its own nonces 1 and 2), ACLManager, token implementations and one rate
strategy, ``initReserves``, flash loans enabled, premium set, then liquidity supplied. Borrowing
would also need an oracle and LTVs; flash loans do not.
"""

from __future__ import annotations

from dataclasses import dataclass

from mevbot.chain.artifacts import load_artifact
from mevbot.chain.create2 import create_address
from mevbot.chain.txbatch import TxBatch

RAY = 10**27


@dataclass(frozen=True)
class AaveAddresses:
    pool: str
    addresses_provider: str
    pool_configurator: str
    acl_manager: str


@dataclass(frozen=True)
class AaveReserve:
    asset: str
    symbol: str
    decimals: int


def queue_aave(batch: TxBatch, deployer: str, reserves: list[AaveReserve], premium_bps: int) -> AaveAddresses:
    libs: dict[str, str] = {}
    for name in ("BorrowLogic", "BridgeLogic", "EModeLogic", "LiquidationLogic", "PoolLogic", "SupplyLogic"):
        libs[name] = batch.create(f"aave {name}", load_artifact(f"Aave{name}").creation_code())
    flash_logic = load_artifact("AaveFlashLoanLogic").linked({"BorrowLogic": libs["BorrowLogic"]})
    libs["FlashLoanLogic"] = batch.create("aave FlashLoanLogic", flash_logic.creation_code())
    configurator_logic = batch.create(
        "aave ConfiguratorLogic", load_artifact("AaveConfiguratorLogic").creation_code()
    )

    provider_art = load_artifact("AavePoolAddressesProvider")
    provider = batch.create("aave AddressesProvider", provider_art.creation_code("mevbot", deployer))
    pc = provider_art.codec
    batch.call("aave setACLAdmin", provider, pc.encode_call("setACLAdmin", deployer))
    acl_art = load_artifact("AaveACLManager")
    acl = batch.create("aave ACLManager", acl_art.creation_code(provider))
    batch.call("aave setACLManager", provider, pc.encode_call("setACLManager", acl))
    batch.call("aave addPoolAdmin", acl, acl_art.codec.encode_call("addPoolAdmin", deployer))

    pool_impl_art = load_artifact("AavePool").linked(libs)
    pool_impl = batch.create("aave Pool impl", pool_impl_art.creation_code(provider))
    batch.call("aave setPoolImpl", provider, pc.encode_call("setPoolImpl", pool_impl))
    pool = create_address(provider, 1)  # the provider's first CREATE: the Pool proxy
    conf_art = load_artifact("AavePoolConfigurator").linked({"ConfiguratorLogic": configurator_logic})
    conf_impl = batch.create("aave PoolConfigurator impl", conf_art.creation_code())
    batch.call("aave setPoolConfiguratorImpl", provider, pc.encode_call("setPoolConfiguratorImpl", conf_impl))
    configurator = create_address(provider, 2)

    a_impl = batch.create("aave AToken impl", load_artifact("AaveAToken").creation_code(pool))
    s_impl = batch.create("aave StableDebt impl", load_artifact("AaveStableDebtToken").creation_code(pool))
    v_impl = batch.create(
        "aave VariableDebt impl", load_artifact("AaveVariableDebtToken").creation_code(pool)
    )
    strategy = batch.create(
        "aave rate strategy",
        load_artifact("AaveInterestRateStrategy").creation_code(
            provider,
            RAY * 8 // 10,
            0,
            RAY * 4 // 100,
            RAY * 6 // 10,
            RAY * 2 // 100,
            RAY * 6 // 10,
            0,
            0,
            RAY * 2 // 10,
        ),
    )
    cc = conf_art.codec
    inputs = [
        (
            a_impl, s_impl, v_impl, r.decimals, strategy, r.asset, deployer, "0x" + "00" * 20,
            f"Aave {r.symbol}", f"a{r.symbol}", f"Aave variable {r.symbol}", f"variableDebt{r.symbol}",
            f"Aave stable {r.symbol}", f"stableDebt{r.symbol}", b"",
        )
        for r in reserves
    ]  # fmt: skip
    if inputs:
        batch.call("aave initReserves", configurator, cc.encode_call("initReserves", inputs), gas=25_000_000)
    for r in reserves:
        batch.call(
            f"aave flash {r.symbol}", configurator, cc.encode_call("setReserveFlashLoaning", r.asset, True)
        )
    batch.call("aave premium", configurator, cc.encode_call("updateFlashloanPremiumTotal", premium_bps))
    return AaveAddresses(
        pool=pool, addresses_provider=provider, pool_configurator=configurator, acl_manager=acl
    )


def queue_aave_supply(
    batch: TxBatch, pool: str, deployer: str, asset: str, amount_wei: int, symbol: str
) -> None:
    """Deployer must hold ``amount_wei`` of ``asset``; approves the pool and supplies."""
    erc20 = load_artifact("TestERC20").codec
    batch.call(f"aave approve {symbol}", asset, erc20.encode_call("approve", pool, amount_wei))
    data = load_artifact("AavePool").codec.encode_call("supply", asset, amount_wei, deployer, 0)
    batch.call(f"aave supply {symbol}", pool, data)
