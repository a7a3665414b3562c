"""The shipped station file and the index built over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from open12306.catalog.adapters.station_data import (
    STATIONS_TSV,
    StationDataError,
    default_station_index,
    load_stations,
)
from open12306.catalog.domain.station_index import StationIndex, UnknownStation
from open12306.catalog.domain.stations import Station

HEADER = "code\tname\tpinyin\tinitials\tcity\tlat\tlon\n"


@pytest.fixture(scope="module")
def stations() -> list[Station]:
    return load_stations()


@pytest.fixture(scope="module")
def index(stations: list[Station]) -> StationIndex:
    return StationIndex(stations)


def names(found: list[Station]) -> list[str]:
    return [s.name for s in found]


def test_every_record_of_the_source_is_shipped(stations: list[Station]) -> None:
    assert len(stations) == 3404
    assert len({s.code for s in stations}) == len(stations)
    assert len({s.name for s in stations}) == len(stations)


def test_rows_are_well_formed(stations: list[Station]) -> None:
    for s in stations:
        assert len(s.code) == 3 and s.code.isupper() and s.code.isalpha(), s
        assert s.pinyin.isascii() and s.pinyin.islower(), s
        assert s.initials.isascii() and 0 < len(s.initials) <= len(s.pinyin), s
        assert s.city, s


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("VNP", "北京南"),
        ("AOH", "上海虹桥"),
        ("BJP", "北京"),
        ("SHH", "上海"),
        ("IZQ", "广州南"),
        ("GZQ", "广州"),
        ("BXP", "北京西"),
    ],
)
def test_known_telecodes(index: StationIndex, code: str, name: str) -> None:
    station = index.get(code)
    assert station is not None and station.name == name


def test_beijing_city_has_its_big_stations(index: StationIndex) -> None:
    found = names(index.resolve("北京"))
    assert found[0] == "北京"
    assert {"北京南", "北京西", "北京朝阳", "北京北", "北京东", "北京丰台"} <= set(found)
    assert "天津" not in found


def test_pinyin_and_initials(index: StationIndex) -> None:
    shanghai = names(index.resolve("shanghai"))
    assert shanghai[0] == "上海" and "上海虹桥" in shanghai
    assert names(index.resolve("bjn"))[0] == "北京南"
    assert names(index.resolve("guangzhounan")) == ["广州南"]


def test_near_miss_is_suggested(index: StationIndex) -> None:
    assert names(index.suggest("beijingnn"))[0] == "北京南"
    with pytest.raises(UnknownStation) as err:
        index.lookup("shanghaihongqia")
    assert err.value.suggestions[0].code == "AOH"


def test_autocomplete_puts_big_stations_first(index: StationIndex) -> None:
    assert names(index.search("bj", 5))[0] == "北京"
    assert names(index.search("上海", 3))[0] == "上海"
    assert names(index.search("gz", 3))[0] == "广州"


@pytest.mark.parametrize(
    ("code", "lat", "lon"),
    [("BJP", 39.9, 116.4), ("SHH", 31.2, 121.5), ("GZQ", 23.1, 113.3), ("CDW", 30.6, 104.1)],
)
def test_big_cities_have_coordinates(
    index: StationIndex, code: str, lat: float, lon: float
) -> None:
    station = index.get(code)
    assert station is not None and station.lat is not None and station.lon is not None
    assert abs(station.lat - lat) < 0.3 and abs(station.lon - lon) < 0.3


def test_coordinates_cover_nearly_all_stations_and_lie_in_the_region(
    stations: list[Station],
) -> None:
    located = [s for s in stations if s.lat is not None and s.lon is not None]
    assert len(located) > 0.95 * len(stations)
    for s in located:
        assert s.lat is not None and s.lon is not None
        assert 15 < s.lat < 54 and 73 < s.lon < 136, s


def test_provenance_readme_ships_next_to_the_data() -> None:
    text = (STATIONS_TSV.parent / "README.md").read_text(encoding="utf-8")
    assert "mcp-server-12306==0.5.0.post20260930" in text
    assert "3404" in text


def test_default_index_is_built_once() -> None:
    assert default_station_index() is default_station_index()
    assert len(default_station_index()) == 3404


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "stations.tsv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_loads_a_custom_file(tmp_path: Path) -> None:
    path = write(tmp_path, "VNP\t北京南\tbeijingnan\tbjn\t北京\t39.9\t116.4\nZZZ\t某站\t\t\t\t\t\n")
    assert load_stations(path) == [
        Station("VNP", "北京南", "beijingnan", "bjn", "北京", 39.9, 116.4),
        Station("ZZZ", "某站"),
    ]


@pytest.mark.parametrize(
    ("body", "line", "problem"),
    [
        ("VNP\t北京南\tbeijingnan\n", 2, "expected 7 columns"),
        ("VNP\t北京南\tx\tx\t北京\t\t\nBJP\t北京\tx\tx\t北京\tnorth\t\n", 3, "not a number"),
        ("VNP\t北京南\tx\tx\t北京\t99\t\n", 2, "outside"),
        ("VNP\t北京南\tx\tx\t北京\t\t\nVNP\t又一个\tx\tx\t北京\t\t\n", 3, "already on line 2"),
        ("\t北京南\tx\tx\t北京\t\t\n", 2, "must not be empty"),
    ],
)
def test_malformed_rows_name_file_and_line(
    tmp_path: Path, body: str, line: int, problem: str
) -> None:
    path = write(tmp_path, body)
    with pytest.raises(StationDataError) as err:
        load_stations(path)
    assert err.value.line == line
    assert f"{path}:{line}:" in str(err.value)
    assert problem in str(err.value)


def test_wrong_header_is_line_one(tmp_path: Path) -> None:
    path = write(tmp_path, "", header="code,name\n")
    with pytest.raises(StationDataError, match=r":1: header"):
        load_stations(path)
