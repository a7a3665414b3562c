"""Errors the domain raises; every one names the field at fault and a stable reason."""

from __future__ import annotations


class DomainError(Exception):
    """A rule was broken by input. ``field`` names the input, ``reason`` is machine-readable."""

    status = 400

    def __init__(self, field: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.reason = reason
        self.message = message

    def to_dict(self) -> dict[str, object]:
        return {"field": self.field, "reason": self.reason, "message": self.message}


class NotFound(DomainError):
    """The thing named by ``field`` does not exist."""

    status = 404
