"""Import of hand-written feeds: malformed ones name file, line and field; odd valid ones work."""

import zipfile
from pathlib import Path

import pytest

from open12306.adapters.gtfs import GtfsError, read_feed
from open12306.domain.errors import DomainError

STOPS = """stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station
A,Alpha,30.0,120.0,1,
A1,Alpha platform 1,30.0,120.0,0,A
B,Bravo,30.1,120.0,,
C,Charlie,30.2,120.0,0,
"""
ROUTES = """route_id,route_short_name,route_long_name,route_type
R,X,Express,2
"""
TRIPS = """route_id,service_id,trip_id,trip_short_name
R,WK,T1,101
R,WK,T2,
"""
STOP_TIMES = """trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:00:00,08:00:00,A1,1
T1,08:10:00,08:12:00,B,2
T1,08:25:00,08:25:00,C,3
T2,23:50:00,23:50:00,C,1
T2,24:05:00,24:06:00,B,2
T2,24:20:00,24:20:00,A1,3
"""
BASE = {
    "stops.txt": STOPS,
    "routes.txt": ROUTES,
    "trips.txt": TRIPS,
    "stop_times.txt": STOP_TIMES,
}


def feed(tmp_path: Path, **changes: str | None) -> Path:
    folder = tmp_path / "feed"
    folder.mkdir(parents=True)
    files: dict[str, str | None] = dict(BASE)
    files.update({name.replace("_txt", ".txt"): text for name, text in changes.items()})
    for name, text in files.items():
        if text is not None:
            (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_valid_feed(tmp_path: Path) -> None:
    net = read_feed(feed(tmp_path))
    assert [s.code for s in net.stations] == ["A", "B", "C"]
    t1, t2 = net.trains
    assert t1.code == "101"
    assert [s.station for s in t1.stops] == ["A", "B", "C"]
    assert (t1.stops[1].arrive, t1.stops[1].depart) == (490, 492)
    assert t2.code == "X-T2"
    assert t2.stops[1].arrive == 24 * 60 + 5
    assert t2.stops[-1].arrive == 24 * 60 + 20
    assert t1.composition == "emu-8"
    # 0.1 degree of latitude per hop, great-circle: 11.1 km
    assert [s.km for s in t1.stops] == [0, 11, 22]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"trips_txt": None}, "trips.txt: required file is missing"),
        (
            {"stops_txt": "stop_name,stop_lat\nA,1\n"},
            "stops.txt line 1, field stop_id: required column is missing",
        ),
        (
            {"stop_times_txt": STOP_TIMES.replace("departure_time", "departure")},
            "stop_times.txt line 1, field departure_time: required column is missing",
        ),
        (
            {"stop_times_txt": STOP_TIMES.replace("08:12:00", "25:61:00")},
            "stop_times.txt line 3, field departure_time: bad time '25:61:00'",
        ),
        (
            {"stop_times_txt": STOP_TIMES.replace("08:25:00,08:25", "abc,08:25")},
            "stop_times.txt line 4, field arrival_time: bad time 'abc'",
        ),
        (
            {
                "stop_times_txt": STOP_TIMES.replace(
                    "T2,24:05:00,24:06:00,B", "T2,24:05:00,24:06:00,Q"
                )
            },
            "stop_times.txt line 6, field stop_id: unknown stop 'Q'",
        ),
        (
            {"stop_times_txt": STOP_TIMES + "T9,09:00:00,09:00:00,A,1\n"},
            "stop_times.txt line 8, field trip_id: unknown trip 'T9'",
        ),
        (
            {"stop_times_txt": STOP_TIMES.replace("C,3", "C,2")},
            "stop_times.txt line 4, field stop_sequence: stop_sequence 2 repeats in trip 'T1'",
        ),
        (
            {"stop_times_txt": STOP_TIMES.replace("C,3", "C,three")},
            "stop_times.txt line 4, field stop_sequence: bad integer 'three'",
        ),
        (
            {"trips_txt": TRIPS + "R,WK,T1,102\n"},
            "trips.txt line 4, field trip_id: duplicate id 'T1' (first on line 2)",
        ),
        (
            {"stops_txt": STOPS + "B,Bravo again,30.1,120.0,,\n"},
            "stops.txt line 6, field stop_id: duplicate id 'B' (first on line 4)",
        ),
        (
            {"routes_txt": ROUTES + "R,Y,Again,2\n"},
            "routes.txt line 3, field route_id: duplicate id 'R' (first on line 2)",
        ),
        (
            {"trips_txt": TRIPS.replace("R,WK,T2", "S,WK,T2")},
            "trips.txt line 3, field route_id: unknown route 'S'",
        ),
        (
            {"routes_txt": ROUTES.replace(",2\n", ",rail\n")},
            "routes.txt line 2, field route_type: bad integer 'rail'",
        ),
        (
            {"stops_txt": STOPS.replace(",0,A\n", ",0,Z\n")},
            "stops.txt line 3, field parent_station: unknown stop 'Z'",
        ),
        (
            {"stops_txt": STOPS.replace("30.1,120.0", "91.5,120.0")},
            "stops.txt line 4, field stop_lat: latitude 91.5 out of range",
        ),
        (
            {"stop_times_txt": STOP_TIMES.replace("08:10:00,08:12:00", "07:50:00,08:12:00")},
            "stop_times.txt line 3, field arrival_time: time is earlier than the stop before",
        ),
        (
            {"stop_times_txt": STOP_TIMES.replace("08:25:00,08:25:00", ",")},
            "stop_times.txt line 4, field arrival_time: "
            "the first and last stop of a trip need a time",
        ),
        (
            {"stop_times_txt": STOP_TIMES.replace("C,3", "A1,3")},
            "stop_times.txt line 2, field trip_id: 101: station A repeats",
        ),
        (
            {"stop_times_txt": STOP_TIMES + "T1,09:00:00,09:00:00,,4\n"},
            "stop_times.txt line 8, field stop_id: a value is required",
        ),
    ],
)
def test_malformed_feed_names_file_line_and_field(
    tmp_path: Path, changes: dict[str, str | None], message: str
) -> None:
    with pytest.raises(GtfsError) as err:
        read_feed(feed(tmp_path, **changes))
    assert isinstance(err.value, DomainError)
    assert str(err.value) == message


def test_error_carries_file_line_and_field(tmp_path: Path) -> None:
    with pytest.raises(GtfsError) as err:
        read_feed(feed(tmp_path, stop_times_txt=STOP_TIMES.replace("08:12:00", "8:1:00")))
    assert (err.value.file, err.value.line, err.value.field) == (
        "stop_times.txt",
        3,
        "departure_time",
    )
    assert err.value.reason == "bad_time"
    assert err.value.to_dict()["field"] == "departure_time"


def test_missing_feed_and_non_feed(tmp_path: Path) -> None:
    with pytest.raises(GtfsError) as err:
        read_feed(tmp_path / "nothing.zip")
    assert err.value.reason == "missing_feed"
    junk = tmp_path / "junk.zip"
    junk.write_text("not a zip")
    with pytest.raises(GtfsError) as err:
        read_feed(junk)
    assert err.value.reason == "not_a_feed"


def test_invalid_trip_can_be_skipped(tmp_path: Path) -> None:
    looping = STOP_TIMES.replace("C,3", "A1,3")
    net = read_feed(feed(tmp_path, stop_times_txt=looping), skip_invalid=True)
    assert [t.code for t in net.trains] == ["X-T2"]


def test_rows_in_any_order_are_sorted_by_stop_sequence(tmp_path: Path) -> None:
    lines = STOP_TIMES.splitlines(keepends=True)
    shuffled = lines[0] + lines[3] + lines[6] + lines[1] + lines[5] + lines[2] + lines[4]
    net = read_feed(feed(tmp_path, stop_times_txt=shuffled.replace(",3\n", ",30\n")))
    assert [s.station for s in net.train("101").stops] == ["A", "B", "C"]
    assert [s.station for s in net.train("X-T2").stops] == ["C", "B", "A"]
    assert net.train("X-T2").stops[1].depart == 24 * 60 + 6


def test_bom_spaces_and_nested_zip_folder(tmp_path: Path) -> None:
    path = tmp_path / "nested.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in BASE.items():
            header, rest = text.split("\n", 1)
            spaced = ", ".join(header.split(","))
            archive.writestr(f"gtfs/{name}", ("\ufeff" + spaced + "\n" + rest).encode("utf-8"))
    net = read_feed(path)
    assert [t.code for t in net.trains] == ["101", "X-T2"]


def test_missing_intermediate_times_are_interpolated_by_distance(tmp_path: Path) -> None:
    stops = STOPS + "D,Delta,30.5,120.0,,\n"
    times = """trip_id,arrival_time,departure_time,stop_id,stop_sequence
T1,08:00:00,08:00:00,A,1
T1,,,B,2
T1,,,C,3
T1,08:50:00,,D,4
"""
    net = read_feed(feed(tmp_path, stops_txt=stops, stop_times_txt=times))
    train = net.train("101")
    # B is 1/5 and C 2/5 of the way from A to D.
    assert [(s.arrive, s.depart) for s in train.stops] == [
        (None, 480),
        (490, 490),
        (500, 500),
        (530, None),
    ]


def test_repeated_trip_short_names_are_made_unique(tmp_path: Path) -> None:
    trips = "route_id,service_id,trip_id,trip_short_name\nR,WK,T1,101\nR,SA,T2,101\n"
    net = read_feed(feed(tmp_path, trips_txt=trips))
    assert [t.code for t in net.trains] == ["101", "101-2"]


def test_trips_without_stop_times_are_left_out(tmp_path: Path) -> None:
    net = read_feed(feed(tmp_path, trips_txt=TRIPS + "R,WK,T3,103\n"))
    assert [t.code for t in net.trains] == ["101", "X-T2"]


def test_composition_by_route_type(tmp_path: Path) -> None:
    routes = "route_id,route_short_name,route_type\nR,X,101\n"
    net = read_feed(feed(tmp_path, routes_txt=routes))
    assert net.trains[0].composition == "emu-16"
    net = read_feed(feed(tmp_path / "other", routes_txt=routes), compositions={101: "crh380-8"})
    assert net.trains[0].composition == "crh380-8"


def with_distances(values: tuple[str, str, str]) -> str:
    lines = STOP_TIMES.splitlines()
    out = [lines[0] + ",shape_dist_traveled"]
    out += [line + "," + values[n] for n, line in enumerate(lines[1:4])]
    return "\n".join(out) + "\n"


@pytest.mark.parametrize(
    "values",
    [
        ("0", "11500", "22600"),  # metres
        ("0", "11.5", "22.6"),  # kilometres
        ("0", "7.146", "14.043"),  # miles
        ("1000", "12500", "23600"),  # metres, not starting at zero
    ],
)
def test_shape_dist_traveled_units_are_detected(
    tmp_path: Path, values: tuple[str, str, str]
) -> None:
    net = read_feed(feed(tmp_path, stop_times_txt=with_distances(values)))
    assert [s.km for s in net.train("101").stops] == [0, 12, 23]


def test_shape_dist_traveled_without_coordinates_uses_magnitude(tmp_path: Path) -> None:
    stops = "stop_id,stop_name\nA,Alpha\nA1,Alpha 1\nB,Bravo\nC,Charlie\n"
    metres = read_feed(
        feed(tmp_path, stops_txt=stops, stop_times_txt=with_distances(("0", "40000", "95000")))
    )
    assert [s.km for s in metres.train("101").stops] == [0, 40, 95]
    assert metres.station("A").lat is None
    km = read_feed(
        feed(tmp_path / "km", stops_txt=stops, stop_times_txt=with_distances(("0", "400", "950")))
    )
    assert [s.km for s in km.train("101").stops] == [0, 400, 950]


def test_decreasing_shape_dist_traveled_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(GtfsError) as err:
        read_feed(feed(tmp_path, stop_times_txt=with_distances(("0", "11.5", "9"))))
    assert str(err.value) == (
        "stop_times.txt line 4, field shape_dist_traveled: "
        "shape_dist_traveled decreases along the trip"
    )


def test_distance_along_shape(tmp_path: Path) -> None:
    # The track swings 0.1 degree east between Alpha and Bravo: longer than the straight line.
    trips = "route_id,service_id,trip_id,trip_short_name,shape_id\nR,WK,T1,101,S\nR,WK,T2,,S\n"
    shapes = """shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence
S,30.2,120.0,3
S,30.0,120.0,1
S,30.05,120.1,2
S,30.1,120.0,2.5
"""
    shapes = shapes.replace(",2.5\n", ",25\n").replace(",3\n", ",30\n")
    net = read_feed(feed(tmp_path, trips_txt=trips, shapes_txt=shapes))
    km = [s.km for s in net.train("101").stops]
    assert km[0] == 0
    assert 20 <= km[1] <= 23
    assert km[2] - km[1] == 11
