"""Everything chain-specific, as configuration.

Chain id, DEX factories (kind, CREATE2 deployer, init-code hash, fee tiers and tick spacing),
base tokens, the token list with decimals, the wrapped native token, flash-loan sources and
Multicall3. Arbitrum One defaults ship in the package (``mevbot/data/arbitrum.json``, derived from
``/work/shared/data/arbitrum`` by ``scripts/gen_chain_config.py``; provenance inside the file).
``CHAIN_CONFIG_PATH`` points at another JSON or YAML file of the same shape, so the same build
runs on a local chain (the devnet writes such a file).

Addresses are normalised to lower-case on load; anything malformed raises
:class:`~mevbot.errors.ConfigError` naming ``CHAIN_CONFIG_PATH`` and the field.
"""

from __future__ import annotations

import json
import re
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec
import yaml

from mevbot.errors import ConfigError
from mevbot.messages import FlashSourceKind, PoolKind

KEY = "CHAIN_CONFIG_PATH"
_ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")
_HASH = re.compile(r"^0x[0-9a-f]{64}$")


class DexConfig(msgspec.Struct, frozen=True, kw_only=True):
    name: str  # registry name used on the wire (PoolInfo.dex), e.g. "uniswap_v3"
    kind: PoolKind
    factory: str
    init_code_hash: str
    pool_deployer: str | None = None  # CREATE2 deployer when it is not the factory (Algebra, PancakeSwap V3)
    fee_pips: int = 0  # V2-style: the pair fee (3000 = 0.30 %); Camelot V2: the default directional fee
    fee_tiers: dict[int, int] = {}  # V3-style: fee_pips -> tick spacing
    tick_spacing: int = 0  # Algebra: one spacing for every pool
    start_block: int = 0
    router: str | None = None
    quoter: str | None = None

    @property
    def create2_deployer(self) -> str:
        return self.pool_deployer or self.factory


class TokenConfig(msgspec.Struct, frozen=True, kw_only=True):
    address: str
    symbol: str
    decimals: int


class FlashLoanSource(msgspec.Struct, frozen=True, kw_only=True):
    kind: FlashSourceKind
    address: str
    fee_pips: int = 0  # premium in pips of the loan (Aave V3 on Arbitrum: 500 = 5 bps)


class ChainConfig(msgspec.Struct, frozen=True, kw_only=True, dict=True):
    chain_id: int
    name: str
    wrapped_native: str
    multicall3: str
    dexes: list[DexConfig]
    base_tokens: list[str]
    tokens: list[TokenConfig]
    flash_loan_sources: list[FlashLoanSource] = []
    native_symbol: str = "ETH"
    block_time_s: float = 0.25
    provenance: dict[str, str] = {}

    @cached_property
    def _tokens_by_address(self) -> dict[str, TokenConfig]:
        return {t.address: t for t in self.tokens}

    @cached_property
    def _dex_by_factory(self) -> dict[str, DexConfig]:
        return {d.factory: d for d in self.dexes}

    def token(self, address: str) -> TokenConfig | None:
        return self._tokens_by_address.get(address.lower())

    def decimals(self, address: str) -> int | None:
        token = self.token(address)
        return token.decimals if token else None

    def dex_by_factory(self, factory: str) -> DexConfig | None:
        return self._dex_by_factory.get(factory.lower())

    def dex(self, name: str) -> DexConfig:
        for dex in self.dexes:
            if dex.name == name:
                return dex
        raise KeyError(name)

    def flash_source(self, kind: FlashSourceKind) -> FlashLoanSource | None:
        for source in self.flash_loan_sources:
            if source.kind == kind:
                return source
        return None


DEFAULT_RESOURCE = "arbitrum.json"


def default_chain_config() -> ChainConfig:
    """The packaged Arbitrum One configuration."""
    text = resources.files("mevbot.data").joinpath(DEFAULT_RESOURCE).read_text()
    return parse_chain_config(json.loads(text), source=f"mevbot/data/{DEFAULT_RESOURCE}")


def load_chain_config(path: Path | str | None = None) -> ChainConfig:
    """``path`` (JSON or YAML) or the packaged Arbitrum One defaults when ``None``."""
    if path is None:
        return default_chain_config()
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(KEY, f"cannot read {str(path)!r}: {exc.strerror}") from None
    try:
        raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigError(KEY, f"{path.name} is not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}") from None
    return parse_chain_config(raw, source=str(path))


def parse_chain_config(raw: Any, *, source: str = "chain config") -> ChainConfig:
    if not isinstance(raw, dict):
        raise ConfigError(KEY, f"{source}: expected a mapping at the top level")
    raw = _normalise(raw)
    try:
        config = msgspec.convert(raw, ChainConfig, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(KEY, f"{source}: {exc}") from None
    _validate(config, source)
    return config


def _normalise(raw: dict[str, Any]) -> dict[str, Any]:
    """Lower-case every address so comparisons are plain string equality."""
    out = {k: v for k, v in raw.items() if not k.startswith("_")}
    for key in ("wrapped_native", "multicall3"):
        if isinstance(out.get(key), str):
            out[key] = out[key].lower()
    out["base_tokens"] = [a.lower() if isinstance(a, str) else a for a in out.get("base_tokens", [])]
    out["tokens"] = [_lower(t, ("address",)) for t in out.get("tokens", [])]
    out["dexes"] = [_lower(d, ("factory", "init_code_hash", "pool_deployer", "router", "quoter")) for d in out.get("dexes", [])]
    out["flash_loan_sources"] = [_lower(s, ("address",)) for s in out.get("flash_loan_sources", [])]
    return out


def _lower(item: Any, fields: tuple[str, ...]) -> Any:
    if not isinstance(item, dict):
        return item
    return {k: (v.lower() if k in fields and isinstance(v, str) else v) for k, v in item.items()}


def _validate(config: ChainConfig, source: str) -> None:
    def address(where: str, value: str | None) -> None:
        if value is not None and not _ADDRESS.match(value):
            raise ConfigError(KEY, f"{source}: {where} is not a 20-byte hex address: {value!r}")

    address("wrapped_native", config.wrapped_native)
    address("multicall3", config.multicall3)
    for i, dex in enumerate(config.dexes):
        where = f"dexes[{i}] ({dex.name})"
        address(f"{where}.factory", dex.factory)
        address(f"{where}.pool_deployer", dex.pool_deployer)
        if not _HASH.match(dex.init_code_hash):
            raise ConfigError(KEY, f"{source}: {where}.init_code_hash is not a 32-byte hex hash")
        if dex.kind in (PoolKind.UNISWAP_V3,) and not dex.fee_tiers:
            raise ConfigError(KEY, f"{source}: {where} is a V3 DEX without fee_tiers")
    names = [d.name for d in config.dexes]
    if len(set(names)) != len(names):
        raise ConfigError(KEY, f"{source}: DEX names must be unique, got {names}")
    for i, token in enumerate(config.tokens):
        address(f"tokens[{i}].address", token.address)
        if not 0 <= token.decimals <= 77:
            raise ConfigError(KEY, f"{source}: tokens[{i}].decimals out of range: {token.decimals}")
    known = {t.address for t in config.tokens}
    for i, base in enumerate(config.base_tokens):
        address(f"base_tokens[{i}]", base)
        if base not in known:
            raise ConfigError(KEY, f"{source}: base token {base} is not in the token list (its decimals are needed)")
    if config.wrapped_native not in known:
        raise ConfigError(KEY, f"{source}: wrapped_native {config.wrapped_native} is not in the token list")
    for i, flash in enumerate(config.flash_loan_sources):
        address(f"flash_loan_sources[{i}].address", flash.address)


def to_json(config: ChainConfig) -> bytes:
    """Serialise (e.g. the devnet writes its chain config with this)."""
    return msgspec.json.format(msgspec.json.encode(config), indent=1)
