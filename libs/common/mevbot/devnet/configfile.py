"""What the devnet hands the services: a chain config file and an environment, nothing else.

The services read exactly what they would read on Arbitrum One: ``CHAIN_CONFIG_PATH`` (chain id,
factories + init-code hashes, tokens, base tokens, flash sources; the format of
:mod:`mevbot.chainconfig`), RPC/WS URLs, the executor contract, the keystore and the
``EXECUTION_ENABLED`` switch. Pointing the unchanged services at another chain is the same two
files with other values (see docs/devnet.md).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from mevbot.chain.deploy import DEV_PRIVATE_KEYS
from mevbot.chainconfig import ChainConfig, parse_chain_config, to_json
from mevbot.devnet.chain import BOT_ACCOUNT_INDEX, DevnetChain
from mevbot.errors import KeystoreError

# The devnet key is anvil's public dev key #1 (never real funds): a cheap scrypt cost is fine here.
DEVNET_SCRYPT_N = 2**14
# Arbitrum's canonical Multicall3 address; not deployed on the devnet (nothing there needs it).
MULTICALL3 = "0xca11bde05977b3631167028862be2a173976ca11"
BASE_SYMBOLS = ("WETH", "USDC", "USDT")


def devnet_chain_config(chain: DevnetChain) -> ChainConfig:
    dep = chain.deployment
    raw = {
        "chain_id": dep.chain_id,
        "name": "mevbot-devnet",
        "native_symbol": "ETH",
        "block_time_s": chain.block_time_s,
        "wrapped_native": dep.weth,
        "multicall3": MULTICALL3,
        "dexes": [
            {"name": "uniswap_v3", "kind": "uniswap_v3", "factory": dep.uniswap_v3_factory,
             "init_code_hash": dep.uniswap_v3_init_code_hash, "start_block": 0,
             "fee_tiers": {"100": 1, "500": 10, "3000": 60, "10000": 200}},
            {"name": "uniswap_v2", "kind": "uniswap_v2", "factory": dep.uniswap_v2_factory,
             "init_code_hash": dep.uniswap_v2_init_code_hash, "start_block": 0, "fee_pips": 3000,
             "router": chain.router_v2},
        ],
        "base_tokens": [dep.token(s) for s in BASE_SYMBOLS if s in dep.tokens],
        "tokens": [{"address": t.address, "symbol": t.symbol, "decimals": t.decimals} for t in dep.tokens.values()],
        "flash_loan_sources": [{"kind": "balancer_v2", "address": dep.balancer_vault, "fee_pips": 0}]
        + ([{"kind": "aave_v3", "address": dep.aave.pool, "fee_pips": dep.aave.flash_premium_bps * 100}]
           if dep.aave else []),
        "provenance": {"devnet": "written by mevbot devnet from its own deployment"},
    }
    return parse_chain_config(raw, source="devnet")


def import_key(key_dir: Path, password: str, private_key: str) -> str:
    """``mevbot keys import`` (the operator's command, key on stdin, never on the command line)."""
    env = {**os.environ, "MEV_BOT_ENCRYPTION_KEY": password, "MEV_BOT_KEYSTORE_DIR": str(key_dir)}
    env.pop("PROVIDER_CONFIG_PATH", None)
    done = subprocess.run([sys.executable, "-m", "mevbot.cli", "keys", "import", "--scrypt-n", str(DEVNET_SCRYPT_N)],
                          input=private_key + "\n", capture_output=True, text=True, env=env, check=False, timeout=60)
    if done.returncode != 0:
        raise KeystoreError(f"mevbot keys import failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    address = done.stdout.split()[0].lower()
    if not address.startswith("0x") or len(address) != 42:
        raise KeystoreError(f"mevbot keys import printed no address: {done.stdout[:200]!r}")
    return address


def write_devnet_files(work_dir: Path, chain: DevnetChain, *, execution_enabled: bool, nats_url: str,
                       redis_url: str, namespace: str, min_profit_threshold_wei: int) -> dict[str, str]:
    """Write chain config, deployment record, keystore and ``devnet.env``; return the env."""
    work_dir.mkdir(parents=True, exist_ok=True)
    config_path = work_dir / "chain-config.json"
    config_path.write_bytes(to_json(devnet_chain_config(chain)))
    chain.deployment.write(work_dir / "deployment.json")
    password = secrets.token_urlsafe(32)
    key_dir = work_dir / "keystore"
    if key_dir.exists():
        for old in key_dir.glob("*.json"):
            old.unlink()
    address = import_key(key_dir, password, DEV_PRIVATE_KEYS[BOT_ACCOUNT_INDEX])
    dep = chain.deployment
    env = {
        "ARBITRUM_RPC_ENDPOINT": chain.http_url,
        "ARBITRUM_WS_ENDPOINT": chain.ws_url,
        "CHAIN_CONFIG_PATH": str(config_path),
        "NATS_URL": nats_url,
        "REDIS_URL": redis_url,
        "MEV_NAMESPACE": namespace,
        "EXECUTION_ENABLED": "true" if execution_enabled else "false",
        "EXECUTOR_CONTRACT_ADDRESS": (dep.executor or "").lower(),
        "EXECUTOR_SENDER_ADDRESS": address,
        "MEV_BOT_KEYSTORE_DIR": str(key_dir),
        "MEV_BOT_ENCRYPTION_KEY": password,
        "MIN_PROFIT_THRESHOLD": str(min_profit_threshold_wei),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "info",
    }
    env_path = work_dir / "devnet.env"
    fd = os.open(env_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("# written by `mevbot devnet`; source it to run a service by hand against this devnet\n")
        fh.writelines(f"{k}={v}\n" for k, v in env.items())
    return env
