"""Rules checked before an order is queued, each a pure function with its own reason code.

=====================  ======================  =============================================
rule                   field / reason          default
=====================  ======================  =============================================
pre-sale window        trip / not_on_sale_yet  15 days including today (boarding date)
passengers per order   passengers /            1 to 5
                       no_passengers,
                       too_many_passengers
one ticket per person  passengers /            a document once per order (a child ticket on a
                       duplicate_passenger     companion's document is told apart by name)
no overlapping trips   passengers /            existing trips as (start, end) absolute minutes;
                       overlapping_trip        touching ends do not overlap
infants accompanied    passengers /            a child under 6 with a seat needs a non-child
                       infant_alone            passenger in the same order
unpaid orders          account /               at most 1 unpaid (queued or held) order
                       too_many_unpaid
closing time           trip /                  sales close 5 minutes before departure from
                       departure_too_close     the boarding station
=====================  ======================  =============================================

Dates are taken in the time zone of the trip's departure time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from open12306.catalog.domain.fares import PassengerType
from open12306.sales.domain.model import Interval, Passenger, Trip
from open12306.shared.errors import DomainError

PassengerKey = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class SaleRules:
    """Configurable limits; defaults follow 12306 (pay limit: DESIGN §5)."""

    presale_days: int = 15
    max_passengers: int = 5
    max_unpaid_orders: int = 1
    stop_sale_minutes: int = 5
    pay_minutes: int = 30
    # 12306: an account that cancelled 3 orders in a day may buy no more that day
    max_cancels_per_day: int = 3

    def __post_init__(self) -> None:
        if self.presale_days < 1 or self.max_passengers < 1 or self.max_unpaid_orders < 1:
            raise ValueError("sale limits must be at least 1")
        if self.stop_sale_minutes < 0 or self.pay_minutes < 1:
            raise ValueError("stop_sale_minutes must be ≥ 0 and pay_minutes ≥ 1")


DEFAULT_SALE_RULES = SaleRules()


def check_presale(trip: Trip, now: datetime, rules: SaleRules) -> None:
    """The boarding date must be within ``presale_days`` days counting today."""
    today = now.astimezone(trip.departs_at.tzinfo).date()
    last = today + timedelta(days=rules.presale_days - 1)
    if trip.departs_at.date() > last:
        raise DomainError(
            "trip", "not_on_sale_yet", f"tickets for {trip.departs_at.date()} go on sale later"
        )


def check_departure(trip: Trip, now: datetime, rules: SaleRules) -> None:
    """Sales close ``stop_sale_minutes`` before the train leaves the boarding station."""
    if now > trip.departs_at - timedelta(minutes=rules.stop_sale_minutes):
        raise DomainError(
            "trip", "departure_too_close", "sales for this train have closed at this station"
        )


def check_passenger_count(passengers: Sequence[Passenger], rules: SaleRules) -> None:
    if not passengers:
        raise DomainError("passengers", "no_passengers", "an order needs a passenger")
    if len(passengers) > rules.max_passengers:
        raise DomainError(
            "passengers",
            "too_many_passengers",
            f"an order has at most {rules.max_passengers} passengers",
        )


def check_duplicates(passengers: Sequence[Passenger]) -> None:
    seen: set[PassengerKey] = set()
    for passenger in passengers:
        if passenger.key in seen:
            raise DomainError(
                "passengers", "duplicate_passenger", f"{passenger.name} is on the order twice"
            )
        seen.add(passenger.key)


def check_accompanied(passengers: Sequence[Passenger]) -> None:
    """A seat for a child under 6 is sold only with an adult (or concession) ticket."""
    has_infant = any(p.infant for p in passengers)
    if has_infant and all(p.ticket_type is PassengerType.CHILD for p in passengers):
        raise DomainError(
            "passengers", "infant_alone", "a child under 6 travels with an adult on the order"
        )


def overlaps(a: Interval, b: Interval) -> bool:
    """Whether two (start, end) stretches share time; touching ends do not."""
    return a[0] < b[1] and b[0] < a[1]


def check_overlaps(
    trip: Trip,
    passengers: Sequence[Passenger],
    existing: Mapping[PassengerKey, Sequence[Interval]],
) -> None:
    """No passenger may hold two tickets whose times overlap. ``existing`` maps a passenger
    key to the trips of their live tickets and unpaid orders."""
    interval = trip.interval
    for passenger in passengers:
        if any(overlaps(interval, other) for other in existing.get(passenger.key, ())):
            raise DomainError(
                "passengers",
                "overlapping_trip",
                f"{passenger.name} already has a ticket for a train at that time",
            )


def check_unpaid(unpaid_orders: int, rules: SaleRules) -> None:
    """An account may have at most ``max_unpaid_orders`` queued or held orders."""
    if unpaid_orders >= rules.max_unpaid_orders:
        raise DomainError(
            "account", "too_many_unpaid", "pay or cancel your unpaid order before a new one"
        )


class TooManyCancels(DomainError):
    """The account cancelled its day's allowance of orders; it may order again tomorrow."""

    status = 429


def check_cancels(cancelled_today: int, rules: SaleRules) -> None:
    """After ``max_cancels_per_day`` cancelled orders in a day no new order that day."""
    if cancelled_today >= rules.max_cancels_per_day:
        raise TooManyCancels(
            "account",
            "too_many_cancels",
            f"you cancelled {cancelled_today} orders today: ordering is closed until tomorrow",
        )


def check_submission(
    trip: Trip,
    passengers: Sequence[Passenger],
    now: datetime,
    unpaid_orders: int,
    existing: Mapping[PassengerKey, Sequence[Interval]],
    rules: SaleRules = DEFAULT_SALE_RULES,
) -> None:
    """All the rules above, in a fixed order; the first one broken is raised.

    Documents are assumed validated (``identity.validate_document``) when the passengers
    were built.
    """
    check_departure(trip, now, rules)
    check_presale(trip, now, rules)
    check_unpaid(unpaid_orders, rules)
    check_passenger_count(passengers, rules)
    check_duplicates(passengers)
    check_accompanied(passengers)
    check_overlaps(trip, passengers, existing)


def pay_deadline(held_at: datetime, trip: Trip, rules: SaleRules = DEFAULT_SALE_RULES) -> datetime:
    """``pay_minutes`` after the hold, but never after sales close for the train.

    A deadline not after ``held_at`` means sales closed while the order was queued: the
    allocator should fail the order (``departure_too_close``) instead of holding seats.
    """
    closing = trip.departs_at - timedelta(minutes=rules.stop_sale_minutes)
    return min(held_at + timedelta(minutes=rules.pay_minutes), closing)
