"""Pairing one account's taps at one operator into priced journeys, in time order.

Rules (docs/credit.md, "Settlement rules", lists them with the caps):

* bus (flat fare): every boarding tap is a journey at the flat fare;
* entry then exit within ``max_journey_s``: a journey at the table fare; the same station in
  and out within ``cancel_window_s`` is a cancelled trip (0);
* exit with no open entry: travel without a ticket, charged the maximum fare and flagged;
* entry never closed (another entry, or nothing, follows): an incomplete journey charged the
  maximum fare; a late exit tap arriving in a later upload pairs with it and corrects it;
* a tap the operator cannot price (unknown station, wrong kind of tap): flagged, free.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from operator import attrgetter
from typing import NamedTuple

from open12306.transit.domain.operators import FlatFareOperator, Operator, TableFareOperator
from open12306.transit.domain.taps import Tap, TapDirection


class JourneyStatus(StrEnum):
    """How a journey was made out of taps."""

    COMPLETE = "complete"
    BOARDED = "boarded"
    CANCELLED = "cancelled"
    INCOMPLETE = "incomplete"
    NO_ENTRY = "no_entry"
    INVALID = "invalid"


FLAGGED = frozenset({JourneyStatus.INCOMPLETE, JourneyStatus.NO_ENTRY, JourneyStatus.INVALID})


class Journey(NamedTuple):
    """A journey of one account with one operator and its fare before caps, in fen.

    ``first`` is the tap that starts it (entry, boarding, or the lone exit) and decides its
    service day; ``last`` is the exit tap, when there is one. (A named tuple: settlement
    makes one per journey, and a tuple is built several times faster than a frozen
    dataclass.)
    """

    account_token: str
    operator: str
    status: JourneyStatus
    first: Tap
    last: Tap | None
    fare_fen: int

    @property
    def flagged(self) -> bool:
        return self.status in FLAGGED

    @property
    def at(self) -> int:
        return self.first.at


def tap_order(tap: Tap) -> tuple[int, str]:
    """Time order; ties broken by tap id so any upload order pairs the same way."""
    return tap.at, tap.tap_id


TAP_ORDER_KEY: Callable[[Tap], tuple[int, str]] = attrgetter("at", "tap_id")
"""``tap_order`` as a C-level key function, for sorting many taps."""


def pair_journeys(taps: list[Tap], operator: Operator | None) -> list[Journey]:
    """Journeys from one account's taps at one operator, given in ``tap_order``."""
    if operator is None:
        return [_journey(t, None, JourneyStatus.INVALID, 0) for t in taps]
    if isinstance(operator, FlatFareOperator):
        return [_boarding(t, operator) for t in taps]
    return _pair_table(taps, operator)


def _journey(first: Tap, last: Tap | None, status: JourneyStatus, fen: int) -> Journey:
    return Journey(first.account_token, first.operator, status, first, last, fen)


def _boarding(tap: Tap, operator: FlatFareOperator) -> Journey:
    if tap.direction is not TapDirection.BOARD:
        return _journey(tap, None, JourneyStatus.INVALID, 0)
    return _journey(tap, None, JourneyStatus.BOARDED, operator.fare_fen)


def _pair_table(taps: list[Tap], operator: TableFareOperator) -> list[Journey]:
    journeys: list[Journey] = []
    open_entry: Tap | None = None
    maximum = operator.max_fare
    entry, exit_ = TapDirection.ENTRY, TapDirection.EXIT
    for tap in taps:
        direction = tap.direction
        if direction is entry:
            if open_entry is not None:
                journeys.append(_journey(open_entry, None, JourneyStatus.INCOMPLETE, maximum))
            open_entry = tap
        elif direction is exit_:
            if open_entry is None:
                journeys.append(_journey(tap, None, JourneyStatus.NO_ENTRY, maximum))
            elif tap.at - open_entry.at > operator.max_journey_s:
                journeys.append(_journey(open_entry, None, JourneyStatus.INCOMPLETE, maximum))
                journeys.append(_journey(tap, None, JourneyStatus.NO_ENTRY, maximum))
                open_entry = None
            else:
                journeys.append(_closed(open_entry, tap, operator))
                open_entry = None
        else:
            journeys.append(_journey(tap, None, JourneyStatus.INVALID, 0))
    if open_entry is not None:
        journeys.append(_journey(open_entry, None, JourneyStatus.INCOMPLETE, maximum))
    return journeys


def _closed(entry: Tap, exit_tap: Tap, operator: TableFareOperator) -> Journey:
    if entry.station == exit_tap.station and exit_tap.at - entry.at <= operator.cancel_window_s:
        return _journey(entry, exit_tap, JourneyStatus.CANCELLED, 0)
    fen = operator.fares.get((entry.station, exit_tap.station))
    if fen is None:
        return _journey(entry, exit_tap, JourneyStatus.INVALID, 0)
    return Journey(
        entry.account_token, entry.operator, JourneyStatus.COMPLETE, entry, exit_tap, fen
    )
