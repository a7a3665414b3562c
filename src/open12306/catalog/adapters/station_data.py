"""Load the shipped 12306 station network (``open12306/data/stations.tsv``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from open12306.catalog.domain.station_index import StationIndex
from open12306.catalog.domain.stations import Station

STATIONS_TSV = Path(__file__).resolve().parents[2] / "data" / "stations.tsv"
HEADER = ("code", "name", "pinyin", "initials", "city", "lat", "lon")


class StationDataError(ValueError):
    """The station file is malformed; the message names the file and line."""

    def __init__(self, path: Path, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem


def load_stations(path: Path | None = None) -> list[Station]:
    """Read stations from a TSV file with the :data:`HEADER` columns (default: the shipped one)."""
    source = path or STATIONS_TSV
    with source.open(encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    if not lines or tuple(lines[0].split("\t")) != HEADER:
        raise StationDataError(source, 1, f"header must be {' '.join(HEADER)!r}")
    stations: list[Station] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        station = _parse_row(source, number, line)
        if station.code in seen:
            raise StationDataError(
                source, number, f"code {station.code!r} already on line {seen[station.code]}"
            )
        seen[station.code] = number
        stations.append(station)
    return stations


def _parse_row(path: Path, number: int, line: str) -> Station:
    fields = line.split("\t")
    if len(fields) != len(HEADER):
        raise StationDataError(path, number, f"expected {len(HEADER)} columns, got {len(fields)}")
    code, name, pinyin, initials, city, lat, lon = (field.strip() for field in fields)
    if not code or not name:
        raise StationDataError(path, number, "code and name must not be empty")
    return Station(
        code=code,
        name=name,
        pinyin=pinyin,
        initials=initials,
        city=city,
        lat=_coordinate(path, number, "lat", lat, 90.0),
        lon=_coordinate(path, number, "lon", lon, 180.0),
    )


def _coordinate(path: Path, number: int, column: str, text: str, bound: float) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise StationDataError(path, number, f"{column} {text!r} is not a number") from None
    if not -bound <= value <= bound:
        raise StationDataError(path, number, f"{column} {value} outside ±{bound:g}")
    return value


@lru_cache(maxsize=1)
def default_station_index() -> StationIndex:
    """The index over the shipped station file, built once per process and shared.

    Do not :meth:`~StationIndex.add` to it; to join GTFS stops build your own index:
    ``StationIndex([*load_stations(), *stops])``.
    """
    return StationIndex(load_stations())
