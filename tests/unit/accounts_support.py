"""In-memory fakes of the account ports, and helpers shared by the account tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from open12306.accounts.domain.identity import Document, check_character
from open12306.accounts.domain.passengers import Passenger
from open12306.accounts.ports import Account, Duplicate, StoredSession

START = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)


def resident_id(first17: str) -> str:
    """A resident ID number with the right check character."""
    return first17 + check_character(first17)


# Born 1990-03-07, sequence 123 (odd: male), Beijing Dongcheng.
ADULT_ID = resident_id("11010119900307123")
# Born 2016-05-01, sequence 002 (even: female), Shanghai Huangpu.
CHILD_ID = resident_id("31010120160501002")


@dataclass
class FakeClock:
    current: datetime = START

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@dataclass
class FakeHasher:
    """``v<version>$<password>``: readable, and versioned to exercise rehashing."""

    version: int = 2
    verified: int = 0

    def hash(self, password: str) -> str:
        return f"v{self.version}${password}"

    def verify(self, password: str, encoded: str) -> bool:
        self.verified += 1
        return encoded.partition("$")[2] == password and "$" in encoded

    def needs_rehash(self, encoded: str) -> bool:
        return not encoded.startswith(f"v{self.version}$")


class FakeKeyer:
    def key(self, document: Document) -> str:
        return f"k:{document.kind.value}:{document.number.upper()}"


@dataclass
class FakeStore:
    """Implements AccountsStore in memory with the same uniqueness rules as the tables."""

    accounts: dict[str, Account] = field(default_factory=dict)
    sessions: dict[str, StoredSession] = field(default_factory=dict)
    attempts: dict[tuple[str, int], int] = field(default_factory=dict)
    people: dict[str, tuple[Passenger, str]] = field(default_factory=dict)
    skip_document_lookup: bool = False
    revoked: int = 0

    def add_account(self, account: Account) -> None:
        if any(a.username == account.username for a in self.accounts.values()):
            raise Duplicate(account.username)
        self.accounts[account.id] = account

    def account_by_username(self, username: str) -> Account | None:
        return next((a for a in self.accounts.values() if a.username == username), None)

    def account_by_id(self, account_id: str) -> Account | None:
        return self.accounts.get(account_id)

    def set_password_hash(self, account_id: str, password_hash: str) -> None:
        self.accounts[account_id] = replace(self.accounts[account_id], password_hash=password_hash)

    def add_session(self, session: StoredSession) -> None:
        self.sessions[session.token_hash] = session

    def session(self, token_hash: str) -> StoredSession | None:
        return self.sessions.get(token_hash)

    def session_account(self, token_hash: str) -> tuple[StoredSession, Account | None] | None:
        found = self.sessions.get(token_hash)
        return None if found is None else (found, self.accounts.get(found.account_id))

    def revoke_session(self, token_hash: str, at: datetime) -> bool:
        found = self.sessions.get(token_hash)
        if found is None or found.revoked_at is not None:
            return False
        self.sessions[token_hash] = replace(found, revoked_at=at)
        self.revoked += 1
        return True

    def revocations(self) -> int:
        return self.revoked

    def delete_sessions_expired_before(self, moment: datetime) -> int:
        gone = [h for h, s in self.sessions.items() if s.expires_at < moment]
        for token_hash in gone:
            del self.sessions[token_hash]
        return len(gone)

    def failures(self, key: str, window_starts: Sequence[int]) -> dict[int, int]:
        return {w: self.attempts[key, w] for w in window_starts if (key, w) in self.attempts}

    def failures_since(self, key: str, since: int) -> dict[int, int]:
        return {w: n for (k, w), n in self.attempts.items() if k == key and w >= since}

    def add_failure(self, key: str, window_start: int, keep_from: int) -> None:
        self.attempts[key, window_start] = self.attempts.get((key, window_start), 0) + 1
        for k, w in list(self.attempts):
            if k == key and w < keep_from:
                del self.attempts[k, w]

    def clear_failures(self, key: str) -> None:
        for k, w in list(self.attempts):
            if k == key:
                del self.attempts[k, w]

    def delete_failures_before(self, window_start: int) -> int:
        gone = [kw for kw in self.attempts if kw[1] < window_start]
        for kw in gone:
            del self.attempts[kw]
        return len(gone)

    def add_passenger(self, passenger: Passenger, document_key: str) -> None:
        for held, key in self.people.values():
            if held.account_id == passenger.account_id and key == document_key:
                raise Duplicate(document_key)
        self.people[passenger.id] = (passenger, document_key)

    def passengers(self, account_id: str) -> list[Passenger]:
        return [p for p, _ in self.people.values() if p.account_id == account_id]

    def passenger(self, account_id: str, passenger_id: str) -> Passenger | None:
        held = self.people.get(passenger_id)
        return held[0] if held and held[0].account_id == account_id else None

    def passenger_by_document(self, account_id: str, document_key: str) -> Passenger | None:
        if self.skip_document_lookup:
            return None
        for held, key in self.people.values():
            if held.account_id == account_id and key == document_key:
                return held
        return None

    def count_passengers(self, account_id: str) -> int:
        return len(self.passengers(account_id))

    def delete_passenger(self, account_id: str, passenger_id: str) -> bool:
        if self.passenger(account_id, passenger_id) is None:
            return False
        del self.people[passenger_id]
        return True


def counter_ids(prefix: str = "id") -> Callable[[], str]:
    """A deterministic id generator: id1, id2, …"""
    state = {"n": 0}

    def new_id() -> str:
        state["n"] += 1
        return f"{prefix}{state['n']}"

    return new_id
