"""Ed25519 keys for ride and ticket codes: the issuer's key store, gate bundles, device keys.

The issuer keeps three live keys: ``current`` signs, ``next`` is already published so gates
trust it before it signs anything, ``previous`` is still trusted so codes signed before the
last rotation stay valid. ``rotate()`` moves next → current → previous → retired and makes a
new next. Private keys live one per file (PKCS#8 PEM, mode 0600) in a directory of mode 0700;
``keys.json`` there lists every key id, state and public key. Retired keys lose their private
file; their public entry stays for the record. Layout and rules: docs/ride-codes.md.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from open12306.travel.ports import DeviceError

LOCK_NAME = ".lock"
INDEX_NAME = "keys.json"
STORE_FORMAT = "open12306-issuer-keystore"
BUNDLE_FORMAT = "open12306-issuer-keys"
FORMAT_VERSION = 1
MAX_KEY_ID = 0xFFFF
DIR_MODE = 0o700
FILE_MODE = 0o600


class KeyState(StrEnum):
    """Where a key is in its rotation."""

    PREVIOUS = "previous"
    CURRENT = "current"
    NEXT = "next"
    RETIRED = "retired"


TRUSTED_STATES = frozenset({KeyState.PREVIOUS, KeyState.CURRENT, KeyState.NEXT})


class KeyStoreError(DeviceError):
    """The key store or a key bundle is missing, malformed or unsafely stored."""


@dataclass(frozen=True, slots=True)
class PublicKeyEntry:
    """One issuer key as a gate sees it."""

    key_id: int
    state: KeyState
    public_key: bytes


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise KeyStoreError(f"{what}: expected a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise KeyStoreError(f"{what}: {error}") from None


def _write_private(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600 from the start; never overwrite an existing key."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace_atomically(path: Path, data: bytes) -> None:
    temp = path.with_name(path.name + ".tmp")
    temp.unlink(missing_ok=True)
    _write_private(temp, data)
    os.replace(temp, path)


class IssuerSigner:
    """Signs with one issuer key; ``key_id`` is what goes into the codes it signs."""

    def __init__(self, key_id: int, private_key: Ed25519PrivateKey) -> None:
        self.key_id = key_id
        self._key = private_key

    @property
    def public_key(self) -> bytes:
        return _raw_public(self._key.public_key())

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


class IssuerKeyStore:
    """Issuer keys on disk with previous/current/next rotation.

    Rotations are serialised by a lock file and always start from the index on disk, so several
    processes may share a store; call ``reload()`` to see another process's rotation.
    """

    def __init__(self, directory: Path, entries: list[PublicKeyEntry]) -> None:
        self.directory = directory
        self._entries = entries

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def create(cls, directory: Path | str) -> IssuerKeyStore:
        """Make a new store with a current and a next key; the directory must be new or empty."""
        store = cls._prepared(Path(directory))
        with store._locked():
            store._fill()
        return store

    @classmethod
    def _prepared(cls, path: Path) -> IssuerKeyStore:
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        os.chmod(path, DIR_MODE)
        return cls(path, [])

    def _fill(self) -> None:
        """Generate the first keys (under the lock) in an empty store directory."""
        if any(p.name != LOCK_NAME for p in self.directory.iterdir()):
            raise KeyStoreError(f"{self.directory} is not empty")
        entries = [self._generate(1, KeyState.CURRENT), self._generate(2, KeyState.NEXT)]
        self._save_index(entries)

    @classmethod
    def open(cls, directory: Path | str) -> IssuerKeyStore:
        """Open an existing store; refuses one whose directory or key files others can read."""
        path = Path(directory)
        index = path / INDEX_NAME
        if not index.is_file():
            raise KeyStoreError(f"no key store at {path}")
        _require_mode(path, DIR_MODE)
        store = cls(path, [])
        store.reload()
        for entry in store._entries:
            if entry.state in TRUSTED_STATES:
                _require_mode(store._private_path(entry.key_id), FILE_MODE)
        return store

    @classmethod
    def open_or_create(cls, directory: Path | str) -> IssuerKeyStore:
        """Open the store, creating it first if there is none. Safe when several processes
        start on a new directory at once: the first creates it under the store's lock, the
        others then open what it made."""
        path = Path(directory)
        if (path / INDEX_NAME).exists():
            return cls.open(path)
        store = cls._prepared(path)
        with store._locked():
            if not (path / INDEX_NAME).exists():
                store._fill()
        return cls.open(path)

    # -- reading -----------------------------------------------------------------------------

    def reload(self) -> None:
        """Re-read ``keys.json`` (another process may have rotated)."""
        self._entries = self._read_index()

    def entries(self) -> list[PublicKeyEntry]:
        """Every key the store has known, retired ones included, by id."""
        return list(self._entries)

    def key_id(self, state: KeyState) -> int:
        """The id of the (single) key in a live state."""
        for entry in self._entries:
            if entry.state is state:
                return entry.key_id
        raise KeyStoreError(f"no {state} key")

    def signer(self) -> IssuerSigner:
        """The signer for the current key."""
        key_id = self.key_id(KeyState.CURRENT)
        return IssuerSigner(key_id, self._load_private(key_id))

    def public_bundle(self) -> bytes:
        """JSON with the trusted public keys and their states: what a gate holds."""
        keys = [e for e in self._entries if e.state in TRUSTED_STATES]
        return _dump(BUNDLE_FORMAT, keys)

    def verifier(self) -> BundleVerifier:
        return BundleVerifier.from_bundle(self.public_bundle())

    # -- rotating ----------------------------------------------------------------------------

    def rotate(self) -> PublicKeyEntry:
        """next → current → previous → retired, and a new next. Returns the new current key."""
        with self._locked():
            entries = self._read_index()
            new_id = self._free_id(entries)
            moves = {
                KeyState.PREVIOUS: KeyState.RETIRED,
                KeyState.CURRENT: KeyState.PREVIOUS,
                KeyState.NEXT: KeyState.CURRENT,
            }
            retiring = [e.key_id for e in entries if e.state is KeyState.PREVIOUS]
            moved = [
                PublicKeyEntry(e.key_id, moves.get(e.state, e.state), e.public_key) for e in entries
            ]
            moved.append(self._generate(new_id, KeyState.NEXT))
            self._save_index(moved)
            for key_id in retiring:
                self._private_path(key_id).unlink(missing_ok=True)
        current = self.key_id(KeyState.CURRENT)
        return next(e for e in self._entries if e.key_id == current)

    # -- internals ---------------------------------------------------------------------------

    def _private_path(self, key_id: int) -> Path:
        return self.directory / f"issuer-{key_id:05d}.pem"

    def _free_id(self, entries: list[PublicKeyEntry]) -> int:
        """One past every id in the index or on disk (a crash may leave an unlisted file)."""
        used = [e.key_id for e in entries]
        used += [int(p.stem.split("-")[1]) for p in self.directory.glob("issuer-[0-9]*.pem")]
        new_id = max(used, default=0) + 1
        if new_id > MAX_KEY_ID:
            raise KeyStoreError("key ids are exhausted (the code format has 16 bits)")
        return new_id

    def _generate(self, key_id: int, state: KeyState) -> PublicKeyEntry:
        """A new key: its private file is written before any index names it."""
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_private(self._private_path(key_id), pem)
        return PublicKeyEntry(key_id, state, _raw_public(key.public_key()))

    def _load_private(self, key_id: int) -> Ed25519PrivateKey:
        path = self._private_path(key_id)
        _require_mode(path, FILE_MODE)
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyStoreError(f"{path} is not an Ed25519 key")
        return key

    def _read_index(self) -> list[PublicKeyEntry]:
        return _parse_entries((self.directory / INDEX_NAME).read_bytes(), STORE_FORMAT)

    def _save_index(self, entries: list[PublicKeyEntry]) -> None:
        _replace_atomically(self.directory / INDEX_NAME, _dump(STORE_FORMAT, entries))
        self._entries = entries

    @contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self.directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def _require_mode(path: Path, mode: int) -> None:
    try:
        actual = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        raise KeyStoreError(f"{path} is missing") from None
    if actual & ~mode & 0o077:
        raise KeyStoreError(f"{path} has mode {actual:o}; expected {mode:o}")


def _dump(fmt: str, entries: list[PublicKeyEntry]) -> bytes:
    document = {
        "format": fmt,
        "version": FORMAT_VERSION,
        "algorithm": "Ed25519",
        "keys": [
            {"id": e.key_id, "state": str(e.state), "public_key": _b64(e.public_key)}
            for e in sorted(entries, key=lambda e: e.key_id)
        ],
    }
    return json.dumps(document, indent=1, sort_keys=True).encode("utf-8") + b"\n"


def _parse_entries(data: bytes, fmt: str) -> list[PublicKeyEntry]:
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise KeyStoreError(f"not JSON: {error}") from None
    if not isinstance(document, dict):
        raise KeyStoreError("expected a JSON object")
    if (document.get("format"), document.get("version"), document.get("algorithm")) != (
        fmt,
        FORMAT_VERSION,
        "Ed25519",
    ):
        raise KeyStoreError(f"expected format {fmt} version {FORMAT_VERSION} (Ed25519)")
    keys = document.get("keys")
    if not isinstance(keys, list):
        raise KeyStoreError("keys: expected a list")
    entries = [_parse_entry(item) for item in keys]
    ids = [e.key_id for e in entries]
    if len(set(ids)) != len(ids):
        raise KeyStoreError("a key id appears twice")
    for state in TRUSTED_STATES:
        if sum(e.state is state for e in entries) > 1:
            raise KeyStoreError(f"more than one {state} key")
    return entries


def _parse_entry(item: object) -> PublicKeyEntry:
    if not isinstance(item, dict):
        raise KeyStoreError("a key entry must be an object")
    key_id = item.get("id")
    if isinstance(key_id, bool) or not isinstance(key_id, int) or not 0 <= key_id <= MAX_KEY_ID:
        raise KeyStoreError(f"key id {key_id!r} is not in 0..{MAX_KEY_ID}")
    raw_state = item.get("state")
    if not isinstance(raw_state, str) or raw_state not in {s.value for s in KeyState}:
        raise KeyStoreError(f"key {key_id}: unknown state {raw_state!r}")
    state = KeyState(raw_state)
    public_key = _unb64(item.get("public_key"), f"key {key_id}")
    if len(public_key) != 32:
        raise KeyStoreError(f"key {key_id}: an Ed25519 public key has 32 bytes")
    return PublicKeyEntry(key_id, state, public_key)


def _load_public(entry: PublicKeyEntry) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(entry.public_key)
    except ValueError as error:
        raise KeyStoreError(f"key {entry.key_id}: {error}") from None


class BundleVerifier:
    """Verifies issuer signatures against a public bundle (the ``Verifier`` port).

    Trusts keys in state previous, current or next; a retired or unknown key id never verifies.
    """

    def __init__(self, entries: list[PublicKeyEntry]) -> None:
        self._states = {e.key_id: e.state for e in entries}
        self._keys = {e.key_id: _load_public(e) for e in entries if e.state in TRUSTED_STATES}

    @classmethod
    def from_bundle(cls, bundle: bytes) -> BundleVerifier:
        return cls(_parse_entries(bundle, BUNDLE_FORMAT))

    def state_of(self, key_id: int) -> KeyState | None:
        return self._states.get(key_id)

    def verify(self, key_id: int, message: bytes, signature: bytes) -> bool:
        key = self._keys.get(key_id)
        if key is None:
            return False
        try:
            key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


class DeviceKey:
    """A wallet's Ed25519 key: its public half goes into the ride credential."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key

    @classmethod
    def generate(cls) -> DeviceKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, raw: bytes) -> DeviceKey:
        """From the 32-byte Ed25519 seed."""
        if len(raw) != 32:
            raise KeyStoreError("an Ed25519 private key seed has 32 bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(raw))

    @classmethod
    def load(cls, path: Path | str) -> DeviceKey:
        _require_mode(Path(path), FILE_MODE)
        return cls.from_private_bytes(Path(path).read_bytes())

    def save(self, path: Path | str) -> None:
        """Write the seed to a new file with mode 0600."""
        _write_private(Path(path), self.private_bytes())

    def private_bytes(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )

    @property
    def public_key(self) -> bytes:
        return _raw_public(self._key.public_key())

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


class Ed25519DeviceVerifier:
    """Verifies device signatures against the raw public key in a credential."""

    def verify_device(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        if len(public_key) != 32:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True
