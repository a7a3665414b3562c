"""Keyed hashes of travel documents (the DocumentKeyer port) and the secret behind them.

A document is indexed by HMAC-SHA256(secret, "<kind>:<normalised number>") rather than by its
number, so uniqueness checks and lookups do not need numbers in clear (the number column can
later be encrypted at rest) and a leaked index alone does not give numbers away: resident ID
numbers have little entropy, so an unkeyed hash would be brute-forced in minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from open12306.domain.identity import Document, normalize_number

SECRET_BYTES = 32


@dataclass(frozen=True)
class HmacDocumentKeyer:
    """Implements ``services.ports_accounts.DocumentKeyer``."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) < 16:
            raise ValueError("the document key secret must be at least 16 bytes")

    def key(self, document: Document) -> str:
        message = f"{document.kind.value}:{normalize_number(document.number)}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()


def load_or_create_secret(path: Path) -> bytes:
    """The secret stored at ``path`` (hex), created with mode 0600 on first use.

    Losing or changing it makes saved passengers unfindable by document, so back it up with
    the database.
    """
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(SECRET_BYTES)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret.hex() + "\n")
    try:
        os.link(draft, path)  # atomic, and refuses to replace a secret made meanwhile
    except FileExistsError:
        return _read(path)
    finally:
        draft.unlink()
    return secret


def _read(path: Path) -> bytes:
    secret = bytes.fromhex(path.read_text(encoding="ascii").strip())
    if len(secret) < 16:
        raise ValueError(f"{path}: the secret is shorter than 16 bytes")
    return secret
