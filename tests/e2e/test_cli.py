"""The `open12306` command end to end on a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from open12306.cli.main import app
from tests.operator_clock import operator_today

NYC = Path(__file__).parents[1] / "data" / "gtfs" / "nyc_subway_1_2.zip"
runner = CliRunner()
pytestmark = pytest.mark.operator_day


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli')}/cli.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPEN12306_DATABASE_URL", url)
        assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
        loaded = runner.invoke(app, ["demo", "load", "--trains", "1000", "--fill", "0"])
        assert loaded.exit_code == 0, loaded.output
    return url


def invoke(database: str, *args: str, timezone: str = "Asia/Shanghai") -> tuple[int, str, str]:
    env = {"OPEN12306_DATABASE_URL": database, "OPEN12306_TIMEZONE": timezone}
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def tomorrow() -> str:
    """The operator's tomorrow: the command's own clock is the system one."""
    return operator_today(offset=1).isoformat()


def test_search_json_lists_dozens_of_trains_with_counts_and_prices(database: str) -> None:
    code, out, _ = invoke(database, "search", "北京", "上海", tomorrow(), "--json")
    assert code == 0
    answer = json.loads(out)
    assert answer["count"] >= 30
    for row in answer["trains"]:
        assert row["classes"] and all(c["price_fen"] > 0 for c in row["classes"])


def test_search_table_output(database: str) -> None:
    code, out, _ = invoke(database, "search", "广州", "深圳", tomorrow(), "--types", "C,G")
    assert code == 0 and "trains on" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("search", "北京京京", "上海", "TOMORROW"), "from: unknown station"),
        (("search", "北京", "上海", "2026/12/01"), "date: expected a date"),
        (("search", "北京", "上海", "2099-01-01"), "date: "),
        (("search", "上海", "上海", "TOMORROW"), "to: the destination is the origin"),
        (("stations", "qqqqqzzz"), "query: unknown station"),
        (("run", "NOPE9", "TOMORROW"), "train: no train numbered"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    database: str, args: tuple[str, ...], expected: str
) -> None:
    args = tuple(tomorrow() if a == "TOMORROW" else a for a in args)
    code, out, err = invoke(database, *args)
    assert code == 2
    assert err.startswith("error: ") and expected in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in out + err


def test_stations_json(database: str) -> None:
    code, out, _ = invoke(database, "stations", "北京", "--json")
    names = [s["name"] for s in json.loads(out)]
    assert code == 0 and {"北京", "北京南", "北京西"} <= set(names)


def test_gtfs_feed_of_another_zone_is_refused(database: str) -> None:
    # The NYC feed's times are New York's; the demo operator's zone is Asia/Shanghai.
    code, out, err = invoke(database, "timetable", "import-gtfs", str(NYC))
    assert code == 2
    assert err.startswith("error: agency_timezone: agency.txt line 2")
    assert "OPEN12306_TIMEZONE=America/New_York" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in out + err


def test_gtfs_feed_imports_in_its_own_zone(tmp_path: Path) -> None:
    # Searches on the feed's own dates (December 2024) are in tests/integration, with a clock.
    url = f"sqlite:///{tmp_path}/nyc.db"
    assert invoke(url, "db", "upgrade")[0] == 0
    code, out, err = invoke(url, "timetable", "import-gtfs", str(NYC), timezone="America/New_York")
    assert code == 0, err
    assert out.startswith("imported 1990 trips as trains")


def test_export_then_import_round_trips(database: str, tmp_path: Path) -> None:
    feed = tmp_path / "feed.zip"
    code, _, err = invoke(database, "timetable", "export-gtfs", str(feed))
    assert code == 0, err
    other = f"sqlite:///{tmp_path}/other.db"
    assert invoke(other, "db", "upgrade")[0] == 0
    code, _, err = invoke(other, "timetable", "import-gtfs", str(feed))
    assert code == 0, err
    a = json.loads(invoke(database, "search", "北京", "上海", tomorrow(), "--json")[1])
    b = json.loads(invoke(other, "search", "北京", "上海", tomorrow(), "--json")[1])
    assert [(r["train"], r["departs"], r["arrives"], r["km"]) for r in a["trains"]] == [
        (r["train"], r["departs"], r["arrives"], r["km"]) for r in b["trains"]
    ]


def test_malformed_gtfs_feed_is_a_clear_error(database: str, tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "stops.txt").write_text("stop_id,stop_name,stop_lat,stop_lon\nA,Alpha,1,1\n")
    code, _, err = invoke(database, "timetable", "import-gtfs", str(folder))
    assert code == 2 and "missing" in err.lower() and ".txt" in err


def test_simulated_sales_show_up_in_search(database: str) -> None:
    code, out, err = invoke(
        database,
        "simulate-sales",
        "--fill",
        "0.9",
        "--days",
        "1",
        "--seed",
        "3",
        "--types",
        "C",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["tickets"] > 0
    today = operator_today().isoformat()
    answer = json.loads(invoke(database, "search", "广州", "深圳", today, "--json")[1])
    shown = {c["display"] for row in answer["trains"] for c in row["classes"]}
    assert shown - {"有"}, shown


def test_an_exported_feed_starts_on_the_operators_day(database: str, tmp_path: Path) -> None:
    import csv
    import io
    import zipfile

    feed = tmp_path / "feed.zip"
    code, _, err = invoke(database, "timetable", "export-gtfs", str(feed))
    assert code == 0, err
    with zipfile.ZipFile(feed) as archive:
        calendar = list(csv.DictReader(io.StringIO(archive.read("calendar.txt").decode())))
    assert {row["start_date"] for row in calendar} == {operator_today().strftime("%Y%m%d")}
