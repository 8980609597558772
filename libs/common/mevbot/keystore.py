"""Encrypted signing keys: Ethereum keyfile v3 JSON (scrypt + AES-128-CTR, eth-account's format).

* The password is ``MEV_BOT_ENCRYPTION_KEY`` (:class:`mevbot.config.Secret`); it is never logged.
* Files are ``<dir>/<address>.json``, created with mode 0600 (``O_EXCL``: never overwritten); a
  keystore readable by group or others is refused at load time.
* :class:`Signer` holds the decrypted key. Its ``repr``/``str`` show only the address; it cannot
  be pickled or copied; errors raised here never carry key material (a wrong password is
  "cannot decrypt", not the library's message, which could echo input).

Directory: ``MEV_BOT_KEYSTORE_DIR`` (default ``~/.mevbot/keystore``).
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coincurve import PrivateKey
from eth_account import Account
from eth_account.signers.local import LocalAccount

from mevbot.config import Secret, env_str
from mevbot.errors import KeystoreError
from mevbot.txsign import sign_eip1559, tx_from_dict

KEYSTORE_DIR_KEY = "MEV_BOT_KEYSTORE_DIR"
DEFAULT_KEYSTORE_DIR = "~/.mevbot/keystore"
#: scrypt cost of new keystores: geth's "standard" (2**18, ~1 s to decrypt). Tests pass 2**14.
DEFAULT_SCRYPT_N = 2**18
MIN_PASSWORD_LENGTH = 32


def keystore_dir(env: dict[str, str] | None = None) -> Path:
    return Path(env_str(KEYSTORE_DIR_KEY, DEFAULT_KEYSTORE_DIR, env=env)).expanduser()


def _password(password: Secret | str | None) -> str:
    if password is None:
        raise KeystoreError("MEV_BOT_ENCRYPTION_KEY is not set: it is the keystore password")
    value = password.reveal() if isinstance(password, Secret) else password
    if len(value) < MIN_PASSWORD_LENGTH:
        raise KeystoreError(f"MEV_BOT_ENCRYPTION_KEY must be at least {MIN_PASSWORD_LENGTH} characters")
    return value


class Signer:
    """A decrypted private key that signs transactions. Shows only its address, never the key."""

    __slots__ = ("_account", "_fast", "address")

    def __init__(self, account: LocalAccount) -> None:
        self._account = account
        self._fast = PrivateKey(bytes(account.key))
        self.address: str = account.address.lower()

    def sign_transaction(self, tx: dict[str, Any]) -> tuple[bytes, str]:
        """Sign a transaction dict (eth-account's shape); returns ``(raw_tx_bytes, tx_hash_hex)``.

        Type-2 transactions take the fast path (:mod:`mevbot.txsign`, same bytes), others
        eth-account's general one."""
        try:
            if tx.get("type") == 2 and not tx.get("accessList"):
                raw, tx_hash = sign_eip1559(self._fast, tx_from_dict(tx))
                return raw, "0x" + tx_hash.hex()
            signed = self._account.sign_transaction(tx)
        except Exception as exc:  # noqa: BLE001 - re-raised without the library's text (may echo fields)
            raise KeystoreError(f"signing failed for {self.address}: {type(exc).__name__}") from None
        return bytes(signed.raw_transaction), "0x" + bytes(signed.hash).hex()

    def __repr__(self) -> str:
        return f"Signer(address={self.address!r})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a Signer cannot be pickled")

    def __copy__(self) -> Any:
        raise TypeError("a Signer cannot be copied")

    def __deepcopy__(self, memo: Any) -> Any:
        raise TypeError("a Signer cannot be copied")


@dataclass(frozen=True)
class KeystoreEntry:
    address: str
    path: Path


def _normalize_private_key(private_key: str | bytes) -> bytes:
    if isinstance(private_key, str):
        text = private_key.strip().removeprefix("0x").removeprefix("0X")
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise KeystoreError("private key is not hex") from None
    else:
        raw = bytes(private_key)
    if len(raw) != 32:
        raise KeystoreError(f"private key must be 32 bytes, got {len(raw)}")
    if int.from_bytes(raw, "big") == 0:
        raise KeystoreError("private key is zero")
    return raw


def write_keystore(
    directory: Path | str,
    password: Secret | str | None,
    private_key: str | bytes | None = None,
    *,
    scrypt_n: int = DEFAULT_SCRYPT_N,
) -> KeystoreEntry:
    """Encrypt a key (a new random one when ``private_key`` is None) into ``<dir>/<address>.json``."""
    pw = _password(password)
    if private_key is None:
        account = Account.create()
        raw = bytes(account.key)
    else:
        raw = _normalize_private_key(private_key)
        try:
            account = Account.from_key(raw)
        except Exception:  # noqa: BLE001 - out of curve range; never echo the value
            raise KeystoreError("private key is not a valid secp256k1 key") from None
    address = account.address.lower()
    keyfile = Account.encrypt(raw, pw, kdf="scrypt", iterations=scrypt_n)
    directory = Path(directory).expanduser()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / f"{address}.json"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeystoreError(f"a keystore for {address} already exists at {path}") from None
    except OSError as exc:
        raise KeystoreError(f"cannot create {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w") as fh:
        json.dump(keyfile, fh)
    os.chmod(path, 0o600)  # in case the umask or filesystem widened it
    return KeystoreEntry(address, path)


def list_keystores(directory: Path | str) -> list[KeystoreEntry]:
    """Every keystore in the directory (address read from the file, nothing decrypted)."""
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        return []
    entries = []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text())
            address = "0x" + str(data["address"]).lower().removeprefix("0x")
        except (OSError, ValueError, KeyError, TypeError):
            continue
        entries.append(KeystoreEntry(address, path))
    return entries


def find_keystore(directory: Path | str, address: str) -> Path:
    address = address.lower()
    for entry in list_keystores(directory):
        if entry.address == address:
            return entry.path
    raise KeystoreError(f"no keystore for {address} in {directory}")


def load_signer(path: Path | str, password: Secret | str | None) -> Signer:
    """Decrypt a keystore file. Refuses files readable by group or others."""
    pw = _password(password)
    path = Path(path).expanduser()
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        text = path.read_text()
    except OSError as exc:
        raise KeystoreError(f"cannot read keystore {path}: {exc.strerror}") from None
    if mode & 0o077:
        raise KeystoreError(f"keystore {path} has mode {mode:04o}; it must be 0600 (chmod 600)")
    try:
        keyfile = json.loads(text)
    except ValueError:
        raise KeystoreError(f"keystore {path} is not JSON") from None
    try:
        raw = Account.decrypt(keyfile, pw)
    except Exception:  # noqa: BLE001 - MAC mismatch, bad params: never pass the library text on
        raise KeystoreError(f"cannot decrypt keystore {path}: wrong MEV_BOT_ENCRYPTION_KEY or corrupt file") from None
    signer = Signer(Account.from_key(raw))
    del raw
    expected = "0x" + str(keyfile.get("address", "")).lower().removeprefix("0x")
    if expected != "0x" and expected != signer.address:
        raise KeystoreError(f"keystore {path} decrypts to another address than it names")
    return signer
