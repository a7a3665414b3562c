import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

import pytest

from open12306.accounts.domain.identity import Document, DocumentKind, Sex
from open12306.accounts.domain.passengers import PassengerDetails
from open12306.accounts.domain.rate_limit import Backoff, RateLimit
from open12306.accounts.ports import AccountStatus
from open12306.accounts.services.accounts import (
    AccountPolicy,
    AccountService,
    Conflict,
    RateLimited,
    Unauthenticated,
)
from open12306.shared.errors import DomainError, NotFound
from tests.unit.accounts_support import (
    ADULT_ID,
    CHILD_ID,
    FakeClock,
    FakeHasher,
    FakeKeyer,
    FakeStore,
    counter_ids,
)

PASSWORD = "rail-pass-2026"


def make(policy: AccountPolicy | None = None) -> tuple[AccountService, FakeStore, FakeClock]:
    store, clock = FakeStore(), FakeClock()
    tokens = counter_ids("token-")
    service = AccountService(
        store, FakeHasher(), FakeKeyer(), clock, policy, new_id=counter_ids(), new_token=tokens
    )
    return service, store, clock


def failure(action: Callable[..., object], *args: object) -> DomainError:
    with pytest.raises(DomainError) as info:
        action(*args)
    return info.value


def adult(number: str = ADULT_ID, **changes: object) -> PassengerDetails:
    details = PassengerDetails("张三", Document(DocumentKind.RESIDENT_ID, number))
    return replace(details, **changes)  # type: ignore[arg-type]


# --- registration ---------------------------------------------------------------------


def test_register_normalises_the_username_and_stores_only_a_hash() -> None:
    service, store, _ = make()
    account = service.register("  Zhang_San ", PASSWORD)
    assert account.username == "zhang_san"
    assert store.accounts[account.id].password_hash == f"v2${PASSWORD}"
    assert account.status is AccountStatus.ACTIVE


@pytest.mark.parametrize(
    ("username", "password", "field", "reason"),
    [
        ("ab", PASSWORD, "username", "bad_format"),
        ("9lives_cat", PASSWORD, "username", "bad_format"),
        ("zhang san", PASSWORD, "username", "bad_format"),
        ("张三三三三三", PASSWORD, "username", "bad_format"),
        ("zhang_san", "short1", "password", "too_short"),
        ("zhang_san", "x" * 129 + "1", "password", "too_long"),
        ("zhang_san", "onlyletters", "password", "too_weak"),
        ("zhang_san", "ZHANG_SAN", "password", "too_weak"),
        ("zhang_san", "Password123", "password", "too_weak"),
    ],
)
def test_register_names_the_field_at_fault(
    username: str, password: str, field: str, reason: str
) -> None:
    service, store, _ = make()
    error = failure(lambda: service.register(username, password))
    assert (error.field, error.reason, error.status) == (field, reason, 400)
    assert store.accounts == {}


def test_usernames_are_unique_regardless_of_case() -> None:
    service, _, _ = make()
    service.register("zhang_san", PASSWORD)
    error = failure(lambda: service.register("ZHANG_SAN", PASSWORD + "!"))
    assert isinstance(error, Conflict)
    assert (error.field, error.reason, error.status) == ("username", "taken", 409)


# --- login, tokens, logout ------------------------------------------------------------


def test_login_issues_a_token_whose_hash_alone_is_stored() -> None:
    service, store, clock = make()
    account = service.register("zhang_san", PASSWORD)
    login = service.login("Zhang_San", PASSWORD, "10.0.0.1")
    assert login.account == account
    assert login.expires_at == clock.now() + timedelta(days=7)
    assert list(store.sessions) == [hashlib.sha256(login.token.encode()).hexdigest()]
    assert login.token not in store.sessions
    assert service.authenticate(login.token) == account


def test_tokens_expire_after_the_configured_lifetime() -> None:
    service, _, clock = make(AccountPolicy(session_ttl=timedelta(hours=2)))
    service.register("zhang_san", PASSWORD)
    token = service.login("zhang_san", PASSWORD).token
    clock.advance(hours=2, seconds=-1)
    assert service.authenticate(token).username == "zhang_san"
    clock.advance(seconds=1)
    error = failure(lambda: service.authenticate(token))
    assert (error.status, error.reason) == (401, "unauthenticated")


@pytest.mark.parametrize("token", ["", "token-99", "x" * 300])
def test_unknown_tokens_are_refused(token: str) -> None:
    service, _, _ = make()
    service.register("zhang_san", PASSWORD)
    service.login("zhang_san", PASSWORD)
    assert isinstance(failure(lambda: service.authenticate(token)), Unauthenticated)


def test_logout_revokes_only_that_session() -> None:
    service, _, _ = make()
    service.register("zhang_san", PASSWORD)
    first = service.login("zhang_san", PASSWORD).token
    second = service.login("zhang_san", PASSWORD).token
    service.logout(first)
    assert failure(lambda: service.authenticate(first)).reason == "unauthenticated"
    assert failure(lambda: service.logout(first)).reason == "unauthenticated"
    assert service.authenticate(second).username == "zhang_san"


def test_wrong_password_and_unknown_user_answer_alike_and_both_check_a_hash() -> None:
    service, _, _ = make()
    service.register("zhang_san", PASSWORD)
    hasher = service.hasher
    assert isinstance(hasher, FakeHasher)
    wrong = failure(lambda: service.login("zhang_san", "not-it-2026"))
    before = hasher.verified
    unknown = failure(lambda: service.login("li_si_wu", PASSWORD))
    assert hasher.verified == before + 1
    assert wrong.to_dict() == unknown.to_dict()
    assert (wrong.status, wrong.reason) == (401, "bad_credentials")


def test_inactive_accounts_cannot_log_in_or_use_their_tokens() -> None:
    service, store, _ = make()
    account = service.register("zhang_san", PASSWORD)
    token = service.login("zhang_san", PASSWORD).token
    store.accounts[account.id] = replace(account, status=AccountStatus.LOCKED)
    assert failure(lambda: service.login("zhang_san", PASSWORD)).reason == "inactive"
    assert failure(lambda: service.authenticate(token)).reason == "unauthenticated"


def test_login_rehashes_a_password_hashed_with_old_parameters() -> None:
    service, store, _ = make()
    account = service.register("zhang_san", PASSWORD)
    store.set_password_hash(account.id, f"v1${PASSWORD}")
    service.login("zhang_san", PASSWORD)
    assert store.accounts[account.id].password_hash == f"v2${PASSWORD}"


# --- login throttling -----------------------------------------------------------------

ATTACKER, OWNER = "203.0.113.66", "198.51.100.7"


def fail(service: AccountService, times: int, address: str | None, name: str = "zhang_san") -> None:
    for attempt in range(times):
        assert failure(service.login, name, f"guess-{attempt}", address).reason == (
            "bad_credentials"
        )


def test_failures_from_one_address_do_not_lock_the_owner_out_elsewhere() -> None:
    """The lockout of issue 9: five wrong passwords from one address used to make the right
    password from any other address answer 429 for 15 minutes, again and again."""
    service, _, clock = make()
    service.register("zhang_san", PASSWORD)
    fail(service, 5, ATTACKER)
    for _ in range(6):  # the attacker keeps at it, trying again whenever allowed
        blocked = failure(service.login, "zhang_san", PASSWORD, ATTACKER)
        assert isinstance(blocked, RateLimited)
        assert service.login("zhang_san", PASSWORD, OWNER).account.username == "zhang_san"
        clock.advance(seconds=blocked.retry_after)
        fail(service, 1, ATTACKER)
    assert service.login("zhang_san", PASSWORD).account.username == "zhang_san"  # no address


def test_the_attacker_backs_off_exponentially_and_is_told_for_how_long() -> None:
    service, _, clock = make()
    service.register("zhang_san", PASSWORD)
    fail(service, 5, ATTACKER)
    waits = []
    for _ in range(8):
        blocked = failure(lambda: service.login("zhang_san", PASSWORD, ATTACKER))
        assert isinstance(blocked, RateLimited)
        assert (blocked.status, blocked.reason, blocked.field) == (429, "rate_limited", "username")
        assert blocked.headers == {"Retry-After": str(blocked.retry_after)}
        assert blocked.to_dict()["retry_after"] == blocked.retry_after
        waits.append(blocked.retry_after)
        clock.advance(seconds=blocked.retry_after - 1)
        assert isinstance(failure(service.login, "zhang_san", PASSWORD, ATTACKER), RateLimited)
        clock.advance(seconds=1)
        fail(service, 1, ATTACKER)  # allowed again, and wrong again
    assert waits == [60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_a_successful_login_clears_only_its_own_address() -> None:
    service, _, _ = make()
    service.register("zhang_san", PASSWORD)
    fail(service, 4, OWNER)
    fail(service, 5, ATTACKER)
    service.login("zhang_san", PASSWORD, OWNER)
    fail(service, 5, OWNER)  # the owner's typos start from zero again
    assert isinstance(failure(service.login, "zhang_san", PASSWORD, ATTACKER), RateLimited)


def test_a_quiet_day_forgets_the_streak() -> None:
    service, _, clock = make()
    service.register("zhang_san", PASSWORD)
    fail(service, 5, ATTACKER)
    clock.advance(seconds=60)
    fail(service, 1, ATTACKER)
    clock.advance(hours=24)
    fail(service, 5, ATTACKER)  # five free failures again


def test_one_address_is_limited_across_usernames() -> None:
    policy = AccountPolicy(per_address=Backoff(free=3, base=30, cap=300, memory=600))
    service, _, clock = make(policy)
    service.register("zhang_san", PASSWORD)
    for name in ("user_one", "user_two", "user_three"):
        failure(service.login, name, PASSWORD, ATTACKER)
    blocked = failure(lambda: service.login("zhang_san", PASSWORD, ATTACKER))
    assert (blocked.reason, blocked.field) == ("rate_limited", "client")
    assert isinstance(blocked, RateLimited) and blocked.retry_after == 30
    assert service.login("zhang_san", PASSWORD, OWNER).account.username == "zhang_san"
    clock.advance(seconds=30)
    assert service.login("zhang_san", PASSWORD, ATTACKER).account.username == "zhang_san"


def test_malformed_usernames_count_against_the_address() -> None:
    policy = AccountPolicy(per_address=Backoff(free=2, base=30, cap=300, memory=600))
    service, _, _ = make(policy)
    for _ in range(2):
        failure(service.login, "!!", PASSWORD, ATTACKER)
    assert failure(service.login, "zhang_san", PASSWORD, ATTACKER).field == "client"


def test_ipv6_clients_are_one_client_per_64() -> None:
    service, _, _ = make()
    service.register("zhang_san", PASSWORD)
    for host in range(5):
        failure(service.login, "zhang_san", "guess", f"2001:db8:1:2::{host + 1:x}")
    blocked = failure(service.login, "zhang_san", PASSWORD, "2001:db8:1:2:ffff::9")
    assert blocked.reason == "rate_limited"
    assert service.login("zhang_san", PASSWORD, "2001:db8:1:3::1").account.username == "zhang_san"


def test_many_addresses_at_once_slow_every_address_but_lock_out_none() -> None:
    """Credential stuffing: past the username's ceiling, an address that has not failed still
    gets its attempt (the owner logs in), and any address backs off after one failure."""
    policy = AccountPolicy(per_username=RateLimit(limit=20, window=3600))
    service, _, clock = make(policy)
    service.register("zhang_san", PASSWORD)
    for host in range(20):
        fail(service, 1, f"192.0.2.{host}")
    assert service.login("zhang_san", PASSWORD, OWNER).account.username == "zhang_san"
    fail(service, 1, "192.0.2.200")  # a fresh address: one failure...
    slowed = failure(service.login, "zhang_san", PASSWORD, "192.0.2.200")
    assert isinstance(slowed, RateLimited) and slowed.retry_after == 60  # ...then it waits
    # An address that failed once before the crowd came waits now, though 1 < 5.
    assert isinstance(failure(service.login, "zhang_san", PASSWORD, "192.0.2.0"), RateLimited)
    clock.advance(hours=2)  # the ceiling's window passes: five free failures again
    fail(service, 5, "192.0.2.201")


def test_prune_forgets_expired_sessions_and_old_counters() -> None:
    service, store, clock = make(AccountPolicy(session_ttl=timedelta(hours=1)))
    service.register("zhang_san", PASSWORD)
    service.login("zhang_san", PASSWORD)
    failure(lambda: service.login("li_si_wu", PASSWORD, "10.0.0.1"))
    assert service.prune() == (0, 0)
    clock.advance(hours=2)
    assert service.prune() == (1, 0)  # counters are kept for the longest memory: a day
    clock.advance(hours=23)
    assert service.prune() == (0, 3)  # the address, the username there, the username
    assert store.sessions == {} and store.attempts == {}


# --- passengers -----------------------------------------------------------------------


def test_a_resident_id_gives_birth_date_and_sex() -> None:
    service, _, clock = make()
    owner = service.register("zhang_san", PASSWORD)
    saved = service.add_passenger(owner, adult(" " + ADULT_ID.lower() + " "))
    assert (saved.birth_date, saved.sex) == (date(1990, 3, 7), Sex.MALE)
    assert saved.document.number == ADULT_ID
    assert (saved.account_id, saved.created_at) == (owner.id, clock.now())
    assert service.passengers(owner) == [saved]
    assert service.passenger(owner, saved.id) == saved


@pytest.mark.parametrize(
    ("details", "field", "reason"),
    [
        (adult(ADULT_ID[:-1] + ("0" if ADULT_ID[-1] != "0" else "1")), "id_number", "bad_checksum"),
        (adult("1234"), "id_number", "bad_format"),
        (adult(name="X"), "name", "bad_format"),
        (adult(name="张三3"), "name", "bad_format"),
        (adult(birth_date=date(1990, 3, 8)), "birth_date", "mismatch"),
        (adult(sex=Sex.FEMALE), "sex", "mismatch"),
        (
            PassengerDetails("John Smith", Document(DocumentKind.PASSPORT, "E12345678")),
            "birth_date",
            "required",
        ),
        (
            PassengerDetails(
                "John Smith", Document(DocumentKind.PASSPORT, "E12345678"), date(1980, 1, 1)
            ),
            "sex",
            "required",
        ),
        (
            PassengerDetails(
                "John Smith",
                Document(DocumentKind.PASSPORT, "E12345678"),
                date(2027, 1, 1),
                Sex.MALE,
            ),
            "birth_date",
            "bad_date",
        ),
    ],
)
def test_bad_passengers_are_refused_naming_the_field(
    details: PassengerDetails, field: str, reason: str
) -> None:
    service, store, _ = make()
    owner = service.register("zhang_san", PASSWORD)
    error = failure(lambda: service.add_passenger(owner, details))
    assert (error.field, error.reason, error.status) == (field, reason, 400)
    assert store.people == {}


def test_a_document_is_saved_once_per_account_but_by_any_account() -> None:
    service, _, _ = make()
    owner = service.register("zhang_san", PASSWORD)
    other = service.register("li_si_wu", PASSWORD)
    service.add_passenger(owner, adult())
    error = failure(lambda: service.add_passenger(owner, adult(ADULT_ID.lower(), name="张三丰")))
    assert (error.field, error.reason, error.status) == ("id_number", "duplicate_passenger", 409)
    assert service.add_passenger(other, adult()).account_id == other.id


def test_a_duplicate_caught_only_by_the_store_is_still_duplicate_passenger() -> None:
    service, store, _ = make()
    owner = service.register("zhang_san", PASSWORD)
    service.add_passenger(owner, adult())
    store.skip_document_lookup = True  # as when two requests race past the lookup
    assert failure(lambda: service.add_passenger(owner, adult())).reason == "duplicate_passenger"


def test_another_accounts_passenger_is_not_found() -> None:
    service, _, _ = make()
    owner = service.register("zhang_san", PASSWORD)
    other = service.register("li_si_wu", PASSWORD)
    saved = service.add_passenger(owner, adult())
    for action in (
        lambda: service.passenger(other, saved.id),
        lambda: service.delete_passenger(other, saved.id),
    ):
        error = failure(action)
        assert isinstance(error, NotFound) and error.status == 404
    assert service.passengers(other) == []
    assert service.passenger(owner, saved.id) == saved


def test_delete_removes_the_passenger() -> None:
    service, _, _ = make()
    owner = service.register("zhang_san", PASSWORD)
    saved = service.add_passenger(owner, adult())
    service.delete_passenger(owner, saved.id)
    assert service.passengers(owner) == []
    assert failure(lambda: service.delete_passenger(owner, saved.id)).status == 404


def test_an_account_saves_a_limited_number_of_passengers() -> None:
    service, _, _ = make(AccountPolicy(max_passengers=1))
    owner = service.register("zhang_san", PASSWORD)
    service.add_passenger(owner, adult())
    error = failure(lambda: service.add_passenger(owner, adult(CHILD_ID, name="张小妹")))
    assert (error.reason, error.status) == ("too_many_passengers", 409)


def test_ticket_type_follows_age_and_flags() -> None:
    service, _, _ = make()
    owner = service.register("zhang_san", PASSWORD)
    child = service.add_passenger(owner, adult(CHILD_ID, name="张小妹"))
    student = service.add_passenger(owner, adult(student=True))
    assert child.sex is Sex.FEMALE
    assert child.ticket_type_on(date(2026, 2, 10)).value == "child"
    assert student.ticket_type_on(date(2026, 2, 10)).value == "student"


def test_a_live_session_is_served_from_memory_for_a_few_seconds() -> None:
    service, store, _ = make()
    service.register("zhang_san", PASSWORD)
    token = service.login("zhang_san", PASSWORD).token
    service.authenticate(token)
    # a revocation written by another process is not seen while the entry is fresh ...
    store.revoke_session(hashlib.sha256(token.encode()).hexdigest(), service.clock.now())
    assert service.authenticate(token).username == "zhang_san"
    # ... and is once the cache may not be trusted any more
    strict, strict_store, _ = make(AccountPolicy(session_cache_seconds=0))
    strict.register("li_si_01", PASSWORD)
    other = strict.login("li_si_01", PASSWORD).token
    strict.authenticate(other)
    strict_store.revoke_session(hashlib.sha256(other.encode()).hexdigest(), strict.clock.now())
    assert failure(lambda: strict.authenticate(other)).reason == "unauthenticated"


def test_a_revocation_elsewhere_drops_the_kept_sessions_at_the_next_look() -> None:
    service, store, _ = make()
    service.register("zhang_san", PASSWORD)
    token = service.login("zhang_san", PASSWORD).token
    service.forget_revoked_elsewhere()  # the first look sets the count
    service.authenticate(token)
    assert not service.forget_revoked_elsewhere()  # nothing revoked since: kept
    store.revoke_session(hashlib.sha256(token.encode()).hexdigest(), service.clock.now())
    assert service.authenticate(token).username == "zhang_san"  # not looked yet
    assert service.forget_revoked_elsewhere()
    assert failure(lambda: service.authenticate(token)).reason == "unauthenticated"


def test_a_session_read_before_a_revocation_count_moved_is_not_kept() -> None:
    """A read that raced a logout elsewhere (read live, revoked, then the count seen) must
    not be kept for the next seconds."""
    service, store, _ = make()
    service.register("zhang_san", PASSWORD)
    token = service.login("zhang_san", PASSWORD).token
    service.forget_revoked_elsewhere()
    hashed = hashlib.sha256(token.encode()).hexdigest()
    read = store.session_account

    def racing(token_hash: str) -> object:
        found = read(token_hash)  # read while live ...
        store.revoke_session(token_hash, service.clock.now())  # ... revoked elsewhere ...
        service.forget_revoked_elsewhere()  # ... and the follower looks before it is kept
        return found

    store.session_account = racing  # type: ignore[method-assign,assignment]
    assert service.authenticate(token).username == "zhang_san"
    store.session_account = read  # type: ignore[method-assign]
    assert hashed not in service._sessions
    assert failure(lambda: service.authenticate(token)).reason == "unauthenticated"


def test_an_expired_session_is_refused_even_when_cached() -> None:
    service, _, clock = make()
    service.register("zhang_san", PASSWORD)
    token = service.login("zhang_san", PASSWORD).token
    service.authenticate(token)
    clock.advance(days=8)
    assert failure(lambda: service.authenticate(token)).reason == "unauthenticated"
