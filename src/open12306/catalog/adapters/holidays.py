"""Peak days from China's official holiday calendar (the ``chinesecalendar`` package).

A day is peak when it is an official public holiday, the day before or after one (the
outbound and return rush), or inside the Spring Festival travel rush (春运) window.
``chinesecalendar`` covers one year ahead at most; for years it does not know, only the
春运 window (from the Spring Festival table below) marks peak days.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar  # type: ignore[import-untyped]

from open12306.catalog.domain.run_calendar import chunyun_window

# 正月初一 (lunar new year's day), a public astronomical fact.
SPRING_FESTIVAL: dict[int, date] = {
    2020: date(2020, 1, 25),
    2021: date(2021, 2, 12),
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
    2031: date(2031, 1, 23),
    2032: date(2032, 2, 11),
    2033: date(2033, 1, 31),
    2034: date(2034, 2, 19),
    2035: date(2035, 2, 8),
}


def is_official_holiday(day: date) -> bool:
    """A day off for a named public holiday (not an ordinary weekend); False when unknown."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return False
    return bool(on_holiday) and name is not None


def is_chunyun(day: date) -> bool:
    """Whether ``day`` falls in the 春运 window of its year's Spring Festival."""
    festival = SPRING_FESTIVAL.get(day.year)
    if festival is None:
        return False
    first, last = chunyun_window(festival)
    return first <= day <= last


def is_peak_day(day: date) -> bool:
    """Peak: an official holiday, a day next to one, or a day of the 春运 rush."""
    one = timedelta(days=1)
    return (
        is_chunyun(day)
        or is_official_holiday(day)
        or is_official_holiday(day - one)
        or is_official_holiday(day + one)
    )
