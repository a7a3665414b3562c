"""The keyed hash of a travel document: how saved passengers and orders are found by document
without the number in clear (the ``DocumentKeyer`` port).

A document is indexed by HMAC-SHA256(secret, "<kind>:<normalised number>") rather than by its
number, so uniqueness checks and lookups do not need numbers in clear and a leaked index alone
does not give numbers away: resident ID numbers have little entropy, so an unkeyed hash would
be brute-forced in minutes. The secret is kept apart from the document cipher's key
(``shared.document_keys``), so the two can be rotated apart.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from open12306.accounts.domain.identity import Document, normalize_number


@dataclass(frozen=True)
class HmacDocumentKeyer:
    """Implements ``accounts.ports.DocumentKeyer``."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) < 16:
            raise ValueError("the document key secret must be at least 16 bytes")

    def key(self, document: Document) -> str:
        message = f"{document.kind.value}:{normalize_number(document.number)}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()
