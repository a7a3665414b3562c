"""Accounts, login sessions and saved passengers: the use cases behind /api/v1/accounts,
/sessions, /me and /passengers.

Bearer tokens are opaque random strings; only their SHA-256 is stored, so a copy of the
database does not let anyone log in. Failed logins throttle their source, not the account
(``accounts.domain.rate_limit``): each client address, and each username from one address, backs off
exponentially after a few failures, and a successful login clears its username-and-address
count. So someone guessing a password from one address never locks the owner out at another.
A generous ceiling per username (many addresses failing at once: credential stuffing) only
shrinks every address's free failures for that username to ``crowded_free``; it never refuses
an address that has not failed, so it slows an attack down without locking anyone out. An
unknown username costs the same password check as a known one and answers the same error,
so logins do not reveal which usernames exist.
Passengers are always looked up through their owner: another account's passenger is simply
not found.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from open12306.accounts.domain.credentials import (
    check_password,
    check_username,
    normalize_username,
)
from open12306.accounts.domain.passengers import Passenger, PassengerDetails, new_passenger
from open12306.accounts.domain.rate_limit import Backoff, RateLimit, address_bucket
from open12306.accounts.ports import (
    Account,
    AccountsStore,
    AccountStatus,
    DocumentKeyer,
    Duplicate,
    PasswordHasher,
    StoredSession,
)
from open12306.shared.clock import Clock
from open12306.shared.errors import DomainError, NotFound

# Longer strings are not tokens this service issued; they are refused before hashing.
MAX_TOKEN_LENGTH = 256
# One username from one address: 5 failures free, then 1 min doubling up to 1 h; forgotten a
# day after the last failure (or at once by a successful login from there).
PER_USERNAME_AND_ADDRESS = Backoff(free=5, base=60, cap=60 * 60, memory=24 * 60 * 60)
# One address, all usernames: looser (many people share an address behind NAT), and it only
# grows with failures: 20 free, then 1 min doubling up to 15 min; forgotten after a quiet hour.
PER_ADDRESS = Backoff(free=20, base=60, cap=15 * 60, memory=60 * 60)
# One username, all addresses: above this many failures in an hour, each address gets only
# ``crowded_free`` failures free for that username before its backoff starts.
PER_USERNAME = RateLimit(limit=100, window=60 * 60)
NO_ADDRESS = "-"


class Conflict(DomainError):
    """The input collides with something that exists (a taken username, a saved passenger)."""

    status = 409


class Unauthenticated(DomainError):
    """No valid credentials: a missing, unknown, expired or revoked token, or a wrong
    username or password."""

    status = 401

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries."""
        return {"WWW-Authenticate": "Bearer"}


class RateLimited(DomainError):
    """Too many failed attempts; ``retry_after`` says in how many seconds to try again."""

    status = 429

    def __init__(self, field: str, retry_after: int) -> None:
        minutes = max(1, -(-retry_after // 60))
        super().__init__(
            field, "rate_limited", f"too many failed logins; try again in {minutes} min"
        )
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries."""
        return {"Retry-After": str(self.retry_after)}

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "retry_after": self.retry_after}


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    """Tunable rules: session lifetime, login throttling, passengers per account.

    Failed logins back off per (username, client address) and per client address; the
    per-address rule is looser because many users share one public address behind
    carrier-grade NAT. ``per_username`` is the ceiling over all addresses beyond which each
    address's free failures for that username drop to ``crowded_free``.
    """

    session_ttl: timedelta = timedelta(days=7)
    per_username_and_address: Backoff = PER_USERNAME_AND_ADDRESS
    per_address: Backoff = PER_ADDRESS
    per_username: RateLimit = PER_USERNAME
    crowded_free: int = 1
    max_passengers: int = 15
    # A live session is trusted this long without reading it again: a logout here takes
    # effect at once, one made through another process as soon as this process next looks
    # at the store's revocation count (``forget_revoked_elsewhere``; the server does every
    # fraction of a second), a locked account within this.
    session_cache_seconds: float = 5.0
    session_cache_size: int = 100_000


@dataclass(frozen=True, slots=True)
class Login:
    """A new session: the bearer token (shown once) and when it expires."""

    token: str
    expires_at: datetime
    account: Account


def token_hash(token: str) -> str:
    """What is stored for a bearer token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def _new_id() -> str:
    """Time-ordered id (like UUIDv7): rows created in one clock tick still list in order."""
    return f"{time.time_ns():016x}{uuid.uuid4().hex[:16]}"


class AccountService:
    """Register, log in and out, authenticate, and manage an account's passengers."""

    def __init__(
        self,
        store: AccountsStore,
        hasher: PasswordHasher,
        keyer: DocumentKeyer,
        clock: Clock,
        policy: AccountPolicy | None = None,
        *,
        new_id: Callable[[], str] = _new_id,
        new_token: Callable[[], str] = _new_token,
    ) -> None:
        self.store = store
        self.hasher = hasher
        self.keyer = keyer
        self.clock = clock
        self.policy = policy or AccountPolicy()
        self.new_id = new_id
        self.new_token = new_token
        self._decoy_hash: str | None = None
        self._sessions: dict[str, tuple[float, Account, datetime]] = {}
        # The store's revocation count last seen, and how often it moved since: a session
        # read before a move is not kept (it may be one that was revoked meanwhile).
        self._revocations: int | None = None
        self._epoch = 0

    # --- accounts and sessions ----------------------------------------------------------

    def register(self, username: str, password: str) -> Account:
        """Create an account; DomainError on ``username`` / ``password``, Conflict if taken."""
        name = check_username(username)
        check_password(password, name)
        account = Account(self.new_id(), name, self.hasher.hash(password), self.clock.now())
        try:
            self.store.add_account(account)
        except Duplicate:
            raise Conflict("username", "taken", f"the username {name} is taken") from None
        return account

    def login(self, username: str, password: str, client: str | None = None) -> Login:
        """A new session for the right username and password. ``client`` is the caller's
        address. RateLimited (before any password check) while the client address, or this
        username from it, is backing off after failures; Unauthenticated(``bad_credentials``)
        for a wrong username or password."""
        now = self.clock.now()
        moment = int(now.timestamp())
        try:
            name: str | None = check_username(username)
        except DomainError:
            name = None
        sources = self._sources(name, client)
        self._check_sources(sources, name, moment)
        account = self.store.account_by_username(name) if name else None
        if account is None:
            self.hasher.verify(password, self._decoy())
        if account is None or not self.hasher.verify(password, account.password_hash):
            self._count_failure(sources, name, moment)
            raise Unauthenticated("password", "bad_credentials", "wrong username or password")
        if account.status is not AccountStatus.ACTIVE:
            raise Unauthenticated("username", "inactive", "this account is not active")
        if self.hasher.needs_rehash(account.password_hash):
            self.store.set_password_hash(account.id, self.hasher.hash(password))
        if name is not None:
            self.store.clear_failures(_pair_key(name, client))
        token = self.new_token()
        expires = now + self.policy.session_ttl
        self.store.add_session(StoredSession(token_hash(token), account.id, now, expires))
        return Login(token, expires, account)

    def logout(self, token: str) -> None:
        """End the session of ``token`` (Unauthenticated if it is not a live session)."""
        self.authenticate(token)
        self._sessions.pop(token_hash(token), None)
        self.store.revoke_session(token_hash(token), self.clock.now())

    def authenticate(self, token: str) -> Account:
        """The account a live bearer token belongs to, or Unauthenticated."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise _unauthenticated()
        known = self.cached_session(token)
        if known is not None:
            return known
        return self._live_session(token_hash(token))

    def cached_session(self, token: str) -> Account | None:
        """The account of a live session read in the last few seconds, without reading the
        store (None: ask ``authenticate``); Unauthenticated when it has expired since."""
        cached = self._sessions.get(token_hash(token)) if token else None
        if cached is None:
            return None
        read_at, known, expires_at = cached
        if time.monotonic() - read_at >= self.policy.session_cache_seconds:
            return None
        if self.clock.now() >= expires_at:
            raise _unauthenticated("the session has expired; log in again")
        return known

    def forget_revoked_elsewhere(self) -> bool:
        """Drop the sessions kept in memory when some process revoked a session since the
        last look (the store's revocation count moved); True when they were dropped."""
        if self.policy.session_cache_seconds <= 0:
            return False
        count = self.store.revocations()
        if count == self._revocations:
            return False
        self._revocations = count
        self._epoch += 1
        self._sessions.clear()
        return True

    def _live_session(self, hashed: str) -> Account:
        epoch = self._epoch
        found = self.store.session_account(hashed)
        if found is None or found[0].revoked_at is not None:
            raise _unauthenticated()
        session, account = found
        if self.clock.now() >= session.expires_at:
            raise _unauthenticated("the session has expired; log in again")
        if account is None or account.status is not AccountStatus.ACTIVE:
            raise _unauthenticated()
        if self.policy.session_cache_seconds > 0 and epoch == self._epoch:
            if len(self._sessions) >= self.policy.session_cache_size:
                self._sessions.clear()
            self._sessions[hashed] = (time.monotonic(), account, session.expires_at)
        return account

    def prune(self) -> tuple[int, int]:
        """Forget expired sessions and stale failure counters: (sessions, counters) deleted."""
        now = self.clock.now()
        policy = self.policy
        moment = int(now.timestamp())
        oldest = min(
            policy.per_username_and_address.keep_from(moment),
            policy.per_address.keep_from(moment),
            policy.per_username.window_start(moment) - policy.per_username.window,
        )
        sessions = self.store.delete_sessions_expired_before(now)
        counters = self.store.delete_failures_before(oldest)
        return sessions, counters

    def _sources(self, name: str | None, client: str | None) -> list[tuple[str, Backoff, str]]:
        """What a failure is counted against: (key, rule, field named when it refuses)."""
        sources = []
        if client:
            sources.append((f"addr:{address_bucket(client)}", self.policy.per_address, "client"))
        if name is not None:
            rule = self.policy.per_username_and_address
            sources.append((_pair_key(name, client), rule, "username"))
        return sources

    def _check_sources(
        self, sources: list[tuple[str, Backoff, str]], name: str | None, moment: int
    ) -> None:
        crowded = name is not None and self._crowded(name, moment)
        for key, rule, field in sources:
            if crowded and field == "username":
                rule = replace(rule, free=min(rule.free, self.policy.crowded_free))
            wait = rule.retry_after(self._failure_times(key, rule, moment), moment)
            if wait:
                raise RateLimited(field, wait)

    def _failure_times(self, key: str, rule: Backoff, moment: int) -> list[int]:
        counts = self.store.failures_since(key, rule.look_back(moment))
        return [at for at, count in counts.items() for _ in range(count)]

    def _crowded(self, name: str, moment: int) -> bool:
        """Whether the username is past its ceiling of failures from all addresses."""
        ceiling = self.policy.per_username
        current = ceiling.window_start(moment)
        counts = self.store.failures(_user_key(name), (current - ceiling.window, current))
        previous = counts.get(current - ceiling.window, 0)
        return not ceiling.allows(previous, counts.get(current, 0), moment)

    def _count_failure(
        self, sources: list[tuple[str, Backoff, str]], name: str | None, moment: int
    ) -> None:
        for key, rule, _ in sources:
            self.store.add_failure(key, moment, rule.keep_from(moment))
        if name is not None:
            ceiling = self.policy.per_username
            current = ceiling.window_start(moment)
            self.store.add_failure(_user_key(name), current, current - ceiling.window)

    def _decoy(self) -> str:
        if self._decoy_hash is None:
            self._decoy_hash = self.hasher.hash(secrets.token_hex(16))
        return self._decoy_hash

    # --- passengers ---------------------------------------------------------------------

    def today(self) -> date:
        """The date passengers' ticket types are shown for."""
        return self.clock.now().date()

    def add_passenger(self, account: Account, details: PassengerDetails) -> Passenger:
        """Validate and save a passenger; Conflict(``duplicate_passenger``) if the account
        already has one with the same document, Conflict(``too_many_passengers``) past the
        policy's limit."""
        now = self.clock.now()
        passenger = new_passenger(self.new_id(), account.id, details, now)
        key = self.keyer.key(passenger.document)
        if self.store.passenger_by_document(account.id, key) is not None:
            raise _duplicate_passenger()
        if self.store.count_passengers(account.id) >= self.policy.max_passengers:
            raise Conflict(
                "passengers",
                "too_many_passengers",
                f"an account saves at most {self.policy.max_passengers} passengers",
            )
        try:
            self.store.add_passenger(passenger, key)
        except Duplicate:
            raise _duplicate_passenger() from None
        return passenger

    def passengers(self, account: Account) -> list[Passenger]:
        return self.store.passengers(account.id)

    def passenger(self, account: Account, passenger_id: str) -> Passenger:
        """The account's passenger, or NotFound (also for another account's passenger)."""
        found = self.store.passenger(account.id, passenger_id)
        if found is None:
            raise _passenger_not_found(passenger_id)
        return found

    def delete_passenger(self, account: Account, passenger_id: str) -> None:
        if not self.store.delete_passenger(account.id, passenger_id):
            raise _passenger_not_found(passenger_id)


def _user_key(name: str) -> str:
    return f"user:{normalize_username(name)}"


def _pair_key(name: str, client: str | None) -> str:
    return f"pair:{normalize_username(name)}@{address_bucket(client) if client else NO_ADDRESS}"


def _unauthenticated(
    message: str = "log in first: send Authorization: Bearer <token>",
) -> Unauthenticated:
    return Unauthenticated("authorization", "unauthenticated", message)


def _duplicate_passenger() -> Conflict:
    return Conflict(
        "id_number", "duplicate_passenger", "a passenger with this document is already saved"
    )


def _passenger_not_found(passenger_id: str) -> NotFound:
    return NotFound("passenger_id", "not_found", f"no passenger {passenger_id}")
