"""Travel documents at rest: the cipher that seals document numbers, and the key files behind
it and the keyed hash (``accounts.adapters.document_keyer``).

The numbers are stored sealed with AES-256-GCM (``DocumentCipher``) under a second
key of their own, so the hash secret and the encryption key can be kept and rotated apart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SECRET_BYTES = 32
CIPHER_KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # 96 bits, random for every sealed value
SEALED_FORMAT = "enc1"  # the layout below; a new layout gets a new name
_KEY_ID_LABEL = b"open12306 document cipher key id\x00"
MEMO_SIZE = 8192  # sealed values remembered (a few MiB at most)


class SealedValueError(ValueError):
    """A sealed value that cannot be opened: malformed, tampered with, moved to another row,
    or sealed under a key this cipher does not hold."""


def key_id(key: bytes) -> str:
    """Eight hex digits naming a cipher key (a hash of it), written into each sealed value so
    a value finds its key after the key is rotated."""
    return hashlib.sha256(_KEY_ID_LABEL + key).hexdigest()[:8]


class _Memo:
    """A bounded map (oldest entry dropped first); reads take no lock."""

    def __init__(self, size: int) -> None:
        # Ordered: dropping the oldest of a plain dict (``next(iter(d))``) walks past the
        # slots of every entry dropped before it, which grows with the memo's turnover.
        self._items: OrderedDict[tuple[str, bytes], str] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[str, bytes]) -> str | None:
        return self._items.get(key)

    def put(self, key: tuple[str, bytes], value: str) -> None:
        with self._lock:
            if len(self._items) >= self._size:
                self._items.popitem(last=False)
            self._items[key] = value


@dataclass(frozen=True)
class DocumentCipher:
    """Seals and opens document numbers: ``enc1.<key id>.<base64url(nonce | ciphertext | tag)>``.

    AES-256-GCM with a random 96-bit nonce per value. The ``purpose`` (what the value is and
    which row it belongs to) is authenticated with the value's header as associated data, so
    a sealed value copied into another row or field does not open. ``keys[0]`` seals; every
    key opens what it sealed (older keys stay listed after a rotation).

    Recent values are remembered both ways, so a row read and written back unchanged (an
    order through the allocator) costs no cipher work, and sealing the same number for the
    same purpose again gives the value already stored rather than a new one.
    """

    keys: tuple[bytes, ...] = field(repr=False)
    _aead: dict[str, AESGCM] = field(init=False, repr=False, compare=False)
    _sealed: _Memo = field(init=False, repr=False, compare=False)
    _opened: _Memo = field(init=False, repr=False, compare=False)
    current_id: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("a document cipher needs at least one key")
        if any(len(k) != CIPHER_KEY_BYTES for k in self.keys):
            raise ValueError(f"document cipher keys are {CIPHER_KEY_BYTES} bytes")
        object.__setattr__(self, "_aead", {key_id(k): AESGCM(k) for k in self.keys})
        object.__setattr__(self, "current_id", key_id(self.keys[0]))
        object.__setattr__(self, "_sealed", _Memo(MEMO_SIZE))
        object.__setattr__(self, "_opened", _Memo(MEMO_SIZE))

    def seal(self, plain: str, purpose: bytes) -> str:
        known = self._sealed.get((plain, purpose))
        if known is not None:
            return known
        value = self._seal(plain, purpose)
        self._remember(plain, purpose, value)
        return value

    def open(self, value: str, purpose: bytes) -> str:
        known = self._opened.get((value, purpose))
        if known is not None:
            return known
        plain = self._open(value, purpose)
        self._remember(plain, purpose, value)
        return plain

    def _remember(self, plain: str, purpose: bytes, value: str) -> None:
        if value.split(".", 2)[1] == self.current_id:  # values of older keys get resealed
            self._sealed.put((plain, purpose), value)
        self._opened.put((value, purpose), plain)

    def _seal(self, plain: str, purpose: bytes) -> str:
        header = f"{SEALED_FORMAT}.{self.current_id}."
        nonce = os.urandom(NONCE_BYTES)
        aad = header.encode() + purpose
        sealed = self._aead[self.current_id].encrypt(nonce, plain.encode(), aad)
        return header + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def _open(self, value: str, purpose: bytes) -> str:
        form, kid, body = _split(value)
        aead = self._aead.get(kid)
        if aead is None:
            raise SealedValueError(f"sealed under key {kid}, which the key file does not hold")
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            aad = f"{form}.{kid}.".encode() + purpose
            plain = aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad)
        except (binascii.Error, InvalidTag, ValueError):
            raise SealedValueError("the sealed value does not open (altered or moved)") from None
        return plain.decode()


def is_sealed(value: str) -> bool:
    """Whether ``value`` is a sealed value (document numbers never hold a dot)."""
    return value.startswith(SEALED_FORMAT + ".")


def _split(value: str) -> tuple[str, str, str]:
    parts = value.split(".")
    if len(parts) != 3 or parts[0] != SEALED_FORMAT:
        raise SealedValueError("not a sealed value")
    return parts[0], parts[1], parts[2]


def load_or_create_secret(path: Path) -> bytes:
    """The secret stored at ``path`` (hex), created with mode 0600 on first use.

    Losing or changing it makes saved passengers unfindable by document, so back it up with
    the database.
    """
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    secret = secrets.token_bytes(SECRET_BYTES)
    if create_once(path, secret.hex() + "\n"):
        return secret
    return _read(path)


def load_or_create_cipher(path: Path) -> DocumentCipher:
    """The document cipher whose keys are stored at ``path``, created 0600 on first use.

    One key per line in hex, the first sealing and all of them opening (to rotate, put a new
    key on the first line and keep the old ones below it). Losing the file loses every stored
    document number, so back it up with the database, apart from the backups themselves.
    """
    try:
        return DocumentCipher(_read_keys(path))
    except FileNotFoundError:
        pass
    create_once(path, secrets.token_bytes(CIPHER_KEY_BYTES).hex() + "\n")
    return DocumentCipher(_read_keys(path))


def create_once(path: Path, text: str) -> bool:
    """Write ``text`` to a new file at ``path`` (0600), whole or not at all; False when another
    writer (thread or process) made the file meanwhile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
    try:
        os.link(draft, path)  # atomic, and refuses to replace a key made meanwhile
    except FileExistsError:
        return False
    finally:
        draft.unlink()
    return True


def _read(path: Path) -> bytes:
    secret = bytes.fromhex(path.read_text(encoding="ascii").strip())
    if len(secret) < 16:
        raise ValueError(f"{path}: the secret is shorter than 16 bytes")
    return secret


def _read_keys(path: Path) -> tuple[bytes, ...]:
    lines = [line.strip() for line in path.read_text(encoding="ascii").splitlines()]
    try:
        keys = tuple(bytes.fromhex(line) for line in lines if line)
    except ValueError:
        raise ValueError(f"{path}: expected one hex key per line") from None
    if not keys or any(len(k) != CIPHER_KEY_BYTES for k in keys):
        raise ValueError(f"{path}: each key must be {2 * CIPHER_KEY_BYTES} hex digits")
    return keys
