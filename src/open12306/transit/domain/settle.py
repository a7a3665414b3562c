"""Settling one service day: journeys per account, caps, one aggregated charge per account.

Caps are applied to journeys in time order over the capping week: each journey is charged
its fare, less whatever would take the operator's daily (service day) or weekly (Monday to
Sunday) total above its cap, so no total ever exceeds a cap. Settling is a pure function of
the set of taps: uploading the same taps again, in any order or twice, gives the same charges,
and a late exit tap turns an incomplete journey back into a priced one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from open12306.transit.domain.journeys import TAP_ORDER_KEY, Journey, pair_journeys, tap_order
from open12306.transit.domain.operators import Operator, TableFareOperator
from open12306.transit.domain.service_day import (
    DAY_START_S,
    SHANGHAI_OFFSET_S,
    service_day_bounds,
    week_start,
)
from open12306.transit.domain.taps import Tap


class PricedJourney(NamedTuple):
    """A journey and what was charged for it after caps (``charged_fen`` ≤ its fare)."""

    journey: Journey
    charged_fen: int


@dataclass(frozen=True, slots=True)
class Charge:
    """What one account owes for one service day, over all operators, in fen."""

    account_token: str
    day: date
    amount_fen: int
    journeys: tuple[PricedJourney, ...]

    @property
    def reference(self) -> str:
        """A stable id for the charge, so a charger can refuse to take it twice."""
        return f"{self.account_token}/{self.day.isoformat()}"

    @property
    def flagged(self) -> bool:
        """True when a journey had no entry, no exit or could not be priced."""
        return any(p.journey.flagged for p in self.journeys)


def settle_accounts(
    taps: Iterable[Tap], operators: Mapping[str, Operator], day: date
) -> list[Charge]:
    """The charges for service day ``day``, one per account with a journey that day.

    ``taps`` may hold other days, duplicates and any order: copies under one ``tap_id``
    count once (should they differ, the earliest is kept, whatever the upload order). Taps
    of earlier days of the same week are needed for the weekly cap. Charges come sorted by
    account token.
    """
    week = week_start(day)
    margin = _margin(operators)
    start = service_day_bounds(week)[0] - margin
    end = service_day_bounds(day)[1] + margin
    grouped = _group(taps, start, end)
    first_day, last_day = _day_number(week), _day_number(day)
    caps = {op_id: (op.caps.daily_fen, op.caps.weekly_fen) for op_id, op in operators.items()}
    charges: list[Charge] = []
    for account in sorted(grouped):
        journeys = _journeys(grouped[account], operators)
        priced = _capped(journeys, caps, first_day, last_day)
        if priced:
            total = sum(p.charged_fen for p in priced)
            charges.append(Charge(account, day, total, tuple(priced)))
    return charges


def _margin(operators: Mapping[str, Operator]) -> int:
    spans = [op.max_journey_s for op in operators.values() if isinstance(op, TableFareOperator)]
    return max(spans, default=0)


def _day_number(day: date) -> int:
    return (service_day_bounds(day)[0] + SHANGHAI_OFFSET_S - DAY_START_S) // 86_400


def _group(taps: Iterable[Tap], start: int, end: int) -> dict[str, list[Tap]]:
    unique: dict[str, Tap] = {}
    for tap in taps:
        if start <= tap.at < end:
            kept = unique.setdefault(tap.tap_id, tap)
            if kept is not tap and kept != tap:
                unique[tap.tap_id] = min(kept, tap, key=_canonical)
    grouped: dict[str, list[Tap]] = {}
    for tap in unique.values():
        bucket = grouped.get(tap.account_token)
        if bucket is None:
            grouped[tap.account_token] = [tap]
        else:
            bucket.append(tap)
    return grouped


def _canonical(tap: Tap) -> tuple[int, str, str, str, str]:
    """Which of two differing copies under one tap id is kept: any upload order keeps the same."""
    return tap.at, tap.account_token, tap.operator, tap.station, tap.direction.value


def _journeys(taps: list[Tap], operators: Mapping[str, Operator]) -> list[Journey]:
    taps.sort(key=TAP_ORDER_KEY)
    operator_id = taps[0].operator
    if len({tap.operator for tap in taps}) == 1:
        return pair_journeys(taps, operators.get(operator_id))
    by_operator: dict[str, list[Tap]] = {}
    for tap in taps:
        by_operator.setdefault(tap.operator, []).append(tap)
    journeys: list[Journey] = []
    for operator_id, own in by_operator.items():
        journeys.extend(pair_journeys(own, operators.get(operator_id)))
    journeys.sort(key=lambda j: tap_order(j.first))
    return journeys


def _capped(
    journeys: list[Journey],
    caps: Mapping[str, tuple[int | None, int | None]],
    first_day: int,
    last_day: int,
) -> list[PricedJourney]:
    """Charge each journey of days ``first_day``..``last_day`` (day numbers) within the caps.

    ``caps`` maps operator ids to their (daily, weekly) caps in fen.
    """
    spent_day: dict[tuple[str, int], int] = {}
    spent_week: dict[str, int] = {}
    priced: list[PricedJourney] = []
    shift = SHANGHAI_OFFSET_S - DAY_START_S
    for journey in journeys:
        when = (journey.first.at + shift) // 86_400
        if not first_day <= when <= last_day:
            continue
        charged = journey.fare_fen
        limits = caps.get(journey.operator)
        if limits is not None and charged:
            daily, weekly = limits
            key = (journey.operator, when)
            if daily is not None:
                charged = min(charged, daily - spent_day.get(key, 0))
            if weekly is not None:
                charged = min(charged, weekly - spent_week.get(journey.operator, 0))
            charged = max(charged, 0)
            spent_day[key] = spent_day.get(key, 0) + charged
            spent_week[journey.operator] = spent_week.get(journey.operator, 0) + charged
        if when == last_day:
            priced.append(PricedJourney(journey, charged))
    return priced
