"""``mevbot keys new|import|list``: encrypted signing keys (keyfile v3, scrypt + AES-128-CTR).

The password is ``MEV_BOT_ENCRYPTION_KEY``; files go to ``MEV_BOT_KEYSTORE_DIR`` with mode 0600.
``import`` reads the private key from stdin or a hidden prompt, never from the command line
(it would land in the shell history and in ``ps``). Only addresses are ever printed.
"""

from __future__ import annotations

import sys

import typer

from mevbot.config import load_settings
from mevbot.errors import ConfigError, KeystoreError
from mevbot.keystore import DEFAULT_SCRYPT_N, keystore_dir, list_keystores, write_keystore


def _fail(exc: Exception) -> None:
    typer.echo(f"mevbot keys: {exc}", err=True)
    raise typer.Exit(2 if isinstance(exc, ConfigError) else 1)


def register(app: typer.Typer) -> None:
    keys = typer.Typer(help="Encrypted signing keys (password: MEV_BOT_ENCRYPTION_KEY).", no_args_is_help=True)

    @keys.command("new")
    def new(scrypt_n: int = typer.Option(DEFAULT_SCRYPT_N, "--scrypt-n", help="scrypt cost (power of two)")) -> None:
        """Create a random key and write its encrypted keystore; prints the address."""
        try:
            entry = write_keystore(keystore_dir(), load_settings().encryption_key, scrypt_n=scrypt_n)
        except (ConfigError, KeystoreError) as exc:
            _fail(exc)
            return
        typer.echo(f"{entry.address} {entry.path}")

    @keys.command("import")
    def import_(scrypt_n: int = typer.Option(DEFAULT_SCRYPT_N, "--scrypt-n", help="scrypt cost (power of two)")) -> None:
        """Encrypt an existing private key read from stdin (or a hidden prompt)."""
        try:
            password = load_settings().encryption_key
            if sys.stdin.isatty():
                secret = typer.prompt("private key (hex)", hide_input=True)
            else:
                secret = sys.stdin.readline()
            entry = write_keystore(keystore_dir(), password, secret.strip(), scrypt_n=scrypt_n)
            del secret
        except (ConfigError, KeystoreError) as exc:
            _fail(exc)
            return
        typer.echo(f"{entry.address} {entry.path}")

    @keys.command("list")
    def list_() -> None:
        """Addresses of the keystores (nothing is decrypted)."""
        for entry in list_keystores(keystore_dir()):
            typer.echo(f"{entry.address} {entry.path}")

    app.add_typer(keys, name="keys")
