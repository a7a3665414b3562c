"""The conductor's segment manifest: who covers the segment, masked names, empty seats."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from open12306.inventory.domain.seats import Seat, SeatClass
from open12306.shared.errors import DomainError
from open12306.travel.domain.onboard import (
    RideTicket,
    Unprocessable,
    build_segment_manifest,
    compact_runs,
    covers,
    mask_passenger_name,
    segment_leaving,
)

DAY = date(2026, 2, 12)
ROUTE = ("VNP", "TIP", "NJH", "AOH")
SEATS = tuple(
    Seat(i, 1 + i // 4, SeatClass.SECOND, f"{1 + (i % 4) // 2:02d}{'AF'[i % 2]}", i // 2)
    for i in range(8)
)  # coach 1: 01A 01F 02A 02F, coach 2 the same


def ticket(no: str, coach: int, label: str, i: int, j: int, name: str = "张三丰") -> RideTicket:
    return RideTicket(no, name, SeatClass.SECOND, coach, label, i, j, ROUTE[i], ROUTE[j], "issued")


def mask_of(*segments: int) -> int:
    return sum(1 << s for s in segments)


@pytest.mark.parametrize(
    ("name", "shown"),
    [("张三丰", "张*丰"), ("张三", "张*"), ("欧阳小明", "欧**明"), ("王", "*"), (" 李四 ", "李*")],
)
def test_names_are_masked_in_the_middle(name: str, shown: str) -> None:
    assert mask_passenger_name(name) == shown


@given(st.text(min_size=3, max_size=12).filter(lambda s: len(s.strip()) >= 3))
def test_a_masked_name_keeps_only_its_ends(name: str) -> None:
    value = name.strip()
    shown = mask_passenger_name(name)
    assert len(shown) == len(value)
    assert shown[0] == value[0] and shown[-1] == value[-1]
    assert set(shown[1:-1]) == {"*"}


def test_the_segment_leaving_a_stop() -> None:
    assert segment_leaving(ROUTE, "tip") == 1
    with pytest.raises(Unprocessable) as last:
        segment_leaving(ROUTE, "AOH")
    assert (last.value.field, last.value.reason, last.value.status) == ("stop", "last_stop", 422)
    with pytest.raises(Unprocessable) as off:
        segment_leaving(ROUTE, "XXX")
    assert off.value.reason == "not_on_route"


@given(st.integers(0, 10), st.integers(1, 11), st.integers(0, 10))
def test_a_ride_covers_exactly_its_segments(i: int, j: int, s: int) -> None:
    assert covers(i, j, s) == (s in range(i, j))


def test_who_sits_where_on_the_segment() -> None:
    tickets = [
        ticket("E2", 2, "01A", 0, 3),
        ticket("E1", 1, "02F", 1, 2, "李四"),  # boards at TIP, leaves at NJH
        ticket("E3", 1, "01A", 0, 1),  # left at TIP: not on segment 1
        ticket("E4", 0, "", 1, 3, "王小二"),  # standing
        ticket("E5", 1, "01F", 2, 3),  # boards later
    ]
    masks = [0] * 8
    masks[0] = mask_of(0)  # 01A coach 1, sold VNP-TIP
    masks[3] = mask_of(1)  # 02F coach 1
    masks[4] = mask_of(0, 1, 2)  # 01A coach 2
    masks[2] = mask_of(1)  # 02A coach 1: sold, no ticket (an unpaid hold)
    found = build_segment_manifest("G1", DAY, ROUTE, 1, tickets, SEATS, masks)
    assert (found.from_station, found.to_station) == ("TIP", "NJH")
    assert [(o.coach, o.seat_label, o.ticket_no) for o in found.seated] == [
        (1, "02F", "E1"),
        (2, "01A", "E2"),
    ]
    first = found.seated[0]
    assert (first.name, first.boards_here, first.alights_next) == ("李*", True, True)
    assert found.seated[1].boards_here is False
    assert [(o.ticket_no, o.name) for o in found.standing] == [("E4", "王*二")]
    assert [(v.coach, v.count, v.seats) for v in found.empty] == [
        (1, 2, ("01A-01F",)),
        (2, 3, ("01F-02F",)),
    ]
    assert found.empty_count == 5
    assert found.unticketed == ("01-02A",)


def test_a_seat_freed_by_a_refund_is_empty_even_if_a_stale_ticket_names_it() -> None:
    # the manifest lists only what it is given: a refunded ticket is not passed in
    found = build_segment_manifest("G1", DAY, ROUTE, 0, [], SEATS, [0] * 8)
    assert found.seated == () and found.empty_count == 8


def test_compact_runs_joins_consecutive_seats_only() -> None:
    assert compact_runs([SEATS[0], SEATS[1], SEATS[3]]) == ("01A-01F", "02F")
    assert compact_runs([]) == ()


def test_a_manifest_needs_a_segment_and_one_mask_per_seat() -> None:
    with pytest.raises(Unprocessable):
        build_segment_manifest("G1", DAY, ROUTE, 3, [], SEATS, [0] * 8)
    with pytest.raises(DomainError) as short:
        build_segment_manifest("G1", DAY, ROUTE, 0, [], SEATS, [0] * 7)
    assert short.value.reason == "seat_count"


@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(1, 3), st.booleans()),
        max_size=30,
    ),
    st.integers(0, 2),
)
def test_every_seat_is_occupied_or_empty_never_both(
    asks: list[tuple[int, int, bool]], segment: int
) -> None:
    """Sell random journeys on a real inventory, ticket what was sold (some left as unpaid
    holds): on any segment, seats split exactly into ticketed, unticketed and empty."""
    from open12306.inventory.domain import Request, RunInventory

    inventory = RunInventory.empty(SEATS, 3)
    tickets: list[RideTicket] = []
    held = 0
    for n, (i, j, ticketed) in enumerate(asks):
        if j <= i:
            continue
        allocation = inventory.try_allocate(Request(SeatClass.SECOND, i, j))
        if allocation is None or allocation.seats[0] is None:
            continue
        seat = SEATS[allocation.seats[0]]
        if ticketed:
            tickets.append(ticket(f"E{n:02d}", seat.coach, seat.label, i, j))
        elif i <= segment < j:
            held += 1
    masks = [inventory.seat_mask(s.index) for s in SEATS]
    found = build_segment_manifest("G1", DAY, ROUTE, segment, tickets, SEATS, masks)
    assert len(found.seated) + len(found.unticketed) + found.empty_count == len(SEATS)
    assert len(found.unticketed) == held
    assert len({(o.coach, o.seat_label) for o in found.seated}) == len(found.seated)
    assert all(
        covers(t.from_stop, t.to_stop, segment)
        for t in tickets
        if t.ticket_no in {o.ticket_no for o in found.seated}
    )
