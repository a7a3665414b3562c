"""Stations, trains, stops and runs in the database."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import Connection, delete, select

from open12306.catalog.adapters.tables import (
    runs,
    service_calendar_dates,
    service_calendars,
    stations,
    train_stops,
    trains,
)
from open12306.catalog.domain.service_calendar import (
    ServiceCalendar,
    distinct_calendars,
    weekdays_from_flags,
)
from open12306.catalog.domain.stations import Station
from open12306.catalog.domain.timetable import StopTime, Train

_CHUNK = 5000


def _chunks(rows: list[dict[str, object]]) -> Iterable[list[dict[str, object]]]:
    for start in range(0, len(rows), _CHUNK):
        yield rows[start : start + _CHUNK]


def upsert_stations(conn: Connection, items: Sequence[Station], source: str) -> int:
    """Insert stations whose code is new; existing codes keep their row. Returns rows added.

    ``seq`` keeps the given order (12306's list order ranks equal matches in lookups)."""
    known = set(conn.execute(select(stations.c.code)).scalars())
    first = len(known)
    fresh = [s for s in items if s.code not in known]
    rows: list[dict[str, object]] = [
        {
            **s.as_dict(),
            "source": source,
            "seq": first + n,
        }
        for n, s in enumerate(fresh)
    ]
    for chunk in _chunks(rows):
        conn.execute(stations.insert(), chunk)
    return len(rows)


def replace_trains(conn: Connection, items: Sequence[Train], source: str) -> None:
    """Replace every train that came from ``source`` (and any train with the same code)."""
    codes = [t.code for t in items]
    old = set(conn.execute(select(trains.c.code).where(trains.c.source == source)).scalars())
    old.update(conn.execute(select(trains.c.code).where(trains.c.code.in_(codes))).scalars())
    old_list = sorted(old)
    for start in range(0, len(old_list), 500):
        part = old_list[start : start + 500]
        conn.execute(delete(runs).where(runs.c.train_code.in_(part)))
        conn.execute(delete(train_stops).where(train_stops.c.train_code.in_(part)))
        conn.execute(delete(trains).where(trains.c.code.in_(part)))
    train_rows: list[dict[str, object]] = [
        {
            "code": t.code,
            "train_type": t.train_type,
            "composition": t.composition,
            "synthetic": t.synthetic,
            "holiday_only": t.holiday_only,
            "name": t.name,
            "source": source,
            "service_id": t.calendar.service_id if t.calendar is not None else None,
        }
        for t in items
    ]
    stop_rows: list[dict[str, object]] = [
        {
            "train_code": t.code,
            "seq": n,
            "station": s.station,
            "arrive": s.arrive,
            "depart": s.depart,
            "km": s.km,
        }
        for t in items
        for n, s in enumerate(t.stops)
    ]
    _replace_calendars(conn, [t.calendar for t in items], source)
    for chunk in _chunks(train_rows):
        conn.execute(trains.insert(), chunk)
    for chunk in _chunks(stop_rows):
        conn.execute(train_stops.insert(), chunk)


def _replace_calendars(
    conn: Connection, calendars: Sequence[ServiceCalendar | None], source: str
) -> None:
    """The source's service calendars become those of its new trains."""
    conn.execute(delete(service_calendar_dates).where(service_calendar_dates.c.source == source))
    conn.execute(delete(service_calendars).where(service_calendars.c.source == source))
    found = distinct_calendars(calendars)
    calendar_rows: list[dict[str, object]] = [
        {
            "source": source,
            "service_id": c.service_id,
            "weekdays": c.weekday_flags(),
            "start_date": c.start,
            "end_date": c.end,
        }
        for c in found
    ]
    date_rows: list[dict[str, object]] = [
        {"source": source, "service_id": c.service_id, "day": day, "added": added}
        for c in found
        for added, days in ((True, c.added), (False, c.removed))
        for day in sorted(days)
    ]
    for chunk in _chunks(calendar_rows):
        conn.execute(service_calendars.insert(), chunk)
    for chunk in _chunks(date_rows):
        conn.execute(service_calendar_dates.insert(), chunk)


def load_calendars(conn: Connection) -> dict[tuple[str, str], ServiceCalendar]:
    """Every stored service calendar by (source, service_id)."""
    exceptions: dict[tuple[str, str], tuple[set[date], set[date]]] = defaultdict(
        lambda: (set(), set())
    )
    for source, service_id, day, added in conn.execute(
        select(
            service_calendar_dates.c.source,
            service_calendar_dates.c.service_id,
            service_calendar_dates.c.day,
            service_calendar_dates.c.added,
        )
    ):
        exceptions[(source, service_id)][0 if added else 1].add(day)
    result: dict[tuple[str, str], ServiceCalendar] = {}
    for source, service_id, flags, start, end in conn.execute(
        select(
            service_calendars.c.source,
            service_calendars.c.service_id,
            service_calendars.c.weekdays,
            service_calendars.c.start_date,
            service_calendars.c.end_date,
        )
    ):
        added, removed = exceptions.get((source, service_id), (set(), set()))
        result[(source, service_id)] = ServiceCalendar(
            service_id,
            weekdays_from_flags(flags),
            start,
            end,
            frozenset(added),
            frozenset(removed),
        )
    return result


def load_stations(conn: Connection) -> list[Station]:
    result = conn.execute(
        select(
            stations.c.code,
            stations.c.name,
            stations.c.pinyin,
            stations.c.initials,
            stations.c.city,
            stations.c.lat,
            stations.c.lon,
        ).order_by(stations.c.seq, stations.c.code)
    )
    return [Station(*row) for row in result]


def load_trains(conn: Connection) -> list[Train]:
    stops: dict[str, list[StopTime]] = defaultdict(list)
    result = conn.execute(
        select(
            train_stops.c.train_code,
            train_stops.c.station,
            train_stops.c.arrive,
            train_stops.c.depart,
            train_stops.c.km,
        ).order_by(train_stops.c.train_code, train_stops.c.seq)
    )
    for code, station, arrive, depart, km in result:
        stops[code].append(StopTime(station, arrive, depart, km))
    calendars = load_calendars(conn)
    rows = conn.execute(
        select(
            trains.c.code,
            trains.c.composition,
            trains.c.synthetic,
            trains.c.holiday_only,
            trains.c.name,
            trains.c.source,
            trains.c.service_id,
        ).order_by(trains.c.code)
    )
    return [
        Train(
            code,
            tuple(stops[code]),
            composition,
            bool(synthetic),
            bool(holiday),
            name,
            None if service_id is None else calendars[(source, service_id)],
        )
        for code, composition, synthetic, holiday, name, source, service_id in rows
    ]


def add_runs(conn: Connection, keys: Iterable[tuple[str, date]]) -> int:
    """Create the runs not present yet. Returns how many were added."""
    wanted = set(keys)
    if not wanted:
        return 0
    days = sorted({d for _, d in wanted})
    result = conn.execute(
        select(runs.c.train_code, runs.c.service_date).where(
            runs.c.service_date.between(days[0], days[-1])
        )
    )
    existing = {(row[0], row[1]) for row in result}
    rows: list[dict[str, object]] = [
        {"train_code": code, "service_date": day} for code, day in sorted(wanted - existing)
    ]
    for chunk in _chunks(rows):
        conn.execute(runs.insert(), chunk)
    return len(rows)


def load_runs(conn: Connection, first: date, last: date) -> set[tuple[str, date]]:
    """Scheduled runs whose service date lies in [first, last]."""
    result = conn.execute(
        select(runs.c.train_code, runs.c.service_date).where(
            runs.c.service_date.between(first, last), runs.c.status == "scheduled"
        )
    )
    return {(row[0], row[1]) for row in result}
