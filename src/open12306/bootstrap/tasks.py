"""Operator tasks on the store: demo load, GTFS import and export, simulated sales."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from open12306.bootstrap import build
from open12306.bootstrap.demo_sales import next_days, simulate_fill
from open12306.catalog.adapters.corridor_data import load_corridors, load_through_routes
from open12306.catalog.adapters.gtfs import read_feed, write_feed
from open12306.catalog.adapters.holidays import is_peak_day
from open12306.catalog.adapters.station_data import load_stations
from open12306.catalog.domain.network import Network
from open12306.catalog.domain.run_calendar import service_dates
from open12306.catalog.services.network_load import demo_network, load_network
from open12306.catalog.services.runs import ensure_runs, window_bounds
from open12306.config import Settings
from open12306.database.store import SqlStore
from open12306.shared.clock import Clock

# How a long task says how far it is: (stage, steps done, steps in the stage).
Progress = Callable[[str, int, int], None]


def _silent(stage: str, done: int, total: int) -> None:
    return None


def _today(settings: Settings, clock: Clock | None = None) -> date:
    """The operator's date by ``clock`` (default: the system clock) in the configured zone."""
    from zoneinfo import ZoneInfo

    from open12306.shared.clock import SystemClock

    zone = ZoneInfo(settings.timezone)
    return (clock or SystemClock(zone)).now().astimezone(zone).date()


def load_demo(
    settings: Settings,
    *,
    seed: int,
    trains: int,
    fill: float,
    days: int,
    force: bool,
    progress: Progress | None = None,
) -> str:
    """Load the demo network (idempotent unless ``force``) and simulate some sales;
    ``progress(stage, done, total)`` follows the long steps."""
    tell = progress or _silent
    store = SqlStore.from_url(settings.database_url)
    if store.trains() and not force:
        added = ensure_runs(
            store, store.trains(), _today(settings), settings.presale_days, is_peak_day
        )
        return f"demo network already loaded ({added} new runs for the pre-sale window)"
    tell("timetable", 0, 3)
    corridors = load_corridors()
    network = demo_network(load_stations(), corridors, seed, trains, load_through_routes(corridors))
    tell("timetable", 1, 3)
    report = load_network(store, network, "generator")
    tell("timetable", 2, 3)
    added = ensure_runs(store, network.trains, _today(settings), settings.presale_days, is_peak_day)
    tell("timetable", 3, 3)
    c = build(settings, store=store, materialise=False)  # the runs were just created
    sold = (
        simulate_sales(
            c, fill=fill, seed=seed, days=days, progress=lambda n, of: tell("sales", n, of)
        )
        if fill
        else {}
    )
    return (
        f"loaded {report.stations} stations, {report.trains} trains ({report.stops} stops), "
        f"{added} runs; sold {sold.get('tickets', 0)} tickets on {sold.get('runs', 0)} runs"
    )


def import_feed(settings: Settings, path: Path, source: str, *, today: date | None = None) -> str:
    """Import a GTFS feed into the store and create its runs for the pre-sale window of
    ``today`` (default: the operator's today).

    The feed's agency_timezone must keep the operator's clock (OPEN12306_TIMEZONE): times are
    stored as the feed gives them and shown in the operator's zone.
    """
    store = SqlStore.from_url(settings.database_url)
    known = {s.code: s for s in store.stations()}
    network = read_feed(path, known_stations=known, timezone=settings.timezone)
    report = load_network(store, network, f"gtfs:{source}")
    day = today or _today(settings)
    added = ensure_runs(store, network.trains, day, settings.presale_days, is_peak_day)
    text = (
        f"imported {report.trains} trips as trains ({report.stops} stop times) and "
        f"{report.stations} stops from {path}; {added} runs created"
    )
    first, last = window_bounds(day, settings.presale_days)
    if network.trains and not added:
        text += f" (no trip runs on the service dates {first} to {last})"
    return text


EXPORT_DAYS = 365


def export_feed(
    settings: Settings, path: Path, clock: Clock | None = None, *, today: date | None = None
) -> str:
    """Write the whole timetable as a GTFS feed in the operator's zone. Trains with a service
    calendar keep it; the others are written on a service valid for a year from ``today``
    (default: the operator's today by ``clock``), holiday-only ones on that year's peak days."""
    store = SqlStore.from_url(settings.database_url)
    network = Network(
        stations=tuple(store.stations()),
        trains=tuple(store.trains()),
        timezone=settings.timezone,
    )
    days = service_dates(today or _today(settings, clock), EXPORT_DAYS)
    peaks = [day for day in days if is_peak_day(day)]
    write_feed(network, path, start=days[0], end=days[-1], holidays=peaks)
    return f"exported {len(network.trains)} trains and {len(network.stations)} stations to {path}"


def simulate_sales(
    container: Any,
    *,
    fill: float,
    seed: int,
    days: int,
    types: frozenset[str] = frozenset(),
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Random sales on the runs of the next ``days`` service days."""
    return simulate_fill(
        container.inventory,
        container.read_model,
        next_days(container.window.today(), days),
        fill,
        seed,
        types,
        progress,
    )
