"""Service days (04:30–04:29 local time) and weeks (Monday–Sunday) in Asia/Shanghai.

China has kept UTC+8 with no daylight saving since 1991, so a fixed offset is exact for
every tap settlement sees and the domain needs no time-zone database.
"""

from __future__ import annotations

from datetime import date, timedelta

SHANGHAI_OFFSET_S = 8 * 3600
DAY_START_S = 4 * 3600 + 30 * 60
_EPOCH = date(1970, 1, 1)


def service_day(at: int, day_start_s: int = DAY_START_S) -> date:
    """The service day of unix time ``at``: a tap at 02:00 belongs to the day before."""
    local_days = (at + SHANGHAI_OFFSET_S - day_start_s) // 86_400
    return _EPOCH + timedelta(days=local_days)


def service_day_bounds(day: date, day_start_s: int = DAY_START_S) -> tuple[int, int]:
    """Unix seconds [start, end) of a service day."""
    start = (day - _EPOCH).days * 86_400 + day_start_s - SHANGHAI_OFFSET_S
    return start, start + 86_400


def week_start(day: date) -> date:
    """The Monday of the capping week ``day`` is in."""
    return day - timedelta(days=day.weekday())
