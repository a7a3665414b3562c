"""Service calendars: the dates a train runs on when it does not run every day.

A calendar is a weekly pattern (the weekdays it runs) inside a date range, plus single dates
added to or removed from it, as GTFS models services (calendar.txt and calendar_dates.txt). A
calendar with only added dates runs on exactly those dates. The ``service_id`` names it: trains
that run on the same days share one calendar.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from open12306.shared.errors import DomainError

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class ServiceCalendar:
    """The service dates of a service: ``weekdays`` (0 = Monday) from ``start`` to ``end``
    (both or neither), and the ``added`` and ``removed`` single dates, which win over the
    weekly pattern."""

    service_id: str
    weekdays: frozenset[int] = field(default_factory=frozenset)
    start: date | None = None
    end: date | None = None
    added: frozenset[date] = field(default_factory=frozenset)
    removed: frozenset[date] = field(default_factory=frozenset)

    def runs_on(self, day: date) -> bool:
        """Whether the service runs on service date ``day``."""
        if day in self.removed:
            return False
        if day in self.added:
            return True
        if self.start is None or self.end is None:
            return False
        return self.start <= day <= self.end and day.weekday() in self.weekdays

    def span(self) -> tuple[date, date] | None:
        """The first and last date the calendar mentions (None when it mentions none)."""
        days = [*self.added, *self.removed]
        if self.start is not None and self.end is not None:
            days += [self.start, self.end]
        return (min(days), max(days)) if days else None

    def dates(self, first: date, last: date) -> list[date]:
        """The service dates between ``first`` and ``last`` (inclusive)."""
        count = (last - first).days + 1
        days = (first + timedelta(days=n) for n in range(max(0, count)))
        return [day for day in days if self.runs_on(day)]

    def weekday_flags(self) -> str:
        """Seven 0/1 flags, Monday first, as GTFS calendar.txt lists them."""
        return "".join("1" if n in self.weekdays else "0" for n in range(7))


def weekdays_from_flags(flags: str) -> frozenset[int]:
    """The weekdays of seven 0/1 flags, Monday first."""
    return frozenset(n for n, flag in enumerate(flags) if flag == "1")


def validate_calendar(calendar: ServiceCalendar) -> None:
    """Raise DomainError when a calendar cannot be read the one way it is meant."""
    name = calendar.service_id
    if not name:
        raise DomainError("service_id", "empty", "a service calendar needs a service_id")
    if (calendar.start is None) != (calendar.end is None):
        raise DomainError("calendar", "half_range", f"{name}: give both start and end, or neither")
    if calendar.start is not None and calendar.end is not None and calendar.end < calendar.start:
        raise DomainError(
            "end_date", "before_start", f"{name}: ends {calendar.end} before {calendar.start}"
        )
    if calendar.start is None and calendar.weekdays:
        raise DomainError("calendar", "no_range", f"{name}: weekdays need a start and an end")
    if not calendar.weekdays <= frozenset(range(7)):
        raise DomainError("calendar", "bad_weekday", f"{name}: weekdays are 0 (Monday) to 6")
    both = calendar.added & calendar.removed
    if both:
        raise DomainError(
            "date", "added_and_removed", f"{name}: {min(both)} is both added and removed"
        )


def check_shared_calendars(calendars: Iterable[tuple[str, ServiceCalendar | None]]) -> None:
    """Raise DomainError when trains name the same service_id with different dates.

    ``calendars`` pairs a train number with its calendar (None: the train runs every day).
    """
    seen: dict[str, tuple[str, ServiceCalendar]] = {}
    for code, calendar in calendars:
        if calendar is None:
            continue
        held = seen.setdefault(calendar.service_id, (code, calendar))
        if held[1] != calendar:
            raise DomainError(
                "calendar",
                "conflicting_calendar",
                f"service {calendar.service_id!r} has different dates for {held[0]} and {code}",
            )


def distinct_calendars(calendars: Sequence[ServiceCalendar | None]) -> list[ServiceCalendar]:
    """Each calendar once, by service_id, in first-seen order."""
    found: dict[str, ServiceCalendar] = {}
    for calendar in calendars:
        if calendar is not None:
            found.setdefault(calendar.service_id, calendar)
    return list(found.values())
