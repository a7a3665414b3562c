"""The issuer key store as the services see it: opened on first use, re-read on every signing
so a rotation made by ``open12306 keys rotate`` in another process is picked up at once."""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from pathlib import Path

from open12306.travel.adapters.keys import IssuerKeyStore, IssuerSigner

KEY_DIR_ENV = "OPEN12306_KEY_DIR"
DEFAULT_KEY_DIR = Path("var/keys")
_TOKEN_LABEL = b"open12306 ride and ticket tokens"


def key_dir_from_env() -> Path:
    """``OPEN12306_KEY_DIR``, else ``var/keys`` (the CLI's default too)."""
    return Path(os.environ.get(KEY_DIR_ENV) or DEFAULT_KEY_DIR)


class IssuerKeysOnDemand:
    """Implements ``travel.services.ticket_codes.IssuerSigning`` over a key store directory,
    creating the store (mode 0700, keys 0600) the first time a code is signed."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self._store: IssuerKeyStore | None = None
        self._lock = threading.Lock()

    def store(self) -> IssuerKeyStore:
        with self._lock:
            if self._store is None:
                self._store = IssuerKeyStore.open_or_create(self.directory)
            else:
                self._store.reload()
            return self._store

    def signer(self) -> IssuerSigner:
        return self.store().signer()


def token_secret(master: bytes) -> bytes:
    """The secret behind passenger and account tokens, derived from a master secret (the
    document key secret) so that the two hashes cannot be compared with each other."""
    return hmac.new(master, _TOKEN_LABEL, hashlib.sha256).digest()
