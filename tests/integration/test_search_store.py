"""Search over the demo network stored in SQLite and PostgreSQL, and the change feed between
two processes' read models."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from open12306.bootstrap import build
from open12306.bootstrap.tasks import load_demo
from open12306.config import Settings
from open12306.inventory.domain import Request
from open12306.inventory.domain.seats import SeatClass
from open12306.search.services.query import parse_search

pytestmark = pytest.mark.operator_day


def test_search_and_change_feed(db_url: str) -> None:
    settings = replace(Settings.from_env(), database_url=db_url)
    load_demo(settings, seed=11, trains=1000, fill=0.0, days=0, force=True)
    writer = build(settings)
    reader = build(settings, materialise=False)
    boarding = (writer.window.today() + timedelta(days=1)).isoformat()
    query = parse_search({"from": "北京", "to": "上海", "date": boarding})
    answer = reader.search.search(query)
    assert answer["count"] >= 30
    row = answer["trains"][0]
    second = next(c for c in row["classes"] if c["class"] == "second")
    key = (row["train"], date.fromisoformat(row["service_date"]))
    request = Request(SeatClass.SECOND, row["from_stop"], row["to_stop"], party=3)
    writer.inventory.sell(key, request)
    assert reader.read_model.refresh(force=True)
    after = reader.search.search(query)["trains"][0]
    assert next(c for c in after["classes"] if c["class"] == "second")["remaining"] == (
        second["remaining"] - 3
    )
    stored = writer.store.load(key)
    assert stored is not None and stored.version == 1

    # The reader's own write is numbered after the writer's next change: reading the feed
    # must still bring the writer's change (the feed position moves only by reading it).
    other = (answer["trains"][1]["train"], date.fromisoformat(answer["trains"][1]["service_date"]))
    other_row = answer["trains"][1]
    writer.inventory.sell(
        other, Request(SeatClass.SECOND, other_row["from_stop"], other_row["to_stop"], party=1)
    )
    reader.inventory.sell(key, request)
    assert reader.read_model.version(key) == 2
    assert other in reader.read_model.pull()
    assert reader.read_model.version(other) == 1


def test_the_demo_load_reports_each_stage_to_its_end(db_url: str) -> None:
    settings = replace(Settings.from_env(), database_url=db_url)
    seen: list[tuple[str, int, int]] = []
    load_demo(
        settings,
        seed=5,
        trains=80,
        fill=0.3,
        days=1,
        force=True,
        progress=lambda stage, done, total: seen.append((stage, done, total)),
    )
    timetable = [done for stage, done, _ in seen if stage == "timetable"]
    sales = [(done, total) for stage, done, total in seen if stage == "sales"]
    assert timetable == [0, 1, 2, 3]
    assert sales and [d for d, _ in sales] == list(range(1, len(sales) + 1))
    assert sales[-1][0] == sales[-1][1]
