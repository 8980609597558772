"""``mevbot deploy-executor``: deploy MevbotArbExecutor with a keystore key and record its address.

The owner is the key that deploys it (``--key``, default: the only keystore). ``--allow ADDR``
(repeatable) lets other executor keys start trades. The record (``EXECUTOR_CONTRACT_FILE``,
default ``~/.mevbot/executor_contract.json``) is what the executor service reads.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

import typer

from mevbot.chain.artifacts import load_artifact
from mevbot.chain.rpc import RpcClient
from mevbot.config import env_str, load_settings
from mevbot.errors import ChainError, ConfigError, KeystoreError
from mevbot.keystore import Signer, find_keystore, keystore_dir, list_keystores, load_signer

CONTRACT_FILE_KEY = "EXECUTOR_CONTRACT_FILE"
DEFAULT_CONTRACT_FILE = "~/.mevbot/executor_contract.json"
ARTIFACT = "MevbotArbExecutor"


@dataclass(frozen=True)
class ContractRecord:
    chain_id: int
    address: str
    owner: str
    tx_hash: str
    block_number: int
    allowed: tuple[str, ...] = ()
    deployed_at: int = 0  # unix seconds

    def write(self, path: Path | str) -> Path:
        path = Path(path).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        os.replace(tmp, path)
        return path

    @classmethod
    def read(cls, path: Path | str) -> ContractRecord:
        path = Path(path).expanduser()
        try:
            data = json.loads(path.read_text())
            return cls(**{**data, "allowed": tuple(data.get("allowed", ()))})
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(CONTRACT_FILE_KEY, f"cannot read the executor contract record {path}: {exc}") from None


def contract_file(env: dict[str, str] | None = None) -> Path:
    return Path(env_str(CONTRACT_FILE_KEY, DEFAULT_CONTRACT_FILE, env=env)).expanduser()


def _send(rpc: RpcClient, signer: Signer, chain_id: int, nonce: int, to: str | None, data: bytes) -> dict[str, object]:
    from eth_utils import to_checksum_address

    call: dict[str, object] = {"from": signer.address, "data": "0x" + data.hex()}
    if to:
        call["to"] = to
    gas = int(rpc.call("eth_estimateGas", call), 16)
    block = rpc.call("eth_getBlockByNumber", "latest", False)
    base_fee = int(block.get("baseFeePerGas") or "0x0", 16)
    priority = 10**6
    tx: dict[str, object] = {
        "type": 2, "chainId": chain_id, "nonce": nonce, "value": 0, "data": data, "gas": gas * 12 // 10 + 10_000,
        "maxFeePerGas": base_fee * 2 + priority, "maxPriorityFeePerGas": priority,
    }
    if to:
        tx["to"] = to_checksum_address(to)
    raw, tx_hash = signer.sign_transaction(tx)
    rpc.call("eth_sendRawTransaction", "0x" + raw.hex())
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        receipt = rpc.call("eth_getTransactionReceipt", tx_hash)
        if receipt is not None:
            if receipt.get("status") != "0x1":
                raise ChainError(f"transaction {tx_hash} reverted")
            return receipt
        time.sleep(0.1)
    raise ChainError(f"no receipt for {tx_hash} after 120 s")


def deploy_executor(rpc_url: str, signer: Signer, *, allowed: tuple[str, ...] = ()) -> ContractRecord:
    """Deploy the contract owned by ``signer``, allow ``allowed`` keys; returns the record."""
    artifact = load_artifact(ARTIFACT)
    with RpcClient(rpc_url) as rpc:
        chain_id = int(rpc.call("eth_chainId"), 16)
        nonce = int(rpc.call("eth_getTransactionCount", signer.address, "pending"), 16)
        receipt = _send(rpc, signer, chain_id, nonce, None, artifact.creation_code(signer.address))
        address = str(receipt["contractAddress"]).lower()
        for i, key in enumerate(allowed):
            _send(rpc, signer, chain_id, nonce + 1 + i, address, artifact.codec.encode_call("setAllowed", key, True))
        if rpc.call("eth_getCode", address, "latest") in ("0x", "0x0", None):
            raise ChainError(f"no code at {address} after deployment")
    return ContractRecord(
        chain_id=chain_id, address=address, owner=signer.address, tx_hash=str(receipt["transactionHash"]),
        block_number=int(str(receipt["blockNumber"]), 16), allowed=tuple(a.lower() for a in allowed),
        deployed_at=int(time.time()),
    )


def _signer_for(key: str | None) -> Signer:
    settings = load_settings()
    directory = keystore_dir()
    if key:
        path = find_keystore(directory, key)
    else:
        entries = list_keystores(directory)
        if len(entries) != 1:
            raise KeystoreError(f"{len(entries)} keystores in {directory}: choose one with --key")
        path = entries[0].path
    return load_signer(path, settings.encryption_key)


def register(app: typer.Typer) -> None:
    @app.command("deploy-executor")
    def deploy_executor_command(
        key: Annotated[str | None, typer.Option("--key", help="owner/deployer key address (default: the only one)")] = None,
        allow: Annotated[list[str] | None, typer.Option("--allow", help="key allowed to trade (repeatable)")] = None,
        out: Annotated[Path | None, typer.Option("--out", help=f"record file (default ${CONTRACT_FILE_KEY})")] = None,
    ) -> None:
        """Deploy MevbotArbExecutor on the configured chain (ARBITRUM_RPC_ENDPOINT) and record its address."""
        try:
            settings = load_settings()
            if not settings.providers.http:
                raise ConfigError("ARBITRUM_RPC_ENDPOINT", "is required to deploy")
            signer = _signer_for(key)
            record = deploy_executor(settings.providers.http[0].endpoint, signer, allowed=tuple(allow or ()))
            path = record.write(out or contract_file())
        except (ConfigError, KeystoreError, ChainError) as exc:
            typer.echo(f"mevbot deploy-executor: {exc}", err=True)
            raise typer.Exit(2 if isinstance(exc, ConfigError) else 1) from None
        typer.echo(json.dumps({**asdict(record), "record": str(path)}, indent=2))
