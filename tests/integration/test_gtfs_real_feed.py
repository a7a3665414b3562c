"""Import of real and sample GTFS feeds shipped in tests/data/gtfs (see its README)."""

import itertools
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from open12306.bootstrap import build
from open12306.catalog.adapters.gtfs import read_feed, write_feed
from open12306.catalog.domain.network import Network, validate_network
from open12306.catalog.domain.stations import Station
from open12306.catalog.domain.timetable import validate_train
from open12306.catalog.services.network_load import load_network
from open12306.config import Settings
from open12306.database.store import SqlStore
from open12306.search.services.query import parse_search
from open12306.shared.clock import FixedClock

DATA = Path(__file__).resolve().parents[1] / "data" / "gtfs"


@pytest.fixture(scope="module")
def nyc() -> Network:
    return read_feed(DATA / "nyc_subway_1_2.zip")


def test_every_trip_becomes_a_valid_train(nyc: Network) -> None:
    assert len(nyc.trains) == 1990
    validate_network(nyc)
    for train in nyc.trains:
        validate_train(train)
        kms = [stop.km for stop in train.stops]
        assert kms[0] == 0
        assert kms == sorted(kms)
        assert all(b > a for a, b in itertools.pairwise(kms[::6]))


def test_platforms_are_folded_into_their_stations(nyc: Network) -> None:
    codes = {station.code for station in nyc.stations}
    assert len(codes) == 91
    assert "101" in codes
    assert "101N" not in codes and "101S" not in codes
    assert nyc.station("101").name == "Van Cortlandt Park-242 St"
    assert nyc.served_station_codes() <= codes


def test_codes_names_and_default_composition(nyc: Network) -> None:
    first = nyc.trains[0]
    assert first.code == "1-AFA24GEN-1038-Sunday-00_000600_1..S03R"
    assert first.name == "Broadway - 7 Avenue Local"
    assert first.composition == "emu-8"
    assert not first.synthetic
    assert nyc.agency == "MTA New York City Transit"
    assert len({train.code for train in nyc.trains}) == len(nyc.trains)


def test_line_lengths_measured_along_shapes_are_plausible(nyc: Network) -> None:
    # Published lengths: the 1 (Van Cortlandt Park-242 St to South Ferry) is about 14.5 mi
    # (23 km); the 2 (Wakefield-241 St to Flatbush Av) about 25 mi (40 km).
    full_1 = [t for t in nyc.trains if t.code.startswith("1-") and len(t.stops) == 38]
    full_2 = [t for t in nyc.trains if t.code.startswith("2-") and t.stops[0].station == "201"]
    assert full_1 and full_2
    assert {t.stops[-1].km for t in full_1} <= {23, 24, 25}
    assert all(38 <= t.stops[-1].km <= 43 for t in full_2)


def test_times_past_midnight_are_kept_and_rounded(nyc: Network) -> None:
    # Trip ..._138550_1..S03R leaves at 23:05:30 and reaches South Ferry at 24:02:30.
    late = nyc.train("1-AFA24GEN-1038-Sunday-00_138550_1..S03R")
    assert late.departure(0) == 23 * 60 + 6
    assert late.stops[-1].arrive == 24 * 60 + 3
    assert late.stops[-1].depart is None
    assert late.stops[0].arrive is None


def test_known_stations_replace_feed_stops() -> None:
    known = {"101": Station("101", "范科特兰公园", "fanketelan", "fktl", "纽约", 40.889, -73.898)}
    net = read_feed(DATA / "nyc_subway_1_2.zip", known_stations=known)
    assert net.station("101") is known["101"]
    assert net.station("103").name == "238 St"


def test_real_feed_exports_and_imports_unchanged(nyc: Network, tmp_path: Path) -> None:
    assert nyc.timezone == "America/New_York"
    sample = Network(
        nyc.stations, nyc.trains[::40], agency=nyc.agency, source=nyc.source, timezone=nyc.timezone
    )
    assert {t.calendar.service_id for t in sample.trains if t.calendar} == {
        "Weekday",
        "Saturday",
        "Sunday",
    }
    write_feed(sample, tmp_path / "nyc.zip", start=date(2024, 12, 15))
    assert read_feed(tmp_path / "nyc.zip") == sample


def test_google_sample_feed() -> None:
    net = read_feed(DATA / "google_sample.zip")
    assert net.agency == "Demo Transit Authority"
    assert len(net.trains) == 11
    assert len(net.stations) == 9
    city1 = net.train("40-CITY1")
    assert [s.station for s in city1.stops] == ["STAGECOACH", "NANAA", "NADAV", "DADAN", "EMSI"]
    assert (city1.stops[1].arrive, city1.stops[1].depart) == (6 * 60 + 5, 6 * 60 + 7)
    for train in net.trains:
        validate_train(train)
    # No shapes and no shape_dist_traveled: great-circle km between the stops.
    amv = net.train("50-AAMV1")
    assert 40 <= amv.stops[-1].km <= 44


def test_each_day_offers_only_its_own_service(nyc: Network, db_url: str) -> None:
    # calendar.txt: Weekday, Saturday and Sunday services, 2024-12-15 to 2025-01-17;
    # calendar_dates.txt: Christmas Day (a Wednesday) runs the Sunday service instead.
    load_network(SqlStore.from_url(db_url), nyc, "gtfs:nyc")
    settings = replace(Settings.from_env(), database_url=db_url, timezone="America/New_York")
    monday = datetime(2024, 12, 16, 4, tzinfo=ZoneInfo("America/New_York"))
    container = build(settings, clock=FixedClock(monday))
    for day, service in [
        (date(2024, 12, 16), "Weekday"),
        (date(2024, 12, 21), "Saturday"),
        (date(2024, 12, 22), "Sunday"),
        (date(2024, 12, 24), "Weekday"),
        (date(2024, 12, 25), "Sunday"),
    ]:
        query = parse_search({"from": "101", "to": "127", "date": day.isoformat()})
        trains = container.search.search(query)["trains"]
        assert len(trains) > 50
        assert {row["train"].split("-")[3] for row in trains} == {service}, day
        first = min(row["departs"] for row in trains)
        assert first.startswith(day.isoformat()) and first.endswith("-05:00")
