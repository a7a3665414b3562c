"""``open12306 timetable export-gtfs`` dates its feed by the operator's day, not the machine's."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from open12306.bootstrap.tasks import export_feed
from open12306.config import Settings
from open12306.shared.clock import FixedClock


def _feed(db_url: str, path: Path, at: datetime) -> dict[str, list[dict[str, str]]]:
    settings = replace(Settings(), database_url=db_url)
    export_feed(settings, path, FixedClock(at))
    with zipfile.ZipFile(path) as archive:
        return {
            name: list(csv.DictReader(io.StringIO(archive.read(f"{name}.txt").decode())))
            for name in ("agency", "feed_info")
        }


@pytest.mark.parametrize(
    ("at", "first"),
    [
        (datetime(2026, 12, 3, 15, 59, tzinfo=UTC), "20261203"),  # 23:59 in Shanghai
        (datetime(2026, 12, 3, 16, 0, tzinfo=UTC), "20261204"),  # midnight in Shanghai
        (datetime(2026, 12, 3, 23, 50, tzinfo=UTC), "20261204"),
    ],
)
def test_the_feed_starts_on_the_operators_day(
    db_url: str, tmp_path: Path, at: datetime, first: str
) -> None:
    feed = _feed(db_url, tmp_path / "feed.zip", at)
    # an empty store: the feed's own dates are its service window
    assert {row["feed_start_date"] for row in feed["feed_info"]} == {first}
    last = datetime.strptime(first, "%Y%m%d") + timedelta(days=364)
    assert {row["feed_end_date"] for row in feed["feed_info"]} == {last.strftime("%Y%m%d")}
    assert {row["agency_timezone"] for row in feed["agency"]} <= {"Asia/Shanghai"}
