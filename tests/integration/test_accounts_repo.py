from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from open12306.accounts.adapters.accounts_repo import SqlAccountsStore
from open12306.accounts.domain.identity import Document, DocumentKind, Sex
from open12306.accounts.domain.passengers import Passenger
from open12306.accounts.ports import Account, AccountStatus, Duplicate, StoredSession
from open12306.database.migrate import downgrade, upgrade
from tests.conftest import TEST_CIPHER

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 2, 10, 9, 30, 15, tzinfo=SHANGHAI)


def account(account_id: str = "a1", username: str = "zhang_san") -> Account:
    return Account(account_id, username, "$scrypt$ln=1,r=8,p=1$c2FsdA$aGFzaA", NOW)


def passenger(pid: str, account_id: str = "a1", number: str = "E12345678") -> Passenger:
    return Passenger(
        id=pid,
        account_id=account_id,
        name="John Smith",
        document=Document(DocumentKind.PASSPORT, number),
        birth_date=date(1980, 1, 31),
        sex=Sex.MALE,
        student=False,
        disabled_military=True,
        created_at=NOW + timedelta(seconds=len(pid)),
    )


def test_accounts_round_trip_and_usernames_are_unique(db_url: str) -> None:
    store = SqlAccountsStore.from_url(db_url, TEST_CIPHER)
    store.add_account(account())
    loaded = store.account_by_username("zhang_san")
    assert loaded == account()
    assert loaded is not None and loaded.created_at.utcoffset() is not None
    assert store.account_by_id("a1") == loaded
    assert store.account_by_id("zz") is None and store.account_by_username("li_si") is None
    with pytest.raises(Duplicate):
        store.add_account(account("a2"))
    store.set_password_hash("a1", "new-hash")
    assert store.account_by_id("a1") == replace(account(), password_hash="new-hash")
    assert store.account_by_id("a1").status is AccountStatus.ACTIVE  # type: ignore[union-attr]


def test_a_session_is_read_with_its_account_in_one_query(db_url: str) -> None:
    store = SqlAccountsStore.from_url(db_url, TEST_CIPHER)
    store.add_account(account())
    live = StoredSession("h" * 64, "a1", NOW, NOW + timedelta(days=7))
    store.add_session(live)
    assert store.session_account("h" * 64) == (live, account())
    assert store.session_account("x" * 64) is None
    store.revoke_session("h" * 64, NOW)
    found = store.session_account("h" * 64)
    assert found is not None and found[0].revoked_at is not None


def test_sessions_are_stored_revoked_and_pruned(db_url: str) -> None:
    store = SqlAccountsStore.from_url(db_url, TEST_CIPHER)
    store.add_account(account())
    live = StoredSession("h" * 64, "a1", NOW, NOW + timedelta(days=7))
    old = StoredSession("o" * 64, "a1", NOW - timedelta(days=9), NOW - timedelta(days=2))
    store.add_session(live)
    store.add_session(old)
    assert store.session("h" * 64) == live
    assert store.session("x" * 64) is None
    assert store.revoke_session("h" * 64, NOW + timedelta(hours=1))
    assert not store.revoke_session("h" * 64, NOW + timedelta(hours=2))
    revoked = store.session("h" * 64)
    assert revoked is not None and revoked.revoked_at == NOW + timedelta(hours=1)
    assert store.delete_sessions_expired_before(NOW) == 1
    assert store.session("o" * 64) is None and store.session("h" * 64) is not None


def test_failure_counters_add_up_forget_old_windows_and_clear(db_url: str) -> None:
    store = SqlAccountsStore.from_url(db_url, TEST_CIPHER)
    for _ in range(3):
        store.add_failure("user:zhang_san", 900, 0)
    store.add_failure("ip:10.0.0.1", 900, 0)
    assert store.failures("user:zhang_san", [0, 900]) == {900: 3}
    store.add_failure("user:zhang_san", 1800, 900)
    store.add_failure("user:zhang_san", 2700, 1800)
    assert store.failures("user:zhang_san", [900, 1800, 2700]) == {1800: 1, 2700: 1}
    store.clear_failures("user:zhang_san")
    assert store.failures("user:zhang_san", [1800, 2700]) == {}
    assert store.failures("ip:10.0.0.1", [900]) == {900: 1}
    assert store.delete_failures_before(1800) == 1
    assert store.failures("ip:10.0.0.1", [900]) == {}


def test_failure_times_since_a_moment_and_the_longest_key(db_url: str) -> None:
    store = SqlAccountsStore.from_url(db_url)
    key = "pair:" + "z" * 30 + "@" + "h:" + "f" * 32  # as long as a pair key gets
    for moment in (1_000, 1_000, 1_060, 1_180):
        store.add_failure(key, moment, moment - 86_399)
    store.add_failure("addr:203.0.113.66", 1_100, 0)
    assert store.failures_since(key, 1_000) == {1_000: 2, 1_060: 1, 1_180: 1}
    assert store.failures_since(key, 1_061) == {1_180: 1}
    store.add_failure(key, 90_000, 90_000 - 86_399)  # forgets what is a day older
    assert store.failures_since(key, 0) == {90_000: 1}


def test_passengers_are_scoped_to_their_account(db_url: str) -> None:
    store = SqlAccountsStore.from_url(db_url, TEST_CIPHER)
    store.add_account(account())
    store.add_account(account("a2", "li_si_wu"))
    first, second = passenger("p1"), passenger("p22", number="G87654321")
    store.add_passenger(first, "key-1")
    store.add_passenger(second, "key-2")
    store.add_passenger(passenger("p333", "a2"), "key-1")  # another account, same document
    assert store.passengers("a1") == [first, second]
    assert store.passenger("a1", "p1") == first
    assert store.passenger("a2", "p1") is None
    assert store.passenger_by_document("a1", "key-2") == second
    assert store.passenger_by_document("a1", "key-9") is None
    assert store.count_passengers("a1") == 2
    with pytest.raises(Duplicate):
        store.add_passenger(passenger("p4444"), "key-1")
    assert not store.delete_passenger("a2", "p1")
    assert store.delete_passenger("a1", "p1")
    assert store.passengers("a1") == [second]
    assert [p.id for p in store.passengers("a2")] == ["p333"]


def test_times_come_back_as_the_same_instant_in_utc(db_url: str) -> None:
    store = SqlAccountsStore.from_url(db_url, TEST_CIPHER)
    store.add_account(account())
    loaded = store.account_by_id("a1")
    assert loaded is not None
    assert loaded.created_at == NOW
    assert loaded.created_at.astimezone(UTC).hour == 1


def test_naive_times_are_refused(db_url: str) -> None:
    store = SqlAccountsStore.from_url(db_url, TEST_CIPHER)
    with pytest.raises(ValueError):
        store.add_account(replace(account(), created_at=datetime(2026, 2, 10, 9)))


def test_the_accounts_migration_goes_down_and_up(db_url: str) -> None:
    store = SqlAccountsStore.from_url(db_url, TEST_CIPHER)
    store.add_account(account())
    downgrade(db_url, "0001")
    upgrade(db_url)
    assert store.account_by_id("a1") is None
    store.add_account(account())
    assert store.account_by_id("a1") == account()
