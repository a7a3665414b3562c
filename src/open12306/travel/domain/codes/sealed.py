"""A decoded code together with the exact bytes its signature covers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from open12306.travel.domain.codes.errors import BAD_SIGNATURE, CodeError, bad_field
from open12306.travel.domain.codes.signing import SIGNATURE_SIZE, Signer
from open12306.travel.domain.codes.wire import Reader

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Sealed(Generic[T]):
    """``value`` decoded from ``message``; ``signature`` covers every byte of ``message``."""

    value: T
    message: bytes
    signature: bytes

    @property
    def data(self) -> bytes:
        """The code as transmitted: message followed by signature."""
        return self.message + self.signature


def sign(message: bytes, signer: Signer) -> bytes:
    """Append the signer's signature to ``message``."""
    signature = signer.sign(message)
    if len(signature) != SIGNATURE_SIZE:
        raise bad_field("signature", f"a signer returned {len(signature)} bytes, not 64")
    return message + signature


def read_signature(reader: Reader, message_start: int, data: bytes) -> tuple[bytes, bytes]:
    """Split off the message read so far and the signature that follows it."""
    message = data[message_start : reader.position]
    signature = reader.take(SIGNATURE_SIZE, "signature")
    return message, signature


def require(valid: bool, what: str) -> None:
    if not valid:
        raise CodeError(BAD_SIGNATURE, f"the {what} signature does not verify", "signature")
