"""Start and stop a local anvil node (from npm ``@foundry-rs/anvil-linux-amd64``), offline.

Safety rules learnt the hard way (see LOCAL_CHAIN_NOTES.md): a leftover anvil on the same port
makes ours exit with "address in use" while a readiness probe happily answers from the old one.
So we refuse a busy port up front, and the readiness wait also checks that *our* child is alive
and that the node answering reports the chain id we asked for.
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from mevbot.chain.paths import anvil_binary
from mevbot.errors import ChainError

ARBITRUM_CHAIN_ID = 42161
# anvil's default mnemonic gives these well-known dev accounts; public test keys, never real funds
DEFAULT_MNEMONIC = "test test test test test test test test test test test junk"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


@dataclass(frozen=True)
class AnvilConfig:
    port: int | None = None  # None: pick a free port
    chain_id: int = ARBITRUM_CHAIN_ID
    block_time_s: float | None = None  # None: automine (one block per transaction)
    load_state: Path | None = None  # file written by AnvilProcess.dump_state()
    accounts: int = 10
    balance_eth: int = 1_000_000
    # Arbitrum One's block gas limit (2**50); batched deploys mine ~130 generously declared txs
    # in one block
    gas_limit: int = 2**50
    code_size_limit: int | None = 0x10000  # Aave/Balancer init code is close to the EIP-170 limit
    base_fee_wei: int | None = None
    hardfork: str | None = "cancun"  # what Arbitrum One runs
    extra_args: tuple[str, ...] = ()
    startup_timeout_s: float = 10.0


@dataclass
class AnvilProcess:
    """A running anvil child. Use as a context manager or call ``stop()``."""

    config: AnvilConfig = field(default_factory=AnvilConfig)
    port: int = 0
    _proc: subprocess.Popen[bytes] | None = None
    _log: object | None = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> Self:
        # a port picked by us can be taken by a parallel session before anvil binds it: retry
        # with a fresh one; a port given by the caller is never second-guessed
        attempts = 1 if self.config.port is not None else 3
        for attempt in range(attempts):
            try:
                return self._start_once()
            except ChainError:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def _start_once(self) -> Self:
        cfg = self.config
        self.port = cfg.port if cfg.port is not None else free_port()
        if port_in_use(self.port):
            raise ChainError(f"port {self.port} is already in use (leftover anvil?); refusing to start")
        args = [
            str(anvil_binary()),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--chain-id", str(cfg.chain_id),
            "--accounts", str(cfg.accounts),
            "--balance", str(cfg.balance_eth),
            "--mnemonic", DEFAULT_MNEMONIC,
            "--gas-limit", str(cfg.gas_limit),
            "--no-request-size-limit",
        ]  # fmt: skip
        if cfg.code_size_limit is not None:
            args += ["--code-size-limit", str(cfg.code_size_limit)]
        if cfg.block_time_s is not None:
            args += ["--block-time", _fmt_seconds(cfg.block_time_s)]
        if cfg.load_state is not None:
            args += ["--load-state", str(cfg.load_state)]
        if cfg.base_fee_wei is not None:
            args += ["--block-base-fee-per-gas", str(cfg.base_fee_wei)]
        if cfg.hardfork:
            args += ["--hardfork", cfg.hardfork]
        args += list(cfg.extra_args)
        # anvil's stdout is chatty (one line per tx); keep it in a temp file for post-mortems only
        self._log = tempfile.NamedTemporaryFile(prefix="anvil-", suffix=".log", delete=False)  # noqa: SIM115 (lives as long as the child)
        self._proc = subprocess.Popen(
            args, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=_clean_env()
        )
        try:
            self._wait_ready(cfg.startup_timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                raise ChainError(
                    f"anvil exited during start-up (rc={self._proc and self._proc.returncode}): {self.log_tail()}"
                )
            try:
                chain_id = int(self.rpc("eth_chainId"), 16)
            except (OSError, ValueError, ChainError) as exc:
                last_error = exc
                time.sleep(0.02)
                continue
            if chain_id != self.config.chain_id:
                raise ChainError(f"node on port {self.port} reports chain id {chain_id}, not ours")
            if self._proc.poll() is not None:  # answered, but not from our child
                raise ChainError(f"anvil exited; port {self.port} answered by another process")
            return
        raise ChainError(f"anvil not ready after {timeout_s}s: {last_error}; {self.log_tail()}")

    def rpc(self, method: str, params: list[object] | None = None) -> object:
        """One JSON-RPC call (tiny helper for control methods; use ``mevbot.chain.rpc`` for bulk)."""
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
        req = urllib.request.Request(self.http_url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            reply = json.loads(resp.read())
        if "error" in reply:
            raise ChainError(f"{method}: {reply['error']}")
        return reply["result"]

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def dump_state(self, path: Path | str) -> Path:
        """Write the whole chain state (``anvil_dumpState``) in the format ``--load-state`` reads."""
        state_hex = str(self.rpc("anvil_dumpState"))
        path = Path(path)
        raw = bytes.fromhex(state_hex.removeprefix("0x"))
        # anvil_dumpState returns gzip-compressed JSON as hex; --load-state wants the plain JSON
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        path.write_bytes(raw)
        return path

    def log_tail(self, n_bytes: int = 2000) -> str:
        if self._log is None:
            return ""
        try:
            data = Path(self._log.name).read_bytes()  # type: ignore[attr-defined]
        except OSError:
            return ""
        return data[-n_bytes:].decode(errors="replace")

    def stop(self, timeout_s: float = 5.0) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout_s)
        if self._log is not None:
            name = self._log.name  # type: ignore[attr-defined]
            self._log.close()  # type: ignore[attr-defined]
            self._log = None
            try:
                os.unlink(name)
            except OSError:
                pass

    def __enter__(self) -> Self:
        return self.start() if self._proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_anvil(**kwargs: object) -> AnvilProcess:
    """``start_anvil(block_time_s=0.25, load_state=path)`` -> a started ``AnvilProcess``."""
    return AnvilProcess(AnvilConfig(**kwargs)).start()  # type: ignore[arg-type]


def _fmt_seconds(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else repr(float(seconds))


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("ETH_RPC_URL", None)  # anvil would try to fork from it
    env.pop("ANVIL_IP_ADDR", None)
    return env
