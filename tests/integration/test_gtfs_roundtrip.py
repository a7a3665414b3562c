"""Export a Network as GTFS and read it back: the same stations and trains come out."""

import csv
import zipfile
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from open12306.catalog.adapters.gtfs import GtfsError, read_feed, write_feed
from open12306.catalog.domain.network import Network
from open12306.catalog.domain.service_calendar import ServiceCalendar
from open12306.catalog.domain.stations import Station
from open12306.catalog.domain.timetable import StopTime, Train
from open12306.shared.errors import DomainError

STATIONS = (
    Station("VNP", "北京南", "beijingnan", "bjn", "北京", 39.865, 116.379),
    Station("TIP", "天津南", "tianjinnan", "tjn", "天津", 39.0, 117.2),
    Station("JGK", "济南西", "jinanxi", "jnx", "济南", 36.669, 116.891),
    Station("NKH", "南京南", "nanjingnan", "njn", "南京", 31.969, 118.797),
    Station("AOH", "上海虹桥", "shanghaihongqiao", "shhq", "上海", 31.194, 121.32),
    Station("XYZ", "无坐标", "wuzuobiao", "wzb", ""),
)

G1 = Train(
    "G1",
    (
        StopTime("VNP", None, 540, 0),
        StopTime("JGK", 622, 624, 406),
        StopTime("NKH", 757, 759, 1023),
        StopTime("AOH", 828, None, 1318),
    ),
    "emu-16",
    synthetic=True,
    name="复兴号",
)
Z99 = Train(
    "Z99",
    (
        StopTime("AOH", None, 1320, 0),
        StopTime("NKH", 1440, 1452, 295),
        StopTime("XYZ", 1510, 1515, 500),
        StopTime("VNP", 1990, None, 1318),
    ),
    "sleeper-18",
    synthetic=False,
)
D7001 = Train(
    "D7001",
    (StopTime("VNP", None, 420, 0), StopTime("TIP", 455, None, 131)),
    "emu-8",
    holiday_only=True,
)
TRAIN_5 = Train(
    "5",
    (StopTime("TIP", None, 0, 0), StopTime("VNP", 90, None, 131)),
    "k-18",
)

NETWORK = Network(STATIONS, (G1, Z99, D7001, TRAIN_5), agency="中国铁路测试局", source="unit test")
START = date(2026, 2, 1)
END = date(2026, 3, 31)
HOLIDAYS = (date(2026, 2, 15), date(2026, 2, 16), date(2025, 10, 1))


def rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("target", ["feed", "feed.zip"])
def test_round_trip_is_exact(tmp_path: Path, target: str) -> None:
    path = tmp_path / target
    write_feed(NETWORK, path, start=START, end=END, holidays=HOLIDAYS)
    assert path.is_dir() == (target == "feed")
    back = read_feed(path)
    assert back == NETWORK


def test_written_feed_follows_gtfs(tmp_path: Path) -> None:
    folder = tmp_path / "feed"
    write_feed(NETWORK, folder, start=START, end=END, holidays=HOLIDAYS)
    names = {p.name for p in folder.iterdir()}
    assert names == {
        "agency.txt",
        "stops.txt",
        "routes.txt",
        "trips.txt",
        "stop_times.txt",
        "calendar.txt",
        "calendar_dates.txt",
        "feed_info.txt",
    }
    assert rows(folder, "agency.txt")[0]["agency_timezone"] == "Asia/Shanghai"
    routes = {r["route_id"]: r["route_type"] for r in rows(folder, "routes.txt")}
    assert routes == {"G": "101", "D": "101", "Z": "102", "other": "103"}
    stops = {r["stop_id"]: r for r in rows(folder, "stops.txt")}
    assert (stops["XYZ"]["stop_lat"], stops["XYZ"]["stop_lon"]) == ("0", "0")
    assert stops["AOH"]["stop_name"] == "上海虹桥"
    z99 = [r for r in rows(folder, "stop_times.txt") if r["trip_id"] == "Z99"]
    assert [r["stop_sequence"] for r in z99] == ["1", "2", "3", "4"]
    assert z99[0]["arrival_time"] == z99[0]["departure_time"] == "22:00:00"
    assert (z99[1]["arrival_time"], z99[1]["departure_time"]) == ("24:00:00", "24:12:00")
    assert z99[3]["arrival_time"] == z99[3]["departure_time"] == "33:10:00"
    assert [r["shape_dist_traveled"] for r in z99] == ["0", "295", "500", "1318"]
    services = {r["trip_id"]: r["service_id"] for r in rows(folder, "trips.txt")}
    assert services == {"G1": "DAILY", "Z99": "DAILY", "D7001": "HOLIDAY", "5": "DAILY"}
    calendar = {r["service_id"]: r for r in rows(folder, "calendar.txt")}
    assert calendar["DAILY"]["monday"] == calendar["DAILY"]["sunday"] == "1"
    assert calendar["HOLIDAY"]["saturday"] == "0"
    assert (calendar["DAILY"]["start_date"], calendar["DAILY"]["end_date"]) == (
        "20260201",
        "20260331",
    )
    extra_days = [(r["service_id"], r["date"]) for r in rows(folder, "calendar_dates.txt")]
    assert extra_days == [("HOLIDAY", "20260215"), ("HOLIDAY", "20260216")]


def test_basic_route_types_and_no_holiday_files(tmp_path: Path) -> None:
    folder = tmp_path / "feed"
    plain = Network(STATIONS, (G1, Z99))
    write_feed(plain, folder, start=START, extended_route_types=False)
    assert {r["route_type"] for r in rows(folder, "routes.txt")} == {"2"}
    assert not (folder / "calendar_dates.txt").exists()
    assert [r["service_id"] for r in rows(folder, "calendar.txt")] == ["DAILY"]
    assert rows(folder, "calendar.txt")[0]["end_date"] == "20270131"
    assert read_feed(folder) == plain


def test_zip_holds_the_files_at_its_root(tmp_path: Path) -> None:
    path = tmp_path / "out" / "china.zip"
    write_feed(NETWORK, path, start=START)
    with zipfile.ZipFile(path) as archive:
        assert "stop_times.txt" in archive.namelist()


def test_invalid_network_is_not_written(tmp_path: Path) -> None:
    broken = Network(STATIONS[:2], (G1,))
    with pytest.raises(DomainError) as err:
        write_feed(broken, tmp_path / "feed", start=START)
    assert err.value.reason == "unknown_station"
    assert not (tmp_path / "feed").exists()


def test_feed_that_ends_before_it_starts_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DomainError) as err:
        write_feed(NETWORK, tmp_path / "feed", start=END, end=START)
    assert err.value.reason == "before_start"


def days_after(start: date) -> st.SearchStrategy[date]:
    return st.integers(min_value=-10, max_value=400).map(lambda n: start + timedelta(days=n))


@st.composite
def calendars(draw: st.DrawFn, service_id: str) -> ServiceCalendar:
    weekly = draw(st.booleans())
    first = draw(days_after(START))
    last = first + timedelta(days=draw(st.integers(min_value=0, max_value=400)))
    weekdays = draw(st.frozensets(st.integers(min_value=0, max_value=6))) if weekly else None
    added = draw(st.frozensets(days_after(START), max_size=4))
    removed = draw(st.frozensets(days_after(START), max_size=4)) - added
    return ServiceCalendar(
        service_id,
        weekdays or frozenset(),
        first if weekly else None,
        last if weekly else None,
        added,
        removed,
    )


@st.composite
def trains(draw: st.DrawFn) -> tuple[Train, ...]:
    # Service ids include our own DAILY and HOLIDAY (and what they become when taken): the window
    # services of trains without a calendar must dodge them.
    choices = ["DAILY", "DAILY-2", "HOLIDAY", "HOLIDAY-2", "WK", "SA+SU", "x,y"]
    names = draw(st.lists(st.sampled_from(choices), unique=True))
    pool = [draw(calendars(name)) for name in names]
    count = draw(st.integers(min_value=1, max_value=4))
    result = []
    for n in range(count):
        codes = draw(st.permutations([s.code for s in STATIONS]))
        size = draw(st.integers(min_value=2, max_value=len(codes)))
        clock = draw(st.integers(min_value=0, max_value=1439))
        km = draw(st.integers(min_value=0, max_value=50))
        stops = []
        for i, code in enumerate(codes[:size]):
            arrive = None if i == 0 else clock
            if i > 0:
                clock += draw(st.integers(min_value=0, max_value=30))
            depart = None if i == size - 1 else clock
            stops.append(StopTime(code, arrive, depart, km))
            clock += draw(st.integers(min_value=0, max_value=900))
            km += draw(st.integers(min_value=0, max_value=800))
        letter = draw(st.sampled_from(["G", "D", "C", "Z", "T", "K", ""]))
        result.append(
            Train(
                f"{letter}{n + 1}",
                tuple(stops),
                draw(st.sampled_from(["emu-8", "emu-16", "sleeper-18"])),
                synthetic=draw(st.booleans()),
                holiday_only=draw(st.booleans()),
                name=draw(st.sampled_from(["", "和谐号", 'a,b "quoted"'])),
                calendar=draw(st.sampled_from([None, *pool])),
            )
        )
    return tuple(result)


# A calendar that names no date at all (a train that runs on no day): written as a service on
# no weekday, not left out of the feed. Alone, the feed used to have no calendar files, so the
# train read back as running every day; beside a daily train, its trip named an unknown service.
DATELESS = ServiceCalendar("DAILY")
# A calendar on exactly the export window's days, under the name the window would take.
LIKE_THE_WINDOW = ServiceCalendar("DAILY", frozenset(range(7)), START, END)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(generated=trains())
@example(generated=(replace(G1, calendar=replace(DATELESS, service_id="WK")),))
@example(generated=(G1, replace(TRAIN_5, calendar=DATELESS)))
@example(generated=(replace(D7001, calendar=DATELESS), replace(Z99, calendar=None)))
@example(generated=(replace(G1, calendar=LIKE_THE_WINDOW), TRAIN_5, D7001))
def test_generated_networks_round_trip(tmp_path: Path, generated: tuple[Train, ...]) -> None:
    network = Network(STATIONS, generated, agency="a", source="", timezone="Europe/Zurich")
    path = tmp_path / "feed.zip"
    write_feed(network, path, start=START, end=END, holidays=HOLIDAYS)
    assert read_feed(path) == network


WEEKDAYS = ServiceCalendar(
    "DAILY",  # the name our export gives its own every-day service
    frozenset(range(5)),
    date(2026, 2, 2),
    date(2026, 6, 30),
    added=frozenset({date(2026, 2, 14)}),
    removed=frozenset({date(2026, 2, 16), date(2026, 2, 17)}),
)
SPRING_FESTIVAL = ServiceCalendar("CNY", added=frozenset({date(2026, 2, 17)}))


def test_calendars_are_written_and_read_back(tmp_path: Path) -> None:
    network = Network(
        STATIONS,
        (G1, replace(Z99, calendar=WEEKDAYS), replace(D7001, calendar=SPRING_FESTIVAL), TRAIN_5),
        agency="中国铁路测试局",
        source="unit test",
    )
    folder = tmp_path / "feed"
    write_feed(network, folder, start=START, end=END, holidays=HOLIDAYS)
    services = {r["trip_id"]: r["service_id"] for r in rows(folder, "trips.txt")}
    assert services == {"G1": "DAILY-2", "Z99": "DAILY", "D7001": "CNY", "5": "DAILY-2"}
    calendar = {r["service_id"]: r for r in rows(folder, "calendar.txt")}
    assert set(calendar) == {"DAILY", "DAILY-2"}
    assert [calendar["DAILY"][day] for day in ("monday", "friday", "saturday")] == ["1", "1", "0"]
    assert (calendar["DAILY"]["start_date"], calendar["DAILY"]["end_date"]) == (
        "20260202",
        "20260630",
    )
    assert (calendar["DAILY"]["o12306_window"], calendar["DAILY-2"]["o12306_window"]) == ("0", "1")
    assert [
        (r["service_id"], r["date"], r["exception_type"])
        for r in rows(folder, "calendar_dates.txt")
    ] == [
        ("DAILY", "20260214", "1"),
        ("DAILY", "20260216", "2"),
        ("DAILY", "20260217", "2"),
        ("CNY", "20260217", "1"),
    ]
    info = rows(folder, "feed_info.txt")[0]
    assert (info["feed_start_date"], info["feed_end_date"]) == ("20260201", "20260630")
    assert read_feed(folder) == network


def test_feeds_of_format_1_run_every_day(tmp_path: Path) -> None:
    # Before calendars, our export marked nothing: every service was the export window.
    folder = tmp_path / "feed"
    write_feed(NETWORK, folder, start=START, end=END, holidays=HOLIDAYS)
    for name, column, value in [
        ("calendar.txt", "o12306_window", None),
        ("feed_info.txt", "o12306_format", "1"),
    ]:
        table = rows(folder, name)
        header = [c for c in table[0] if c != column or value is not None]
        with (folder / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, header, extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
            writer.writerows([{**r, column: value} if value else r for r in table])
    assert "o12306_window" not in rows(folder, "calendar.txt")[0]
    assert read_feed(folder) == NETWORK


def test_a_calendar_without_dates_is_a_service_on_no_day(tmp_path: Path) -> None:
    suspended = ServiceCalendar("SUSPENDED")
    network = Network(STATIONS, (replace(G1, calendar=suspended),))
    folder = tmp_path / "feed"
    write_feed(network, folder, start=START, end=END)
    assert [r["service_id"] for r in rows(folder, "trips.txt")] == ["SUSPENDED"]
    (row,) = rows(folder, "calendar.txt")
    assert [row[day] for day in ("monday", "tuesday", "wednesday", "thursday")] == ["0"] * 4
    assert [row[day] for day in ("friday", "saturday", "sunday")] == ["0"] * 3
    assert (row["start_date"], row["end_date"]) == ("20260201", "20260331")
    assert (row["o12306_window"], row["o12306_dateless"]) == ("0", "1")
    assert not (folder / "calendar_dates.txt").exists()
    back = read_feed(folder)
    assert back == network
    assert back.trains[0].calendar == suspended


def test_a_dateless_service_with_weekdays_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "feed"
    write_feed(Network(STATIONS, (replace(G1, calendar=DATELESS),)), folder, start=START)
    text = (folder / "calendar.txt").read_text(encoding="utf-8")
    (folder / "calendar.txt").write_text(text.replace("0,0,0,0,0,0,0", "1,0,0,0,0,0,0"))
    with pytest.raises(GtfsError) as err:
        read_feed(folder)
    assert err.value.reason == "dateless_with_weekdays"
    assert str(err.value).startswith("calendar.txt line 2, field o12306_dateless:")
