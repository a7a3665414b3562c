"""Transit settlement on a real database (SQLite and PostgreSQL): taps stored once, a day
charged once, late taps corrected by the difference, the credit line's limit, debts and
the credit record."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from open12306.shared.clock import FixedClock
from open12306.transit.adapters.transit_repo import SqlTransitStore
from open12306.transit.domain import (
    Caps,
    Tap,
    TapDirection,
    metro_operator,
    service_day_bounds,
)
from open12306.transit.ports import Debt
from open12306.transit.services.credit_line import CreditLineCharger, TransitCredit
from open12306.transit.services.day_settlement import TransitSettlement, pay_debt

DAY = date(2027, 1, 15)
START = service_day_bounds(DAY)[0] + 3 * 3600
METRO = metro_operator("metro", [("A", "B", 5_000), ("B", "C", 5_000)], caps=Caps(daily_fen=700))


def wired(url: str) -> tuple[SqlTransitStore, TransitSettlement, FixedClock]:
    clock = FixedClock(datetime(2027, 1, 16, 2, tzinfo=UTC))
    store = SqlTransitStore.from_url(url, clock.now)
    charger = CreditLineCharger(store, store.deny_list, TransitCredit(store, clock), clock)
    service = TransitSettlement(store, {"metro": METRO}, charger, store.deny_list, store.arrears)
    return store, service, clock


def ride(n: int, account: str, origin: str, destination: str, at: int) -> list[Tap]:
    return [
        Tap(f"g/{n}a", account, "metro", origin, TapDirection.ENTRY, at),
        Tap(f"g/{n}b", account, "metro", destination, TapDirection.EXIT, at + 900),
    ]


def test_taps_are_stored_once_and_read_back_by_time(db_url: str) -> None:
    store, _, _ = wired(db_url)
    taps = ride(1, "aa", "A", "C", START)
    assert store.receive_taps(taps) == 2
    assert store.receive_taps(taps + ride(2, "aa", "C", "A", START + 3600)) == 2
    assert store.taps_between(START, START + 1000) == taps


def test_a_day_is_charged_once_and_late_taps_charge_or_refund_the_difference(
    db_url: str,
) -> None:
    store, service, _ = wired(db_url)
    entry_only = ride(1, "aa", "A", "B", START)[:1]
    store.receive_taps(entry_only)
    first = service.settle(DAY)  # an entry with no exit: the maximum fare, within the cap
    assert (first.charged_fen, first.accounts) == (400, 1)
    assert service.settle(DAY).charged_fen == 0
    store.receive_taps(ride(1, "aa", "A", "B", START)[1:])  # the late exit: a 3-yuan ride
    late = service.settle(DAY)
    assert (late.corrections, late.refunded_fen, late.charged_fen) == (1, 100, 0)
    store.receive_taps(ride(2, "aa", "A", "C", START + 3600))  # 4 more yuan, capped at 7
    more = service.settle(DAY)
    assert (more.charged_fen, more.capped_savings_fen) == (400, 0)
    [settled] = store.settled(DAY)
    assert (settled.amount_fen, settled.corrections) == (700, 2)
    draws = store.draws("aa")
    assert sum(d.amount_fen for d in draws if d.collected) == 700
    assert store.drawn("aa", DAY, DAY) == 700


def test_charges_above_the_credit_limit_fail_into_arrears_until_paid(db_url: str) -> None:
    store, _, clock = wired(db_url)
    credit = TransitCredit(store, clock)
    charger = CreditLineCharger(store, store.deny_list, credit, clock)
    assert credit.assess("bb").credit_limit_fen == 50_000
    assert charger.charge("bb", 40_000, "bb/2027-01-15")
    assert not charger.charge("bb", 20_000, "bb/2027-01-16")  # 600 yuan in the month
    assert store.draw("bb/2027-01-16") is not None
    assert not charger.charge("bb", 20_000, "bb/2027-01-16")  # same answer, once
    store.arrears.add(Debt("bb/2027-01-16", "bb", 20_000))
    store.deny_list.add("bb")
    assert credit.assess("bb").reason == "arrears"
    assert not charger.charge("bb", 100, "bb/2027-01-17")  # blocked while denied
    clock.advance(timedelta(days=2))
    assert pay_debt("bb", _Paid(), store.deny_list, store.arrears) == 0
    assert store.deny_list.accounts() == frozenset()
    record = credit.record("bb", clock.now())
    assert (record.failed_charges, record.repaid_on_time, record.arrears_fen) == (1, 1, 0)
    assert (record.paid_days, record.account_age_days) == (1, 2)


class _Paid:
    def charge(self, account_token: str, amount_fen: int, reference: str) -> bool:
        return True


def test_the_weekly_cap_stops_charges_once_the_week_reached_it(db_url: str) -> None:
    weekly = metro_operator(
        "metro", [("A", "B", 5_000), ("B", "C", 5_000)], caps=Caps(daily_fen=700, weekly_fen=2_000)
    )
    clock = FixedClock(datetime(2027, 1, 25, 2, tzinfo=UTC))
    store = SqlTransitStore.from_url(db_url, clock.now)
    charger = CreditLineCharger(store, store.deny_list, TransitCredit(store, clock), clock)
    service = TransitSettlement(store, {"metro": weekly}, charger, store.deny_list, store.arrears)
    monday = date(2027, 1, 18)  # a Monday: the capping week runs Monday to Sunday
    charged = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        start = service_day_bounds(day)[0] + 3 * 3600
        taps = [
            t for n in range(3) for t in ride(10 * offset + n, "aa", "A", "C", start + n * 3600)
        ]
        store.receive_taps(taps)  # three 4-yuan rides a day: 12 yuan, capped at 7 a day
        charged.append(service.settle(day).charged_fen)
    assert charged == [700, 700, 600, 0, 0, 0, 0]  # the week stops at 20 yuan
    next_monday = monday + timedelta(days=7)
    store.receive_taps(ride(99, "aa", "A", "C", service_day_bounds(next_monday)[0] + 3 * 3600))
    assert service.settle(next_monday).charged_fen == 400  # a new week starts from nothing
