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
* Service: ``DAILY`` runs every day from ``start`` to ``end`` (default: today and 364 days after);
  holiday-only trains use ``HOLIDAY``, whose days are the given holiday dates (calendar_dates.txt).

Import (`read_feed`):

* Platforms (stops with a parent_station) are replaced by their parent station; entrances and
  other nodes are not stations. A stop whose stop_id is a key of ``known_stations`` becomes that
  station (so a feed that uses 12306 telecodes as stop_ids reuses our station data).
* Every trip with stop_times becomes a train; calendars are informational (a trip that runs on
  several services, or none, is still one train). Train number: trip_short_name, else
  route_short_name (or route_id) + "-" + trip_id; a number already taken gets "-2", "-3", ...
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
from datetime import date, timedelta
from pathlib import Path

from open12306.domain.errors import DomainError
from open12306.domain.network import Network, validate_network
from open12306.domain.stations import Station
from open12306.domain.timetable import TRAIN_TYPES, StopTime, Train, validate_train

EXTRA = "o12306_"
FORMAT_VERSION = "1"
DAILY_SERVICE = "DAILY"
HOLIDAY_SERVICE = "HOLIDAY"
AGENCY_ID = "open12306"
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
    timezone: str = "Asia/Shanghai",
    agency_url: str = "https://example.org/open12306",
    extended_route_types: bool = True,
) -> None:
    """Write ``network`` as a GTFS feed: a .zip archive when ``path`` ends in .zip, else a folder.

    The feed is valid for ``start``..``end`` (default: today and the 364 days after); holiday-only
    trains run on the ``holidays`` inside that window. ``extended_route_types`` picks route_type
    101-103 (high-speed, long-distance, inter-regional rail) over the basic 2 (rail).
    """
    validate_network(network)
    for train in network.trains:
        validate_train(train)
    first = start or date.today()
    last = end or first + timedelta(days=364)
    if last < first:
        raise DomainError("end", "before_start", f"feed ends {last} before it starts {first}")
    files = {
        "agency.txt": _agency_rows(network, timezone, agency_url),
        "stops.txt": _stop_rows(network.stations),
        "routes.txt": _route_rows(network.trains, extended_route_types),
        "trips.txt": _trip_rows(network.trains),
        "stop_times.txt": _stop_time_rows(network.trains),
        "calendar.txt": _calendar_rows(network.trains, first, last),
        "feed_info.txt": _feed_info_rows(network, agency_url, first, last),
    }
    holiday_rows = _calendar_date_rows(network.trains, holidays, first, last)
    if len(holiday_rows) > 1:
        files["calendar_dates.txt"] = holiday_rows
    texts = {name: _csv_text(rows) for name, rows in files.items()}
    if path.suffix.lower() == ".zip":
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, text in texts.items():
                archive.writestr(name, text)
    else:
        path.mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            (path / name).write_text(text, encoding="utf-8")


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


def _service_id(train: Train) -> str:
    return HOLIDAY_SERVICE if train.holiday_only else DAILY_SERVICE


def _flag(value: bool) -> str:
    return "1" if value else "0"


def _trip_rows(trains: Sequence[Train]) -> Rows:
    header = ["route_id", "service_id", "trip_id", "trip_short_name"]
    header += [EXTRA + "composition", EXTRA + "synthetic", EXTRA + "holiday_only", EXTRA + "name"]
    rows = [header]
    for t in trains:
        rows.append(
            [
                _route_id(t),
                _service_id(t),
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


def _calendar_rows(trains: Sequence[Train], first: date, last: date) -> Rows:
    days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    rows = [["service_id", *days, "start_date", "end_date"]]
    span = [_gtfs_date(first), _gtfs_date(last)]
    rows.append([DAILY_SERVICE, *["1"] * 7, *span])
    if any(train.holiday_only for train in trains):
        rows.append([HOLIDAY_SERVICE, *["0"] * 7, *span])
    return rows


def _calendar_date_rows(
    trains: Sequence[Train], holidays: Iterable[date], first: date, last: date
) -> Rows:
    rows = [["service_id", "date", "exception_type"]]
    if any(train.holiday_only for train in trains):
        for day in sorted(set(holidays)):
            if first <= day <= last:
                rows.append([HOLIDAY_SERVICE, _gtfs_date(day), "1"])
    return rows


def _feed_info_rows(network: Network, url: str, first: date, last: date) -> Rows:
    header = ["feed_publisher_name", "feed_publisher_url", "feed_lang"]
    header += ["feed_start_date", "feed_end_date", EXTRA + "format", EXTRA + "source"]
    publisher = network.source or "open12306"
    values = [publisher, url, "zh", _gtfs_date(first), _gtfs_date(last), FORMAT_VERSION]
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
) -> Network:
    """Read a GTFS feed (a folder or a .zip) into a Network; GtfsError when it is malformed.

    ``compositions`` maps route_type to a composition id for trips without our own column
    (default: DEFAULT_COMPOSITIONS, else DEFAULT_COMPOSITION). A trip that does not make a valid
    train (e.g. one that calls at the same station twice) raises GtfsError, or is left out when
    ``skip_invalid``.
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
        agency_rows = _read_optional(files, "agency.txt", [])
        info_rows = _read_optional(files, "feed_info.txt", [])
    info = info_rows[0] if info_rows else None
    own = info is not None and bool(info.get(EXTRA + "format"))
    stops = _read_stops(stop_rows, known_stations or {})
    routes = _unique(route_rows, "route_id")
    for route in routes.values():
        _parse_int(route, "route_type")
    trips = _read_trips(trip_rows, routes)
    _read_stop_times(time_rows, trips, stops, {r.get("stop_id"): r for r in stop_rows})
    trains = _build_trains(trips, stops, shape_rows, own, compositions, skip_invalid)
    return Network(
        stations=stops.stations,
        trains=tuple(trains),
        agency=agency_rows[0].get("agency_name") if agency_rows else "",
        source=_source(info, own, path),
    )


def _source(info: _Row | None, own: bool, path: Path) -> str:
    if info is None:
        return path.name
    if own:
        return info.get(EXTRA + "source")
    return info.get("feed_publisher_name") or path.name


def _read_trips(rows: list[_Row], routes: Mapping[str, _Row]) -> dict[str, _Trip]:
    trips: dict[str, _Trip] = {}
    for trip_id, row in _unique(rows, "trip_id").items():
        route_id = _required(row, "route_id")
        route = routes.get(route_id)
        if route is None:
            raise row.error("route_id", "unknown_route", f"unknown route {route_id!r}")
        trips[trip_id] = _Trip(row, route)
    return trips


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
    "write_feed",
]
