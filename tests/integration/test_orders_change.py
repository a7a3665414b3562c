"""Changing paid tickets (改签) and their destination (变更到站) on SQLite and PostgreSQL: the
seat moves, money and ledger follow, and a refused change leaves everything as it was."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from open12306.accounts.ports import Account
from open12306.http.accounts import accounts_router
from open12306.http.app import _install_error_handlers
from open12306.http.orders import orders_router, payments_router
from open12306.inventory.domain import Request, RunInventory
from open12306.inventory.domain.seats import SeatClass
from open12306.sales.domain import OrderState, TicketState
from open12306.sales.domain.ledger import EntryKind, balance_check
from open12306.sales.ports import OrderRecord
from open12306.sales.ports import PaymentRecordState as PaymentState
from open12306.sales.services.changes import ChangeRequest, ChangeService, PendingChange
from open12306.sales.services.orders import OrderRequest
from open12306.shared.errors import DomainError
from tests.integration.orders_support import ADULT_ID, DAY, OTHER_ID, ZONE, World, build_world

G1 = ("G1", DAY)
G3 = ("G3", DAY)
NEXT_DAY = DAY + timedelta(days=1)


@pytest.fixture
def world(db_url: str) -> World:
    return build_world(db_url)


@pytest.fixture
def changes(world: World) -> ChangeService:
    return ChangeService.from_settlement(world.settlement)


def paid_ticket(
    world: World,
    seat_class: SeatClass = SeatClass.SECOND,
    to: str = "AOH",
    who: tuple[str, str, str] = ("zhang_san", "张三", ADULT_ID),
) -> tuple[Account, OrderRecord]:
    """One adult's order on G1 VNP→``to``, held and paid through the credit line."""
    account, ids = world.account(who[0], (who[1], who[2]))
    ask = OrderRequest("G1", DAY, "VNP", to, seat_class, tuple(ids))
    record = world.orders.submit(account, ask)
    world.allocator.run_once()
    assert world.settlement.start(account, record.number, "credit").state == "paid"
    return account, world.orders.get(account, record.number)


def free(world: World, key: tuple[str, date], seat_class: SeatClass, i: int = 0) -> int:
    to = len(world.orders.catalog.train(key[0]).stops) - 1
    return world.read_model.remaining(key, seat_class, i, to)


def balanced(world: World, number: str) -> bool:
    record = world.orders_store.get(number)
    assert record is not None
    return balance_check(world.orders_store.entries(number), record.order.tickets) == []


def fill(world: World, key: tuple[str, date], seat_class: SeatClass, i: int, j: int) -> int:
    """Sell every place left of ``seat_class`` on stops i→j of a run; how many were sold."""
    depart = world.orders.catalog.train(key[0]).stops[i].depart or 0
    departs = datetime.combine(key[1], time(0), ZONE) + timedelta(minutes=depart)
    minutes = int((departs - world.clock.now()).total_seconds() // 60)

    def sell_all(inventory: RunInventory) -> int:
        sold = 0
        while inventory.try_allocate(Request(seat_class, i, j), minutes) is not None:
            sold += 1
        return sold

    return world.inventory.change(key, sell_all)


def test_change_to_another_train_moves_the_seat(world: World, changes: ChangeService) -> None:
    account, record = paid_ticket(world)
    ticket = record.order.tickets[0]
    g1_before, g3_before = free(world, G1, SeatClass.SECOND), free(world, G3, SeatClass.SECOND)
    result = changes.change(
        account, record.number, ticket.number, ChangeRequest("G3", DAY, SeatClass.SECOND)
    )
    assert free(world, G1, SeatClass.SECOND) == g1_before + 1
    assert free(world, G3, SeatClass.SECOND) == g3_before - 1
    stored = world.orders.get(account, record.number).order
    assert stored.ticket(ticket.number).state is TicketState.CHANGED
    new = stored.ticket(result.new_ticket.number)
    assert new.number == ticket.number[:-1] + "1" and new.changed_from == ticket.number
    assert (new.trip.train_code, new.trip.from_station, new.trip.to_station) == (
        "G3",
        "VNP",
        "AOH",
    )
    assert new.state is TicketState.ISSUED and new.coach >= 1
    assert balanced(world, record.number)
    held = changes.allocation_of(result.record, new)
    seat = world.allocator.seats_of("G3")[held.seats[0] or 0]
    assert (seat.coach, seat.label) == (new.coach, new.seat_label)
    world.inventory.release(G3, held)  # the seat the new ticket names is the one it holds
    assert free(world, G3, SeatClass.SECOND) == g3_before


def test_a_dearer_class_on_the_same_run_is_charged_to_credit(
    world: World, changes: ChangeService
) -> None:
    account, record = paid_ticket(world)
    ticket = record.order.tickets[0]
    second, first = free(world, G1, SeatClass.SECOND), free(world, G1, SeatClass.FIRST)
    result = changes.change(
        account, record.number, ticket.number, ChangeRequest("G1", DAY, SeatClass.FIRST)
    )
    assert result.quote.pay_fen == result.new_ticket.fare_fen - ticket.fare_fen > 0
    assert free(world, G1, SeatClass.SECOND) == second + 1
    assert free(world, G1, SeatClass.FIRST) == first - 1
    entries = world.orders_store.entries(record.number)
    assert [(e.kind, e.amount_fen) for e in entries] == [
        (EntryKind.PAYMENT, ticket.fare_fen),
        (EntryKind.PAYMENT, result.quote.pay_fen),
    ]
    assert result.payment_id is not None
    paid = world.orders_store.payment(result.payment_id)
    assert paid is not None and paid.state is PaymentState.SUCCEEDED
    assert paid.amount_fen == result.quote.pay_fen
    assert world.orders_store.credit_used(account.id) == result.new_ticket.fare_fen
    assert balanced(world, record.number)


def test_a_cheaper_change_refunds_the_difference_less_the_fee(
    world: World, changes: ChangeService
) -> None:
    account, record = paid_ticket(world, SeatClass.FIRST)
    ticket = record.order.tickets[0]
    result = changes.change(
        account, record.number, ticket.number, ChangeRequest("G1", DAY, SeatClass.SECOND)
    )
    difference = ticket.fare_fen - result.new_ticket.fare_fen
    # 48 h before departure: the 5 % band, at least 2 yuan, on the difference
    assert result.quote.fee_fen >= 200 and result.quote.fee_fen < difference
    assert result.quote.refund_fen + result.quote.fee_fen == difference
    kinds = [e.kind for e in world.orders_store.entries(record.number)]
    assert kinds == [EntryKind.PAYMENT, EntryKind.REFUND, EntryKind.FEE]
    assert balanced(world, record.number)


def test_change_of_destination_keeps_train_and_boarding(
    world: World, changes: ChangeService
) -> None:
    account, record = paid_ticket(world)
    ticket = record.order.tickets[0]
    result = changes.change_destination(account, record.number, ticket.number, "TIP")
    new = result.new_ticket
    assert (new.trip.train_code, new.trip.from_station, new.trip.to_station) == (
        "G1",
        "VNP",
        "TIP",
    )
    assert new.fare_fen < ticket.fare_fen and result.quote.refund_fen > 0
    # the old seat is free over the whole run again; the new one is taken VNP→TIP only
    assert world.read_model.remaining(G1, SeatClass.SECOND, 1, 2) == free(
        world, G1, SeatClass.SECOND, 1
    )
    assert balanced(world, record.number)
    with pytest.raises(DomainError) as same:
        changes.change_destination(account, record.number, new.number, "TIP")
    assert same.value.reason == "already_changed"


def test_the_old_seat_is_released_only_after_the_new_one_is_held(
    world: World, changes: ChangeService
) -> None:
    """The rider's seat is sold VNP→TIP and every other business seat VNP→AOH: giving the
    old seat back first would let it be taken VNP→AOH; taking the new one first finds none."""
    account, record = paid_ticket(world, SeatClass.BUSINESS, to="TIP")
    ticket = record.order.tickets[0]
    assert fill(world, G1, SeatClass.BUSINESS, 0, 2) > 0
    version = world.orders_store.get(record.number).version  # type: ignore[union-attr]
    tip_aoh = world.read_model.remaining(G1, SeatClass.BUSINESS, 1, 2)
    with pytest.raises(DomainError) as full:
        changes.change_destination(account, record.number, ticket.number, "AOH")
    assert full.value.reason == "sold_out" and full.value.status == 409
    after = world.orders_store.get(record.number)
    assert after is not None and after.version == version
    assert after.order.ticket(ticket.number).state is TicketState.ISSUED
    assert world.read_model.remaining(G1, SeatClass.BUSINESS, 1, 2) == tip_aoh
    assert len(world.orders_store.entries(record.number)) == 1


def test_a_sold_out_target_changes_nothing(world: World, changes: ChangeService) -> None:
    account, record = paid_ticket(world)
    ticket = record.order.tickets[0]
    fill(world, G3, SeatClass.BUSINESS, 0, 1)
    g1 = free(world, G1, SeatClass.SECOND)
    with pytest.raises(DomainError) as full:
        changes.change(
            account, record.number, ticket.number, ChangeRequest("G3", DAY, SeatClass.BUSINESS)
        )
    assert full.value.reason == "sold_out"
    assert free(world, G1, SeatClass.SECOND) == g1
    assert free(world, G3, SeatClass.BUSINESS) == 0
    order = world.orders.get(account, record.number).order
    assert [t.state for t in order.tickets] == [TicketState.ISSUED]
    assert balanced(world, record.number)


def test_a_ticket_changes_once(world: World, changes: ChangeService) -> None:
    account, record = paid_ticket(world)
    ticket = record.order.tickets[0]
    to_g3 = ChangeRequest("G3", DAY, SeatClass.SECOND)
    new = changes.change(account, record.number, ticket.number, to_g3).new_ticket
    for number, target in (
        (new.number, ChangeRequest("G1", DAY, SeatClass.FIRST)),
        (ticket.number, to_g3),
    ):
        with pytest.raises(DomainError) as again:
            changes.change(account, record.number, number, target)
        assert again.value.reason == "already_changed" and again.value.status == 409
    assert len(world.orders.get(account, record.number).order.tickets) == 2


def test_within_48_hours_only_a_train_the_same_day(world: World, changes: ChangeService) -> None:
    account, record = paid_ticket(world)
    ticket = record.order.tickets[0]
    next_day = ChangeRequest("G1", NEXT_DAY, SeatClass.SECOND)
    with pytest.raises(DomainError) as late:
        changes.change(account, record.number, ticket.number, next_day)
    assert late.value.reason == "change_too_late"
    assert free(world, ("G1", NEXT_DAY), SeatClass.SECOND) == free(world, G1, SeatClass.SECOND) + 1
    world.clock.current -= timedelta(hours=1)  # 49 h ahead: any train on sale
    moved = changes.change(account, record.number, ticket.number, next_day).new_ticket
    assert moved.trip.service_date == NEXT_DAY
    assert world.orders.get(account, record.number).order.state is OrderState.PAID


def test_a_change_keeps_the_route(world: World, changes: ChangeService) -> None:
    account, record = paid_ticket(world)
    ticket = record.order.tickets[0]
    elsewhere = ChangeRequest("G1", DAY, SeatClass.SECOND, from_station="TIP")
    same = ChangeRequest("G1", DAY, SeatClass.SECOND)
    for target, reason in ((elsewhere, "not_same_route"), (same, "same_trip")):
        with pytest.raises(DomainError) as refused:
            changes.change(account, record.number, ticket.number, target)
        assert refused.value.reason == reason
    with pytest.raises(DomainError) as gone:
        changes.change(
            account,
            record.number,
            ticket.number,
            ChangeRequest("G1", DAY + timedelta(days=9), SeatClass.SECOND),
        )
    assert gone.value.reason in {"unknown_run", "not_on_sale_yet"}


def test_change_over_http(world: World) -> None:
    app = FastAPI()
    _install_error_handlers(app)
    app.include_router(accounts_router(lambda: world.accounts))
    app.include_router(orders_router(lambda: world.orders, lambda: world.accounts))
    app.include_router(payments_router(lambda: world.settlement, lambda: world.accounts))
    client = TestClient(app)
    _, record = paid_ticket(world)
    token = world.accounts.login("zhang_san", "rail-pass-2026").token
    headers = {"Authorization": f"Bearer {token}"}
    ticket = record.order.tickets[0].number
    url = f"/api/v1/orders/{record.number}/tickets/{ticket}/change"
    body = {"train": "G3", "date": DAY.isoformat(), "seat_class": "second"}
    changed = client.post(url, json=body, headers=headers)
    assert changed.status_code == 200, changed.text
    answer = changed.json()
    assert answer["old_ticket"] == ticket and answer["ticket"]["train"] == "G3"
    again = client.post(url, json=body, headers=headers)
    assert (again.status_code, again.json()["error"]["reason"]) == (409, "already_changed")
    new = answer["ticket"]["number"]
    dest = client.post(
        f"/api/v1/orders/{record.number}/tickets/{new}/destination",
        json={"to": "TIP"},
        headers=headers,
    )
    assert (dest.status_code, dest.json()["error"]["reason"]) == (409, "already_changed")
    _, other = paid_ticket(world, who=("li_si_99", "李四", OTHER_ID))
    other_headers = {
        "Authorization": f"Bearer {world.accounts.login('li_si_99', 'rail-pass-2026').token}"
    }
    stranger = client.post(url, json=body, headers=other_headers)
    assert stranger.status_code == 404
    own = other.order.tickets[0].number
    moved = client.post(
        f"/api/v1/orders/{other.number}/tickets/{own}/destination",
        json={"to": "TIP"},
        headers=other_headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["ticket"]["to"] == "TIP" and moved.json()["refund_fen"] > 0
    bad = client.post(url, json={**body, "seat_class": "sofa"}, headers=headers)
    assert (bad.status_code, bad.json()["error"]["reason"]) == (400, "invalid")
    order = client.get(f"/api/v1/orders/{record.number}", headers=headers).json()
    assert [t["state"] for t in order["tickets"]] == ["changed", "issued"]


class RacingStore:
    """The orders store, with another sale on ``run`` slipped in before the first write."""

    def __init__(self, world: World, run: tuple[str, date]) -> None:
        self.inner = world.orders_store
        self.world = world
        self.run = run
        self.raced = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def write_runs(self, *args: Any, **kwargs: Any) -> Any:
        if not self.raced:
            self.raced += 1
            self.world.inventory.sell(self.run, Request(SeatClass.SECOND, 0, 1))
        return self.inner.write_runs(*args, **kwargs)


@pytest.mark.parametrize("run", [G1, G3])
def test_both_runs_are_version_checked(world: World, run: tuple[str, date]) -> None:
    account, record = paid_ticket(world)
    ticket = record.order.tickets[0]
    racing = RacingStore(world, run)
    changes = ChangeService.from_settlement(world.settlement)
    changes.store = racing  # type: ignore[assignment]
    g1, g3 = free(world, G1, SeatClass.SECOND), free(world, G3, SeatClass.SECOND)
    result = changes.change(
        account, record.number, ticket.number, ChangeRequest("G3", DAY, SeatClass.SECOND)
    )
    assert racing.raced == 1
    # the racing sale and the change both stand: the change was redone on fresh state
    assert free(world, G1, SeatClass.SECOND) == g1 + 1 - (run == G1)
    assert free(world, G3, SeatClass.SECOND) == g3 - 1 - (run == G3)
    assert result.record.version == record.version + 1
    assert balanced(world, record.number)


def test_a_dearer_change_beyond_the_credit_limit_changes_nothing(
    world: World, changes: ChangeService
) -> None:
    account, record = paid_ticket(world)
    ticket = record.order.tickets[0]
    changes.credit_limit_fen = world.orders_store.credit_used(account.id)
    first = free(world, G1, SeatClass.FIRST)
    with pytest.raises(DomainError) as refused:
        changes.change(
            account, record.number, ticket.number, ChangeRequest("G1", DAY, SeatClass.FIRST)
        )
    assert refused.value.reason == "credit_limit"
    assert free(world, G1, SeatClass.FIRST) == first
    assert world.orders.get(account, record.number).order.tickets == record.order.tickets


def test_refunding_a_changed_ticket_frees_its_new_seat(
    world: World, changes: ChangeService
) -> None:
    account, record = paid_ticket(world)
    ticket = record.order.tickets[0]
    result = changes.change(
        account, record.number, ticket.number, ChangeRequest("G3", DAY, SeatClass.SECOND)
    )
    g3_after_change = free(world, G3, SeatClass.SECOND)
    world.settlement.refund(account, record.number, result.new_ticket.number)
    assert free(world, G3, SeatClass.SECOND) == g3_after_change + 1
    assert balanced(world, record.number)


def test_after_a_change_the_order_shows_the_live_ticket_and_the_money(world: World) -> None:
    """The order, "My orders" and the operator's view show the new train and seat after a
    change, and the money taken and given back, not the booking as first made."""
    from open12306.cli import orders as cli_orders

    app = FastAPI()
    _install_error_handlers(app)
    app.include_router(accounts_router(lambda: world.accounts))
    app.include_router(orders_router(lambda: world.orders, lambda: world.accounts))
    app.include_router(payments_router(lambda: world.settlement, lambda: world.accounts))
    client = TestClient(app)
    _, record = paid_ticket(world)
    headers = {
        "Authorization": f"Bearer {world.accounts.login('zhang_san', 'rail-pass-2026').token}"
    }
    ticket = record.order.tickets[0].number
    url = f"/api/v1/orders/{record.number}/tickets/{ticket}"
    priced = client.post(f"{url}/destination/quote", json={"to": "TIP"}, headers=headers)
    assert priced.status_code == 200, priced.text
    offer = priced.json()
    assert offer["pay_fen"] == 0 and offer["refund_fen"] > 0 and offer["channel"] is None
    moved = client.post(f"{url}/destination", json={"to": "TIP"}, headers=headers).json()
    assert moved["refund_fen"] == offer["refund_fen"]
    new = moved["ticket"]
    order = client.get(f"/api/v1/orders/{record.number}", headers=headers).json()
    [listed] = client.get("/api/v1/orders", headers=headers).json()["orders"]
    operator = cli_orders._view(_WorldContainer(world), world.orders_store.get(record.number))
    for view in (order, listed, operator):
        assert (view["train"], view["to"]) == ("G1", "TIP")
        assert view["booked"]["to"] == "AOH"
        [passenger] = view["passengers"]
        assert passenger["ticket"] == new["number"]
        assert (passenger["coach"], passenger["seat"]) == (new["coach"], new["seat"])
        assert passenger["fare_fen"] == new["fare_fen"]
        assert view["paid_fen"] == record.order.total_fen
        assert view["refunded_fen"] == moved["refund_fen"]
        assert view["fee_fen"] == moved["fee_fen"]


class _WorldContainer:
    """What the operator command reads, from the test world."""

    def __init__(self, world: World) -> None:
        self.orders = world.orders
        self.accounts = world.accounts


@pytest.mark.parametrize("origin", ["北京南", "beijingnan", "北京", "VNP"])
def test_a_change_names_its_stations_in_every_form_search_takes(
    world: World, changes: ChangeService, origin: str
) -> None:
    account, record = paid_ticket(world)
    ticket = record.order.tickets[0]
    target = ChangeRequest("G3", DAY, SeatClass.SECOND, from_station=origin, to_station="上海虹桥")
    moved = changes.change(account, record.number, ticket.number, target)
    assert not isinstance(moved, PendingChange)
    assert (moved.new_ticket.trip.from_station, moved.new_ticket.trip.to_station) == ("VNP", "AOH")
