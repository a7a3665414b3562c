"""SqlAccountsStore: the AccountsStore port (accounts, sessions, login-attempt counters,
passengers) on SQLAlchemy Core. Each method runs in its own transaction.

Times are written in UTC; SQLite keeps no offset, so naive values read back are UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Insert, Row, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from open12306.accounts.adapters.tables import accounts, login_attempts, passengers, sessions
from open12306.accounts.domain.identity import Document, DocumentKind, Sex
from open12306.accounts.domain.passengers import Passenger
from open12306.accounts.ports import Account, AccountStatus, Duplicate, StoredSession
from open12306.shared.db.documents_at_rest import (
    document_cipher,
    passenger_purpose,
    sealed_engine,
)
from open12306.shared.db.metadata import counters
from open12306.shared.document_keys import DocumentCipher

# The named counter every session revocation adds one to: other processes that keep sessions
# in memory read it to learn that a logout happened elsewhere.
REVOCATIONS = "session_revocations"


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _account(row: Row[Any]) -> Account:
    return Account(
        id=row.id,
        username=row.username,
        password_hash=row.password_hash,
        created_at=_aware(row.created_at),
        status=AccountStatus(row.status),
    )


def _session(row: Row[Any]) -> StoredSession:
    return StoredSession(
        token_hash=row.token_hash,
        account_id=row.account_id,
        created_at=_aware(row.created_at),
        expires_at=_aware(row.expires_at),
        revoked_at=None if row.revoked_at is None else _aware(row.revoked_at),
    )


def _passenger(row: Row[Any], cipher: DocumentCipher) -> Passenger:
    birth: date = row.birth_date
    number = cipher.open(row.id_number, passenger_purpose(row.id))
    return Passenger(
        id=row.id,
        account_id=row.account_id,
        name=row.name,
        document=Document(DocumentKind(row.id_type), number),
        birth_date=birth,
        sex=Sex(row.sex),
        student=bool(row.student),
        disabled_military=bool(row.disabled_military),
        created_at=_aware(row.created_at),
    )


_PASSENGER_COLUMNS = [c for c in passengers.c if c.name != "id_key"]

# The reads every order submission makes, built once: a statement built per call costs its
# construction and cache key again (~0.1 ms of the interpreter each on the 2-core machine).
_SESSION_ACCOUNT = (
    select(
        sessions,
        accounts.c.username,
        accounts.c.password_hash,
        accounts.c.created_at.label("account_created_at"),
        accounts.c.status,
    )
    .select_from(sessions.outerjoin(accounts, accounts.c.id == sessions.c.account_id))
    .where(sessions.c.token_hash == bindparam("token_hash"))
)
_PASSENGERS_OF = (
    select(*_PASSENGER_COLUMNS)
    .where(passengers.c.account_id == bindparam("account_id"))
    .order_by(passengers.c.created_at, passengers.c.id)
)
_PASSENGER = select(*_PASSENGER_COLUMNS).where(
    passengers.c.account_id == bindparam("account_id"), passengers.c.id == bindparam("id")
)


class SqlAccountsStore:
    """Implements ``accounts.ports.AccountsStore``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str, cipher: DocumentCipher | None = None) -> SqlAccountsStore:
        """A store on a new engine for ``url`` sealing document numbers with ``cipher``
        (without one, reading or writing a document number raises NoDocumentCipher)."""
        return cls(sealed_engine(url, cipher))

    # --- accounts -----------------------------------------------------------------------

    def add_account(self, account: Account) -> None:
        values = {
            "id": account.id,
            "username": account.username,
            "password_hash": account.password_hash,
            "created_at": _utc(account.created_at),
            "status": account.status.value,
        }
        self._insert_unique(accounts.insert().values(values))

    def account_by_username(self, username: str) -> Account | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(accounts).where(accounts.c.username == username)).first()
        return None if row is None else _account(row)

    def account_by_id(self, account_id: str) -> Account | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(accounts).where(accounts.c.id == account_id)).first()
        return None if row is None else _account(row)

    def set_password_hash(self, account_id: str, password_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(accounts)
                .where(accounts.c.id == account_id)
                .values(password_hash=password_hash)
            )

    # --- sessions -----------------------------------------------------------------------

    def add_session(self, session: StoredSession) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sessions.insert().values(
                    token_hash=session.token_hash,
                    account_id=session.account_id,
                    created_at=_utc(session.created_at),
                    expires_at=_utc(session.expires_at),
                    revoked_at=None if session.revoked_at is None else _utc(session.revoked_at),
                )
            )

    def session(self, token_hash: str) -> StoredSession | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(sessions).where(sessions.c.token_hash == token_hash)).first()
        return None if row is None else _session(row)

    def session_account(self, token_hash: str) -> tuple[StoredSession, Account | None] | None:
        with self.engine.connect() as conn:
            row = conn.execute(_SESSION_ACCOUNT, {"token_hash": token_hash}).first()
        if row is None:
            return None
        if row.username is None:
            return _session(row), None
        account = Account(
            id=row.account_id,
            username=row.username,
            password_hash=row.password_hash,
            created_at=_aware(row.account_created_at),
            status=AccountStatus(row.status),
        )
        return _session(row), account

    def revoke_session(self, token_hash: str, at: datetime) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(sessions)
                .where(sessions.c.token_hash == token_hash, sessions.c.revoked_at.is_(None))
                .values(revoked_at=_utc(at))
            )
            if result.rowcount == 1:
                _count_revocation(conn)
        return result.rowcount == 1

    def revocations(self) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(counters.c.value).where(counters.c.name == REVOCATIONS)
            ).scalar()
        return 0 if value is None else int(value)

    def delete_sessions_expired_before(self, moment: datetime) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(delete(sessions).where(sessions.c.expires_at < _utc(moment)))
        return result.rowcount

    # --- failed-login counters ----------------------------------------------------------

    def failures(self, key: str, window_starts: Sequence[int]) -> dict[int, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(login_attempts.c.window_start, login_attempts.c.count).where(
                    login_attempts.c.key == key,
                    login_attempts.c.window_start.in_(list(window_starts)),
                )
            )
            return {int(start): int(count) for start, count in rows}

    def failures_since(self, key: str, since: int) -> dict[int, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(login_attempts.c.window_start, login_attempts.c.count).where(
                    login_attempts.c.key == key, login_attempts.c.window_start >= since
                )
            )
            return {int(start): int(count) for start, count in rows}

    def add_failure(self, key: str, window_start: int, keep_from: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(_count_one(conn, key, window_start))
            conn.execute(
                delete(login_attempts).where(
                    login_attempts.c.key == key, login_attempts.c.window_start < keep_from
                )
            )

    def clear_failures(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(login_attempts).where(login_attempts.c.key == key))

    def delete_failures_before(self, window_start: int) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(login_attempts).where(login_attempts.c.window_start < window_start)
            )
        return result.rowcount

    # --- passengers ---------------------------------------------------------------------

    def add_passenger(self, passenger: Passenger, document_key: str) -> None:
        cipher = document_cipher(self.engine)
        values = {
            "id": passenger.id,
            "account_id": passenger.account_id,
            "name": passenger.name,
            "id_type": passenger.document.kind.value,
            "id_number": cipher.seal(passenger.document.number, passenger_purpose(passenger.id)),
            "id_key": document_key,
            "birth_date": passenger.birth_date,
            "sex": passenger.sex.value,
            "student": passenger.student,
            "disabled_military": passenger.disabled_military,
            "created_at": _utc(passenger.created_at),
        }
        self._insert_unique(passengers.insert().values(values))

    def passengers(self, account_id: str) -> list[Passenger]:
        with self.engine.connect() as conn:
            rows = conn.execute(_PASSENGERS_OF, {"account_id": account_id})
            return [_passenger(row, document_cipher(conn)) for row in rows]

    def passenger(self, account_id: str, passenger_id: str) -> Passenger | None:
        with self.engine.connect() as conn:
            row = conn.execute(_PASSENGER, {"account_id": account_id, "id": passenger_id}).first()
        return None if row is None else _passenger(row, document_cipher(self.engine))

    def passenger_by_document(self, account_id: str, document_key: str) -> Passenger | None:
        return self._one_passenger(
            passengers.c.account_id == account_id, passengers.c.id_key == document_key
        )

    def count_passengers(self, account_id: str) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).where(passengers.c.account_id == account_id)
                ).scalar_one()
            )

    def delete_passenger(self, account_id: str, passenger_id: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(passengers).where(
                    passengers.c.account_id == account_id, passengers.c.id == passenger_id
                )
            )
        return result.rowcount == 1

    # --- helpers ------------------------------------------------------------------------

    def _one_passenger(self, *conditions: Any) -> Passenger | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(*_PASSENGER_COLUMNS).where(*conditions)).first()
        return None if row is None else _passenger(row, document_cipher(self.engine))

    def _insert_unique(self, statement: Insert) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(statement)
        except IntegrityError as error:
            raise Duplicate(str(error.orig)) from error


def _count_one(conn: Connection, key: str, window_start: int) -> Insert:
    """INSERT … ON CONFLICT DO UPDATE count = count + 1 for the dialect of ``conn``."""
    values = {"key": key, "window_start": window_start, "count": 1}
    target = [login_attempts.c.key, login_attempts.c.window_start]
    increment = {"count": login_attempts.c.count + 1}
    if conn.dialect.name == "postgresql":
        pg = postgresql.insert(login_attempts).values(values)
        return pg.on_conflict_do_update(index_elements=target, set_=increment)
    lite = sqlite.insert(login_attempts).values(values)
    return lite.on_conflict_do_update(index_elements=target, set_=increment)


def _count_revocation(conn: Connection) -> None:
    """Add one to the revocation count (the row is made by the first revocation)."""
    added = conn.execute(
        update(counters).where(counters.c.name == REVOCATIONS).values(value=counters.c.value + 1)
    )
    if added.rowcount == 0:
        try:
            with conn.begin_nested():
                conn.execute(counters.insert().values(name=REVOCATIONS, value=1))
        except IntegrityError:  # another process made the row meanwhile
            conn.execute(
                update(counters)
                .where(counters.c.name == REVOCATIONS)
                .values(value=counters.c.value + 1)
            )
