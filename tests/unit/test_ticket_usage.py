"""Gate taps mark tickets used on the server, once; a used ticket refuses refund and change."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from open12306.sales.domain import hold, pay, queue, refund_ticket
from open12306.sales.domain.refunds import DEFAULT_LADDER
from open12306.sales.domain.tickets import TicketState, TicketUsed, refuse_if_used
from open12306.sales.ports import OrderRecord
from open12306.travel.services.ticket_usage import (
    TapOutcome,
    TicketTap,
    TicketUsageService,
)
from tests.unit.test_orders_support import NOW, ORDER_NO, TZ, a_passenger, a_trip, seats


class Conflict(Exception):
    pass


class Store:
    """Orders by number; ``write`` checks versions like the SQL store and can be told to
    lose a race once."""

    def __init__(self, record: OrderRecord) -> None:
        self.records = {record.number: record}
        self.writes = 0
        self.race_once = False

    def get(self, number: str) -> OrderRecord | None:
        return self.records.get(number)

    def write(self, records: Sequence[OrderRecord], now: datetime) -> object:
        if self.race_once:
            self.race_once = False
            raise Conflict
        for record in records:
            assert self.records[record.number].version == record.version
            self.records[record.number] = dataclasses.replace(record, version=record.version + 1)
        self.writes += 1
        return records


def paid_record() -> OrderRecord:
    order = queue(ORDER_NO, "acct-1", a_trip(), [a_passenger(1), a_passenger(2)], NOW)
    order = hold(order, seats(55300, 55300), NOW + timedelta(minutes=30))
    order = pay(order, 2 * 55300, NOW + timedelta(minutes=5))
    return OrderRecord(order, ("p1", "p2"), ("k1", "k2"))


def service(store: Store) -> TicketUsageService:
    owners = {t.number: ORDER_NO for t in store.records[ORDER_NO].order.tickets}
    return TicketUsageService(store, owners.get, TZ, Conflict, lambda: NOW)


def tap(subject: str, tap_id: str = "g/j/1", **change: object) -> TicketTap:
    base = TicketTap(tap_id, "ticket", True, subject, "entry", int(NOW.timestamp()) + 3600)
    return dataclasses.replace(base, **change)  # type: ignore[arg-type]


def test_an_admitted_ticket_becomes_used_once() -> None:
    store = Store(paid_record())
    first, second = (t.number for t in store.records[ORDER_NO].order.tickets)
    usage = service(store)
    (result,) = usage.record_taps([tap(first)])
    assert (result.outcome, result.ticket) == (TapOutcome.USED, first)
    used = store.records[ORDER_NO].order.ticket(first)
    assert used.state is TicketState.USED
    assert used.closed_at == datetime.fromtimestamp(tap(first).gate_clock, TZ)
    assert store.records[ORDER_NO].order.ticket(second).state is TicketState.ISSUED
    again = usage.record_taps([tap(first), tap(first, "g/j/2", direction="exit")])
    assert [r.outcome for r in again] == [TapOutcome.ALREADY_USED] * 2
    assert store.writes == 1


def test_refused_ride_and_unknown_taps_change_nothing() -> None:
    store = Store(paid_record())
    number = store.records[ORDER_NO].order.tickets[0].number
    results = service(store).record_taps(
        [
            tap(number, accepted=False),
            tap("serial:42", kind="ride"),
            tap(""),
            tap("E000000000"),
        ]
    )
    assert [r.outcome for r in results] == [
        TapOutcome.SKIPPED,
        TapOutcome.SKIPPED,
        TapOutcome.SKIPPED,
        TapOutcome.UNKNOWN_TICKET,
    ]
    assert store.writes == 0


def test_an_id_lane_tap_counts_and_a_refunded_ticket_is_reported() -> None:
    record = paid_record()
    first, second = (t.number for t in record.order.tickets)
    order, _ = refund_ticket(record.order, second, NOW + timedelta(hours=1), DEFAULT_LADDER)
    store = Store(dataclasses.replace(record, order=order))
    usage = service(store)
    by_id, late = usage.record_taps([tap(first, kind="id_document"), tap(second, "g/j/2")])
    assert by_id.outcome is TapOutcome.USED
    assert late.outcome is TapOutcome.NOT_LIVE and "refunded" in late.detail
    assert store.records[ORDER_NO].order.ticket(second).state is TicketState.REFUNDED


def test_a_lost_race_is_retried() -> None:
    store = Store(paid_record())
    number = store.records[ORDER_NO].order.tickets[0].number
    store.race_once = True
    (result,) = service(store).record_taps([tap(number)])
    assert result.outcome is TapOutcome.USED and store.writes == 1


def test_refuse_if_used() -> None:
    store = Store(paid_record())
    ticket = store.records[ORDER_NO].order.tickets[0]
    refuse_if_used(ticket)  # issued: fine
    service(store).record_taps([tap(ticket.number)])
    with pytest.raises(TicketUsed) as info:
        refuse_if_used(store.records[ORDER_NO].order.ticket(ticket.number))
    assert (info.value.reason, info.value.status) == ("ticket_used", 409)
