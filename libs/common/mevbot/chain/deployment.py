"""The typed record of a deployed market: every address a service or test needs, as JSON.

The devnet writes it to a file; services and tests read it (``Deployment.from_json``).
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from mevbot.errors import ConfigError


class TokenInfo(msgspec.Struct, frozen=True):
    symbol: str
    address: str
    decimals: int
    usd_price: float = 0.0  # the price the market was built at (informational)


class V2PairInfo(msgspec.Struct, frozen=True):
    address: str
    token0: str
    token1: str
    fee_pips: int = 3000


class V3PoolInfo(msgspec.Struct, frozen=True):
    address: str
    token0: str
    token1: str
    fee_pips: int
    tick_spacing: int


class AaveInfo(msgspec.Struct, frozen=True):
    pool: str
    addresses_provider: str
    pool_configurator: str
    acl_manager: str
    flash_premium_bps: int
    a_tokens: dict[str, str] = {}  # underlying address -> aToken address


class Deployment(msgspec.Struct, frozen=True):
    chain_id: int
    rpc_url: str
    deployer: str
    tokens: dict[str, TokenInfo]  # by symbol
    weth: str
    uniswap_v2_factory: str
    uniswap_v2_init_code_hash: str
    uniswap_v3_factory: str
    uniswap_v3_init_code_hash: str
    v2_pairs: list[V2PairInfo]
    v3_pools: list[V3PoolInfo]
    balancer_vault: str
    balancer_authorizer: str
    aave: AaveInfo | None
    pool_actor: str
    executor: str | None = None
    executor_owner: str | None = None
    executor_allowed: list[str] = []
    precompile_stand_ins: bool = False
    block_number: int = 0
    deploy_seconds: float = 0.0
    tx_count: int = 0

    # --- lookups -------------------------------------------------------------------------------

    def token(self, symbol: str) -> str:
        try:
            return self.tokens[symbol].address
        except KeyError:
            raise ConfigError("deployment.tokens", f"no token {symbol!r}") from None

    def v2_pair(self, symbol_a: str, symbol_b: str) -> V2PairInfo:
        a, b = self.token(symbol_a).lower(), self.token(symbol_b).lower()
        for p in self.v2_pairs:
            if {p.token0.lower(), p.token1.lower()} == {a, b}:
                return p
        raise ConfigError("deployment.v2_pairs", f"no pair {symbol_a}/{symbol_b}")

    def v3_pool(self, symbol_a: str, symbol_b: str, fee_pips: int) -> V3PoolInfo:
        a, b = self.token(symbol_a).lower(), self.token(symbol_b).lower()
        for p in self.v3_pools:
            if p.fee_pips == fee_pips and {p.token0.lower(), p.token1.lower()} == {a, b}:
                return p
        raise ConfigError("deployment.v3_pools", f"no pool {symbol_a}/{symbol_b}/{fee_pips}")

    # --- JSON ----------------------------------------------------------------------------------

    def to_json(self) -> bytes:
        return msgspec.json.format(msgspec.json.encode(self), indent=2)

    @classmethod
    def from_json(cls, data: bytes | str) -> Deployment:
        try:
            return msgspec.json.decode(data, type=cls)
        except msgspec.ValidationError as exc:
            raise ConfigError("deployment", str(exc)) from exc

    def write(self, path: Path | str) -> Path:
        path = Path(path)
        path.write_bytes(self.to_json())
        return path

    @classmethod
    def read(cls, path: Path | str) -> Deployment:
        return cls.from_json(Path(path).read_bytes())
