import copy
import os
import pickle
import stat

import pytest
from eth_account import Account
from mevbot.config import Secret
from mevbot.errors import KeystoreError
from mevbot.keystore import list_keystores, load_signer, write_keystore

PASSWORD = Secret("x" * 40)
N = 2**10  # cheap scrypt for tests; production default is 2**18


def test_roundtrip_mode_and_listing(tmp_path):
    key = "0x" + "42" * 32
    entry = write_keystore(tmp_path, PASSWORD, key, scrypt_n=N)
    assert stat.S_IMODE(entry.path.stat().st_mode) == 0o600
    assert entry.address == Account.from_key(key).address.lower()
    assert "42" * 32 not in entry.path.read_text()
    signer = load_signer(entry.path, PASSWORD)
    assert signer.address == entry.address
    assert [e.address for e in list_keystores(tmp_path)] == [entry.address]
    with pytest.raises(KeystoreError):  # never overwritten
        write_keystore(tmp_path, PASSWORD, key, scrypt_n=N)


def test_signer_never_shows_the_key(tmp_path):
    key = "0x" + "42" * 32
    signer = load_signer(write_keystore(tmp_path, PASSWORD, key, scrypt_n=N).path, PASSWORD)
    for text in (repr(signer), str(signer), f"{signer}"):
        assert "42" * 32 not in text and signer.address in text
    with pytest.raises(TypeError):
        pickle.dumps(signer)
    with pytest.raises(TypeError):
        copy.deepcopy(signer)


def test_wrong_password_and_loose_mode_are_refused_without_key_material(tmp_path):
    key = "0x" + "42" * 32
    entry = write_keystore(tmp_path, PASSWORD, key, scrypt_n=N)
    with pytest.raises(KeystoreError) as exc:
        load_signer(entry.path, Secret("y" * 40))
    assert "42" * 32 not in str(exc.value) and "y" * 40 not in str(exc.value)
    os.chmod(entry.path, 0o644)
    with pytest.raises(KeystoreError, match="0600"):
        load_signer(entry.path, PASSWORD)


def test_bad_inputs(tmp_path):
    with pytest.raises(KeystoreError):
        write_keystore(tmp_path, None, scrypt_n=N)
    with pytest.raises(KeystoreError):
        write_keystore(tmp_path, "short", scrypt_n=N)
    with pytest.raises(KeystoreError) as exc:
        write_keystore(tmp_path, PASSWORD, "0xzz" + "1" * 62, scrypt_n=N)
    assert "1" * 62 not in str(exc.value)
    with pytest.raises(KeystoreError):
        write_keystore(tmp_path, PASSWORD, "0x" + "00" * 32, scrypt_n=N)


def test_signing_produces_a_recoverable_transaction(tmp_path):
    signer = load_signer(write_keystore(tmp_path, PASSWORD, scrypt_n=N).path, PASSWORD)
    tx = {"type": 2, "chainId": 42161, "nonce": 3, "to": "0x" + "Ab" * 20, "value": 0, "data": b"\x00\x01",
          "gas": 100_000, "maxFeePerGas": 10**9, "maxPriorityFeePerGas": 10**8}  # fmt: skip
    from eth_utils import to_checksum_address

    tx["to"] = to_checksum_address(tx["to"])
    raw, tx_hash = signer.sign_transaction(tx)
    assert Account.recover_transaction(raw).lower() == signer.address
    assert tx_hash.startswith("0x") and len(tx_hash) == 66


def test_fast_signing_is_byte_identical_to_eth_account(tmp_path):
    import os

    from eth_utils import to_checksum_address

    key = os.urandom(32)
    signer = load_signer(write_keystore(tmp_path, PASSWORD, key, scrypt_n=N).path, PASSWORD)
    account = Account.from_key(key)
    for nonce, data, value in ((0, b"", 0), (7, b"\x00" * 190, 1), (2**40, os.urandom(333), 10**18)):
        tx = {"type": 2, "chainId": 42161, "nonce": nonce, "to": to_checksum_address("0x" + os.urandom(20).hex()),
              "value": value, "data": data, "gas": 1_234_567, "maxFeePerGas": 3 * 10**9 + 17,
              "maxPriorityFeePerGas": 10**8 + 3}  # fmt: skip
        raw, tx_hash = signer.sign_transaction(tx)
        reference = account.sign_transaction(tx)
        assert raw == bytes(reference.raw_transaction)
        assert tx_hash == "0x" + bytes(reference.hash).hex()
        assert Account.recover_transaction(raw) == account.address
