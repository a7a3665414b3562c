from datetime import date

import pytest

from open12306.domain.calendar import chunyun_window, runs_on, service_dates
from open12306.domain.errors import DomainError
from open12306.domain.timetable import StopTime, Train

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
