import json
from pathlib import Path

import pytest

from open12306.catalog.adapters.corridor_data import (
    CorridorDataError,
    default_path,
    load_corridors,
    load_through_routes,
)
from open12306.catalog.domain.corridors import Corridor

RAW_STATION_LIST = Path("/tmp/dl/mcp_12306/resources/station_name.js")


@pytest.fixture(scope="module")
def corridors() -> list[Corridor]:
    return load_corridors()


def _station_names() -> dict[str, str]:
    """Telecode → name from the project's station list, else 12306's raw file, else skip."""
    try:
        from open12306.catalog.adapters.station_data import load_stations
    except ImportError:
        if not RAW_STATION_LIST.exists():
            pytest.skip("neither the station loader nor the raw 12306 station list is available")
        names: dict[str, str] = {}
        for record in RAW_STATION_LIST.read_text(encoding="utf-8").split("@")[1:]:
            fields = record.split("|")
            names.setdefault(fields[2], fields[1])
        return names
    return {s.code: s.name for s in load_stations()}


def _corridor(corridors: list[Corridor], cid: str) -> Corridor:
    return next(c for c in corridors if c.id == cid)


def test_every_corridor_station_is_a_real_12306_station(corridors: list[Corridor]) -> None:
    names = _station_names()
    for corridor in corridors:
        for station in corridor.stations:
            assert names.get(station.code) == station.name, (corridor.id, station)


def test_required_corridors_and_kinds(corridors: list[Corridor]) -> None:
    ids = {c.id for c in corridors}
    assert {
        "jinghu-hsr",
        "jingguangshen-hsr",
        "hukun-hsr",
        "xulan-hsr",
        "guangshen-intercity",
        "jinghu-conventional",
        "jingguang-conventional",
        "jingha-conventional",
    } <= ids
    assert {c.kind for c in corridors} == {"hsr", "intercity", "conventional"}


def test_beijing_shanghai_hsr(corridors: list[Corridor]) -> None:
    line = _corridor(corridors, "jinghu-hsr")
    names = [s.name for s in line.stations]
    assert names[0] == "北京南" and names[-1] == "上海虹桥"
    assert line.stations[0].code == "VNP" and line.stations[-1].code == "AOH"
    assert line.length == 1318
    assert len(line.stations) == 23
    assert names.index("济南西") < names.index("徐州东") < names.index("南京南")
    assert line.max_speed == 350


@pytest.mark.parametrize(
    ("cid", "origin", "terminus", "km"),
    [
        ("jingguangshen-hsr", "北京西", "深圳北", 2400),
        ("hukun-hsr", "上海虹桥", "昆明南", 2252),
        ("xulan-hsr", "徐州东", "兰州西", 1434),
        ("guangshen-intercity", "广州", "深圳", 147),
        ("jinghu-conventional", "北京", "上海", 1463),
        ("jingguang-conventional", "北京西", "广州", 2294),
        ("jingha-conventional", "北京", "哈尔滨", 1249),
    ],
)
def test_corridor_ends_and_lengths(
    corridors: list[Corridor], cid: str, origin: str, terminus: str, km: int
) -> None:
    line = _corridor(corridors, cid)
    assert (line.stations[0].name, line.stations[-1].name) == (origin, terminus)
    assert abs(line.length - km) <= km * 0.03


def test_known_intermediate_distances(corridors: list[Corridor]) -> None:
    bgs = {s.name: s.km for s in _corridor(corridors, "jingguangshen-hsr").stations}
    assert bgs["郑州东"] == pytest.approx(693, rel=0.03)
    assert bgs["武汉"] == pytest.approx(1229, rel=0.03)
    assert bgs["广州南"] == pytest.approx(2298, rel=0.03)
    hukun = {s.name: s.km for s in _corridor(corridors, "hukun-hsr").stations}
    assert hukun["杭州东"] == pytest.approx(159, rel=0.03)


def test_default_path_is_the_packaged_file() -> None:
    assert default_path().name == "corridors.json"
    assert default_path().exists()


def _write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "corridors.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def _line(**overrides: object) -> dict[str, object]:
    line: dict[str, object] = {
        "id": "x",
        "name": "x",
        "kind": "hsr",
        "max_speed": 350,
        "stations": [
            {"code": "AAA", "name": "甲", "km": 0},
            {"code": "BBB", "name": "乙", "km": 10},
        ],
    }
    line.update(overrides)
    return line


def test_loads_a_minimal_file(tmp_path: Path) -> None:
    (line,) = load_corridors(_write(tmp_path, {"corridors": [_line()]}))
    assert line.id == "x" and line.length == 10 and line.weight == 1.0


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"lines": []}, "'corridors' list"),
        ({"corridors": [_line(kind="maglev")]}, "unknown kind"),
        ({"corridors": [_line(max_speed="fast")]}, "malformed"),
        ({"corridors": [{"id": "x"}]}, "malformed"),
        (
            {
                "corridors": [
                    _line(
                        stations=[
                            {"code": "A", "name": "a", "km": 0},
                            {"code": "B", "name": "b", "km": 0},
                        ]
                    )
                ]
            },
            "km does not grow",
        ),
        (
            {
                "corridors": [
                    _line(
                        stations=[
                            {"code": "A", "name": "a", "km": 5},
                            {"code": "B", "name": "b", "km": 9},
                        ]
                    )
                ]
            },
            "km 0",
        ),
        ({"corridors": [_line(), _line()]}, "repeated corridor ids"),
    ],
)
def test_bad_files_are_rejected_with_a_reason(
    tmp_path: Path, document: object, message: str
) -> None:
    path = _write(tmp_path, document)
    with pytest.raises(CorridorDataError) as err:
        load_corridors(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(CorridorDataError, match="no such corridor file"):
        load_corridors(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(CorridorDataError, match="not valid JSON"):
        load_corridors(broken)


def test_through_routes_are_spliced_at_real_junctions(corridors: list[Corridor]) -> None:
    routes = {r.id: r for r in load_through_routes(corridors)}
    assert len(routes) >= 2
    beijing_xian = routes["beijing-xian-hsr"]
    names = [s.name for s in beijing_xian.stations]
    assert (names[0], names[-1]) == ("北京西", "西安北")
    assert "郑州东" in names
    # 北京西–郑州东 693 km on 京广高铁 + 郑州东–西安北 523 km on 徐兰高铁.
    assert beijing_xian.length == 693 + 523


def test_through_route_errors(tmp_path: Path) -> None:
    base = {"corridors": [_line()]}
    cases = [
        (
            {
                **base,
                "through_routes": [{"id": "t", "name": "t", "legs": [["nope", "AAA", "BBB"]]}],
            },
            "unknown corridor",
        ),
        (
            {**base, "through_routes": [{"id": "t", "name": "t", "legs": [["x", "AAA", "CCC"]]}]},
            "CCC not on x",
        ),
        ({**base, "through_routes": {"t": 1}}, "must be a list"),
    ]
    for document, message in cases:
        path = _write(tmp_path, document)
        corridors = load_corridors(path)
        with pytest.raises(CorridorDataError) as err:
            load_through_routes(corridors, path)
        assert message in str(err.value)
    assert (
        load_through_routes(load_corridors(_write(tmp_path, base)), tmp_path / "corridors.json")
        == []
    )
