#!/usr/bin/env python3
"""Build ``src/open12306/data/stations.tsv`` from 12306's public station list.

Run by hand; its output is committed. Sources (all MIT-licensed PyPI wheels, pinned):

* ``mcp-server-12306`` ``mcp_12306/resources/station_name.js``: the station list 12306 serves
  to its own web page (``@short|name|telecode|pinyin|initials|seq|city-code|city|...``).
* ``cpca`` ``cpca/resources/adcodes.csv``: administrative divisions with lon/lat.
* ``pyecharts`` ``pyecharts/datasets/city_coordinates.json``: city name -> [lon, lat].

Coordinates are city level: every station gets the coordinates of its city, when a source
knows the city. Usage::

    python scripts/build_stations.py                 # downloads the wheels with pip
    python scripts/build_stations.py --wheel-dir DIR # reuse wheels already in DIR
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "src" / "open12306" / "data"
HEADER = ("code", "name", "pinyin", "initials", "city", "lat", "lon")


@dataclass(frozen=True)
class Source:
    """One file inside one pinned PyPI wheel."""

    package: str
    version: str
    member: str
    license: str

    @property
    def wheel_prefix(self) -> str:
        return f"{self.package.replace('-', '_')}-{self.version}-"


STATIONS = Source(
    "mcp-server-12306", "0.5.0.post20260930", "mcp_12306/resources/station_name.js", "MIT"
)
CPCA = Source("cpca", "0.5.5", "cpca/resources/adcodes.csv", "MIT")
PYECHARTS = Source("pyecharts", "2.1.0", "pyecharts/datasets/city_coordinates.json", "MIT")

# Suffixes of Chinese administrative names, longest first.
SUFFIXES = ("自治州", "地区", "市", "区", "县", "州", "盟", "旗")


@dataclass(frozen=True)
class RawStation:
    """One record of station_name.js."""

    seq: int
    code: str
    name: str
    pinyin: str
    initials: str
    city: str


LatLon = tuple[float, float]


def fetch_wheel(source: Source, wheel_dir: Path) -> Path:
    """Return the wheel of ``source`` in ``wheel_dir``, downloading it with pip if absent."""
    found = sorted(wheel_dir.glob(f"{source.wheel_prefix}*.whl"))
    if not found:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                f"{source.package}=={source.version}",
                "-d",
                str(wheel_dir),
            ],
            check=True,
        )
        found = sorted(wheel_dir.glob(f"{source.wheel_prefix}*.whl"))
    if not found:
        raise SystemExit(f"no wheel for {source.package}=={source.version} in {wheel_dir}")
    return found[0]


def read_member(wheel: Path, member: str) -> str:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(member).decode("utf-8-sig")


def parse_station_names(js: str) -> list[RawStation]:
    """Parse ``var station_names ='@f0|f1|...@...';`` into records."""
    body = js.strip()
    start, end = body.find("'"), body.rfind("'")
    if start < 0 or end <= start:
        raise SystemExit("station_name.js: no quoted station string found")
    stations = []
    for number, record in enumerate(body[start + 1 : end].split("@")[1:], start=1):
        fields = record.split("|")
        if (
            len(fields) < 8
            or not all(fields[i] for i in (1, 2, 3, 4, 7))
            or not fields[5].isdigit()
        ):
            raise SystemExit(f"station_name.js record {number} malformed: {record!r}")
        stations.append(
            RawStation(
                seq=int(fields[5]),
                code=fields[2].strip(),
                name=fields[1].strip(),
                pinyin=fields[3].strip().lower(),
                initials=fields[4].strip().lower(),
                city=fields[7].strip(),
            )
        )
    return stations


def strip_suffix(name: str) -> str:
    """``海北州`` -> ``海北``; names that would shrink below two characters are kept."""
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


class CityCoordinates:
    """City name -> coordinates, trying cpca prefectures, pyecharts, then cpca counties."""

    def __init__(self, adcodes_csv: str, echarts_json: str) -> None:
        self.provinces: dict[str, LatLon] = {}
        self.prefectures: dict[str, LatLon] = {}
        self.counties: dict[str, list[LatLon]] = defaultdict(list)
        for row in csv.DictReader(io.StringIO(adcodes_csv)):
            if not row["latitude"] or not row["longitude"]:
                continue
            point = (float(row["latitude"]), float(row["longitude"]))
            adcode = row["adcode"]
            if adcode[2:].strip("0") == "":
                self.provinces[row["name"]] = point
            elif adcode[4:].strip("0") == "":
                self.prefectures[row["name"]] = point
            else:
                self.counties[row["name"]].append(point)
        self.echarts = {
            name: (float(lon_lat[1]), float(lon_lat[0]))
            for name, lon_lat in json.loads(echarts_json).items()
        }

    def lookup(self, city: str) -> tuple[LatLon, str] | None:
        """Coordinates of ``city`` and the name that matched, or None."""
        base = strip_suffix(city)
        municipal = {n: p for n, p in self.provinces.items() if n.endswith("市")}
        for found in (
            self._exact(municipal, city, base),
            self._exact(self.prefectures, city, base),
            self._unique_prefix(self.prefectures, base),
            self._exact(self.echarts, city, base, ("市",)),
            self._unique_county(base),
        ):
            if found is not None:
                return found
        return None

    @staticmethod
    def _exact(
        table: dict[str, LatLon], city: str, base: str, suffixes: tuple[str, ...] = SUFFIXES
    ) -> tuple[LatLon, str] | None:
        for name in (city, base, *(base + suffix for suffix in suffixes)):
            if name in table:
                return table[name], name
        return None

    @staticmethod
    def _unique_prefix(table: dict[str, LatLon], base: str) -> tuple[LatLon, str] | None:
        # Prefecture names such as 延边朝鲜族自治州 or 阿拉善盟 start with the short city name.
        hits = [name for name in table if len(base) >= 2 and name.startswith(base)]
        return (table[hits[0]], hits[0]) if len(hits) == 1 else None

    def _unique_county(self, base: str) -> tuple[LatLon, str] | None:
        hits = [name for name in self.counties if len(base) >= 2 and name.startswith(base)]
        # 昌江 could be 昌江黎族自治县 (Hainan) or 昌江区 (Jingdezhen): ambiguity means no match.
        if len(hits) == 1 and len(self.counties[hits[0]]) == 1:
            return self.counties[hits[0]][0], hits[0]
        return None


def format_coordinate(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def build_rows(
    stations: list[RawStation], coords: CityCoordinates
) -> tuple[list[tuple[str, ...]], dict[str, str | None]]:
    """TSV rows in 12306's list order (``seq``), and the name each city was matched to."""
    matched: dict[str, str | None] = {}
    points: dict[str, LatLon | None] = {}
    for city in sorted({s.city for s in stations}):
        found = coords.lookup(city)
        points[city] = found[0] if found else None
        matched[city] = found[1] if found else None
    rows: list[tuple[str, ...]] = []
    for s in sorted(stations, key=lambda s: (s.seq, s.code)):
        point = points[s.city]
        lat, lon = point if point else (None, None)
        rows.append(
            (
                s.code,
                s.name,
                s.pinyin,
                s.initials,
                s.city,
                format_coordinate(lat),
                format_coordinate(lon),
            )
        )
    return rows, matched


def check_unique(stations: list[RawStation]) -> None:
    for what, values in (
        ("telecode", [s.code for s in stations]),
        ("name", [s.name for s in stations]),
    ):
        dupes = [v for v, n in Counter(values).items() if n > 1]
        if dupes:
            raise SystemExit(f"duplicate {what}s in source: {dupes[:10]}")


def write_tsv(path: Path, rows: list[tuple[str, ...]]) -> None:
    lines = ["\t".join(HEADER), *("\t".join(row) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


README_TEMPLATE = """# Station data

`stations.tsv` is the 12306 station network shipped with open12306: one row per station,
tab-separated, UTF-8, a header line. Rows keep 12306's own list order (its `seq` field:
Beijing, Shanghai, Tianjin, Chongqing and the provincial capitals first, then roughly by
pinyin); `StationIndex` uses that order to rank otherwise equal stations.

| column | meaning |
|---|---|
| `code` | 12306 telecode (电报码), three upper-case letters, e.g. `VNP` = 北京南 |
| `name` | station name in Chinese |
| `pinyin` | full pinyin, lower case, as 12306 spells it (`beijingnan`) |
| `initials` | pinyin initials (`bjn`); several stations can share them |
| `city` | the city 12306 files the station under (北京南 -> 北京) |
| `lat`, `lon` | WGS-84 degrees of the **city** (not the station), empty when unknown |

## Provenance

- Stations: PyPI `{st_pkg}=={st_ver}` ({st_lic} licence), file `{st_file}` — 12306's
  public station list (`@short|name|telecode|pinyin|initials|seq|city-code|city|...`).
  {n_records} records parsed, {n_stations} stations written, {n_cities} cities.
- City coordinates, tried in this order for each city name (with and without the
  市/区/县/州/地区/盟 suffixes):
  1. PyPI `{cp_pkg}=={cp_ver}` ({cp_lic}), `{cp_file}`: prefecture-level and municipal divisions;
  2. PyPI `{pe_pkg}=={pe_ver}` ({pe_lic}), `{pe_file}` (values are `[lon, lat]`);
  3. `{cp_file}` again: a county-level division whose name is unambiguous.
- Coverage: {n_with} of {n_stations} stations ({pct:.1f}%) in {c_with} of {n_cities} cities
  have coordinates. Cities without: {missing}.
- Built on {built} by `scripts/build_stations.py`.

## Rebuilding

```
python scripts/build_stations.py                  # pip-downloads the three pinned wheels
python scripts/build_stations.py --wheel-dir DIR  # or use wheels already in DIR
```

The TSV is deterministic for the same source versions; commit it together with this file.
"""


def write_readme(
    path: Path, n_records: int, rows: list[tuple[str, ...]], matched: dict[str, str | None]
) -> None:
    with_coords = [row for row in rows if row[5]]
    missing = sorted(city for city, name in matched.items() if name is None)
    text = README_TEMPLATE.format(
        st_pkg=STATIONS.package,
        st_ver=STATIONS.version,
        st_lic=STATIONS.license,
        st_file=STATIONS.member,
        cp_pkg=CPCA.package,
        cp_ver=CPCA.version,
        cp_lic=CPCA.license,
        cp_file=CPCA.member,
        pe_pkg=PYECHARTS.package,
        pe_ver=PYECHARTS.version,
        pe_lic=PYECHARTS.license,
        pe_file=PYECHARTS.member,
        n_records=n_records,
        n_stations=len(rows),
        n_cities=len(matched),
        n_with=len(with_coords),
        pct=100 * len(with_coords) / len(rows),
        c_with=len(matched) - len(missing),
        missing="、".join(missing) if missing else "none",
        built=dt.date.today().isoformat(),
    )
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel-dir", type=Path, help="directory holding (or to receive) wheels")
    parser.add_argument("--out-dir", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel_dir = args.wheel_dir or Path(tmp)
        wheel_dir.mkdir(parents=True, exist_ok=True)
        texts = {
            src: read_member(fetch_wheel(src, wheel_dir), src.member)
            for src in (STATIONS, CPCA, PYECHARTS)
        }
    stations = parse_station_names(texts[STATIONS])
    check_unique(stations)
    coords = CityCoordinates(texts[CPCA], texts[PYECHARTS])
    rows, matched = build_rows(stations, coords)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_tsv(args.out_dir / "stations.tsv", rows)
    write_readme(args.out_dir / "README.md", len(stations), rows, matched)
    with_coords = sum(1 for row in rows if row[5])
    print(f"{len(rows)} stations, {with_coords} with coordinates, {len(matched)} cities")
    for city, name in sorted(matched.items()):
        if name is not None and name != city:
            print(f"  {city} -> {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
