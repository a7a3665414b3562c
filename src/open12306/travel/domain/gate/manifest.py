"""The station manifest: runs boarding here and reserved tickets, for ID-number admission.

The manifest never holds ID numbers: each ticket carries ``document_hash``, the SHA-256 of the
salt and the normalised number (see ``document_hash``). The salt changes with every bundle, so
hashes cannot be matched across bundles; an 18-digit ID number has few enough candidates that
a stolen bundle can still be searched, so bundles must be kept as carefully as the journal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from open12306.shared.errors import DomainError

HASH_SIZE = 32


def normalize_document(number: str) -> str:
    """An ID number as hashed: spaces and hyphens removed, letters upper case."""
    cleaned = "".join(ch for ch in number if ch not in " -\t").upper()
    if not cleaned or not cleaned.isascii() or not cleaned.isalnum() or len(cleaned) > 32:
        raise DomainError("document", "malformed", "document: 1..32 letters or digits")
    return cleaned


def document_hash(number: str, salt: bytes) -> bytes:
    """SHA-256 over the bundle's salt and the normalised number."""
    return hashlib.sha256(salt + normalize_document(number).encode("ascii")).digest()


@dataclass(frozen=True, slots=True)
class ManifestRun:
    """A run calling at this station: ``departure``/``arrival`` in unix seconds (None = none)."""

    train_code: str
    service_date: date
    departure: int | None
    arrival: int | None = None


@dataclass(frozen=True, slots=True)
class ManifestTicket:
    """A reserved ticket that boards or alights here, as the gate needs it."""

    ticket_no: str
    train_code: str
    service_date: date
    from_station: str
    to_station: str
    valid_from: int
    valid_until: int
    document_hash: bytes
    face_required: bool = False

    def __post_init__(self) -> None:
        if len(self.document_hash) != HASH_SIZE:
            raise DomainError("document_hash", "malformed", "document_hash: 32 bytes")


class Manifest:
    """Runs and tickets of one station, indexed for the gate's lookups."""

    def __init__(
        self, salt: bytes, runs: Iterable[ManifestRun], tickets: Iterable[ManifestTicket]
    ) -> None:
        self.salt = bytes(salt)
        self.runs = tuple(runs)
        self.tickets = tuple(tickets)
        self._runs = {(r.train_code, r.service_date): r for r in self.runs}
        self._by_number = {t.ticket_no: t for t in self.tickets}
        self._by_hash: dict[bytes, list[ManifestTicket]] = {}
        for ticket in self.tickets:
            self._by_hash.setdefault(ticket.document_hash, []).append(ticket)

    def run(self, train_code: str, service_date: date) -> ManifestRun | None:
        return self._runs.get((train_code, service_date))

    def ticket(self, ticket_no: str) -> ManifestTicket | None:
        return self._by_number.get(ticket_no)

    def tickets_of(self, number: str) -> list[ManifestTicket]:
        """Tickets whose passenger document is ``number`` (raises DomainError if malformed)."""
        return list(self._by_hash.get(document_hash(number, self.salt), ()))
