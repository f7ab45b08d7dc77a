"""An encrypted file of venue credentials, so API secrets never sit in plain text on disk.

The file is JSON: a clear header (format, KDF and its parameters, cipher, nonce) and the entries
encrypted together with AES-256-GCM, the header bound in as associated data so a changed parameter
is detected. The key comes from a passphrase through scrypt (salt and cost stored in the header) or
is a raw 32-byte key from an environment variable (``TAPELINE_KEYSTORE_KEY``, base64 or hex).
Secrets are ``SecretStr`` in memory, so reprs and logs show ``**********``. Every write goes to a
temporary file that is fsynced and renamed over the old one, with mode 0600.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

FORMAT = "tapeline-keystore"
VERSION = 1
KEY_ENV = "TAPELINE_KEYSTORE_KEY"
DEFAULT_SCRYPT_N = 2**15


class KeystoreError(Exception):
    """Base of keystore errors. Messages never contain a secret or the passphrase."""


class WrongKey(KeystoreError):
    """The passphrase or key does not open this file (or the file was altered)."""


class CorruptKeystore(KeystoreError):
    """The file is not a readable keystore."""


class EntryNotFound(KeystoreError, KeyError):
    pass


class EntryExists(KeystoreError):
    pass


class Credentials(BaseModel):
    """One venue account's credentials."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    venue: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    account: str = Field(min_length=1, max_length=64)
    api_key: SecretStr | None = None
    secret: SecretStr | None = None
    passphrase: SecretStr | None = None
    account_address: str | None = None
    extra: dict[str, str] = Field(default_factory=dict)

    def plain(self) -> dict[str, Any]:
        """The entry with secrets revealed: for the encrypted payload only."""
        data = self.model_dump()
        for name in ("api_key", "secret", "passphrase"):
            value = getattr(self, name)
            data[name] = value.get_secret_value() if value is not None else None
        return data


class EntrySummary(BaseModel):
    """What ``list`` shows: which secrets are set, never their values."""

    model_config = ConfigDict(frozen=True)

    venue: str
    account: str
    account_address: str | None
    has_api_key: bool
    has_secret: bool
    has_passphrase: bool
    extra_keys: list[str]


class KeySource:
    """Where the file key comes from: a passphrase (scrypt) or a raw key."""

    def __init__(
        self,
        *,
        passphrase: SecretStr | str | None = None,
        raw_key: bytes | None = None,
        scrypt_n: int = DEFAULT_SCRYPT_N,
    ) -> None:
        if (passphrase is None) == (raw_key is None):
            raise ValueError("give exactly one of a passphrase or a raw key")
        if raw_key is not None and len(raw_key) != 32:
            raise ValueError("a raw keystore key must be 32 bytes")
        if isinstance(passphrase, str):
            passphrase = SecretStr(passphrase)
        self._passphrase = passphrase
        self._raw_key = raw_key
        self.scrypt_n = scrypt_n
        self._derived: dict[str, bytes] = {}  # scrypt is slow on purpose: derive once per salt

    def __repr__(self) -> str:
        return f"KeySource(kind={'scrypt' if self._passphrase else 'raw'!r})"

    @classmethod
    def from_env(cls, var: str = KEY_ENV) -> KeySource:
        value = os.environ.get(var)
        if not value:
            raise KeystoreError(f"environment variable {var} is not set")
        for decode in (bytes.fromhex, base64.b64decode, base64.urlsafe_b64decode):
            with contextlib.suppress(ValueError, binascii.Error):
                raw = decode(value.strip())
                if len(raw) == 32:
                    return cls(raw_key=raw)
        raise KeystoreError(f"{var} must hold a 32-byte key in hex or base64")

    def new_kdf(self) -> dict[str, Any]:
        if self._passphrase is None:
            return {"name": "raw"}
        salt = base64.b64encode(secrets.token_bytes(16)).decode()
        return {"name": "scrypt", "salt": salt, "n": self.scrypt_n, "r": 8, "p": 1}

    def derive(self, kdf: dict[str, Any]) -> bytes:
        if kdf.get("name") == "raw":
            if self._raw_key is None:
                raise WrongKey("this keystore is opened with a raw key, not a passphrase")
            return self._raw_key
        if kdf.get("name") != "scrypt":
            raise CorruptKeystore("unknown key derivation in the keystore header")
        if self._passphrase is None:
            raise WrongKey("this keystore is opened with a passphrase, not a raw key")
        cache_key = json.dumps(kdf, sort_keys=True)
        if cache_key in self._derived:
            return self._derived[cache_key]
        try:
            salt = base64.b64decode(kdf["salt"], validate=True)
            scrypt = Scrypt(salt=salt, length=32, n=int(kdf["n"]), r=int(kdf["r"]), p=int(kdf["p"]))
        except (KeyError, ValueError, TypeError, binascii.Error):
            raise CorruptKeystore("bad scrypt parameters in the keystore header") from None
        key = scrypt.derive(self._passphrase.get_secret_value().encode())
        self._derived[cache_key] = key
        return key


def _header_aad(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode()


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class Keystore:
    """The credentials file at ``path``, opened with ``key``."""

    def __init__(self, path: Path | str, key: KeySource) -> None:
        self.path = Path(path)
        self._key = key

    def __repr__(self) -> str:
        return f"Keystore(path={str(self.path)!r})"

    def exists(self) -> bool:
        return self.path.exists()

    def create(self) -> None:
        """An empty keystore; refuses to overwrite an existing file."""
        if self.path.exists():
            raise KeystoreError(f"{self.path} already exists")
        self._save([], self._key, self._key.new_kdf())

    # ------------------------------------------------------------------ reading / writing

    def _read_header(self) -> tuple[dict[str, Any], bytes, bytes]:
        try:
            document = json.loads(self.path.read_bytes())
            header = {k: document[k] for k in ("format", "version", "kdf", "cipher")}
            nonce = base64.b64decode(document["nonce"], validate=True)
            ciphertext = base64.b64decode(document["ciphertext"], validate=True)
        except FileNotFoundError:
            raise KeystoreError(f"no keystore at {self.path}") from None
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise CorruptKeystore(f"{self.path} is not a readable keystore") from None
        if header["format"] != FORMAT or header["version"] != VERSION:
            raise CorruptKeystore(f"{self.path} is not a version {VERSION} tapeline keystore")
        if header["cipher"] != "AES-256-GCM" or not isinstance(header["kdf"], dict):
            raise CorruptKeystore(f"{self.path} names an unknown cipher or key derivation")
        return header, nonce, ciphertext

    def _load(self) -> tuple[list[Credentials], dict[str, Any]]:
        header, nonce, ciphertext = self._read_header()
        key = self._key.derive(header["kdf"])
        try:
            plaintext = AESGCM(key).decrypt(nonce, ciphertext, _header_aad(header))
        except InvalidTag:
            raise WrongKey("wrong passphrase or key, or the keystore file was altered") from None
        try:
            entries = [Credentials.model_validate(e) for e in json.loads(plaintext)["entries"]]
        except (ValueError, KeyError, TypeError, ValidationError):
            raise CorruptKeystore("the keystore decrypted but its contents are invalid") from None
        return entries, header["kdf"]

    def _save(self, entries: list[Credentials], key: KeySource, kdf: dict[str, Any]) -> None:
        header = {"format": FORMAT, "version": VERSION, "kdf": kdf, "cipher": "AES-256-GCM"}
        nonce = secrets.token_bytes(12)
        payload = json.dumps({"entries": [e.plain() for e in entries]}).encode()
        ciphertext = AESGCM(key.derive(kdf)).encrypt(nonce, payload, _header_aad(header))
        document = {
            **header,
            "nonce": base64.b64encode(nonce).decode(),
            "ciphertext": base64.b64encode(ciphertext).decode(),
        }
        _atomic_write(self.path, json.dumps(document, indent=2).encode())

    def _update(self, change: Callable[[list[Credentials]], list[Credentials]]) -> None:
        if not self.path.exists():
            self.create()
        entries, kdf = self._load()
        self._save(change(entries), self._key, kdf)

    # ------------------------------------------------------------------ operations

    def get(self, venue: str, account: str) -> Credentials:
        entries, _ = self._load()
        for entry in entries:
            if (entry.venue, entry.account) == (venue, account):
                return entry
        raise EntryNotFound(f"no credentials for {venue}/{account}")

    def list(self) -> list[EntrySummary]:
        entries, _ = self._load()
        return [
            EntrySummary(
                venue=e.venue,
                account=e.account,
                account_address=e.account_address,
                has_api_key=e.api_key is not None,
                has_secret=e.secret is not None,
                has_passphrase=e.passphrase is not None,
                extra_keys=sorted(e.extra),
            )
            for e in entries
        ]

    def add(self, credentials: Credentials, *, replace: bool = False) -> None:
        def change(entries: list[Credentials]) -> list[Credentials]:
            same = [e for e in entries if (e.venue, e.account) == _id(credentials)]
            if same and not replace:
                raise EntryExists(f"{credentials.venue}/{credentials.account} already exists")
            return [e for e in entries if e not in same] + [credentials]

        self._update(change)

    def rotate(self, venue: str, account: str, **new: Any) -> Credentials:
        """Replace some of an entry's fields (``secret=...``, ``api_key=...``, ...)."""
        rotated: list[Credentials] = []

        def change(entries: list[Credentials]) -> list[Credentials]:
            out = []
            for entry in entries:
                if (entry.venue, entry.account) == (venue, account):
                    entry = Credentials.model_validate({**entry.plain(), **_plain(new)})
                    rotated.append(entry)
                out.append(entry)
            if not rotated:
                raise EntryNotFound(f"no credentials for {venue}/{account}")
            return out

        self._update(change)
        return rotated[0]

    def remove(self, venue: str, account: str) -> None:
        def change(entries: list[Credentials]) -> list[Credentials]:
            kept = [e for e in entries if (e.venue, e.account) != (venue, account)]
            if len(kept) == len(entries):
                raise EntryNotFound(f"no credentials for {venue}/{account}")
            return kept

        self._update(change)

    def change_key(self, new_key: KeySource) -> None:
        """Re-encrypt the whole file under a new passphrase or key (fresh salt and nonce)."""
        entries, _ = self._load()
        self._save(entries, new_key, new_key.new_kdf())
        self._key = new_key


def _id(credentials: Credentials) -> tuple[str, str]:
    return credentials.venue, credentials.account


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in values.items()}
