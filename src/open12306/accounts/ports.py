"""Ports of the accounts context: stores of accounts, sessions, attempts and passengers, the
password hasher, the document keyer, and the face matcher.

The face matcher is a 1:1 check of a live face against the passenger's enrolled document photo.
A gate asks it only when a decision says ``face_required``. The answer is never an exception: a
matcher that cannot run (the optional ``open12306[face]`` extra is not installed) answers
``unavailable`` and the gate sends the passenger to the manual lane, as it does for any face
the check cannot confirm.

``distance`` is the Euclidean distance between the two face embeddings (smaller is more alike);
it is ``math.inf`` whenever no comparison took place (no face, several faces, unavailable).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from open12306.accounts.domain.identity import Document
from open12306.accounts.domain.passengers import Passenger


class FaceReason(StrEnum):
    """Why a face check came out as it did. Values are stable: journals store them."""

    MATCH = "match"
    NO_MATCH = "no_match"
    NO_FACE_ENROLLED = "no_face_enrolled"
    NO_FACE_LIVE = "no_face_live"
    SEVERAL_FACES = "several_faces"
    UNAVAILABLE = "unavailable"


MANUAL_LANE = "use the manual lane: staff compare the passenger with the document"


@dataclass(frozen=True, slots=True)
class FaceResult:
    """The outcome of one comparison: ``match`` opens the gate, anything else does not.

    ``threshold`` is the distance at or below which the matcher accepts; ``message`` says in
    words what happened and what the gate should do next.
    """

    match: bool
    distance: float
    reason: FaceReason
    message: str = ""
    threshold: float = math.nan

    @property
    def decided(self) -> bool:
        """False when the check could not compare at all: no face, several faces, no matcher.

        Either way only ``match`` opens the gate; the rest go to the manual lane.
        """
        return self.reason in (FaceReason.MATCH, FaceReason.NO_MATCH)


def refused(reason: FaceReason, message: str, threshold: float = math.nan) -> FaceResult:
    """A result where no comparison happened (the distance is infinite)."""
    if reason in (FaceReason.MATCH, FaceReason.NO_MATCH):
        raise ValueError(f"{reason} needs a measured distance")
    return FaceResult(False, math.inf, reason, message, threshold)


class FaceMatcher(Protocol):
    """Compares the face in ``live_image`` with the one in ``enrolled_image``.

    Both images are encoded files (JPEG, PNG, ...) as bytes. Implementations never raise for
    bad input: an unreadable or faceless image gives ``no_face_enrolled`` / ``no_face_live``.
    """

    @property
    def available(self) -> bool:
        """False for a matcher that can only answer ``unavailable``."""
        ...

    def compare(self, enrolled_image: bytes, live_image: bytes) -> FaceResult:
        """Compare the two faces; see :class:`FaceResult`."""
        ...


# Accounts, sessions, attempts and passengers.


class PasswordHasher(Protocol):
    """One-way password hashing with self-describing encoded hashes.

    ``hash`` returns a string that names its algorithm and parameters, so the parameters can
    be raised later: ``needs_rehash`` says when a stored hash was made with weaker ones and
    should be replaced on the next successful login. ``verify`` compares in constant time
    and answers False (never raises) for a wrong password or a malformed hash.
    """

    def hash(self, password: str) -> str: ...

    def verify(self, password: str, encoded: str) -> bool: ...

    def needs_rehash(self, encoded: str) -> bool: ...


class AccountStatus(StrEnum):
    """Whether an account may log in."""

    ACTIVE = "active"
    LOCKED = "locked"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Account:
    """A registered account. ``username`` is normalised (lower case)."""

    id: str
    username: str
    password_hash: str
    created_at: datetime
    status: AccountStatus = AccountStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A login session. Only the SHA-256 of its bearer token is stored, never the token."""

    token_hash: str
    account_id: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None


class Duplicate(Exception):
    """A store refused a row because a unique key (username, passenger document) is taken."""


class AccountStore(Protocol):
    """Accounts by id and by normalised username."""

    def add_account(self, account: Account) -> None:
        """Store a new account; raise Duplicate if the username is taken."""
        ...

    def account_by_username(self, username: str) -> Account | None: ...

    def account_by_id(self, account_id: str) -> Account | None: ...

    def set_password_hash(self, account_id: str, password_hash: str) -> None: ...


class SessionStore(Protocol):
    """Login sessions keyed by the hash of their token."""

    def add_session(self, session: StoredSession) -> None: ...

    def session(self, token_hash: str) -> StoredSession | None: ...

    def session_account(self, token_hash: str) -> tuple[StoredSession, Account | None] | None:
        """The session and its account (None if the account is gone) in one read."""
        ...

    def revoke_session(self, token_hash: str, at: datetime) -> bool:
        """Mark the session revoked (and count it, see ``revocations``); False if there is no
        such unrevoked session."""
        ...

    def revocations(self) -> int:
        """How many sessions were revoked so far, by any process on this store: a change
        means some process logged a session out."""
        ...

    def delete_sessions_expired_before(self, moment: datetime) -> int: ...


class AttemptStore(Protocol):
    """Failed-login counters per key and window start (Unix seconds): ``user:<name>`` in fixed
    windows (the per-username ceiling); ``addr:<address>`` and ``pair:<name>@<address>`` per
    second of failure (backoff, which needs the failures' times)."""

    def failures(self, key: str, window_starts: Sequence[int]) -> dict[int, int]:
        """Counts for the given windows of ``key`` (windows without failures are left out)."""
        ...

    def failures_since(self, key: str, since: int) -> dict[int, int]:
        """Counts of ``key`` per window start (or per second) from ``since`` on."""
        ...

    def add_failure(self, key: str, window_start: int, keep_from: int) -> None:
        """Count one failure atomically and forget the key's windows starting before
        ``keep_from``."""
        ...

    def clear_failures(self, key: str) -> None: ...

    def delete_failures_before(self, window_start: int) -> int: ...


class PassengerStore(Protocol):
    """Saved passengers; every read and write is scoped to the owning account."""

    def add_passenger(self, passenger: Passenger, document_key: str) -> None:
        """Store a passenger; raise Duplicate if the account already has ``document_key``."""
        ...

    def passengers(self, account_id: str) -> list[Passenger]:
        """The account's passengers, oldest first."""
        ...

    def passenger(self, account_id: str, passenger_id: str) -> Passenger | None: ...

    def passenger_by_document(self, account_id: str, document_key: str) -> Passenger | None: ...

    def count_passengers(self, account_id: str) -> int: ...

    def delete_passenger(self, account_id: str, passenger_id: str) -> bool: ...


class AccountsStore(AccountStore, SessionStore, AttemptStore, PassengerStore, Protocol):
    """Everything the account service stores, on one backend."""


class DocumentKeyer(Protocol):
    """A keyed hash of a travel document (kind and normalised number): the index under which
    a document is found without reading numbers in clear (HMAC with a server secret)."""

    def key(self, document: Document) -> str: ...


class FaceStore(Protocol):
    """Embeddings per saved passenger (``accounts.adapters.faces_repo.SqlFaceStore``)."""

    def save_face(
        self, account_id: str, passenger_id: str, model: str, embedding: bytes, at: datetime
    ) -> None: ...

    def delete_face(self, account_id: str, passenger_id: str) -> bool: ...

    def embeddings(self, passenger_ids: Sequence[str], model: str) -> dict[str, bytes]: ...
