"""GTFS import and export of a Network (https://gtfs.org/schedule/reference/).

Export (`write_feed`) writes one stop per station (stop_id = station code), one route per train
class (G, D, C, Z, T, K, other), one trip per train (trip_id = trip_short_name = train number) and
its stop_times, a calendar and feed_info. Columns prefixed ``o12306_`` are our own extra columns
(GTFS consumers ignore unknown columns); they carry what GTFS has no field for (composition,
pinyin, holiday-only, synthetic) so that ``read_feed(write_feed(n)) == n`` for trains that follow
the Train convention (no arrival at the origin, no departure at the terminus).

Decisions, per the specification:

* stop_lat/stop_lon are required for stops. A station without coordinates is written at 0,0
  (the conventional "unknown" value; validators will warn) and 0,0 is read back as unknown.
* GTFS requires both times at the first and last stop: the origin's arrival is written equal to
  its departure and the terminus's departure equal to its arrival; on import the origin never
  has an arrival and the terminus never a departure.
* Times are whole minutes (HH:MM:00) and may pass 24:00:00 as GTFS allows. Imported times are
  rounded to the nearest minute (half a minute rounds up), which keeps their order.
* shape_dist_traveled is written in whole km from the train's km.
* Service: a train with a service calendar is written on its service_id (calendar.txt for the
  weekly pattern, calendar_dates.txt for added and removed dates). Trains that run every day
  use ``DAILY``, every day from ``start`` to ``end`` (default: today and 364 days after), and
  holiday-only ones ``HOLIDAY``, whose days are the given holidays (calendar_dates.txt); both
  are marked ``o12306_window=1`` so that reading the feed back gives daily trains again.
  A calendar that names no date at all (a train that runs on no day) is written in
  calendar.txt on no weekday over the export window, marked ``o12306_dateless=1`` so that it
  reads back without a range: GTFS consumers see a service that never runs, not a trip on an
  unknown service, nor (in a feed of such trains alone) a feed without calendars, whose trains
  would run every day.
* agency_timezone is the network's zone: the wall clock its times are in.

Import (`read_feed`):

* Platforms (stops with a parent_station) are replaced by their parent station; entrances and
  other nodes are not stations. A stop whose stop_id is a key of ``known_stations`` becomes that
  station (so a feed that uses 12306 telecodes as stop_ids reuses our station data).
* Every trip with stop_times becomes a train. Train number: trip_short_name, else
  route_short_name (or route_id) + "-" + trip_id; a number already taken gets "-2", "-3", ...
* A trip's service_id gives its train a service calendar: calendar.txt's weekday flags from
  start_date to end_date, with calendar_dates.txt's exception_type 1 adding and 2 removing a
  date (a service only in calendar_dates.txt runs on its added dates). A feed with neither file
  has no calendars: its trains run every day. A service_id found in neither file is an error.
* Times are in agency_timezone (all agencies must give the same one); stop_timezone does not
  change them (GTFS: stop_times are in agency_timezone whatever the stop's zone). GTFS counts
  times from "noon minus 12h" of the service day, which is midnight except on the days clocks
  change; stored minutes are read as wall-clock time from midnight (catalog.domain.timetable). The
  two give the same instant whenever the UTC offset at the time is the offset at noon of the
  service day: all times but those before the change on a change day, and those past 24:00
  that fall after a change the next morning (an hour apart then).
  Given the operator's zone, a feed whose zone keeps another clock is refused (see docs/gtfs.md).
* stop_times rows of a trip may come in any order (the specification does not require file
  order); they are sorted by stop_sequence, and a repeated stop_sequence is an error.
* An intermediate stop with neither time is interpolated linearly by distance between the timed
  stops around it (by stop count when distances are unknown); a stop with one time uses it for
  both.
* Distance (StopTime.km, integer km, non-decreasing, 0 at the origin): shape_dist_traveled when
  every stop of the trip has it (its unit, m/km/mi/ft, is detected from the ratio of the feed's
  distances to the straight-line distances between stops, or from their size when stops have no
  coordinates); else the stops projected onto the trip's shapes.txt polyline; else great-circle
  distance between consecutive stops; else 0 everywhere.
* Composition: the ``o12306_composition`` column when present, else a default by route_type.
* Malformed feeds raise GtfsError naming file, line and field, e.g.
  ``stop_times.txt line 17, field departure_time: bad time '25:61:00'``.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import math
import re
import statistics
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from open12306.catalog.domain.network import Network, validate_network
from open12306.catalog.domain.service_calendar import (
    WEEKDAY_NAMES,
    ServiceCalendar,
    distinct_calendars,
    validate_calendar,
    weekdays_from_flags,
)
from open12306.catalog.domain.stations import Station
from open12306.catalog.domain.timetable import TRAIN_TYPES, StopTime, Train, validate_train
from open12306.shared.errors import DomainError

EXTRA = "o12306_"
# Format 1 had no service calendars (every service was the export window); 2 marks those
# window services with o12306_window=1 in calendar.txt.
FORMAT_VERSION = "2"
LEGACY_FORMAT = "1"
DAILY_SERVICE = "DAILY"
HOLIDAY_SERVICE = "HOLIDAY"
AGENCY_ID = "open12306"
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_COMPOSITION = "emu-8"
DEFAULT_COMPOSITIONS: Mapping[int, str] = {101: "emu-16", 102: "emu-16"}

ROUTE_NAMES: Mapping[str, str] = {
    "G": "高速动车组 high-speed EMU",
    "D": "动车组 EMU",
    "C": "城际动车组 intercity EMU",
    "Z": "直达特快 direct express",
    "T": "特快 express",
    "K": "快速 fast",
    "": "普通旅客列车 ordinary",
}
EXTENDED_ROUTE_TYPES: Mapping[str, int] = {
    "G": 101,
    "D": 101,
    "C": 101,
    "Z": 102,
    "T": 102,
    "K": 102,
    "": 103,
}
RAIL_ROUTE_TYPE = 2
OTHER_ROUTE_ID = "other"

EARTH_RADIUS_KM = 6371.0088
UNITS_PER_KM: Mapping[str, float] = {"km": 1.0, "m": 1000.0, "mi": 0.621371, "ft": 3280.84}
TYPICAL_DETOUR = 1.1
METERS_THRESHOLD = 3000.0
TIME_PATTERN = re.compile(r"([0-9]+):([0-5][0-9]):([0-5][0-9])")
DATE_PATTERN = re.compile(r"[0-9]{8}")
ADDED, REMOVED = "1", "2"
CALENDAR_FILES = ("calendar.txt", "calendar_dates.txt")


class GtfsError(DomainError):
    """A feed is malformed: names the file, the line (1 = header) and the field at fault."""

    def __init__(
        self, file: str, line: int | None, field_name: str, reason: str, detail: str
    ) -> None:
        where = file if line is None else f"{file} line {line}"
        message = f"{where}, field {field_name}: {detail}" if field_name else f"{where}: {detail}"
        super().__init__(field_name or file, reason, message)
        self.file = file
        self.line = line


# ---------------------------------------------------------------------------------------------
# export


def write_feed(
    network: Network,
    path: Path,
    *,
    start: date | None = None,
    end: date | None = None,
    holidays: Iterable[date] = (),
    timezone: str | None = None,
    agency_url: str = "https://example.org/open12306",
    extended_route_types: bool = True,
) -> None:
    """Write ``network`` as a GTFS feed: a .zip archive when ``path`` ends in .zip, else a folder.

    Trains with a service calendar are written with it. Trains that run every day are written
    on a service valid for ``start``..``end`` (default: today and the 364 days after);
    holiday-only ones run on the ``holidays`` inside that window. ``timezone`` (default: the
    network's) is the agency_timezone. ``extended_route_types`` picks route_type 101-103
    (high-speed, long-distance, inter-regional rail) over the basic 2 (rail).
    """
    validate_network(network)
    for train in network.trains:
        validate_train(train)
    first = start or date.today()
    last = end or first + timedelta(days=364)
    if last < first:
        raise DomainError("end", "before_start", f"feed ends {last} before it starts {first}")
    window = _window(network.trains, first, last, holidays)
    zone = timezone or network.timezone
    files = {
        "agency.txt": _agency_rows(network, zone, agency_url),
        "stops.txt": _stop_rows(network.stations),
        "routes.txt": _route_rows(network.trains, extended_route_types),
        "trips.txt": _trip_rows(network.trains, window),
        "stop_times.txt": _stop_time_rows(network.trains),
        "calendar.txt": _calendar_rows(network.trains, window),
        "calendar_dates.txt": _calendar_date_rows(network.trains, window),
        "feed_info.txt": _feed_info_rows(network, agency_url, _feed_span(network.trains, window)),
    }
    texts = {
        name: _csv_text(rows)
        for name, rows in files.items()
        if len(rows) > 1 or name not in CALENDAR_FILES
    }
    if path.suffix.lower() == ".zip":
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, text in texts.items():
                archive.writestr(name, text)
    else:
        path.mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            (path / name).write_text(text, encoding="utf-8")


@dataclass(frozen=True, slots=True)
class _Window:
    """The services of trains without a calendar of their own: every day of the export window
    (``daily``) and, for holiday-only trains, its holidays (``holiday``), named so as not to
    clash with a calendar's service_id."""

    daily: str
    holiday: str
    first: date
    last: date
    holidays: tuple[date, ...]


def _window(trains: Sequence[Train], first: date, last: date, holidays: Iterable[date]) -> _Window:
    taken = {t.calendar.service_id for t in trains if t.calendar is not None}
    inside = tuple(day for day in sorted(set(holidays)) if first <= day <= last)
    return _Window(
        _free_name(DAILY_SERVICE, taken), _free_name(HOLIDAY_SERVICE, taken), first, last, inside
    )


def _free_name(name: str, taken: set[str]) -> str:
    unique, n = name, 1
    while unique in taken:
        n += 1
        unique = f"{name}-{n}"
    return unique


Rows = list[list[str]]


def _csv_text(rows: Rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(rows)
    return buffer.getvalue()


def _agency_rows(network: Network, timezone: str, url: str) -> Rows:
    header = ["agency_id", "agency_name", "agency_url", "agency_timezone", "agency_lang"]
    return [header, [AGENCY_ID, network.agency, url, timezone, "zh"]]


def _coordinate(value: float | None) -> str:
    return "0" if value is None else repr(value)


def _stop_rows(stations: Sequence[Station]) -> Rows:
    header = ["stop_id", "stop_name", "stop_lat", "stop_lon", "location_type"]
    header += [EXTRA + "pinyin", EXTRA + "initials", EXTRA + "city"]
    rows = [header]
    for s in stations:
        lat, lon = (s.lat, s.lon) if s.lat is not None and s.lon is not None else (None, None)
        rows.append(
            [s.code, s.name, _coordinate(lat), _coordinate(lon), "0", s.pinyin, s.initials, s.city]
        )
    return rows


def _route_id(train: Train) -> str:
    return train.train_type or OTHER_ROUTE_ID


def _route_rows(trains: Sequence[Train], extended: bool) -> Rows:
    header = ["route_id", "agency_id", "route_short_name", "route_long_name", "route_type"]
    rows = [header]
    for letter in (*TRAIN_TYPES, ""):
        if not any(train.train_type == letter for train in trains):
            continue
        route_type = EXTENDED_ROUTE_TYPES[letter] if extended else RAIL_ROUTE_TYPE
        route_id = letter or OTHER_ROUTE_ID
        rows.append([route_id, AGENCY_ID, route_id, ROUTE_NAMES[letter], str(route_type)])
    return rows


def _service_id(train: Train, window: _Window) -> str:
    if train.calendar is not None:
        return train.calendar.service_id
    return window.holiday if train.holiday_only else window.daily


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _trip_rows(trains: Sequence[Train], window: _Window) -> Rows:
    header = ["route_id", "service_id", "trip_id", "trip_short_name"]
    header += [EXTRA + "composition", EXTRA + "synthetic", EXTRA + "holiday_only", EXTRA + "name"]
    rows = [header]
    for t in trains:
        rows.append(
            [
                _route_id(t),
                _service_id(t, window),
                t.code,
                t.code,
                t.composition,
                _flag(t.synthetic),
                _flag(t.holiday_only),
                t.name,
            ]
        )
    return rows


def format_time(minutes: int) -> str:
    """Minutes after the service day's midnight as GTFS HH:MM:SS (hours may pass 24)."""
    hours, rest = divmod(minutes, 60)
    return f"{hours:02d}:{rest:02d}:00"


def _stop_time_rows(trains: Sequence[Train]) -> Rows:
    header = ["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"]
    header += ["shape_dist_traveled", "timepoint"]
    rows = [header]
    for train in trains:
        for n, stop in enumerate(train.stops):
            arrive = train.arrival(n)
            depart = train.departure(n)
            rows.append(
                [
                    train.code,
                    format_time(arrive),
                    format_time(depart),
                    stop.station,
                    str(n + 1),
                    str(stop.km),
                    "1",
                ]
            )
    return rows


def _gtfs_date(day: date) -> str:
    return day.strftime("%Y%m%d")


def _calendar_rows(trains: Sequence[Train], window: _Window) -> Rows:
    header = ["service_id", *WEEKDAY_NAMES, "start_date", "end_date"]
    rows = [[*header, EXTRA + "window", EXTRA + "dateless"]]
    span = [_gtfs_date(window.first), _gtfs_date(window.last)]
    if any(t.calendar is None and not t.holiday_only for t in trains):
        rows.append([window.daily, *["1"] * 7, *span, "1", "0"])
    if any(t.calendar is None and t.holiday_only for t in trains):
        rows.append([window.holiday, *["0"] * 7, *span, "1", "0"])
    for calendar in distinct_calendars([t.calendar for t in trains]):
        if calendar.start is not None and calendar.end is not None:
            weekly = [_gtfs_date(calendar.start), _gtfs_date(calendar.end)]
            rows.append([calendar.service_id, *calendar.weekday_flags(), *weekly, "0", "0"])
        elif _dateless(calendar):
            rows.append([calendar.service_id, *["0"] * 7, *span, "0", "1"])
    return rows


def _dateless(calendar: ServiceCalendar) -> bool:
    """Whether the calendar names no date at all: GTFS only knows its service from a
    calendar.txt row, which needs a range (the export window, on no weekday)."""
    return calendar.start is None and not calendar.added and not calendar.removed


def _calendar_date_rows(trains: Sequence[Train], window: _Window) -> Rows:
    rows = [["service_id", "date", "exception_type"]]
    if any(t.calendar is None and t.holiday_only for t in trains):
        rows.extend([window.holiday, _gtfs_date(day), ADDED] for day in window.holidays)
    for calendar in distinct_calendars([t.calendar for t in trains]):
        kinds = [(day, ADDED) for day in calendar.added]
        kinds += [(day, REMOVED) for day in calendar.removed]
        rows.extend([calendar.service_id, _gtfs_date(day), kind] for day, kind in sorted(kinds))
    return rows


def _feed_span(trains: Sequence[Train], window: _Window) -> tuple[date, date]:
    """The dates the feed has service information for: the window, and every calendar."""
    spans = [c.span() for c in distinct_calendars([t.calendar for t in trains])]
    ends = [span for span in spans if span is not None]
    if not ends or any(t.calendar is None for t in trains):
        ends.append((window.first, window.last))
    return min(a for a, _ in ends), max(b for _, b in ends)


def _feed_info_rows(network: Network, url: str, span: tuple[date, date]) -> Rows:
    header = ["feed_publisher_name", "feed_publisher_url", "feed_lang"]
    header += ["feed_start_date", "feed_end_date", EXTRA + "format", EXTRA + "source"]
    publisher = network.source or "open12306"
    first, last = (_gtfs_date(day) for day in span)
    values = [publisher, url, "zh", first, last, FORMAT_VERSION]
    return [header, [*values, network.source]]


# ---------------------------------------------------------------------------------------------
# reading tables


@dataclass(frozen=True, slots=True)
class _Row:
    file: str
    line: int
    values: Mapping[str, str]

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def error(self, field_name: str, reason: str, detail: str) -> GtfsError:
        return GtfsError(self.file, self.line, field_name, reason, detail)


class _FeedFiles:
    """The .txt files of a feed folder or zip archive (also one nested a folder deep)."""

    def __init__(self, texts: Mapping[str, bytes]) -> None:
        self._texts = texts

    def has(self, name: str) -> bool:
        return name in self._texts

    def text(self, name: str) -> str:
        data = self._texts[name]
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise GtfsError(name, None, "", "bad_encoding", f"not UTF-8 ({exc.reason})") from exc


@contextmanager
def _open_feed(path: Path) -> Iterator[_FeedFiles]:
    if path.is_dir():
        yield _FeedFiles(_LazyDir(path))
        return
    if not path.exists():
        raise GtfsError(path.name, None, "", "missing_feed", "no such feed file or folder")
    if not zipfile.is_zipfile(path):
        raise GtfsError(path.name, None, "", "not_a_feed", "neither a folder nor a zip archive")
    with zipfile.ZipFile(path) as archive:
        yield _FeedFiles(_LazyZip(archive))


class _LazyDir(Mapping[str, bytes]):
    def __init__(self, folder: Path) -> None:
        self._folder = folder
        names = {p.name for p in folder.iterdir() if p.is_file()}
        if "stops.txt" not in names:
            nested = sorted(folder.glob("*/stops.txt"))
            if nested:
                self._folder = nested[0].parent
                names = {p.name for p in self._folder.iterdir() if p.is_file()}
        self._names = names

    def __getitem__(self, name: str) -> bytes:
        if name not in self._names:
            raise KeyError(name)
        return (self._folder / name).read_bytes()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


class _LazyZip(Mapping[str, bytes]):
    def __init__(self, archive: zipfile.ZipFile) -> None:
        self._archive = archive
        members = [info.filename for info in archive.infolist() if not info.is_dir()]
        prefix = ""
        if "stops.txt" not in members:
            nested = sorted(m for m in members if m.endswith("/stops.txt"))
            if nested:
                prefix = nested[0][: -len("stops.txt")]
        self._members = {
            m[len(prefix) :]: m
            for m in members
            if m.startswith(prefix) and "/" not in m[len(prefix) :]
        }

    def __getitem__(self, name: str) -> bytes:
        return self._archive.read(self._members[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._members)

    def __len__(self) -> int:
        return len(self._members)


def _read_table(files: _FeedFiles, name: str, required: Sequence[str]) -> list[_Row]:
    """Rows of one file; raises GtfsError when the file or a required column is missing."""
    if not files.has(name):
        raise GtfsError(name, None, "", "missing_file", "required file is missing")
    return _parse_table(files, name, required)


def _read_optional(files: _FeedFiles, name: str, required: Sequence[str]) -> list[_Row]:
    return _parse_table(files, name, required) if files.has(name) else []


def _parse_table(files: _FeedFiles, name: str, required: Sequence[str]) -> list[_Row]:
    reader = csv.reader(io.StringIO(files.text(name), newline=""))
    try:
        header = [column.strip() for column in next(reader)]
    except StopIteration:
        header = []
    except csv.Error as exc:
        raise GtfsError(name, 1, "", "bad_csv", str(exc)) from exc
    for column in required:
        if column not in header:
            raise GtfsError(name, 1, column, "missing_column", "required column is missing")
    rows: list[_Row] = []
    try:
        for record in reader:
            if not any(value.strip() for value in record):
                continue
            values = {col: value.strip() for col, value in zip(header, record, strict=False)}
            rows.append(_Row(name, reader.line_num, values))
    except csv.Error as exc:
        raise GtfsError(name, reader.line_num, "", "bad_csv", str(exc)) from exc
    return rows


def _required(row: _Row, name: str) -> str:
    value = row.get(name)
    if not value:
        raise row.error(name, "missing_value", "a value is required")
    return value


def _parse_int(row: _Row, name: str, default: int | None = None) -> int:
    text = row.get(name)
    if not text and default is not None:
        return default
    try:
        return int(text)
    except ValueError:
        raise row.error(name, "bad_integer", f"bad integer {text!r}") from None


def _parse_float(row: _Row, name: str) -> float | None:
    text = row.get(name)
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise row.error(name, "bad_number", f"bad number {text!r}") from None
    if not math.isfinite(value):
        raise row.error(name, "bad_number", f"bad number {text!r}")
    return value


@functools.lru_cache(maxsize=8192)
def parse_time(text: str) -> int | None:
    """Seconds after the service day's midnight for a GTFS H:MM:SS time; None when malformed."""
    match = TIME_PATTERN.fullmatch(text)
    if match is None:
        return None
    hours, minutes, seconds = (int(part) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _parse_time(row: _Row, name: str) -> int | None:
    text = row.get(name)
    if not text:
        return None
    seconds = parse_time(text)
    if seconds is None:
        raise row.error(name, "bad_time", f"bad time {text!r}")
    return seconds


def _unique(rows: Iterable[_Row], key: str) -> dict[str, _Row]:
    seen: dict[str, _Row] = {}
    for row in rows:
        value = _required(row, key)
        if value in seen:
            detail = f"duplicate id {value!r} (first on line {seen[value].line})"
            raise row.error(key, "duplicate_id", detail)
        seen[value] = row
    return seen


# ---------------------------------------------------------------------------------------------
# stops → stations


@dataclass(frozen=True, slots=True)
class _Stops:
    """Stations of a feed and the station each stop_id stands for."""

    stations: tuple[Station, ...]
    station_of: Mapping[str, str]


def _coordinates(row: _Row) -> tuple[float | None, float | None]:
    lat = _parse_float(row, "stop_lat")
    lon = _parse_float(row, "stop_lon")
    if lat is None or lon is None or (lat == 0 and lon == 0):
        return None, None
    if not (-90 <= lat <= 90):
        raise row.error("stop_lat", "bad_latitude", f"latitude {lat} out of range")
    if not (-180 <= lon <= 180):
        raise row.error("stop_lon", "bad_longitude", f"longitude {lon} out of range")
    return lat, lon


def _station_from_row(row: _Row) -> Station:
    lat, lon = _coordinates(row)
    return Station(
        code=row.get("stop_id"),
        name=row.get("stop_name") or row.get("stop_id"),
        pinyin=row.get(EXTRA + "pinyin"),
        initials=row.get(EXTRA + "initials"),
        city=row.get(EXTRA + "city"),
        lat=lat,
        lon=lon,
    )


def _read_stops(rows: list[_Row], known: Mapping[str, Station]) -> _Stops:
    by_id = _unique(rows, "stop_id")
    station_of: dict[str, str] = {}
    stations: list[Station] = []
    for stop_id, row in by_id.items():
        location_type = _parse_int(row, "location_type", default=0)
        parent = row.get("parent_station")
        if parent and location_type != 1:
            if parent not in by_id:
                raise row.error("parent_station", "unknown_stop", f"unknown stop {parent!r}")
            station_of[stop_id] = _root_station(by_id, parent)
        elif location_type in (0, 1):
            station_of[stop_id] = stop_id
            stations.append(known.get(stop_id) or _station_from_row(row))
    return _Stops(tuple(stations), station_of)


def _root_station(by_id: Mapping[str, _Row], stop_id: str) -> str:
    """Follow parent_station links up to the station (boarding area → platform → station)."""
    seen = {stop_id}
    while parent := by_id[stop_id].get("parent_station"):
        if parent not in by_id or parent in seen:
            raise by_id[stop_id].error("parent_station", "bad_parent", f"bad parent {parent!r}")
        seen.add(parent)
        stop_id = parent
    return stop_id


# ---------------------------------------------------------------------------------------------
# stop_times → stops of a train


@dataclass(slots=True)
class _Call:
    """One stop_times row of a trip, times in seconds."""

    row: _Row
    sequence: int
    station: str
    arrive: int | None
    depart: int | None
    distance: float | None
    km: float = 0.0


@dataclass(slots=True)
class _Trip:
    row: _Row
    route: _Row
    calls: list[_Call] = field(default_factory=list)
    calendar: ServiceCalendar | None = None


def _read_stop_times(
    rows: Iterable[_Row], trips: Mapping[str, _Trip], stops: _Stops, stop_ids: Mapping[str, _Row]
) -> None:
    for row in rows:
        trip_id = _required(row, "trip_id")
        trip = trips.get(trip_id)
        if trip is None:
            raise row.error("trip_id", "unknown_trip", f"unknown trip {trip_id!r}")
        stop_id = _required(row, "stop_id")
        station = stops.station_of.get(stop_id)
        if station is None:
            reason = "not_a_stop" if stop_id in stop_ids else "unknown_stop"
            raise row.error("stop_id", reason, f"unknown stop {stop_id!r}")
        sequence = _parse_int(row, "stop_sequence")
        if sequence < 0:
            raise row.error("stop_sequence", "bad_integer", f"negative stop_sequence {sequence}")
        arrive = _parse_time(row, "arrival_time")
        depart = _parse_time(row, "departure_time")
        distance = _parse_float(row, "shape_dist_traveled")
        trip.calls.append(_Call(row, sequence, station, arrive, depart, distance))


def _order_calls(trip_id: str, calls: list[_Call]) -> list[_Call]:
    ordered = sorted(calls, key=lambda c: (c.sequence, c.row.line))
    for before, after in itertools.pairwise(ordered):
        if after.sequence == before.sequence:
            detail = f"stop_sequence {after.sequence} repeats in trip {trip_id!r}"
            raise after.row.error("stop_sequence", "repeated_sequence", detail)
    return ordered


def _check_times(calls: list[_Call]) -> None:
    for end in (calls[0], calls[-1]):
        if end.arrive is None and end.depart is None:
            detail = "the first and last stop of a trip need a time"
            raise end.row.error("arrival_time", "missing_time", detail)
    last = -1
    for call in calls:
        for name, value in (("arrival_time", call.arrive), ("departure_time", call.depart)):
            if value is None:
                continue
            if value < last:
                raise call.row.error(name, "time_goes_back", "time is earlier than the stop before")
            last = value


def _interpolate_times(calls: list[_Call]) -> None:
    for call in calls:
        if call.arrive is None:
            call.arrive = call.depart
        elif call.depart is None:
            call.depart = call.arrive
    timed = [n for n, call in enumerate(calls) if call.depart is not None]
    for left, right in itertools.pairwise(timed):
        start = calls[left].depart
        stop = calls[right].arrive
        assert start is not None and stop is not None
        span_km = calls[right].km - calls[left].km
        for n in range(left + 1, right):
            share = (
                (calls[n].km - calls[left].km) / span_km
                if span_km > 0
                else (n - left) / (right - left)
            )
            moment = round(start + share * (stop - start))
            calls[n].arrive = calls[n].depart = moment


def _minute(seconds: int) -> int:
    return (seconds + 30) // 60


def _stop_times(calls: list[_Call]) -> tuple[StopTime, ...]:
    result: list[StopTime] = []
    last_km = 0
    last = len(calls) - 1
    for n, call in enumerate(calls):
        assert call.arrive is not None and call.depart is not None
        km = max(last_km, math.floor(call.km + 0.5))
        last_km = km
        arrive = None if n == 0 else _minute(call.arrive)
        depart = None if n == last else _minute(call.depart)
        result.append(StopTime(call.station, arrive, depart, km))
    return tuple(result)


# ---------------------------------------------------------------------------------------------
# distances


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two WGS-84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


Point = tuple[float, float]


def _points(calls: Sequence[_Call], where: Mapping[str, Point]) -> list[Point] | None:
    points = [where.get(call.station) for call in calls]
    if any(p is None for p in points):
        return None
    return [p for p in points if p is not None]


def _hop_km(points: Sequence[Point]) -> list[float]:
    """Cumulative great-circle km along a list of points."""
    total = 0.0
    result = [0.0]
    for (lat1, lon1), (lat2, lon2) in itertools.pairwise(points):
        total += haversine_km(lat1, lon1, lat2, lon2)
        result.append(total)
    return result


def _project(point: Point, a: Point, b: Point) -> tuple[float, float]:
    """Where ``point`` falls on segment a→b: (fraction 0..1, distance in km), locally flat."""
    scale = math.cos(math.radians((a[0] + b[0]) / 2))
    ax, ay = a[1] * scale, a[0]
    bx, by = b[1] * scale, b[0]
    px, py = point[1] * scale, point[0]
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
    qx, qy = ax + t * dx, ay + t * dy
    degrees = math.hypot(px - qx, py - qy)
    return t, math.radians(degrees) * EARTH_RADIUS_KM


def along_shape_km(shape: Sequence[Point], stops: Sequence[Point]) -> list[float]:
    """Distance of each stop along a polyline, in km, never going back.

    Each stop is placed at the nearest point of the polyline at or after the previous stop's
    place (so a line that passes a stop twice may place it on the later pass).
    """
    cumulative = _hop_km(shape)
    segment = 0
    placed = 0.0
    result: list[float] = []
    for stop in stops:
        best: tuple[float, int, float] | None = None
        for j in range(segment, len(shape) - 1):
            t, off = _project(stop, shape[j], shape[j + 1])
            if best is None or off < best[0]:
                best = (off, j, t)
        if best is not None:
            _, segment, t = best
            position = cumulative[segment] + t * (cumulative[segment + 1] - cumulative[segment])
            placed = max(placed, position)
        result.append(placed)
    return result


def _read_shapes(rows: Iterable[_Row]) -> dict[str, list[Point]]:
    raw: dict[str, list[tuple[int, Point]]] = {}
    for row in rows:
        shape_id = _required(row, "shape_id")
        lat = _parse_float(row, "shape_pt_lat")
        lon = _parse_float(row, "shape_pt_lon")
        if lat is None or lon is None:
            raise row.error("shape_pt_lat", "missing_value", "a shape point needs lat and lon")
        raw.setdefault(shape_id, []).append((_parse_int(row, "shape_pt_sequence"), (lat, lon)))
    return {key: [p for _, p in sorted(pts, key=lambda x: x[0])] for key, pts in raw.items()}


def _detect_units(trips: Iterable[_Trip], where: Mapping[str, Point]) -> float:
    """Feed units per km of shape_dist_traveled, from its ratio to straight-line distances."""
    ratios: list[float] = []
    totals: list[float] = []
    for trip in trips:
        calls = trip.calls
        if not calls or any(c.distance is None for c in calls):
            continue
        first, last = calls[0].distance, calls[-1].distance
        assert first is not None and last is not None
        totals.append(last - first)
        points = _points(calls, where)
        if points is not None:
            straight = _hop_km(points)[-1]
            if straight > 0.5:
                ratios.append((last - first) / straight)
    if ratios:
        ratio = statistics.median(ratios) / TYPICAL_DETOUR
        unit = min(UNITS_PER_KM, key=lambda u: abs(math.log(ratio / UNITS_PER_KM[u])))
        return UNITS_PER_KM[unit]
    if totals and statistics.median(totals) > METERS_THRESHOLD:
        return UNITS_PER_KM["m"]
    return UNITS_PER_KM["km"]


@dataclass(frozen=True, slots=True)
class _Geometry:
    where: Mapping[str, Point]
    shapes: Mapping[str, Sequence[Point]]
    units_per_km: float
    rebase: bool
    cache: dict[tuple[str, tuple[str, ...]], list[float]] = field(default_factory=dict)


def _assign_km(trip: _Trip, geo: _Geometry) -> None:
    calls = trip.calls
    distances = [c.distance for c in calls]
    if all(d is not None for d in distances):
        values = [d / geo.units_per_km for d in distances if d is not None]
        for before, after in itertools.pairwise(calls):
            assert before.distance is not None and after.distance is not None
            if after.distance < before.distance:
                detail = "shape_dist_traveled decreases along the trip"
                raise after.row.error("shape_dist_traveled", "distance_goes_back", detail)
    else:
        values = _geometric_km(trip, geo)
    base = values[0] if geo.rebase else 0.0
    for call, value in zip(calls, values, strict=True):
        call.km = max(0.0, value - base)


def _geometric_km(trip: _Trip, geo: _Geometry) -> list[float]:
    points = _points(trip.calls, geo.where)
    if points is None:
        return [0.0] * len(trip.calls)
    shape_id = trip.row.get("shape_id")
    shape = geo.shapes.get(shape_id)
    if shape is None or len(shape) < 2:
        return _hop_km(points)
    key = (shape_id, tuple(c.station for c in trip.calls))
    if key not in geo.cache:
        geo.cache[key] = along_shape_km(shape, points)
    return geo.cache[key]


# ---------------------------------------------------------------------------------------------
# import


def read_feed(
    path: Path,
    *,
    known_stations: Mapping[str, Station] | None = None,
    compositions: Mapping[int, str] | None = None,
    skip_invalid: bool = False,
    timezone: str | None = None,
) -> Network:
    """Read a GTFS feed (a folder or a .zip) into a Network; GtfsError when it is malformed.

    ``compositions`` maps route_type to a composition id for trips without our own column
    (default: DEFAULT_COMPOSITIONS, else DEFAULT_COMPOSITION). A trip that does not make a valid
    train (e.g. one that calls at the same station twice) raises GtfsError, or is left out when
    ``skip_invalid``. ``timezone``, when given, is the operator's zone: a feed whose
    agency_timezone keeps another clock on its service dates raises GtfsError
    (``timezone_mismatch``), and a feed without agency.txt is read in it.
    """
    with _open_feed(path) as files:
        stop_rows = _read_table(files, "stops.txt", ["stop_id"])
        route_rows = _read_table(files, "routes.txt", ["route_id", "route_type"])
        trip_rows = _read_table(files, "trips.txt", ["route_id", "service_id", "trip_id"])
        time_columns = ["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"]
        time_rows = _read_table(files, "stop_times.txt", time_columns)
        shape_rows = _read_optional(
            files, "shapes.txt", ["shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"]
        )
        agency_rows = _read_optional(files, "agency.txt", ["agency_timezone"])
        info_rows = _read_optional(files, "feed_info.txt", [])
        calendar_rows = _read_optional(files, "calendar.txt", CALENDAR_COLUMNS)
        date_rows = _read_optional(files, "calendar_dates.txt", CALENDAR_DATE_COLUMNS)
        dated = any(files.has(name) for name in CALENDAR_FILES)
    info = info_rows[0] if info_rows else None
    own = info is not None and bool(info.get(EXTRA + "format"))
    legacy = own and info is not None and info.get(EXTRA + "format") == LEGACY_FORMAT
    services = _read_services(calendar_rows, date_rows, own, legacy) if dated else None
    zone = _feed_zone(agency_rows, timezone, services)
    stops = _read_stops(stop_rows, known_stations or {})
    routes = _unique(route_rows, "route_id")
    for route in routes.values():
        _parse_int(route, "route_type")
    trips = _read_trips(trip_rows, routes, services)
    _read_stop_times(time_rows, trips, stops, {r.get("stop_id"): r for r in stop_rows})
    trains = _build_trains(trips, stops, shape_rows, own, compositions, skip_invalid)
    return Network(
        stations=stops.stations,
        trains=tuple(trains),
        agency=agency_rows[0].get("agency_name") if agency_rows else "",
        source=_source(info, own, path),
        timezone=zone,
    )


def _source(info: _Row | None, own: bool, path: Path) -> str:
    if info is None:
        return path.name
    if own:
        return info.get(EXTRA + "source")
    return info.get("feed_publisher_name") or path.name


def _read_trips(
    rows: list[_Row], routes: Mapping[str, _Row], services: _Services | None
) -> dict[str, _Trip]:
    trips: dict[str, _Trip] = {}
    for trip_id, row in _unique(rows, "trip_id").items():
        route_id = _required(row, "route_id")
        route = routes.get(route_id)
        if route is None:
            raise row.error("route_id", "unknown_route", f"unknown route {route_id!r}")
        trips[trip_id] = _Trip(row, route, calendar=_trip_calendar(row, services))
    return trips


def _trip_calendar(row: _Row, services: _Services | None) -> ServiceCalendar | None:
    if services is None:
        return None
    service_id = _required(row, "service_id")
    if service_id not in services:
        raise row.error("service_id", "unknown_service", f"unknown service {service_id!r}")
    return services[service_id]


# ---------------------------------------------------------------------------------------------
# calendar.txt and calendar_dates.txt → service calendars

CALENDAR_COLUMNS = ["service_id", *WEEKDAY_NAMES, "start_date", "end_date"]
CALENDAR_DATE_COLUMNS = ["service_id", "date", "exception_type"]

# A service's calendar, or None for the window service of our own export (runs every day).
_Services = Mapping[str, ServiceCalendar | None]


def _parse_date(row: _Row, name: str) -> date:
    text = _required(row, name)
    try:
        if DATE_PATTERN.fullmatch(text) is None:
            raise ValueError(text)
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise row.error(name, "bad_date", f"bad date {text!r} (expected YYYYMMDD)") from None


def _weekly(row: _Row) -> tuple[frozenset[int], date, date]:
    flags = ""
    for name in WEEKDAY_NAMES:
        value = row.get(name)
        if value not in ("0", "1"):
            raise row.error(name, "bad_flag", f"expected 0 or 1, got {value!r}")
        flags += value
    start, end = _parse_date(row, "start_date"), _parse_date(row, "end_date")
    if end < start:
        raise row.error("end_date", "before_start", f"service ends {end} before it starts {start}")
    return weekdays_from_flags(flags), start, end


def _no_range(row: _Row, weekdays: frozenset[int]) -> tuple[frozenset[int], None, None]:
    """The weekly part of a calendar our export marked dateless: none (its row's range is the
    export window, written only so that GTFS knows the service)."""
    if weekdays:
        detail = "a service that names no date runs on no weekday"
        raise row.error(EXTRA + "dateless", "dateless_with_weekdays", detail)
    return frozenset(), None, None


def _exceptions(rows: Iterable[_Row]) -> dict[str, tuple[set[date], set[date]]]:
    """Added and removed dates by service_id; a (service_id, date) pair may appear once."""
    found: dict[str, tuple[set[date], set[date]]] = {}
    seen: dict[tuple[str, date], _Row] = {}
    for row in rows:
        service_id = _required(row, "service_id")
        day = _parse_date(row, "date")
        kind = row.get("exception_type")
        if kind not in (ADDED, REMOVED):
            detail = f"expected 1 (added) or 2 (removed), got {kind!r}"
            raise row.error("exception_type", "bad_exception_type", detail)
        first = seen.setdefault((service_id, day), row)
        if first is not row:
            detail = f"{service_id!r} lists {day} twice (first on line {first.line})"
            raise row.error("date", "duplicate_date", detail)
        added, removed = found.setdefault(service_id, (set(), set()))
        (added if kind == ADDED else removed).add(day)
    return found


def _read_services(
    calendar_rows: list[_Row], date_rows: list[_Row], own: bool, legacy: bool
) -> dict[str, ServiceCalendar | None]:
    weekly = {key: (row, _weekly(row)) for key, row in _unique(calendar_rows, "service_id").items()}
    exceptions = _exceptions(date_rows)
    services: dict[str, ServiceCalendar | None] = {}
    for service_id in [*weekly, *(key for key in exceptions if key not in weekly)]:
        held = weekly.get(service_id)
        if legacy or (own and held is not None and held[0].get(EXTRA + "window") == "1"):
            services[service_id] = None
            continue
        weekdays, start, end = held[1] if held is not None else (frozenset(), None, None)
        if own and held is not None and held[0].get(EXTRA + "dateless") == "1":
            weekdays, start, end = _no_range(held[0], weekdays)
        added, removed = exceptions.get(service_id, (set(), set()))
        calendar = ServiceCalendar(
            service_id, weekdays, start, end, frozenset(added), frozenset(removed)
        )
        validate_calendar(calendar)
        services[service_id] = calendar
    return services


# ---------------------------------------------------------------------------------------------
# agency_timezone


def same_clock(zone: str, other: str, span: tuple[date, date] | None) -> bool:
    """Whether two IANA zones show the same wall-clock time throughout the service dates of
    ``span`` (and the two days after them, for trains running past midnight).

    Zones that are one name (or aliases, e.g. Asia/Chongqing for Asia/Shanghai) agree; without
    a span only the same name does.
    """
    if zone == other:
        return True
    if span is None:
        return False
    a, b = ZoneInfo(zone), ZoneInfo(other)
    moment = datetime.combine(span[0] - timedelta(days=1), time(), UTC)
    stop = datetime.combine(span[1] + timedelta(days=3), time(), UTC)
    while moment < stop:
        if moment.astimezone(a).utcoffset() != moment.astimezone(b).utcoffset():
            return False
        moment += timedelta(hours=1)
    return True


def _zone_name(row: _Row) -> str:
    name = _required(row, "agency_timezone")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise row.error("agency_timezone", "bad_timezone", f"unknown time zone {name!r}") from None
    return name


def _services_span(services: _Services | None) -> tuple[date, date] | None:
    spans = [c.span() for c in (services or {}).values() if c is not None]
    known = [span for span in spans if span is not None]
    if not known:
        return None
    return min(a for a, _ in known), max(b for _, b in known)


def _feed_zone(rows: list[_Row], operator: str | None, services: _Services | None) -> str:
    """The feed's agency_timezone (every agency must give the same), checked against the
    operator's zone when one is given."""
    if not rows:
        return operator or DEFAULT_TIMEZONE
    zone = _zone_name(rows[0])
    for row in rows[1:]:
        other = _zone_name(row)
        if other != zone:
            detail = f"agencies disagree: {other!r} here, {zone!r} on line {rows[0].line}"
            raise row.error("agency_timezone", "timezone_conflict", detail)
    if operator is not None and not same_clock(zone, operator, _services_span(services)):
        detail = (
            f"the feed's times are in {zone}, but the operator's zone is {operator}; "
            f"times are shown in the operator's zone, so serve this feed with "
            f"OPEN12306_TIMEZONE={zone}"
        )
        raise rows[0].error("agency_timezone", "timezone_mismatch", detail)
    return zone


def _build_trains(
    trips: Mapping[str, _Trip],
    stops: _Stops,
    shape_rows: list[_Row],
    own: bool,
    compositions: Mapping[int, str] | None,
    skip_invalid: bool,
) -> list[Train]:
    used = [(trip_id, trip) for trip_id, trip in trips.items() if trip.calls]
    for trip_id, trip in used:
        trip.calls = _order_calls(trip_id, trip.calls)
        _check_times(trip.calls)
    points = {
        s.code: (s.lat, s.lon) for s in stops.stations if s.lat is not None and s.lon is not None
    }
    units = UNITS_PER_KM["km"] if own else _detect_units((t for _, t in used), points)
    geo = _Geometry(points, _read_shapes(shape_rows), units, rebase=not own)
    trains: list[Train] = []
    taken: set[str] = set()
    for trip_id, trip in used:
        _assign_km(trip, geo)
        _interpolate_times(trip.calls)
        train = _train(trip_id, trip, taken, own, compositions)
        try:
            validate_train(train)
        except DomainError as exc:
            if skip_invalid:
                continue
            raise trip.calls[0].row.error("trip_id", exc.reason, exc.message) from exc
        taken.add(train.code)
        trains.append(train)
    return trains


def _train_code(trip_id: str, trip: _Trip, taken: set[str]) -> str:
    route = trip.route
    code = trip.row.get("trip_short_name")
    if not code:
        code = f"{route.get('route_short_name') or route.get('route_id')}-{trip_id}"
    unique, n = code, 1
    while unique in taken:
        n += 1
        unique = f"{code}-{n}"
    return unique


def _composition(trip: _Trip, compositions: Mapping[int, str] | None) -> str:
    own = trip.row.get(EXTRA + "composition")
    if own:
        return own
    table = DEFAULT_COMPOSITIONS if compositions is None else compositions
    return table.get(int(trip.route.get("route_type")), DEFAULT_COMPOSITION)


def _train(
    trip_id: str, trip: _Trip, taken: set[str], own: bool, compositions: Mapping[int, str] | None
) -> Train:
    row = trip.row
    return Train(
        code=_train_code(trip_id, trip, taken),
        stops=_stop_times(trip.calls),
        composition=_composition(trip, compositions),
        synthetic=row.get(EXTRA + "synthetic") == "1",
        holiday_only=row.get(EXTRA + "holiday_only") == "1",
        name=row.get(EXTRA + "name") if own else trip.route.get("route_long_name"),
        calendar=trip.calendar,
    )


__all__ = [
    "DEFAULT_COMPOSITION",
    "DEFAULT_COMPOSITIONS",
    "GtfsError",
    "along_shape_km",
    "format_time",
    "haversine_km",
    "parse_time",
    "read_feed",
    "same_clock",
    "write_feed",
]
