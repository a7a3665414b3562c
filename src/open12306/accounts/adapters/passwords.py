"""Password hashing with scrypt from the standard library (hashlib.scrypt, OpenSSL).

Encoded hashes use the PHC string format, as passlib writes scrypt hashes::

    $scrypt$ln=14,r=8,p=1$<salt>$<hash>

``ln`` is log2 of the cost N; salt and hash are base64 without padding. Passwords are hashed
as their UTF-8 bytes, unnormalised.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

_ENCODED = re.compile(
    r"\$scrypt\$ln=(?P<ln>[0-9]{1,2}),r=(?P<r>[0-9]{1,3}),p=(?P<p>[0-9]{1,3})"
    r"\$(?P<salt>[A-Za-z0-9+/]+)\$(?P<hash>[A-Za-z0-9+/]+)"
)
# Parameters a stored hash may carry and still be checked (bounds the work and memory an
# attacker-supplied or corrupt hash can make ``verify`` spend).
_MAX_LN = 20
_MAX_R = 32
_MAX_P = 16
_MAX_MEMORY = 1 << 28


def _within_bounds(log_n: int, r: int, p: int) -> bool:
    ranges = 1 <= log_n <= _MAX_LN and 1 <= r <= _MAX_R and 1 <= p <= _MAX_P
    return ranges and 128 * r * (1 << log_n) <= _MAX_MEMORY


@dataclass(frozen=True)
class ScryptHasher:
    """scrypt with N = 2**``log_n``, block size ``r``, parallelism ``p``; implements
    ``PasswordHasher``. ``random_bytes`` is injectable for reproducible tests."""

    log_n: int = 14
    r: int = 8
    p: int = 1
    salt_bytes: int = 16
    hash_bytes: int = 32
    random_bytes: Callable[[int], bytes] = field(default=os.urandom, repr=False)

    def __post_init__(self) -> None:
        if not _within_bounds(self.log_n, self.r, self.p):
            raise ValueError("scrypt parameters out of range")
        if self.salt_bytes < 16 or self.hash_bytes < 16:
            raise ValueError("salt and hash must be at least 16 bytes")

    def hash(self, password: str) -> str:
        salt = self.random_bytes(self.salt_bytes)
        digest = _scrypt(password, salt, self.log_n, self.r, self.p, self.hash_bytes)
        return f"$scrypt$ln={self.log_n},r={self.r},p={self.p}${_b64(salt)}${_b64(digest)}"

    def verify(self, password: str, encoded: str) -> bool:
        parsed = _parse(encoded)
        if parsed is None:
            return False
        log_n, r, p, salt, expected = parsed
        digest = _scrypt(password, salt, log_n, r, p, len(expected))
        return hmac.compare_digest(digest, expected)

    def needs_rehash(self, encoded: str) -> bool:
        parsed = _parse(encoded)
        if parsed is None:
            return True
        log_n, r, p, salt, digest = parsed
        current = (self.log_n, self.r, self.p)
        return (
            (log_n, r, p) != current
            or len(salt) < self.salt_bytes
            or (len(digest) < self.hash_bytes)
        )


def _scrypt(password: str, salt: bytes, log_n: int, r: int, p: int, size: int) -> bytes:
    n = 1 << log_n
    # OpenSSL refuses more than 32 MiB unless told; scrypt needs about 128·r·(N + p) bytes.
    maxmem = 128 * r * (n + p) + (1 << 20)
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=size
    )


def _parse(encoded: str) -> tuple[int, int, int, bytes, bytes] | None:
    match = _ENCODED.fullmatch(encoded)
    if match is None:
        return None
    log_n, r, p = int(match["ln"]), int(match["r"]), int(match["p"])
    if not _within_bounds(log_n, r, p):
        return None
    salt, digest = _unb64(match["salt"]), _unb64(match["hash"])
    if salt is None or digest is None or len(salt) < 8 or not 16 <= len(digest) <= 64:
        return None
    return log_n, r, p, salt, digest


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
