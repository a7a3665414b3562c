"""Import of hand-written feeds: malformed ones name file, line and field; odd valid ones work."""

import zipfile
from datetime import date
from pathlib import Path

import pytest

from open12306.catalog.adapters.gtfs import GtfsError, read_feed, same_clock
from open12306.catalog.domain.service_calendar import ServiceCalendar
from open12306.shared.errors import DomainError

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


AGENCY = (
    "agency_id,agency_name,agency_url,agency_timezone\n"
    "A,Alpha Rail,https://a.example,Europe/Zurich\n"
)
CALENDAR = (
    "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
    "WK,1,1,1,1,1,0,0,20270104,20271231\n"
)
CALENDAR_DATES = "service_id,date,exception_type\nWK,20270101,1\nWK,20270106,2\n"


def test_trips_get_the_calendar_of_their_service(tmp_path: Path) -> None:
    net = read_feed(
        feed(tmp_path, agency_txt=AGENCY, calendar_txt=CALENDAR, calendar_dates_txt=CALENDAR_DATES)
    )
    calendar = net.train("101").calendar
    assert calendar is not None and net.train("X-T2").calendar is calendar
    assert calendar == ServiceCalendar(
        "WK",
        frozenset({0, 1, 2, 3, 4}),
        date(2027, 1, 4),
        date(2027, 12, 31),
        frozenset({date(2027, 1, 1)}),
        frozenset({date(2027, 1, 6)}),
    )
    assert net.timezone == "Europe/Zurich"


def test_a_service_only_in_calendar_dates_runs_on_its_added_dates(tmp_path: Path) -> None:
    net = read_feed(feed(tmp_path, calendar_dates_txt=CALENDAR_DATES))
    calendar = net.train("101").calendar
    assert calendar == ServiceCalendar(
        "WK", added=frozenset({date(2027, 1, 1)}), removed=frozenset({date(2027, 1, 6)})
    )
    assert calendar.dates(date(2026, 12, 1), date(2027, 12, 31)) == [date(2027, 1, 1)]


def test_a_feed_without_calendars_runs_every_day(tmp_path: Path) -> None:
    net = read_feed(feed(tmp_path))
    assert [t.calendar for t in net.trains] == [None, None]
    assert net.timezone == "Asia/Shanghai"
    assert read_feed(feed(tmp_path / "ops"), timezone="Europe/Zurich").timezone == "Europe/Zurich"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"calendar_txt": CALENDAR.replace("0,0,2027", "0,x,2027")},
            "calendar.txt line 2, field sunday: expected 0 or 1, got 'x'",
        ),
        (
            {"calendar_txt": CALENDAR.replace("20270104", "2027-01-04")},
            "calendar.txt line 2, field start_date: bad date '2027-01-04' (expected YYYYMMDD)",
        ),
        (
            {"calendar_txt": CALENDAR.replace("20271231", "20270230")},
            "calendar.txt line 2, field end_date: bad date '20270230' (expected YYYYMMDD)",
        ),
        (
            {"calendar_txt": CALENDAR.replace("20271231", "20261231")},
            "calendar.txt line 2, field end_date: service ends 2026-12-31 before it starts "
            "2027-01-04",
        ),
        (
            {"calendar_txt": CALENDAR.replace(",sunday", ",dimanche")},
            "calendar.txt line 1, field sunday: required column is missing",
        ),
        (
            {"calendar_txt": CALENDAR + "WK,0,0,0,0,0,1,1,20270104,20271231\n"},
            "calendar.txt line 3, field service_id: duplicate id 'WK' (first on line 2)",
        ),
        (
            {"calendar_dates_txt": CALENDAR_DATES.replace("20270106,2", "20270106,3")},
            "calendar_dates.txt line 3, field exception_type: "
            "expected 1 (added) or 2 (removed), got '3'",
        ),
        (
            {"calendar_dates_txt": CALENDAR_DATES + "WK,20270101,2\n"},
            "calendar_dates.txt line 4, field date: 'WK' lists 2027-01-01 twice (first on line 2)",
        ),
        (
            {"calendar_dates_txt": CALENDAR_DATES.replace("WK,20270101", ",20270101")},
            "calendar_dates.txt line 2, field service_id: a value is required",
        ),
        (
            {
                "calendar_txt": CALENDAR.replace("WK,", "SA,"),
                "calendar_dates_txt": CALENDAR_DATES.replace("WK,", "SA,"),
            },
            "trips.txt line 2, field service_id: unknown service 'WK'",
        ),
        (
            {"agency_txt": AGENCY.replace("Europe/Zurich", "Mars/Olympus")},
            "agency.txt line 2, field agency_timezone: unknown time zone 'Mars/Olympus'",
        ),
        (
            {"agency_txt": AGENCY + "B,Bravo Rail,https://b.example,Europe/London\n"},
            "agency.txt line 3, field agency_timezone: "
            "agencies disagree: 'Europe/London' here, 'Europe/Zurich' on line 2",
        ),
        (
            {"agency_txt": "agency_id,agency_name,agency_url\nA,Alpha,https://a.example\n"},
            "agency.txt line 1, field agency_timezone: required column is missing",
        ),
    ],
)
def test_malformed_calendars_and_zones_name_file_line_and_field(
    tmp_path: Path, changes: dict[str, str], message: str
) -> None:
    files = {"agency_txt": AGENCY, "calendar_txt": CALENDAR, "calendar_dates_txt": CALENDAR_DATES}
    files.update(changes)
    with pytest.raises(GtfsError) as err:
        read_feed(feed(tmp_path, **files))
    assert str(err.value) == message


def test_a_feed_in_another_zone_than_the_operators_is_refused(tmp_path: Path) -> None:
    folder = feed(tmp_path, agency_txt=AGENCY, calendar_txt=CALENDAR)
    assert read_feed(folder, timezone="Europe/Zurich").timezone == "Europe/Zurich"
    # Berlin has kept Zurich's clock since 1981: the same instants.
    assert read_feed(folder, timezone="Europe/Berlin").timezone == "Europe/Zurich"
    with pytest.raises(GtfsError) as err:
        read_feed(folder, timezone="Asia/Shanghai")
    assert (err.value.file, err.value.line, err.value.field) == ("agency.txt", 2, "agency_timezone")
    assert err.value.reason == "timezone_mismatch"
    assert str(err.value) == (
        "agency.txt line 2, field agency_timezone: the feed's times are in Europe/Zurich, but "
        "the operator's zone is Asia/Shanghai; times are shown in the operator's zone, so serve "
        "this feed with OPEN12306_TIMEZONE=Europe/Zurich"
    )


def test_same_clock_compares_offsets_on_the_service_dates() -> None:
    winter = (date(2027, 1, 1), date(2027, 2, 28))
    to_april = (date(2027, 1, 1), date(2027, 4, 30))
    assert same_clock("Asia/Chongqing", "Asia/Shanghai", to_april)
    assert same_clock("America/Toronto", "America/New_York", to_april)
    # Lagos is UTC+1 all year, like Zurich in winter only.
    assert same_clock("Europe/Zurich", "Africa/Lagos", winter)
    assert not same_clock("Europe/Zurich", "Africa/Lagos", to_april)
    # The day after the span still counts: a train may arrive past midnight.
    assert not same_clock("Europe/Zurich", "Africa/Lagos", (date(2027, 3, 1), date(2027, 3, 27)))
    assert not same_clock("Europe/Zurich", "Europe/London", winter)
    assert same_clock("Europe/Zurich", "Europe/Zurich", None)
    assert not same_clock("Europe/Zurich", "Europe/Berlin", None)
