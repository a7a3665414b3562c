"""The run calendar: which service dates a train runs on.

Regular trains run every day unless they carry a service calendar (e.g. imported from GTFS:
weekdays only, Sundays and holidays); holiday-only trains (加开, extra trains) run only on peak
days. Which days are peak is decided outside the domain (catalog/adapters/holidays.py) and passed
in."""

from __future__ import annotations

from datetime import date, timedelta

from open12306.catalog.domain.timetable import Train
from open12306.shared.errors import DomainError

CHUNYUN_DAYS_BEFORE = 15
CHUNYUN_LENGTH = 40


def service_dates(start: date, days: int) -> list[date]:
    """``days`` consecutive service dates from ``start`` (e.g. the 15-day pre-sale window)."""
    if days < 0:
        raise DomainError("days", "negative", "the number of days cannot be negative")
    return [start + timedelta(days=n) for n in range(days)]


def runs_on(train: Train, day: date, is_peak: bool) -> bool:
    """Whether ``train`` runs on service date ``day``: on its calendar's dates (every day when it
    has none), and holiday-only trains only on peak days."""
    if train.calendar is not None and not train.calendar.runs_on(day):
        return False
    return is_peak or not train.holiday_only


def chunyun_window(spring_festival: date) -> tuple[date, date]:
    """The Spring Festival travel rush (春运): 15 days before 正月初一 to 24 days after.

    The rush lasts 40 days, e.g. 2 Feb – 13 Mar 2026 for Spring Festival on 17 Feb 2026
    (and 14 Jan – 22 Feb 2025, 26 Jan – 5 Mar 2024, matching the announced windows).
    """
    first = spring_festival - timedelta(days=CHUNYUN_DAYS_BEFORE)
    return first, first + timedelta(days=CHUNYUN_LENGTH - 1)
