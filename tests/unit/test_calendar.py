from datetime import date

import pytest

from open12306.catalog.domain.run_calendar import chunyun_window, runs_on, service_dates
from open12306.catalog.domain.service_calendar import ServiceCalendar, validate_calendar
from open12306.catalog.domain.timetable import StopTime, Train, validate_train
from open12306.shared.errors import DomainError

STOPS = (StopTime("VNP", None, 600, 0), StopTime("AOH", 900, None, 1318))
REGULAR = Train("G1", STOPS, "emu-16")
EXTRA = Train("G4001", STOPS, "emu-16", holiday_only=True)


def test_service_dates_cross_month_ends() -> None:
    days = service_dates(date(2026, 2, 27), 3)
    assert days == [date(2026, 2, 27), date(2026, 2, 28), date(2026, 3, 1)]
    assert len(service_dates(date(2026, 2, 1), 15)) == 15
    assert service_dates(date(2026, 2, 1), 0) == []
    with pytest.raises(DomainError):
        service_dates(date(2026, 2, 1), -1)


def test_regular_trains_run_daily_extras_only_at_peak() -> None:
    day = date(2026, 2, 10)
    assert runs_on(REGULAR, day, is_peak=False)
    assert runs_on(REGULAR, day, is_peak=True)
    assert not runs_on(EXTRA, day, is_peak=False)
    assert runs_on(EXTRA, day, is_peak=True)


@pytest.mark.parametrize(
    ("festival", "first", "last"),
    [
        (date(2026, 2, 17), date(2026, 2, 2), date(2026, 3, 13)),
        (date(2025, 1, 29), date(2025, 1, 14), date(2025, 2, 22)),
        (date(2024, 2, 10), date(2024, 1, 26), date(2024, 3, 5)),
    ],
)
def test_chunyun_window_matches_announced_dates(festival: date, first: date, last: date) -> None:
    assert chunyun_window(festival) == (first, last)


WEEKDAYS = ServiceCalendar(
    "WK",
    frozenset(range(5)),
    date(2026, 12, 13),
    date(2027, 12, 11),
    added=frozenset({date(2026, 12, 12)}),
    removed=frozenset({date(2027, 1, 1)}),
)


def test_a_calendar_runs_on_its_weekdays_within_its_range() -> None:
    assert WEEKDAYS.runs_on(date(2026, 12, 28))  # Monday
    assert not WEEKDAYS.runs_on(date(2027, 1, 2))  # Saturday
    assert not WEEKDAYS.runs_on(date(2027, 12, 13))  # Monday after the end
    assert WEEKDAYS.runs_on(date(2027, 12, 10))  # last Friday
    assert not WEEKDAYS.runs_on(date(2027, 1, 1))  # removed
    assert WEEKDAYS.runs_on(date(2026, 12, 12))  # added, a Saturday before the start
    assert WEEKDAYS.span() == (date(2026, 12, 12), date(2027, 12, 11))
    assert WEEKDAYS.weekday_flags() == "1111100"
    assert WEEKDAYS.dates(date(2026, 12, 31), date(2027, 1, 4)) == [
        date(2026, 12, 31),
        date(2027, 1, 4),
    ]


def test_a_calendar_of_added_dates_runs_on_those_only() -> None:
    once = ServiceCalendar("NY", added=frozenset({date(2027, 1, 1)}))
    assert once.dates(date(2026, 12, 1), date(2027, 2, 1)) == [date(2027, 1, 1)]
    assert ServiceCalendar("NEVER").span() is None


def test_trains_with_a_calendar_run_on_its_dates_and_extras_still_need_a_peak() -> None:
    weekday = Train("IC702", STOPS, "emu-8", calendar=WEEKDAYS)
    extra = Train("IC9702", STOPS, "emu-8", holiday_only=True, calendar=WEEKDAYS)
    monday, saturday = date(2026, 12, 28), date(2027, 1, 2)
    assert runs_on(weekday, monday, is_peak=False)
    assert not runs_on(weekday, saturday, is_peak=True)
    assert not runs_on(extra, monday, is_peak=False)
    assert runs_on(extra, monday, is_peak=True)
    assert not runs_on(extra, saturday, is_peak=True)


@pytest.mark.parametrize(
    ("calendar", "reason"),
    [
        (ServiceCalendar(""), "empty"),
        (ServiceCalendar("A", start=date(2027, 1, 1)), "half_range"),
        (ServiceCalendar("A", frozenset({0}), date(2027, 1, 2), date(2027, 1, 1)), "before_start"),
        (ServiceCalendar("A", frozenset({0})), "no_range"),
        (ServiceCalendar("A", frozenset({7}), date(2027, 1, 1), date(2027, 1, 2)), "bad_weekday"),
        (
            ServiceCalendar(
                "A", added=frozenset({date(2027, 1, 1)}), removed=frozenset({date(2027, 1, 1)})
            ),
            "added_and_removed",
        ),
    ],
)
def test_malformed_calendars_are_refused(calendar: ServiceCalendar, reason: str) -> None:
    with pytest.raises(DomainError) as err:
        validate_calendar(calendar)
    assert err.value.reason == reason
    with pytest.raises(DomainError):
        validate_train(Train("X1", STOPS, "emu-8", calendar=calendar))
