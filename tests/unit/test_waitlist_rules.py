"""The waitlist's rules and money, as 12306 runs them since 2024-01-11: each rule refuses with its
own reason; the prepayment covers every choice; what was taken is always the fare plus what went
back, whatever happens to the order."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from open12306.catalog.domain.fares import PassengerType
from open12306.inventory.domain.seats import SeatClass
from open12306.sales.domain.waitlist import (
    DEFAULT_WAITLIST_RULES,
    Choice,
    Demand,
    WaitlistState,
    check_demand,
    end,
    expired_at,
    fulfil,
    fulfil_by,
    mark_paid,
    open_waitlist,
    prepayment_fen,
    queue_order,
)
from open12306.shared.errors import DomainError

NOW = datetime(2026, 2, 1, 2, 0, tzinfo=UTC)  # 10:00 in Beijing, a pre-sale morning
DAY = date(2026, 2, 15)


def choice(
    train: str = "G1", day: date = DAY, seat: SeatClass = SeatClass.SECOND, to_city: str = "上海"
) -> Choice:
    departs = datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)
    return Choice(train, day, "BJP", "AOH", "北京", to_city, seat, departs)


def demand(*choices: Choice, passengers: int = 1, **changes: object) -> Demand:
    made = Demand(
        "acct-1",
        (PassengerType.ADULT,) * passengers,
        choices or (choice(),),
        deadline_minutes=120,
    )
    return replace(made, **changes)  # type: ignore[arg-type]


FARES = {SeatClass.BUSINESS: 174_800, SeatClass.FIRST: 93_300, SeatClass.SECOND: 55_300}


def fare(c: Choice, p: PassengerType) -> int:
    full = FARES.get(c.seat_class, 20_000)
    return full // 2 if p is PassengerType.CHILD else full


def reason(error: pytest.ExceptionInfo[DomainError]) -> tuple[str, str]:
    return error.value.field, error.value.reason


@pytest.mark.parametrize(
    ("made", "live", "expected"),
    [
        (demand(), 6, ("account", "too_many_waitlists")),
        (demand(passengers=0), 0, ("passengers", "no_passengers")),
        (demand(passengers=10), 0, ("passengers", "too_many_passengers")),
        (demand(choices=()), 0, ("choices", "no_choices")),
        (demand(*[choice(f"G{i}") for i in range(61)]), 0, ("choices", "too_many_choices")),
        (
            demand(*[choice(day=DAY + timedelta(days=d)) for d in range(4)]),
            0,
            ("choices", "too_many_dates"),
        ),
        (demand(choice(), choice("G3", to_city="杭州")), 0, ("choices", "mixed_pair")),
        (demand(choice(seat=SeatClass.STANDING)), 0, ("choices", "standing_not_a_class")),
        (
            replace(demand(choice(seat=SeatClass.FIRST)), passengers=(PassengerType.STUDENT,)),
            0,
            ("choices", "student_class"),
        ),
        (demand(deadline_minutes=90), 0, ("deadline", "bad_deadline")),
    ],
)
def test_each_rule_refuses_with_its_reason(
    made: Demand, live: int, expected: tuple[str, str]
) -> None:
    with pytest.raises(DomainError) as refused:
        check_demand(made, live, DEFAULT_WAITLIST_RULES)
    assert reason(refused) == expected


def test_the_limits_themselves_are_allowed() -> None:
    choices = [choice(f"G{i}", DAY + timedelta(days=i % 3)) for i in range(60)]
    check_demand(demand(*choices, passengers=9), 5, DEFAULT_WAITLIST_RULES)
    student = replace(demand(choice(seat=SeatClass.SECOND)), passengers=(PassengerType.STUDENT,))
    check_demand(student, 0, DEFAULT_WAITLIST_RULES)


def test_the_prepayment_is_the_dearest_choice_for_everyone() -> None:
    made = demand(choice(seat=SeatClass.SECOND), choice("G3", seat=SeatClass.FIRST), passengers=2)
    assert prepayment_fen(made, fare) == 2 * 93_300


def test_a_demand_past_every_deadline_is_refused() -> None:
    made = demand()  # departs 01:00 UTC on 15 Feb; deadline two hours before
    late = fulfil_by(made.choices[0], 120) + timedelta(seconds=1)
    with pytest.raises(DomainError) as refused:
        open_waitlist("H1", made, fare, late, 0)
    assert reason(refused) == ("deadline", "deadline_passed")


def test_live_from_payment_and_served_in_that_order() -> None:
    first = open_waitlist("H2", demand(), fare, NOW, 0)
    second = open_waitlist("H1", demand(), fare, NOW, 0)
    queue = [
        mark_paid(first, NOW + timedelta(minutes=3)),
        mark_paid(second, NOW + timedelta(minutes=1)),
    ]
    assert [o.number for o in queue_order(queue)] == ["H1", "H2"]  # H1 paid first
    late = NOW + timedelta(minutes=11)
    with pytest.raises(DomainError) as refused:
        mark_paid(open_waitlist("H3", demand(), fare, NOW, 0), late)
    assert reason(refused) == ("waitlist", "pay_window_closed")


def test_fulfilment_refunds_the_difference_and_stays_within_the_deadline() -> None:
    made = demand(choice(seat=SeatClass.SECOND), choice("G3", seat=SeatClass.FIRST))
    live = mark_paid(open_waitlist("H4", made, fare, NOW, 0), NOW)
    done = fulfil(live, 0, 55_300, NOW + timedelta(hours=1))
    assert (done.state, done.fare_fen, done.refund_fen) == (
        WaitlistState.FULFILLED,
        55_300,
        93_300 - 55_300,
    )
    with pytest.raises(DomainError) as refused:
        fulfil(live, 0, 55_300, fulfil_by(made.choices[0], 120) + timedelta(seconds=1))
    assert reason(refused) == ("waitlist", "past_deadline")
    with pytest.raises(DomainError) as again:
        fulfil(done, 1, 93_300, NOW)
    assert reason(again) == ("waitlist", "bad_state")
    assert expired_at(live) == fulfil_by(made.choices[0], 120)


Event = st.sampled_from(["pay", "fulfil", "cancel", "expire", "lapse"])


@given(
    events=st.lists(Event, max_size=6),
    seats=st.lists(st.sampled_from(list(FARES)), min_size=1, max_size=5),
    kinds=st.lists(st.sampled_from(list(PassengerType)), min_size=1, max_size=9),
    pick=st.integers(min_value=0, max_value=4),
)
def test_money_taken_is_the_fare_plus_what_went_back(
    events: list[str], seats: list[SeatClass], kinds: list[PassengerType], pick: int
) -> None:
    assume(PassengerType.STUDENT not in kinds or set(seats) == {SeatClass.SECOND})
    made = Demand(
        "acct-9", tuple(kinds), tuple(choice(f"G{i}", seat=s) for i, s in enumerate(seats)), 120
    )
    order = open_waitlist("H9", made, fare, NOW, 0)
    paid = 0
    for event in events:
        try:
            if event == "pay":
                order = mark_paid(order, NOW)
                paid = order.prepay_fen
            elif event == "fulfil":
                index = pick % len(seats)
                cost = sum(fare(made.choices[index], p) for p in kinds)
                order = fulfil(order, index, cost, NOW)
            else:
                state = {"cancel": "cancelled", "expire": "expired", "lapse": "lapsed"}[event]
                order = end(order, WaitlistState(state), NOW)
        except DomainError:
            continue  # not allowed from this state: nothing changed
    assert order.prepay_fen >= max(sum(fare(c, p) for p in kinds) for c in made.choices)
    if order.is_open:
        assert order.refund_fen == 0 and order.fare_fen == 0
    else:
        assert paid == order.fare_fen + order.refund_fen  # nothing lost, nothing extra
        assert order.refund_fen >= 0
