"""Contract artifacts (ABI + creation bytecode): the real protocol builds shipped in npm packages,
and our own solcjs builds in ``contracts/artifacts``. Nothing is downloaded or recompiled here.

``load_artifact("UniswapV3Pool")`` -> ``Artifact``. Libraries (Aave's logic libraries) are linked
with ``artifact.linked({"BorrowLogic": "0x...", ...})`` from the artifact's ``linkReferences``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from mevbot.chain.abi import ContractAbi
from mevbot.chain.paths import node_modules_dir, project_artifacts_dir
from mevbot.errors import ConfigError, ContractError

_AAVE = "@aave/core-v3/artifacts/contracts"
_AAVE_LOGIC = f"{_AAVE}/protocol/libraries/logic"

# name -> path under node_modules (all are the packages' published builds)
NPM_ARTIFACTS: dict[str, str] = {
    "UniswapV2Factory": "@uniswap/v2-core/build/UniswapV2Factory.json",
    "UniswapV2Pair": "@uniswap/v2-core/build/UniswapV2Pair.json",
    "UniswapV2Router02": "@uniswap/v2-periphery/build/UniswapV2Router02.json",
    "UniswapV3Factory": "@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json",
    "UniswapV3Pool": "@uniswap/v3-core/artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json",
    "QuoterV2": "@uniswap/v3-periphery/artifacts/contracts/lens/QuoterV2.sol/QuoterV2.json",
    "SwapRouter": "@uniswap/v3-periphery/artifacts/contracts/SwapRouter.sol/SwapRouter.json",
    "WETH9": "canonical-weth/build/contracts/WETH9.json",
    "BalancerVault": "@balancer-labs/v2-deployments/dist/tasks/20210418-vault/artifact/Vault.json",
    "BalancerAuthorizer": "@balancer-labs/v2-deployments/dist/tasks/20210418-authorizer/artifact/Authorizer.json",
    "AavePoolAddressesProvider": f"{_AAVE}/protocol/configuration/PoolAddressesProvider.sol/PoolAddressesProvider.json",
    "AaveACLManager": f"{_AAVE}/protocol/configuration/ACLManager.sol/ACLManager.json",
    "AavePool": f"{_AAVE}/protocol/pool/Pool.sol/Pool.json",
    "AavePoolConfigurator": f"{_AAVE}/protocol/pool/PoolConfigurator.sol/PoolConfigurator.json",
    "AaveAToken": f"{_AAVE}/protocol/tokenization/AToken.sol/AToken.json",
    "AaveStableDebtToken": f"{_AAVE}/protocol/tokenization/StableDebtToken.sol/StableDebtToken.json",
    "AaveVariableDebtToken": f"{_AAVE}/protocol/tokenization/VariableDebtToken.sol/VariableDebtToken.json",
    "AaveInterestRateStrategy": (
        f"{_AAVE}/protocol/pool/DefaultReserveInterestRateStrategy.sol/DefaultReserveInterestRateStrategy.json"
    ),
    "AaveBorrowLogic": f"{_AAVE_LOGIC}/BorrowLogic.sol/BorrowLogic.json",
    "AaveBridgeLogic": f"{_AAVE_LOGIC}/BridgeLogic.sol/BridgeLogic.json",
    "AaveConfiguratorLogic": f"{_AAVE_LOGIC}/ConfiguratorLogic.sol/ConfiguratorLogic.json",
    "AaveEModeLogic": f"{_AAVE_LOGIC}/EModeLogic.sol/EModeLogic.json",
    "AaveFlashLoanLogic": f"{_AAVE_LOGIC}/FlashLoanLogic.sol/FlashLoanLogic.json",
    "AaveLiquidationLogic": f"{_AAVE_LOGIC}/LiquidationLogic.sol/LiquidationLogic.json",
    "AavePoolLogic": f"{_AAVE_LOGIC}/PoolLogic.sol/PoolLogic.json",
    "AaveSupplyLogic": f"{_AAVE_LOGIC}/SupplyLogic.sol/SupplyLogic.json",
}


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str  # creation code, 0x-hex; may contain __$...$__ link placeholders
    deployed_bytecode: str
    link_references: dict[str, dict[str, list[dict[str, int]]]] = field(default_factory=dict)

    @cached_property
    def codec(self) -> ContractAbi:
        return ContractAbi(self.abi)

    @property
    def needs_linking(self) -> bool:
        return bool(self.link_references)

    def library_names(self) -> list[str]:
        return sorted({lib for libs in self.link_references.values() for lib in libs})

    def linked(self, libraries: dict[str, str]) -> Artifact:
        """Return a copy with every library placeholder replaced by its address."""
        # placeholders look like __$<34 hex>$__; blank them so the hex parses, then write addresses
        code = bytearray(bytes.fromhex(self.bytecode.removeprefix("0x").replace("_", "0").replace("$", "0")))
        for libs in self.link_references.values():
            for lib, spots in libs.items():
                if lib not in libraries:
                    raise ContractError(f"{self.name}: library {lib} address not given")
                addr = bytes.fromhex(libraries[lib].removeprefix("0x"))
                for spot in spots:
                    start, length = spot["start"], spot["length"]
                    code[start : start + length] = addr
        return Artifact(self.name, self.abi, "0x" + code.hex(), self.deployed_bytecode, {})

    def creation_code(self, *ctor_args: Any) -> bytes:
        if self.needs_linking:
            raise ContractError(f"{self.name} needs library linking first: {self.library_names()}")
        return bytes.fromhex(self.bytecode.removeprefix("0x")) + self.codec.encode_constructor(*ctor_args)


def _hex(value: Any) -> str:
    if isinstance(value, dict):  # v2-core style: {"object": "..."}
        value = value.get("object", "")
    text = str(value or "")
    return text if text.startswith("0x") else "0x" + text


@cache
def load_artifact(name: str) -> Artifact:
    """An npm protocol artifact (see ``NPM_ARTIFACTS``) or one of ours (``contracts/artifacts``)."""
    if name in NPM_ARTIFACTS:
        path = node_modules_dir() / NPM_ARTIFACTS[name]
    else:
        path = project_artifacts_dir() / f"{name}.json"
    if not path.is_file():
        raise ConfigError("artifact", f"{name}: file not found at {path}")
    data = json.loads(Path(path).read_text())
    bytecode = data.get("bytecode")
    if bytecode is None and "evm" in data:
        bytecode = data["evm"]["bytecode"]
    deployed = data.get("deployedBytecode") or data.get("evm", {}).get("deployedBytecode", "")
    if isinstance(bytecode, dict) and "creationCode" in bytecode:
        bytecode = bytecode["creationCode"]
    return Artifact(
        name=name,
        abi=data["abi"],
        bytecode=_hex(bytecode),
        deployed_bytecode=_hex(deployed),
        link_references=data.get("linkReferences") or {},
    )
