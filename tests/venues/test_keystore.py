"""The encrypted credentials keystore: round trip, wrong key, corruption, rotate, remove, and
secrets kept out of reprs and out of the file's plaintext."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from venues.keystore import (
    KEY_ENV,
    CorruptKeystore,
    Credentials,
    EntryExists,
    EntryNotFound,
    KeySource,
    Keystore,
    KeystoreError,
    WrongKey,
)

FAST = 2**12  # scrypt cost for tests; the default is 2**15

SECRET = "s3cr3t-value-that-must-not-leak"
PASS = "hunter2-passphrase"


def binance(secret: str = SECRET) -> Credentials:
    return Credentials(
        venue="binance",
        account="main",
        api_key=SecretStr("api-key-value-0001"),
        secret=SecretStr(secret),
    )


def hyperliquid() -> Credentials:
    return Credentials(
        venue="hyperliquid",
        account="perps",
        secret=SecretStr("0x" + "ab" * 32),
        account_address="0x" + "12" * 20,
        extra={"network": "testnet"},
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "keystore.json"


@pytest.fixture
def store(path: Path) -> Keystore:
    keystore = Keystore(path, KeySource(passphrase=PASS, scrypt_n=FAST))
    keystore.add(binance())
    keystore.add(hyperliquid())
    return keystore


def test_round_trip(store: Keystore, path: Path) -> None:
    reopened = Keystore(path, KeySource(passphrase=PASS))
    entry = reopened.get("binance", "main")
    assert entry.secret is not None and entry.secret.get_secret_value() == SECRET
    assert entry.api_key is not None and entry.api_key.get_secret_value() == "api-key-value-0001"
    hl = reopened.get("hyperliquid", "perps")
    assert hl.account_address == "0x" + "12" * 20 and hl.extra == {"network": "testnet"}
    assert [(e.venue, e.account) for e in reopened.list()] == [
        ("binance", "main"),
        ("hyperliquid", "perps"),
    ]


def test_file_is_private_and_holds_no_plaintext(store: Keystore, path: Path) -> None:
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = path.read_bytes()
    for needle in (SECRET, "api-key-value-0001", "ab" * 32, PASS, "binance", "perps"):
        assert needle.encode() not in raw
    header = json.loads(raw)
    assert header["kdf"]["name"] == "scrypt" and header["cipher"] == "AES-256-GCM"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left


def test_secrets_absent_from_repr_and_str(store: Keystore) -> None:
    entry = store.get("binance", "main")
    key = KeySource(passphrase=PASS)
    for text in (repr(entry), str(entry), repr(store.list()), repr(key), repr(store)):
        assert SECRET not in text and "api-key-value-0001" not in text and PASS not in text
    assert "**********" in repr(entry)


def test_wrong_passphrase(store: Keystore, path: Path) -> None:
    with pytest.raises(WrongKey) as wrong:
        Keystore(path, KeySource(passphrase="not-it")).list()
    assert "not-it" not in str(wrong.value)
    with pytest.raises(WrongKey):
        Keystore(path, KeySource(raw_key=b"\0" * 32)).list()


def test_corrupted_file(store: Keystore, path: Path) -> None:
    document = json.loads(path.read_bytes())
    blob = bytearray(base64.b64decode(document["ciphertext"]))
    blob[5] ^= 0x01
    document["ciphertext"] = base64.b64encode(bytes(blob)).decode()
    path.write_text(json.dumps(document))
    with pytest.raises(WrongKey, match="altered"):
        store.list()
    path.write_text("{not json")
    with pytest.raises(CorruptKeystore):
        store.list()
    path.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(CorruptKeystore):
        store.list()


def test_tampered_kdf_parameters_are_detected(store: Keystore, path: Path) -> None:
    document = json.loads(path.read_bytes())
    document["kdf"]["n"] = FAST * 2
    path.write_text(json.dumps(document))
    with pytest.raises(KeystoreError):
        Keystore(path, KeySource(passphrase=PASS)).list()


def test_add_refuses_duplicates_unless_replacing(store: Keystore) -> None:
    with pytest.raises(EntryExists):
        store.add(binance("other"))
    store.add(binance("other"), replace=True)
    assert store.get("binance", "main").secret == SecretStr("other")
    assert len(store.list()) == 2


def test_rotate_secret_and_passphrase(store: Keystore, path: Path) -> None:
    store.rotate("binance", "main", secret=SecretStr("rotated-secret"))
    entry = store.get("binance", "main")
    assert entry.secret == SecretStr("rotated-secret")
    assert entry.api_key == SecretStr("api-key-value-0001")  # untouched fields stay
    salt_before = json.loads(path.read_bytes())["kdf"]["salt"]
    store.change_key(KeySource(passphrase="new-passphrase", scrypt_n=FAST))
    assert json.loads(path.read_bytes())["kdf"]["salt"] != salt_before
    with pytest.raises(WrongKey):
        Keystore(path, KeySource(passphrase=PASS)).list()
    reopened = Keystore(path, KeySource(passphrase="new-passphrase"))
    assert reopened.get("binance", "main").secret == SecretStr("rotated-secret")
    with pytest.raises(EntryNotFound):
        store.rotate("kraken", "main", secret="x")


def test_remove(store: Keystore) -> None:
    store.remove("binance", "main")
    assert [e.venue for e in store.list()] == ["hyperliquid"]
    with pytest.raises(EntryNotFound):
        store.get("binance", "main")
    with pytest.raises(EntryNotFound):
        store.remove("binance", "main")


def test_raw_key_from_environment(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = os.urandom(32)
    monkeypatch.setenv(KEY_ENV, base64.b64encode(raw).decode())
    store = Keystore(path, KeySource.from_env())
    store.add(binance())
    assert json.loads(path.read_bytes())["kdf"] == {"name": "raw"}
    monkeypatch.setenv(KEY_ENV, raw.hex())
    assert Keystore(path, KeySource.from_env()).get("binance", "main").secret == SecretStr(SECRET)
    with pytest.raises(WrongKey):
        Keystore(path, KeySource(passphrase=PASS)).list()
    monkeypatch.setenv(KEY_ENV, "too-short")
    with pytest.raises(KeystoreError, match="32-byte"):
        KeySource.from_env()


def test_create_refuses_to_overwrite(store: Keystore) -> None:
    with pytest.raises(KeystoreError, match="exists"):
        store.create()
