"""GTFS service calendars and the agency's time zone, end to end on SQLite and PostgreSQL.

A hand-written Swiss feed (agency_timezone Europe/Zurich) with a weekday, a Saturday and a Sunday
service; on New Year's Day 2027 (a Friday) the weekday service is removed, the Sunday service
added, and a calendar_dates-only service runs one extra train.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from open12306.bootstrap import Container, build
from open12306.bootstrap.tasks import export_feed, import_feed
from open12306.catalog.adapters.gtfs import GtfsError, read_feed
from open12306.catalog.domain.stations import Station
from open12306.catalog.domain.timetable import StopTime, Train
from open12306.catalog.services.network_load import load_network
from open12306.config import Settings
from open12306.database.store import SqlStore
from open12306.inventory.domain.seats import SeatClass
from open12306.sales.services.orders import OrderRequest
from open12306.search.services.query import parse_search
from open12306.shared.clock import FixedClock
from open12306.shared.errors import NotFound

ZURICH = ZoneInfo("Europe/Zurich")
MONDAY = date(2026, 12, 28)
NEW_YEAR = date(2027, 1, 1)
SATURDAY = date(2027, 1, 2)
SUNDAY = date(2027, 1, 3)
NEXT_MONDAY = date(2027, 1, 4)

AGENCY = """agency_id,agency_name,agency_url,agency_timezone,agency_lang
sbb,SBB CFF FFS,https://www.sbb.ch,Europe/Zurich,de
"""
STOPS = """stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station
ZUE,Zürich HB,47.378177,8.540192,1,
ZUE7,Zürich HB Gleis 7,47.378,8.5402,0,ZUE
OL,Olten,47.351928,7.907743,,
BN,Bern,46.948825,7.439122,,
"""
ROUTES = """route_id,agency_id,route_short_name,route_long_name,route_type
IC1,sbb,IC1,Genève-Aéroport - St. Gallen,2
"""
TRIPS = """route_id,service_id,trip_id,trip_short_name
IC1,WK,wk-0802,IC702
IC1,WK,wk-1702,IC718
IC1,SA,sa-0902,IC802
IC1,SU,su-1002,IC902
IC1,NEUJAHR,ny-1232,IC9012
"""
STOP_TIMES = """trip_id,arrival_time,departure_time,stop_id,stop_sequence
wk-0802,08:02:00,08:02:00,ZUE7,1
wk-0802,08:31:00,08:33:00,OL,2
wk-0802,08:58:00,08:58:00,BN,3
wk-1702,17:02:00,17:02:00,ZUE7,1
wk-1702,17:31:00,17:33:00,OL,2
wk-1702,17:58:00,17:58:00,BN,3
sa-0902,09:02:00,09:02:00,ZUE,1
sa-0902,09:31:00,09:33:00,OL,2
sa-0902,09:58:00,09:58:00,BN,3
su-1002,10:02:00,10:02:00,ZUE,1
su-1002,10:31:00,10:33:00,OL,2
su-1002,10:58:00,10:58:00,BN,3
ny-1232,12:32:00,12:32:00,ZUE,1
ny-1232,13:28:00,13:28:00,BN,2
"""
CALENDAR = """service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,\
start_date,end_date
WK,1,1,1,1,1,0,0,20261213,20271211
SA,0,0,0,0,0,1,0,20261213,20271211
SU,0,0,0,0,0,0,1,20261213,20271211
"""
CALENDAR_DATES = """service_id,date,exception_type
WK,20270101,2
SU,20270101,1
NEUJAHR,20270101,1
"""
FEED = {
    "agency.txt": AGENCY,
    "stops.txt": STOPS,
    "routes.txt": ROUTES,
    "trips.txt": TRIPS,
    "stop_times.txt": STOP_TIMES,
    "calendar.txt": CALENDAR,
    "calendar_dates.txt": CALENDAR_DATES,
}


def write_feed_folder(folder: Path, **changes: str) -> Path:
    folder.mkdir(parents=True)
    files = dict(FEED)
    files.update({name.replace("_txt", ".txt"): text for name, text in changes.items()})
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def zurich_settings(db_url: str) -> Settings:
    return replace(Settings.from_env(), database_url=db_url, timezone="Europe/Zurich")


def open_at(settings: Settings, day: date) -> Container:
    """The product as it runs on ``day`` at 06:00 in Zurich (runs materialised for the window)."""
    morning = datetime(day.year, day.month, day.day, 6, tzinfo=ZURICH)
    return build(settings, clock=FixedClock(morning))


def imported(db_url: str, tmp_path: Path) -> Settings:
    settings = zurich_settings(db_url)
    network = read_feed(write_feed_folder(tmp_path / "sbb"))
    load_network(SqlStore.from_url(db_url), network, "gtfs:sbb")
    return settings


def offered(container: Container, day: date) -> list[tuple[str, str, str]]:
    query = parse_search({"from": "ZUE", "to": "BN", "date": day.isoformat()})
    answer = container.search.search(query)
    return [(row["train"], row["departs"], row["arrives"]) for row in answer["trains"]]


def test_a_monday_offers_only_the_weekday_trains_at_zurich_times(
    db_url: str, tmp_path: Path
) -> None:
    container = open_at(imported(db_url, tmp_path), MONDAY)
    assert offered(container, MONDAY) == [
        ("IC702", "2026-12-28T08:02:00+01:00", "2026-12-28T08:58:00+01:00"),
        ("IC718", "2026-12-28T17:02:00+01:00", "2026-12-28T17:58:00+01:00"),
    ]


def test_weekends_and_the_holiday_follow_calendar_and_calendar_dates(
    db_url: str, tmp_path: Path
) -> None:
    container = open_at(imported(db_url, tmp_path), MONDAY)
    assert [t for t, _, _ in offered(container, SATURDAY)] == ["IC802"]
    assert [t for t, _, _ in offered(container, SUNDAY)] == ["IC902"]
    # New Year's Day is a Friday: the weekday service is removed, the Sunday one added, and
    # the calendar_dates-only service runs its one train.
    assert offered(container, NEW_YEAR) == [
        ("IC902", "2027-01-01T10:02:00+01:00", "2027-01-01T10:58:00+01:00"),
        ("IC9012", "2027-01-01T12:32:00+01:00", "2027-01-01T13:28:00+01:00"),
    ]
    assert [t for t, _, _ in offered(container, NEXT_MONDAY)] == ["IC702", "IC718"]
    # Booking follows the same runs: the weekday train cannot be booked for the holiday.
    assert container.orders is not None
    trip = OrderRequest("IC702", MONDAY, "ZUE", "BN", SeatClass.SECOND, ())
    assert container.orders.trip(trip).departs_at.isoformat() == "2026-12-28T08:02:00+01:00"
    with pytest.raises(NotFound) as err:
        container.orders.trip(replace(trip, service_date=NEW_YEAR))
    assert err.value.reason == "unknown_run"


def test_runs_are_materialised_only_on_service_dates(db_url: str, tmp_path: Path) -> None:
    container = open_at(imported(db_url, tmp_path), MONDAY)
    runs = container.store.runs(MONDAY, SUNDAY)
    by_day = {day: sorted(code for code, d in runs if d == day) for day in {d for _, d in runs}}
    weekday = ["IC702", "IC718"]
    assert by_day == {
        MONDAY: weekday,
        MONDAY + timedelta(days=1): weekday,
        MONDAY + timedelta(days=2): weekday,
        MONDAY + timedelta(days=3): weekday,
        NEW_YEAR: ["IC9012", "IC902"],
        SATURDAY: ["IC802"],
        SUNDAY: ["IC902"],
    }


def test_import_creates_the_runs_of_the_service_dates(db_url: str, tmp_path: Path) -> None:
    settings = zurich_settings(db_url)
    report = import_feed(settings, write_feed_folder(tmp_path / "sbb"), "sbb", today=MONDAY)
    # 17 service dates, 2026-12-26 (two days' look-back) to 2027-01-11: 10 weekdays (2 trains
    # each), 3 Saturdays, 3 Sundays and New Year's Day (2 trains).
    assert report.endswith("; 28 runs created")
    assert "imported 5 trips" in report


def test_a_feed_in_another_zone_than_the_operators_is_refused(db_url: str, tmp_path: Path) -> None:
    settings = replace(zurich_settings(db_url), timezone="Asia/Shanghai")
    with pytest.raises(GtfsError) as err:
        import_feed(settings, write_feed_folder(tmp_path / "sbb"), "sbb")
    assert (err.value.file, err.value.line, err.value.field) == ("agency.txt", 2, "agency_timezone")
    assert err.value.reason == "timezone_mismatch"
    assert "Europe/Zurich" in err.value.message and "Asia/Shanghai" in err.value.message
    assert "OPEN12306_TIMEZONE" in err.value.message
    store = SqlStore.from_url(db_url)
    assert store.trains() == [] and store.runs(MONDAY, SUNDAY) == set()


def test_a_zone_with_the_same_clock_is_accepted(db_url: str, tmp_path: Path) -> None:
    # Europe/Vaduz keeps Zurich's clock: times mean the same instants.
    settings = replace(zurich_settings(db_url), timezone="Europe/Vaduz")
    report = import_feed(settings, write_feed_folder(tmp_path / "sbb"), "sbb", today=MONDAY)
    assert report.endswith("; 28 runs created")


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_export_writes_the_calendars_and_zone_back(db_url: str, tmp_path: Path) -> None:
    settings = zurich_settings(db_url)
    import_feed(settings, write_feed_folder(tmp_path / "sbb"), "sbb", today=MONDAY)
    before = SqlStore.from_url(db_url).trains()
    path = tmp_path / "out.zip"
    export_feed(settings, path, today=MONDAY)
    with zipfile.ZipFile(path) as archive:
        text = {name: archive.read(name).decode("utf-8") for name in archive.namelist()}
    assert rows(text["agency.txt"])[0]["agency_timezone"] == "Europe/Zurich"
    days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    written = {
        r["service_id"]: ("".join(r[d] for d in days), r["start_date"], r["end_date"])
        for r in rows(text["calendar.txt"])
    }
    assert written == {
        "WK": ("1111100", "20261213", "20271211"),
        "SA": ("0000010", "20261213", "20271211"),
        "SU": ("0000001", "20261213", "20271211"),
    }
    exceptions = sorted(
        (r["service_id"], r["date"], r["exception_type"]) for r in rows(text["calendar_dates.txt"])
    )
    assert exceptions == [
        ("NEUJAHR", "20270101", "1"),
        ("SU", "20270101", "1"),
        ("WK", "20270101", "2"),
    ]
    services = {r["trip_id"]: r["service_id"] for r in rows(text["trips.txt"])}
    assert services == {
        "IC702": "WK",
        "IC718": "WK",
        "IC802": "SA",
        "IC902": "SU",
        "IC9012": "NEUJAHR",
    }
    # Read back, the feed gives the same trains with the same calendars; imported again, the
    # same trains are offered on the same days.
    assert sorted(read_feed(path).trains, key=lambda t: t.code) == before
    import_feed(settings, path, "sbb", today=MONDAY)
    assert SqlStore.from_url(db_url).trains() == before
    container = open_at(settings, MONDAY)
    assert [t for t, _, _ in offered(container, MONDAY)] == ["IC702", "IC718"]
    assert [t for t, _, _ in offered(container, NEW_YEAR)] == ["IC902", "IC9012"]


def test_stop_timezone_does_not_move_the_times(db_url: str, tmp_path: Path) -> None:
    # GTFS: stop_times are in agency_timezone even at a stop with its own stop_timezone.
    stops = STOPS.replace("parent_station\n", "parent_station,stop_timezone\n").replace(
        "46.948825,7.439122,,\n", "46.948825,7.439122,,,Europe/London\n"
    )
    settings = zurich_settings(db_url)
    network = read_feed(write_feed_folder(tmp_path / "sbb", stops_txt=stops))
    load_network(SqlStore.from_url(db_url), network, "gtfs:sbb")
    assert offered(open_at(settings, MONDAY), MONDAY)[0] == (
        "IC702",
        "2026-12-28T08:02:00+01:00",
        "2026-12-28T08:58:00+01:00",
    )


def test_export_gives_holiday_only_trains_the_peak_days(db_url: str, tmp_path: Path) -> None:
    # A train without a calendar that runs only on peak days (加开): the exported feed lists
    # the year's peak days for it, e.g. the Spring Festival rush of 2026.
    stations = (Station("VNP", "北京南"), Station("TIP", "天津南"))
    extra = Train(
        "D7001",
        (StopTime("VNP", None, 420, 0), StopTime("TIP", 455, None, 131)),
        "emu-8",
        holiday_only=True,
    )
    SqlStore.from_url(db_url).save_network(stations, [extra], "generator")
    settings = replace(Settings.from_env(), database_url=db_url)
    path = tmp_path / "out.zip"
    export_feed(settings, path, today=date(2026, 1, 20))
    with zipfile.ZipFile(path) as archive:
        listed = rows(archive.read("calendar_dates.txt").decode("utf-8"))
    days = [date.fromisoformat(r["date"]) for r in listed if r["service_id"] == "HOLIDAY"]
    assert date(2026, 2, 17) in days and date(2026, 10, 1) in days
    assert date(2026, 1, 20) not in days and date(2026, 6, 10) not in days
    assert days == sorted(days) and days[-1] <= date(2027, 1, 19)
    assert read_feed(path).trains == (extra,)


def test_times_keep_the_wall_clock_across_the_spring_change(db_url: str, tmp_path: Path) -> None:
    # Clocks go forward on Sunday 2027-03-28. GTFS counts from "noon minus 12h", so 10:02:00
    # that day is 08:02 UTC, i.e. 10:02+02:00: the wall-clock time the product shows.
    container = open_at(imported(db_url, tmp_path), date(2027, 3, 22))
    assert offered(container, date(2027, 3, 27))[0][1] == "2027-03-27T09:02:00+01:00"
    assert offered(container, date(2027, 3, 28))[0][1] == "2027-03-28T10:02:00+02:00"
    assert offered(container, date(2027, 3, 29))[0][1] == "2027-03-29T08:02:00+02:00"


def test_import_says_when_no_trip_runs_in_the_sale_window(db_url: str, tmp_path: Path) -> None:
    settings = zurich_settings(db_url)
    late = date(2028, 6, 1)  # the feed's services end on 2027-12-11
    report = import_feed(settings, write_feed_folder(tmp_path / "sbb"), "sbb", today=late)
    assert report.endswith(
        "; 0 runs created (no trip runs on the service dates 2028-05-30 to 2028-06-15)"
    )
