"""Refund fees and ticket changes (退票, 改签), as 12306 has charged them since 2016-01-01.

Refund fee by the time left before the train leaves the passenger's boarding station:

* 8 days (192 h) or more: free;
* 48 h or more, less than 8 days: 5 %;
* 24 h or more, less than 48 h: 10 %;
* less than 24 h: 20 %.

A boundary belongs to the cheaper band ("开车前48小时以上" includes 48 h). The fee is rounded to
0.5 yuan (below 0.25 yuan dropped, 0.25 to below 0.75 counts as 0.5, 0.75 and more as 1 yuan),
is at least 2 yuan when a fee applies, and never more than the amount refunded on. Refunds
and changes are accepted online until departure (the passenger's train has not left).

Changes (改签), main rule only:

* once per ticket (a changed ticket cannot be changed again);
* more than 48 h before departure, to any train on sale; within 48 h, only to trains leaving
  before 24:00 of the original ticket's date (票面日期当日24:00);
* a dearer new ticket: the difference is paid; a cheaper one: the difference is refunded
  less the refund fee on the difference, charged at the original ticket's band;
* a change made inside a fee band to a train in the free band keeps the fee rate of the band
  it was made in for a later refund (12306: a ticket changed 48 h–8 days before departure to a
  train 8 or more days away still pays 5 % on refund).

Changing the destination (变更到站) is priced like a change (sales/services/changes.py) and counts
as the ticket's one change. Not modelled: Spring Festival changes (refunded at the < 24 h rate),
refunds at a station after departure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from open12306.shared.errors import DomainError

BASIS = 10_000  # rates are in basis points: 500 = 5 %


@dataclass(frozen=True, slots=True)
class RefundLadder:
    """Fee rates by time left before departure, longest lead first; the last step is 0."""

    steps: tuple[tuple[timedelta, int], ...] = (
        (timedelta(days=8), 0),
        (timedelta(hours=48), 500),
        (timedelta(hours=24), 1000),
        (timedelta(0), 2000),
    )
    minimum_fee_fen: int = 200
    change_free_until: timedelta = timedelta(hours=48)

    def __post_init__(self) -> None:
        leads = [lead for lead, _ in self.steps]
        if not leads or leads[-1] != timedelta(0) or leads != sorted(leads, reverse=True):
            raise ValueError("ladder steps must run from the longest lead down to 0")
        if any(not 0 <= rate <= BASIS for _, rate in self.steps):
            raise ValueError("rates are basis points from 0 to 10000")


DEFAULT_LADDER = RefundLadder()


@dataclass(frozen=True, slots=True)
class RefundQuote:
    """What refunding ``amount_fen`` costs: ``fee_fen`` is kept, ``refund_fen`` paid back."""

    amount_fen: int
    rate: int
    fee_fen: int
    refund_fen: int


@dataclass(frozen=True, slots=True)
class ChangeQuote:
    """The money side of a change: ``pay_fen`` is due from the rider (dearer ticket), or
    ``refund_fen`` returned and ``fee_fen`` kept (cheaper ticket); ``refund_floor`` is the
    fee rate the new ticket keeps for a later refund."""

    old_fare_fen: int
    new_fare_fen: int
    pay_fen: int
    refund_fen: int
    fee_fen: int
    refund_floor: int


def lead_time(departs_at: datetime, at: datetime) -> timedelta:
    """Time left before departure; DomainError ``departed`` once the train has left."""
    lead = departs_at - at
    if lead <= timedelta(0):
        raise DomainError("ticket", "departed", "the train has left; ask at the station")
    return lead


def fee_rate(ladder: RefundLadder, lead: timedelta) -> int:
    """The ladder's rate (basis points) for a refund ``lead`` before departure."""
    for step, rate in ladder.steps:
        if lead >= step:
            return rate
    raise DomainError("ticket", "departed", "the train has left")


def round_fee(fen_times_basis: int) -> int:
    """Round a fee given in 1/10000 fen to 0.5 yuan the 12306 way (see the module doc)."""
    yuan_unit = 100 * BASIS
    whole, rest = divmod(fen_times_basis, yuan_unit)
    if rest < yuan_unit // 4:
        extra = 0
    elif rest < yuan_unit * 3 // 4:
        extra = 50
    else:
        extra = 100
    return whole * 100 + extra


def refund_fee(ladder: RefundLadder, amount_fen: int, rate: int) -> int:
    """The fee on refunding ``amount_fen`` at ``rate``: rounded, at least the minimum when a
    fee applies, at most the amount."""
    if amount_fen < 0:
        raise DomainError("amount", "negative", "a refund amount cannot be negative")
    if rate == 0 or amount_fen == 0:
        return 0
    fee = max(round_fee(amount_fen * rate), ladder.minimum_fee_fen)
    return min(fee, amount_fen)


def refund_quote(
    ladder: RefundLadder,
    fare_fen: int,
    departs_at: datetime,
    at: datetime,
    floor: int = 0,
) -> RefundQuote:
    """Quote refunding a whole ticket at ``at``; ``floor`` is a minimum rate kept from a change."""
    rate = max(fee_rate(ladder, lead_time(departs_at, at)), floor)
    fee = refund_fee(ladder, fare_fen, rate)
    return RefundQuote(fare_fen, rate, fee, fare_fen - fee)


def check_change_window(
    ladder: RefundLadder, old_departs: datetime, new_departs: datetime, at: datetime
) -> None:
    """Raise DomainError unless a ticket leaving at ``old_departs`` may be changed at ``at`` to
    a train leaving at ``new_departs`` (whether that train is on sale is the sale rules' job).
    """
    lead = lead_time(old_departs, at)
    if new_departs <= at:
        raise DomainError("trip", "departed", "the new train has already left")
    if lead > ladder.change_free_until:
        return
    local = new_departs.astimezone(old_departs.tzinfo)
    if local.date() > old_departs.date():
        raise DomainError(
            "trip",
            "change_too_late",
            "within 48 hours of departure a ticket can only change to a train the same day",
        )


def change_quote(
    ladder: RefundLadder,
    old_fare_fen: int,
    new_fare_fen: int,
    old_departs: datetime,
    new_departs: datetime,
    at: datetime,
    old_floor: int = 0,
) -> ChangeQuote:
    """Quote changing a ticket (see the module doc); checks the change window first."""
    check_change_window(ladder, old_departs, new_departs, at)
    if new_fare_fen <= 0:
        raise DomainError("fare", "not_positive", "a ticket costs something")
    old_rate = max(fee_rate(ladder, lead_time(old_departs, at)), old_floor)
    new_rate = fee_rate(ladder, lead_time(new_departs, at))
    floor = old_rate if new_rate < old_rate else 0
    difference = new_fare_fen - old_fare_fen
    if difference >= 0:
        return ChangeQuote(old_fare_fen, new_fare_fen, difference, 0, 0, floor)
    fee = refund_fee(ladder, -difference, old_rate)
    return ChangeQuote(old_fare_fen, new_fare_fen, 0, -difference - fee, fee, floor)
