from datetime import date

import pytest

from open12306.catalog.domain.stations import Station
from open12306.catalog.domain.timetable import StopTime, Train
from open12306.database.migrate import downgrade, upgrade
from open12306.database.store import SqlStore
from open12306.inventory.adapters.inventory_repo import VersionConflict

STATIONS = [
    Station("VNP", "北京南", "beijingnan", "bjn", "北京", 39.9, 116.4),
    Station("TIP", "天津", "tianjin", "tj", "天津"),
    Station("AOH", "上海虹桥", "shanghaihongqiao", "shhq", "上海", 31.2, 121.3),
]
G1 = Train(
    "G1",
    (
        StopTime("VNP", None, 540, 0),
        StopTime("TIP", 570, 572, 120),
        StopTime("AOH", 810, None, 1318),
    ),
    "emu-16",
    synthetic=True,
)
Z9 = Train(
    "Z9", (StopTime("VNP", None, 1300, 0), StopTime("AOH", 1900, None, 1463)), "sleeper-18", True
)


def test_network_round_trip_and_replace(db_url: str) -> None:
    store = SqlStore.from_url(db_url)
    store.save_network(STATIONS, [G1, Z9], "generator")
    assert store.stations() == STATIONS
    assert store.trains() == [G1, Z9]
    shorter = Train("G1", G1.stops[::2], "emu-8", synthetic=True)
    store.save_network(STATIONS, [shorter], "generator")
    assert store.trains() == [shorter]


def test_runs_are_added_once(db_url: str) -> None:
    store = SqlStore.from_url(db_url)
    store.save_network(STATIONS, [G1, Z9], "generator")
    keys = [("G1", date(2026, 12, 1)), ("Z9", date(2026, 12, 1)), ("G1", date(2026, 12, 2))]
    assert store.add_runs(keys) == 3
    assert store.add_runs(keys) == 0
    assert store.runs(date(2026, 12, 1), date(2026, 12, 1)) == set(keys[:2])


def test_inventory_versions_and_change_feed(db_url: str) -> None:
    store = SqlStore.from_url(db_url)
    key = ("G1", date(2026, 12, 1))
    assert store.load(key) is None
    first = store.save(key, b"one", 0)
    assert (first.version, first.state) == (1, b"one")
    with pytest.raises(VersionConflict):
        store.save(key, b"stale", 0)
    with pytest.raises(VersionConflict):
        store.save(key, b"stale", 5)
    second = store.save(key, b"two", 1)
    other = store.save(("Z9", date(2026, 12, 1)), b"z", 0)
    loaded = store.load(key)
    assert loaded is not None and loaded.state == b"two" and loaded.version == 2
    feed = store.changes_since(first.change_seq)
    assert [c.key for c in feed] == [key, other.key]
    assert second.change_seq < other.change_seq
    assert store.changes_since(other.change_seq) == []


def test_migrations_downgrade_and_upgrade_again(db_url: str) -> None:
    downgrade(db_url, "base")
    upgrade(db_url)
    store = SqlStore.from_url(db_url)
    store.save_network(STATIONS, [G1], "generator")
    assert [t.code for t in store.trains()] == ["G1"]


def test_migrations_match_the_schema(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from open12306.database.tables import metadata

    store = SqlStore.from_url(db_url)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
