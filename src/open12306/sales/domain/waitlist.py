"""The waitlist (候补购票): a demand for a sold-out trip, prepaid, fulfilled when seats come back.

The rules are 12306's since 2024-01-11 (CGTN and 12306's own passengerInitApi responses of
2024; the older limits are in the research notes the project started from), each configurable:

=========================  ==========================  ======================================
rule                       field / reason              default
=========================  ==========================  ======================================
live waitlists per account account / too_many_waitlists  6
passengers per demand      passengers /                1 to 9
                           no_passengers,
                           too_many_passengers
travel dates               choices / too_many_dates    3 dates
choices (date+train+class) choices / no_choices,       1 to 60
                           too_many_choices
one city pair              choices / mixed_pair        every choice between the same two cities
no standing class          choices / standing_not_     无座 is accepted as a fallback
                           a_class                     (``accept_standing``), never chosen
students' classes          choices / student_class     硬座, 硬卧, 二等座 only
deadline (截止兑现时间)      deadline / bad_deadline      20 min, 1/2/3/6/12 h, 1-8 days before
                                                       departure
=========================  ==========================  ======================================

Prepayment is the highest fare among the choices (sleepers at the lower berth's fare): the
demand is live from the moment it is paid, and its place among the demands of a run is the
time it became live. A demand is fulfilled whole (all its passengers on one choice) or not at
all; on fulfilment the difference between the prepayment and the fare is refunded, and at the
deadline or on cancellation the whole prepayment is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from open12306.catalog.domain.fares import PassengerType
from open12306.inventory.domain.seats import SeatClass
from open12306.shared.errors import DomainError

# 12306's jzdhDiffSelect: minutes before departure a demand may still be fulfilled.
DEADLINE_CHOICES = (20, 60, 120, 180, 360, 720, 1440, 2880, 4320, 5760, 7200, 8640, 10080, 11520)
STUDENT_CLASSES = frozenset({SeatClass.HARD_SEAT, SeatClass.HARD_SLEEPER, SeatClass.SECOND})


@dataclass(frozen=True, slots=True)
class WaitlistRules:
    """Configurable limits; the defaults are 12306's since 2024-01-11."""

    max_live_per_account: int = 6
    max_passengers: int = 9
    max_dates: int = 3
    max_choices: int = 60
    deadline_choices: tuple[int, ...] = DEADLINE_CHOICES
    # The prepayment's pay window (12306: about 10 minutes in a 2024 capture).
    pay_minutes: int = 10
    student_classes: frozenset[SeatClass] = STUDENT_CLASSES

    def __post_init__(self) -> None:
        limits = (self.max_live_per_account, self.max_passengers, self.max_dates)
        if min(*limits, self.max_choices, self.pay_minutes) < 1:
            raise ValueError("waitlist limits must be at least 1")
        if not self.deadline_choices or min(self.deadline_choices) < 1:
            raise ValueError("deadline choices must be minutes before departure, at least 1")


DEFAULT_WAITLIST_RULES = WaitlistRules()


@dataclass(frozen=True, slots=True)
class Choice:
    """One acceptable trip: a run, a stretch of it and a class. ``departs_at`` is the departure
    from ``from_station``; the cities are what "the same pair" is checked on."""

    train_code: str
    service_date: date
    from_station: str
    to_station: str
    from_city: str
    to_city: str
    seat_class: SeatClass
    departs_at: datetime


@dataclass(frozen=True, slots=True)
class Demand:
    """What a rider asks the waitlist for: passengers (their ticket types), the choices, how
    long before departure it may still be fulfilled, and whether 无座 is acceptable."""

    account: str
    passengers: tuple[PassengerType, ...]
    choices: tuple[Choice, ...]
    deadline_minutes: int
    accept_standing: bool = False


def check_demand(demand: Demand, live_of_account: int, rules: WaitlistRules) -> None:
    """Every rule of the module docstring, in a fixed order; the first broken is raised."""
    if live_of_account >= rules.max_live_per_account:
        raise DomainError(
            "account",
            "too_many_waitlists",
            f"at most {rules.max_live_per_account} waitlist orders at a time",
        )
    _check_passengers(demand.passengers, rules)
    _check_choices(demand, rules)
    if demand.deadline_minutes not in rules.deadline_choices:
        shown = ", ".join(str(m) for m in rules.deadline_choices)
        raise DomainError(
            "deadline", "bad_deadline", f"the deadline is one of {shown} minutes before departure"
        )


def _check_passengers(passengers: Sequence[PassengerType], rules: WaitlistRules) -> None:
    if not passengers:
        raise DomainError("passengers", "no_passengers", "a waitlist order needs a passenger")
    if len(passengers) > rules.max_passengers:
        raise DomainError(
            "passengers",
            "too_many_passengers",
            f"at most {rules.max_passengers} passengers on a waitlist order",
        )


def _check_choices(demand: Demand, rules: WaitlistRules) -> None:
    choices = demand.choices
    if not choices:
        raise DomainError("choices", "no_choices", "choose at least one train and class")
    if len(choices) > rules.max_choices:
        raise DomainError(
            "choices", "too_many_choices", f"at most {rules.max_choices} trains and classes"
        )
    if len({c.service_date for c in choices}) > rules.max_dates:
        raise DomainError(
            "choices", "too_many_dates", f"at most {rules.max_dates} travel dates in one order"
        )
    if len({(c.from_city, c.to_city) for c in choices}) > 1:
        raise DomainError("choices", "mixed_pair", "every choice goes between the same two cities")
    if any(c.seat_class is SeatClass.STANDING for c in choices):
        raise DomainError(
            "choices",
            "standing_not_a_class",
            "无座 is not waitlisted as a class: accept it as a fallback instead",
        )
    if PassengerType.STUDENT in demand.passengers:
        barred = sorted({c.seat_class.value for c in choices} - _values(rules.student_classes))
        if barred:
            raise DomainError(
                "choices",
                "student_class",
                f"students may waitlist only {', '.join(sorted(_values(rules.student_classes)))}"
                f", not {', '.join(barred)}",
            )


def _values(classes: frozenset[SeatClass]) -> set[str]:
    return {c.value for c in classes}


FareOf = Callable[[Choice, PassengerType], int]
"""The fare in fen of one passenger on one choice (a sleeper at its lower berth's fare)."""


def prepayment_fen(demand: Demand, fare_of: FareOf) -> int:
    """The highest fare of the demand's choices, for all its passengers."""
    return max(sum(fare_of(c, p) for p in demand.passengers) for c in demand.choices)


def fulfil_by(choice: Choice, deadline_minutes: int) -> datetime:
    """The last moment ``choice`` may still be fulfilled (截止兑现时间)."""
    return choice.departs_at - timedelta(minutes=deadline_minutes)


class WaitlistState(StrEnum):
    """A waitlist order's life: unpaid, live (in the queue), then fulfilled or ended."""

    UNPAID = "unpaid"
    LIVE = "live"
    FULFILLED = "fulfilled"
    EXPIRED = "expired"  # the deadline passed with no seat; prepayment refunded whole
    CANCELLED = "cancelled"  # by the rider, unpaid or live; prepayment (if any) refunded whole
    LAPSED = "lapsed"  # the prepayment was not paid in time


@dataclass(frozen=True, slots=True)
class WaitlistOrder:
    """A demand with its number, prepayment and where it stands. ``live_at`` orders the
    queue; ``fulfilled_with`` names the choice and ``fare_fen`` what it cost."""

    number: str
    demand: Demand
    prepay_fen: int
    state: WaitlistState
    created_at: datetime
    pay_by: datetime
    live_at: datetime | None = None
    ended_at: datetime | None = None
    fulfilled_with: int | None = None
    fare_fen: int = 0
    refund_fen: int = 0

    @property
    def is_open(self) -> bool:
        return self.state in (WaitlistState.UNPAID, WaitlistState.LIVE)


def open_waitlist(
    number: str,
    demand: Demand,
    fare_of: FareOf,
    now: datetime,
    live_of_account: int,
    rules: WaitlistRules = DEFAULT_WAITLIST_RULES,
) -> WaitlistOrder:
    """A new, unpaid waitlist order for ``demand`` (DomainError when a rule refuses it, or
    when every choice's deadline has passed already)."""
    check_demand(demand, live_of_account, rules)
    if all(fulfil_by(c, demand.deadline_minutes) <= now for c in demand.choices):
        raise DomainError(
            "deadline", "deadline_passed", "every chosen train is past its fulfilment deadline"
        )
    return WaitlistOrder(
        number=number,
        demand=demand,
        prepay_fen=prepayment_fen(demand, fare_of),
        state=WaitlistState.UNPAID,
        created_at=now,
        pay_by=now + timedelta(minutes=rules.pay_minutes),
    )


def _require(order: WaitlistOrder, *states: WaitlistState) -> None:
    if order.state not in states:
        raise DomainError(
            "waitlist", "bad_state", f"waitlist order {order.number} is {order.state.value}"
        )


def mark_paid(order: WaitlistOrder, now: datetime) -> WaitlistOrder:
    """The prepayment arrived: the order is live from now (its place in the queue)."""
    _require(order, WaitlistState.UNPAID)
    if now > order.pay_by:
        raise DomainError("waitlist", "pay_window_closed", "the prepayment window has closed")
    return dataclasses.replace(order, state=WaitlistState.LIVE, live_at=now)


def fulfil(order: WaitlistOrder, choice: int, fare_fen: int, now: datetime) -> WaitlistOrder:
    """Seated on ``demand.choices[choice]`` for ``fare_fen``: the rest of the prepayment is
    refunded."""
    _require(order, WaitlistState.LIVE)
    picked = order.demand.choices[choice]
    if now > fulfil_by(picked, order.demand.deadline_minutes):
        raise DomainError("waitlist", "past_deadline", "that choice is past its deadline")
    if not 0 <= fare_fen <= order.prepay_fen:
        raise DomainError("waitlist", "fare_above_prepayment", "the fare exceeds the prepayment")
    return dataclasses.replace(
        order,
        state=WaitlistState.FULFILLED,
        ended_at=now,
        fulfilled_with=choice,
        fare_fen=fare_fen,
        refund_fen=order.prepay_fen - fare_fen,
    )


def end(order: WaitlistOrder, state: WaitlistState, now: datetime) -> WaitlistOrder:
    """Cancelled by the rider, expired at the deadline, or lapsed unpaid: a paid order gets its
    whole prepayment back."""
    if state is WaitlistState.CANCELLED:
        _require(order, WaitlistState.UNPAID, WaitlistState.LIVE)
    elif state is WaitlistState.EXPIRED:
        _require(order, WaitlistState.LIVE)
    elif state is WaitlistState.LAPSED:
        _require(order, WaitlistState.UNPAID)
    else:
        raise ValueError(f"{state} does not end a waitlist order this way")
    paid = order.state is WaitlistState.LIVE
    return dataclasses.replace(
        order, state=state, ended_at=now, refund_fen=order.prepay_fen if paid else 0
    )


def expired_at(order: WaitlistOrder) -> datetime:
    """When a live order ends unfulfilled: the last of its choices' deadlines."""
    return max(fulfil_by(c, order.demand.deadline_minutes) for c in order.demand.choices)


def queue_order(orders: Sequence[WaitlistOrder]) -> list[WaitlistOrder]:
    """Live orders in the order they are served: the time each became live, then number."""
    live = [o for o in orders if o.state is WaitlistState.LIVE]
    return sorted(live, key=lambda o: (o.live_at or o.created_at, o.number))
