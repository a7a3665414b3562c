from datetime import date

from open12306.catalog.adapters.holidays import (
    SPRING_FESTIVAL,
    is_chunyun,
    is_official_holiday,
    is_peak_day,
)


def test_spring_festival_2026_holiday_is_peak() -> None:
    for day in range(15, 24):
        assert is_official_holiday(date(2026, 2, day))
        assert is_peak_day(date(2026, 2, day))
    # 14 Feb 2026 is a make-up working day (调休), not a holiday, but inside 春运.
    assert not is_official_holiday(date(2026, 2, 14))
    assert is_peak_day(date(2026, 2, 14))


def test_chunyun_2026_bounds() -> None:
    assert not is_chunyun(date(2026, 2, 1))
    assert is_chunyun(date(2026, 2, 2))
    assert is_chunyun(date(2026, 3, 13))
    assert not is_chunyun(date(2026, 3, 14))


def test_other_holidays_and_the_days_next_to_them() -> None:
    assert is_peak_day(date(2026, 5, 1))
    assert is_peak_day(date(2026, 4, 30))  # the eve of Labour Day
    assert is_peak_day(date(2026, 10, 1))
    assert is_peak_day(date(2026, 9, 30))


def test_ordinary_days_and_weekends_are_not_peak() -> None:
    assert not is_peak_day(date(2026, 3, 18))  # a Wednesday
    assert not is_peak_day(date(2026, 3, 21))  # a Saturday
    assert not is_official_holiday(date(2026, 3, 21))


def test_years_beyond_the_calendar_still_know_chunyun() -> None:
    assert not is_official_holiday(date(2031, 10, 1))
    assert is_peak_day(date(2031, 1, 23))  # Spring Festival 2031, inside 春运
    assert not is_peak_day(date(2031, 6, 10))
    assert all(day.month in (1, 2) for day in SPRING_FESTIVAL.values())
