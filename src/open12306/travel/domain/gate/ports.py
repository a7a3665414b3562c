"""What the gate needs from key handling (adapters supply Ed25519)."""

from __future__ import annotations

from typing import Protocol

RETIRED = "retired"
TRUSTED = frozenset({"previous", "current", "next"})


class IssuerKeyring(Protocol):
    """The issuer's public keys a gate holds, with their rotation state."""

    def state_of(self, key_id: int) -> str | None:
        """``previous``, ``current``, ``next``, ``retired`` or None for an unknown id."""
        ...

    def verify(self, key_id: int, message: bytes, signature: bytes) -> bool: ...
