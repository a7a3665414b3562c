"""The conductor's manifest and handheld check on SQLite and PostgreSQL: who should be where
on a segment, from real orders, tickets and the run's inventory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest

from open12306.accounts.ports import Account
from open12306.catalog.domain.stations import Station
from open12306.catalog.domain.timetable import StopTime, Train
from open12306.inventory.adapters.inventory_repo import VersionConflict
from open12306.inventory.domain import Request, RunInventory
from open12306.inventory.domain.seats import SeatClass
from open12306.sales.adapters.onboard_repo import DuplicateOrder, SqlOnboardStore
from open12306.sales.ports import OrderRecord
from open12306.sales.services.orders import OrderRequest
from open12306.shared.errors import DomainError
from open12306.travel.domain.codes import seal_ticket
from open12306.travel.domain.onboard import OnboardReason, StaffMember, StaffRole
from open12306.travel.services.conductor import ConductorService
from open12306.travel.services.onboard_sales import CreditOnboardPayment, OnboardSales
from tests.integration import orders_support
from tests.integration.orders_support import ADULT_ID, DAY, OTHER_ID, ZONE, World, build_world
from tests.unit.codes_support import FakeIssuer, a_ticket
from tests.unit.gate_support import FakeKeyring

# G5 calls at four stations, so a rider can be found two stops past their destination.
NKH = Station("NKH", "南京南", "nanjingnan", "njn", "南京", 31.9, 118.8)
G5 = Train(
    "G5",
    (
        StopTime("VNP", None, 700, 0),
        StopTime("TIP", 730, 732, 120),
        StopTime("NKH", 900, 903, 1023),
        StopTime("AOH", 980, None, 1318),
    ),
    "emu-8",
    synthetic=True,
)
CONDUCTOR = StaffMember("c-1", StaffRole.CONDUCTOR)


@dataclass
class Onboard:
    """The order world plus the conductor's services."""

    world: World
    store: SqlOnboardStore
    conductor: ConductorService
    sales: OnboardSales


def build_onboard(url: str) -> Onboard:
    world = build_world(url)
    world.store.save_network([*orders_support.STATIONS, NKH], [G5], "onboard-test")
    world.store.add_runs([("G5", DAY)])
    catalog = world.orders.catalog
    catalog.trains["G5"] = G5
    world.read_model.runs.add(("G5", DAY))
    store = SqlOnboardStore(world.store.engine)
    conductor = ConductorService(store, catalog, world.store.runs)
    credit = CreditOnboardPayment(store, world.accounts.authenticate)
    sales = OnboardSales(
        store,
        conductor,
        world.read_model,
        world.accounts.keyer,
        world.clock,
        ZONE,
        {"credit": credit},
        conflict=VersionConflict,
        duplicate=DuplicateOrder,
    )
    return Onboard(world, store, conductor, sales)


@pytest.fixture
def onboard(db_url: str) -> Onboard:
    return build_onboard(db_url)


def paid(
    world: World,
    who: tuple[str, str, str] = ("zhang_san", "张三丰", ADULT_ID),
    train: str = "G1",
    to: str = "AOH",
    seat_class: SeatClass = SeatClass.SECOND,
    allow_standing: bool = False,
) -> tuple[Account, OrderRecord]:
    account, ids = world.account(who[0], (who[1], who[2]))
    ask = OrderRequest(train, DAY, "VNP", to, seat_class, tuple(ids), allow_standing=allow_standing)
    record = world.orders.submit(account, ask)
    world.allocator.run_once()
    assert world.settlement.start(account, record.number, "credit").state == "paid"
    return account, world.orders.get(account, record.number)


def board(onboard: Onboard, stop: str, train: str = "G5", minutes: int = 0) -> None:
    """Move the clock to the train's scheduled departure from ``stop`` (plus ``minutes``)."""
    found = next(s for s in onboard.world.orders.catalog.train(train).stops if s.station == stop)
    assert found.depart is not None
    midnight = datetime.combine(DAY, time(0), ZONE)
    onboard.world.clock.current = midnight + timedelta(minutes=found.depart + minutes)


def fill(world: World, key: tuple[str, date], seat_class: SeatClass, i: int, j: int) -> int:
    def sell_all(inventory: RunInventory) -> int:
        sold = 0
        while inventory.try_allocate(Request(seat_class, i, j), -60) is not None:
            sold += 1
        return sold

    return world.inventory.change(key, sell_all)


def test_the_manifest_lists_riders_of_the_segment(onboard: Onboard) -> None:
    world = onboard.world
    _, long = paid(world)
    _, short = paid(world, ("li_si_4", "李四", OTHER_ID), to="TIP")
    first = onboard.conductor.manifest("G1", DAY, "VNP")
    seats = {(o.coach, o.seat_label): o for o in first.seated}
    mine = long.order.tickets[0]
    occupant = seats[(mine.coach, mine.seat_label)]
    assert (occupant.name, occupant.ticket_no, occupant.from_station, occupant.to_station) == (
        "张*丰",
        mine.number,
        "VNP",
        "AOH",
    )
    assert occupant.boards_here and not occupant.alights_next
    assert len(first.seated) == 2 and first.standing == ()
    total = sum(
        world.orders.catalog.composition("G1").capacity(c)
        for c in (SeatClass.BUSINESS, SeatClass.FIRST, SeatClass.SECOND)
    )
    assert first.empty_count == total - 2
    second = onboard.conductor.manifest("G1", DAY, "tip")
    assert [o.ticket_no for o in second.seated] == [mine.number]
    assert short.order.tickets[0].number not in {o.ticket_no for o in second.seated}
    assert second.empty_count == total - 1
    assert second.unticketed == ()


def test_refunded_tickets_leave_the_manifest_and_free_their_seat(onboard: Onboard) -> None:
    world = onboard.world
    account, record = paid(world)
    before = onboard.conductor.manifest("G1", DAY, "VNP")
    world.settlement.refund(account, record.number, record.order.tickets[0].number)
    after = onboard.conductor.manifest("G1", DAY, "VNP")
    assert (len(before.seated), len(after.seated)) == (1, 0)
    assert after.empty_count == before.empty_count + 1
    run = onboard.conductor.run_manifest("G1", DAY)
    assert run.revoked == {record.order.tickets[0].number} and run.live == frozenset()


def test_standing_riders_are_listed_apart(onboard: Onboard) -> None:
    world = onboard.world
    fill(world, ("G1", DAY), SeatClass.SECOND, 0, 2)
    _, record = paid(world, allow_standing=True)
    found = onboard.conductor.manifest("G1", DAY, "VNP")
    assert [o.ticket_no for o in found.standing] == [record.order.tickets[0].number]
    assert all(v.seat_class is not SeatClass.SECOND for v in found.empty)


UNKNOWN = [
    ("G999", DAY, "VNP", 404, "train", "unknown_train"),
    ("G1", date(2026, 5, 1), "VNP", 404, "date", "unknown_run"),
    ("G1", DAY, "XXX", 400, "stop", "unknown_station"),
    ("G3", DAY, "天津", 422, "stop", "not_on_route"),
    ("G1", DAY, "AOH", 422, "stop", "last_stop"),
]


def test_unknown_runs_and_stops_are_named(onboard: Onboard) -> None:
    for train, day, stop, status, field, reason in UNKNOWN:
        with pytest.raises(DomainError) as refused:
            onboard.conductor.manifest(train, day, stop)
        error = refused.value
        assert (error.status, error.field, error.reason) == (status, field, reason), train


@pytest.mark.parametrize("stop", ["TIP", "tip", "天津", "天津站", "tianjin", "tj"])
def test_a_stop_is_named_in_every_form_search_takes(onboard: Onboard, stop: str) -> None:
    found = onboard.conductor.manifest("G1", DAY, stop)
    assert (found.from_station, found.to_station) == ("TIP", "AOH")


def test_the_handheld_check_uses_the_live_manifest(onboard: Onboard) -> None:
    world = onboard.world
    account, record = paid(world, to="TIP")
    ticket = record.order.tickets[0]

    def code(number: str) -> bytes:
        fields = {"ticket_no": number, "service_date": DAY, "to_station": "TIP"}
        return seal_ticket(a_ticket(**fields), FakeIssuer(7))

    keyring = FakeKeyring()
    ok = onboard.conductor.check_code(code(ticket.number), "G1", DAY, "VNP", keyring)
    assert ok.reason is OnboardReason.OK
    beyond = onboard.conductor.check_code(code(ticket.number), "G1", DAY, "TIP", keyring)
    assert beyond.reason is OnboardReason.BEYOND_DESTINATION
    world.settlement.refund(account, record.number, ticket.number)
    revoked = onboard.conductor.check_code(code(ticket.number), "G1", DAY, "VNP", keyring)
    assert revoked.reason is OnboardReason.REVOKED
