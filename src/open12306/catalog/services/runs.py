"""Materialising runs (a train on a service date) over the pre-sale window."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

from open12306.catalog.domain.run_calendar import runs_on
from open12306.catalog.domain.timetable import Train
from open12306.catalog.ports import NetworkStore
from open12306.shared.run_key import RunKey

# Runs that left their origin up to this many days before the first boarding date on sale
# still carry passengers boarding today (overnight and multi-day trains).
LOOKBACK_DAYS = 2


def run_keys(
    trains: Sequence[Train], first: date, last: date, is_peak: Callable[[date], bool]
) -> list[RunKey]:
    keys: list[RunKey] = []
    day = first
    while day <= last:
        peak = is_peak(day)
        keys.extend((t.code, day) for t in trains if runs_on(t, day, peak))
        day += timedelta(days=1)
    return keys


def window_bounds(today: date, presale_days: int) -> tuple[date, date]:
    """Service dates to keep materialised so every boarding date on sale finds its runs."""
    return today - timedelta(days=LOOKBACK_DAYS), today + timedelta(days=presale_days - 1)


def ensure_runs(
    store: NetworkStore,
    trains: Sequence[Train],
    today: date,
    presale_days: int,
    is_peak: Callable[[date], bool],
) -> int:
    """Create the window's missing runs; returns how many were added."""
    first, last = window_bounds(today, presale_days)
    return store.add_runs(run_keys(trains, first, last, is_peak))
