"""Tickets sold on board on SQLite and PostgreSQL: the seat (or standing place) is taken in
the run's inventory, the paid order, payment and ledger are written together, and a refused
or conflicting sale leaves nothing half-written."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from open12306.accounts.domain.identity import Document, DocumentKind
from open12306.accounts.ports import Account
from open12306.inventory.domain.seats import SeatClass
from open12306.sales.domain import TicketState
from open12306.sales.domain.ledger import EntryKind, balance_check
from open12306.shared.errors import DomainError
from open12306.travel.domain.onboard import StaffMember, StaffRole
from open12306.travel.ports import Authorized, OnboardCharge, OnboardPayment
from open12306.travel.services.onboard_sales import SaleRequest, SaleResult, Traveller
from tests.integration.orders_support import ADULT_ID, DAY, OTHER_ID
from tests.integration.test_onboard_conductor import (
    CONDUCTOR,
    Onboard,
    board,
    build_onboard,
    fill,
    paid,
)
from tests.unit.accounts_support import resident_id

WALK_UP_ID = resident_id("44030419800101456")


@pytest.fixture
def onboard(db_url: str) -> Onboard:
    return build_onboard(db_url)


def payer(onboard: Onboard, name: str = "payer_account") -> tuple[Account, str]:
    account = onboard.world.accounts.register(name, "rail-pass-2026")
    return account, onboard.world.accounts.login(name, "rail-pass-2026").token


def request(token: str, **changes: object) -> SaleRequest:
    base = SaleRequest(
        train_code="G5",
        service_date=DAY,
        current_stop="TIP",
        to_station="AOH",
        seat_class=SeatClass.SECOND,
        channel="credit",
        payer=token,
        traveller=Traveller("王小二", Document(DocumentKind.RESIDENT_ID, WALK_UP_ID)),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def free(onboard: Onboard, train: str, seat_class: SeatClass, i: int, j: int) -> int:
    onboard.world.read_model.refresh(force=True)
    return onboard.world.read_model.remaining((train, DAY), seat_class, i, j)


def balanced(onboard: Onboard, result: SaleResult) -> bool:
    entries = onboard.store.entries(result.record.number)
    return balance_check(entries, result.record.order.tickets) == []


def test_a_supplementary_ticket_takes_a_seat_and_is_paid_on_credit(onboard: Onboard) -> None:
    account, token = payer(onboard)
    board(onboard, "TIP")
    before = free(onboard, "G5", SeatClass.SECOND, 1, 3)
    result = onboard.sales.sell(CONDUCTOR, request(token))
    ticket = result.ticket
    assert (ticket.trip.from_station, ticket.trip.to_station, ticket.state) == (
        "TIP",
        "AOH",
        TicketState.ISSUED,
    )
    assert ticket.coach > 0 and not result.standing
    fare = onboard.world.orders.catalog.price(
        onboard.world.orders.catalog.train("G5"), SeatClass.SECOND, 1, 3
    )
    assert (result.price.fare_fen, result.price.fee_fen, result.price.total_fen) == (
        fare,
        200,
        fare + 200,
    )
    assert free(onboard, "G5", SeatClass.SECOND, 1, 3) == before - 1
    stored = onboard.store.get(result.record.number)
    assert stored is not None and stored.order.account == account.id
    payment = onboard.world.orders_store.payment(result.payment_id)
    assert payment is not None and payment.amount_fen == fare + 200
    assert onboard.world.orders_store.credit_used(account.id) == fare + 200
    kinds = sorted((e.kind, e.amount_fen) for e in onboard.store.entries(result.record.number))
    assert kinds == sorted([(EntryKind.PAYMENT, fare + 200), (EntryKind.FEE, 200)])
    assert balanced(onboard, result)
    seated = onboard.conductor.manifest("G5", DAY, "TIP").seated
    assert [(o.name, o.ticket_no) for o in seated] == [("王*二", ticket.number)]


def test_standing_when_no_seat_is_free_on_every_remaining_segment(onboard: Onboard) -> None:
    _, token = payer(onboard)
    fill(onboard.world, ("G5", DAY), SeatClass.SECOND, 2, 3)  # NKH-AOH full
    board(onboard, "TIP")
    result = onboard.sales.sell(CONDUCTOR, request(token))
    assert result.standing and result.ticket.seat_label == ""
    catalog = onboard.world.orders.catalog
    standing_fare = catalog.price(catalog.train("G5"), SeatClass.STANDING, 1, 3)
    assert result.price.fare_fen == standing_fare
    assert [o.ticket_no for o in onboard.conductor.manifest("G5", DAY, "NKH").standing] == [
        result.ticket.number
    ]


def _nothing_written(onboard: Onboard, version: int, account: Account) -> None:
    stored = onboard.store.load(("G5", DAY))
    assert (0 if stored is None else stored.version) == version
    assert onboard.world.orders_store.for_account(account.id) == []
    assert onboard.world.orders_store.credit_used(account.id) == 0


def test_sold_out_writes_nothing(onboard: Onboard) -> None:
    account, token = payer(onboard)
    world = onboard.world
    fill(world, ("G5", DAY), SeatClass.SECOND, 0, 3)
    fill(world, ("G5", DAY), SeatClass.STANDING, 0, 3)
    version = onboard.store.load(("G5", DAY)).version  # type: ignore[union-attr]
    board(onboard, "TIP")
    with pytest.raises(DomainError) as refused:
        onboard.sales.sell(CONDUCTOR, request(token))
    assert (refused.value.status, refused.value.reason) == (409, "sold_out")
    _nothing_written(onboard, version, account)


def test_a_charge_above_the_credit_line_writes_nothing(onboard: Onboard) -> None:
    account, token = payer(onboard)
    onboard.sales.payments["credit"].limit_fen = 100  # type: ignore[attr-defined]
    board(onboard, "TIP")
    with pytest.raises(DomainError) as refused:
        onboard.sales.sell(CONDUCTOR, request(token))
    assert refused.value.reason == "credit_limit"
    _nothing_written(onboard, 0, account)


def test_refusals_name_their_field(onboard: Onboard) -> None:
    _, token = payer(onboard)
    board(onboard, "TIP")
    with pytest.raises(DomainError) as unknown:
        onboard.sales.sell(CONDUCTOR, request("not-a-token"))
    assert (unknown.value.field, unknown.value.reason) == ("payment", "payer_unknown")
    bad_id = Traveller("王小二", Document(DocumentKind.RESIDENT_ID, WALK_UP_ID[:-1] + "0"))
    if bad_id.document.number == WALK_UP_ID:
        bad_id = Traveller("王小二", Document(DocumentKind.RESIDENT_ID, WALK_UP_ID[:-1] + "1"))
    with pytest.raises(DomainError) as checksum:
        onboard.sales.sell(CONDUCTOR, request(token, traveller=bad_id))
    assert (checksum.value.field, checksum.value.reason) == ("id_number", "bad_checksum")

    with pytest.raises(DomainError) as refused:
        onboard.sales.sell(StaffMember("s-1", StaffRole.STAFF), request(token))
    assert refused.value.status == 403
    cases = [
        (dict(service_date=date(2026, 5, 1)), 404, "date"),
        (dict(train_code="G999"), 404, "train"),
        (dict(current_stop="AOH"), 422, "stop"),
        (dict(to_station="XXX"), 400, "to"),
        (dict(to_station="VNP"), 400, "to"),
    ]
    for changes, status, field in cases:
        with pytest.raises(DomainError) as refused:
            onboard.sales.sell(CONDUCTOR, request(token, **changes))
        assert (refused.value.status, refused.value.field) == (status, field), changes


def test_a_passenger_with_an_overlapping_ticket_is_refused(onboard: Onboard) -> None:
    _, token = payer(onboard)
    paid(onboard.world, train="G5")  # 张三丰 rides VNP-AOH on G5
    board(onboard, "TIP")
    traveller = Traveller("张三丰", Document(DocumentKind.RESIDENT_ID, ADULT_ID))
    with pytest.raises(DomainError) as refused:
        onboard.sales.sell(CONDUCTOR, request(token, traveller=traveller))
    assert refused.value.reason == "overlapping_trip"


def test_a_repeated_request_answers_the_first_sale(onboard: Onboard) -> None:
    account, token = payer(onboard)
    ask = request(token, idempotency_key="scan-42")
    board(onboard, "TIP")
    first = onboard.sales.sell(CONDUCTOR, ask)
    again = onboard.sales.sell(CONDUCTOR, ask)
    assert again.replayed and again.ticket.number == first.ticket.number
    assert again.price == first.price and again.payment_id == first.payment_id
    assert len(onboard.world.orders_store.for_account(account.id)) == 1


def test_an_extension_asked_in_time_starts_at_the_ticket_end(onboard: Onboard) -> None:
    _, token = payer(onboard)
    _, record = paid(onboard.world, train="G5", to="TIP")
    old = record.order.tickets[0]
    ask = request(token, current_stop="VNP", traveller=None, extends=old.number, seat_class=None)
    board(onboard, "VNP")
    result = onboard.sales.sell(CONDUCTOR, ask)
    trip = result.ticket.trip
    assert (trip.from_station, trip.to_station, trip.seat_class) == ("TIP", "AOH", SeatClass.SECOND)
    assert (result.price.ridden_fen, result.price.surcharge_fen) == (0, 0)
    assert result.extends == old.number
    assert result.record.order.passengers[0].name == "张三丰"
    assert balanced(onboard, result)


def test_a_ride_found_past_its_destination_pays_the_stretch_and_half_again(
    onboard: Onboard,
) -> None:
    _, token = payer(onboard)
    _, record = paid(onboard.world, train="G5", to="TIP")
    old = record.order.tickets[0]
    ask = request(token, current_stop="NKH", traveller=None, extends=old.number, seat_class=None)
    board(onboard, "NKH", minutes=5)
    result = onboard.sales.sell(CONDUCTOR, ask)
    catalog = onboard.world.orders.catalog
    g5 = catalog.train("G5")
    ridden = catalog.price(g5, SeatClass.SECOND, 1, 2)
    fare = catalog.price(g5, SeatClass.SECOND, 2, 3)
    assert result.ticket.trip.from_station == "NKH"
    assert (result.price.fare_fen, result.price.ridden_fen) == (fare, ridden)
    assert result.price.surcharge_fen == (ridden + 1) // 2
    assert result.price.total_fen == fare + 200 + ridden + (ridden + 1) // 2
    assert balanced(onboard, result)
    fees = sorted(
        e.reference for e in onboard.store.entries(result.record.number) if e.kind is EntryKind.FEE
    )
    assert fees == ["onboard-fee", "ridden-fare", "surcharge"]


def test_an_extension_needs_a_live_ticket_of_this_run(onboard: Onboard) -> None:
    _, token = payer(onboard)
    account, record = paid(onboard.world, ("li_si_4", "李四", OTHER_ID), train="G1", to="TIP")
    other = record.order.tickets[0].number
    onboard.world.settlement.refund(account, record.number, other)
    board(onboard, "VNP", minutes=-30)  # G1 left VNP at 09:00, G5 leaves at 11:40
    wrong = request(token, traveller=None, extends=other, current_stop="VNP")
    with pytest.raises(DomainError) as refused:
        onboard.sales.sell(CONDUCTOR, wrong)
    assert refused.value.reason == "wrong_run"
    with pytest.raises(DomainError) as revoked:
        onboard.sales.sell(CONDUCTOR, replace(wrong, train_code="G1", to_station="AOH"))
    assert revoked.value.reason == "revoked"


class CountingPayment:
    """Wraps a channel, counting authorisations and voids."""

    def __init__(self, inner: OnboardPayment) -> None:
        self.inner = inner
        self.authorized: list[OnboardCharge] = []
        self.voided: list[Authorized] = []

    @property
    def channel(self) -> str:
        return self.inner.channel

    def account_of(self, payer: str) -> str:
        return self.inner.account_of(payer)

    def authorize(self, charge: OnboardCharge) -> Authorized:
        self.authorized.append(charge)
        return self.inner.authorize(charge)

    def void(self, authorized: Authorized) -> None:
        self.voided.append(authorized)
        self.inner.void(authorized)


def test_a_concurrent_sale_makes_the_attempt_start_again(onboard: Onboard) -> None:
    _, token = payer(onboard)
    counting = CountingPayment(onboard.sales.payments["credit"])
    onboard.sales.payments["credit"] = counting
    original = onboard.store.insert_sale
    raced: list[bool] = []

    def racing_insert(record, **kwargs):  # type: ignore[no-untyped-def]
        if not raced:  # another conductor sells a seat between our read and our write
            raced.append(True)
            fill(onboard.world, ("G5", DAY), SeatClass.FIRST, 0, 1)
        return original(record, **kwargs)

    onboard.store.insert_sale = racing_insert  # type: ignore[method-assign]
    board(onboard, "TIP")
    result = onboard.sales.sell(CONDUCTOR, request(token))
    assert len(counting.authorized) == 2 and len(counting.voided) == 1
    inventory = onboard.conductor.inventory(("G5", DAY))
    assert inventory.check() == []
    seat = next(
        s
        for s in inventory.seats
        if (s.coach, s.label) == (result.ticket.coach, result.ticket.seat_label)
    )
    assert inventory.seat_mask(seat.index) & 0b110 == 0b110
    assert first_class_full(onboard)


def first_class_full(onboard: Onboard) -> bool:
    return free(onboard, "G5", SeatClass.FIRST, 0, 1) == 0


def test_a_failed_write_leaves_nothing_and_voids_the_payment(onboard: Onboard) -> None:
    account, token = payer(onboard)
    counting = CountingPayment(onboard.sales.payments["credit"])
    onboard.sales.payments["credit"] = counting
    original = onboard.store.insert_sale

    def broken_insert(record, **kwargs):  # type: ignore[no-untyped-def]
        # the last statement of the transaction fails: a ledger row without its order
        entries = kwargs["entries"]
        kwargs["entries"] = [*entries, replace(entries[0], order_number=None)]
        return original(record, **kwargs)

    onboard.store.insert_sale = broken_insert  # type: ignore[method-assign]
    board(onboard, "TIP")
    with pytest.raises(Exception):  # noqa: B017 - whatever the database raises
        onboard.sales.sell(CONDUCTOR, request(token))
    assert len(counting.voided) == 1
    _nothing_written(onboard, 0, account)


def test_sales_are_open_only_while_the_train_is_on_the_segment(onboard: Onboard) -> None:
    account, token = payer(onboard)
    early = onboard.world.clock.now()  # two days before the run
    with pytest.raises(DomainError) as refused:
        onboard.sales.sell(CONDUCTOR, request(token))
    assert (refused.value.status, refused.value.reason) == (409, "not_under_way")
    board(onboard, "NKH", minutes=6 * 60 + 1)  # 6 h after the train reached NKH
    with pytest.raises(DomainError) as late:
        onboard.sales.sell(CONDUCTOR, request(token))
    assert late.value.reason == "segment_over"
    board(onboard, "TIP", minutes=-59)
    assert onboard.sales.sell(CONDUCTOR, request(token)).ticket.trip.from_station == "TIP"
    assert early < onboard.world.clock.now()
    assert len(onboard.world.orders_store.for_account(account.id)) == 1
