"""The one error type every code encoder, decoder and verifier raises."""

from __future__ import annotations

from open12306.shared.errors import DomainError

# Stable machine-readable reasons (see docs/ride-codes.md).
TRUNCATED = "truncated"
BAD_VERSION = "bad_version"
BAD_TYPE = "bad_type"
TRAILING_BYTES = "trailing_bytes"
BAD_FIELD = "bad_field"
BAD_SIGNATURE = "bad_signature"


class CodeError(DomainError):
    """A ride or ticket code is malformed, of an unknown version or type, or not authentic.

    ``reason`` is one of ``truncated``, ``bad_version``, ``bad_type``, ``trailing_bytes``,
    ``bad_field`` or ``bad_signature``; ``field`` names the field at fault (``code`` when the
    fault is the code as a whole).
    """

    def __init__(self, reason: str, message: str, field: str = "code") -> None:
        super().__init__(field, reason, message)


def bad_field(field: str, message: str) -> CodeError:
    """A field's value is out of its documented range."""
    return CodeError(BAD_FIELD, f"{field}: {message}", field)
