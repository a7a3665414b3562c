"""Stations, trains, stops and runs in the database."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import Connection, delete, select

from open12306.adapters.db.schema import runs, stations, train_stops, trains
from open12306.domain.stations import Station
from open12306.domain.timetable import StopTime, Train

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
            "code": s.code,
            "name": s.name,
            "pinyin": s.pinyin,
            "initials": s.initials,
            "city": s.city,
            "lat": s.lat,
            "lon": s.lon,
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
    for chunk in _chunks(train_rows):
        conn.execute(trains.insert(), chunk)
    for chunk in _chunks(stop_rows):
        conn.execute(train_stops.insert(), chunk)


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
    rows = conn.execute(
        select(
            trains.c.code,
            trains.c.composition,
            trains.c.synthetic,
            trains.c.holiday_only,
            trains.c.name,
        ).order_by(trains.c.code)
    )
    return [
        Train(code, tuple(stops[code]), composition, bool(synthetic), bool(holiday), name)
        for code, composition, synthetic, holiday, name in rows
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
