"""Face enrolment: a saved passenger's photo becomes a 128-number embedding, nothing more.

The photo is measured once (``embed``) and dropped; only the embedding is stored, per saved
passenger, and copied into the gate bundles of stations where that passenger holds a ticket,
which then ask for a 1:1 face check at the gate (docs/ride-codes.md §7, ticket step 7).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from open12306.accounts.ports import Account, FaceStore
from open12306.accounts.services.accounts import AccountService
from open12306.shared.errors import DomainError

EMBEDDING_SIZE = 128
_PACKING = struct.Struct(f"<{EMBEDDING_SIZE}f")
MAX_PHOTO_BYTES = 8 * 1024 * 1024


class FaceUnavailable(DomainError):
    """The server has no face matcher (the optional face extra is not installed)."""

    status = 503


def pack_embedding(values: Sequence[float]) -> bytes:
    """128 little-endian float32 values (512 bytes)."""
    if len(values) != EMBEDDING_SIZE:
        raise DomainError("embedding", "invalid", f"expected {EMBEDDING_SIZE} numbers")
    return _PACKING.pack(*values)


def unpack_embedding(data: bytes) -> tuple[float, ...]:
    if len(data) != _PACKING.size:
        raise DomainError("embedding", "invalid", f"expected {_PACKING.size} bytes")
    return tuple(_PACKING.unpack(data))


class FaceEnrolment:
    """Enrols and forgets faces of an account's saved passengers.

    ``embed`` turns a photo into 128 numbers, raising DomainError when it holds no single
    face, or :class:`FaceUnavailable` when no matcher is installed.
    """

    def __init__(
        self,
        accounts: AccountService,
        store: FaceStore,
        embed: Callable[[bytes], Sequence[float]],
        clock: Callable[[], datetime],
        model: str,
    ) -> None:
        self.accounts = accounts
        self.store = store
        self.embed = embed
        self.clock = clock
        self.model = model

    def enrol(self, account: Account, passenger_id: str, photo: bytes) -> None:
        """Store the embedding of the one face in ``photo`` for this saved passenger."""
        self.accounts.passenger(account, passenger_id)  # 404 for another account's passenger
        if not photo:
            raise DomainError("photo", "empty", "send the photo as the request body")
        if len(photo) > MAX_PHOTO_BYTES:
            raise DomainError("photo", "too_large", f"at most {MAX_PHOTO_BYTES} bytes")
        embedding = pack_embedding(self.embed(photo))
        self.store.save_face(account.id, passenger_id, self.model, embedding, self.clock())

    def forget(self, account: Account, passenger_id: str) -> bool:
        self.accounts.passenger(account, passenger_id)
        return self.store.delete_face(account.id, passenger_id)

    def embeddings(self, passenger_ids: Sequence[str]) -> Mapping[str, tuple[float, ...]]:
        """Enrolled embeddings of these saved passengers (those without one are left out)."""
        found = self.store.embeddings(passenger_ids, self.model)
        return {pid: unpack_embedding(data) for pid, data in found.items()}
