"""Ports for signatures, so the code formats stay free of any crypto library.

Every signature in the format is an Ed25519 signature (RFC 8032): 64 bytes, over the exact
bytes that precede it in the code.
"""

from __future__ import annotations

from typing import Protocol

SIGNATURE_SIZE = 64
PUBLIC_KEY_SIZE = 32


class Signer(Protocol):
    """Signs messages with one private key (an issuer key or a device key)."""

    def sign(self, message: bytes) -> bytes: ...


class Verifier(Protocol):
    """Checks issuer signatures by key id against the public keys it trusts."""

    def verify(self, key_id: int, message: bytes, signature: bytes) -> bool: ...


class DeviceVerifier(Protocol):
    """Checks a device signature against the raw public key carried in a credential."""

    def verify_device(self, public_key: bytes, message: bytes, signature: bytes) -> bool: ...
