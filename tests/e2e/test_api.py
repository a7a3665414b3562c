"""The HTTP API over a real SQLite demo database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from open12306.bootstrap import Container, build
from open12306.config import Settings
from open12306.http.app import create_app
from open12306.inventory.domain import Request
from open12306.inventory.domain.seats import SeatClass
from open12306.shared.clock import FixedClock


@pytest.fixture(scope="module")
def container(demo_settings: Settings) -> Container:
    return build(demo_settings)


@pytest.fixture(scope="module")
def client(container: Container) -> TestClient:
    return TestClient(create_app(container))


def day(container: Container, offset: int = 1) -> str:
    return (container.window.today() + timedelta(days=offset)).isoformat()


def search(client: TestClient, **params: str) -> Any:
    return client.get("/api/v1/search", params=params)


def test_beijing_to_shanghai_lists_dozens_of_trains(
    client: TestClient, container: Container
) -> None:
    response = search(client, **{"from": "北京", "to": "上海", "date": day(container)})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] >= 30
    row = body["trains"][0]
    assert row["from"]["city"] == "北京" and row["to"]["city"] == "上海"
    classes = {c["class"]: c for c in row["classes"]}
    assert classes, row
    for c in row["classes"]:
        assert c["remaining"] >= 0 and c["price_fen"] > 0
        assert c["display"] in ("有", "无") or c["display"].isdigit()
    departs = [r["departs"] for r in body["trains"]]
    assert departs == sorted(departs)


def test_filters_and_sorting(client: TestClient, container: Container) -> None:
    params = {"from": "北京", "to": "上海", "date": day(container)}
    only_g = search(client, **params, types="G", depart_after="10:00", depart_before="15:00").json()
    assert only_g["trains"]
    for row in only_g["trains"]:
        assert row["type"] == "G" and "10:00" <= row["departs"][11:16] <= "15:00"
    by_duration = search(client, **params, sort="duration").json()["trains"]
    minutes = [r["duration_minutes"] for r in by_duration]
    assert minutes == sorted(minutes)


def test_transfers_are_offered_when_asked(client: TestClient, container: Container) -> None:
    body = search(
        client, **{"from": "上海", "to": "兰州", "date": day(container), "transfers": "1"}
    ).json()
    assert body["transfers"], body["count"]
    first = body["transfers"][0]
    assert first["legs"][0]["arrives"] <= first["legs"][1]["departs"]
    assert first["wait_minutes"] >= 15


@pytest.mark.parametrize(
    ("params", "status", "field", "reason"),
    [
        ({"from": "北京京京", "to": "上海"}, 400, "from", "unknown_station"),
        ({"from": "北京", "to": "北京"}, 400, "to", "same_as_from"),
        ({"from": "北京", "to": "上海", "date": "2026-02-30"}, 400, "date", "malformed_date"),
        ({"from": "北京", "to": "上海", "date": "2000-01-01"}, 400, "date", "in_past"),
        ({"from": "北京", "to": "上海", "date": "2099-01-01"}, 400, "date", "beyond_presale"),
        ({"from": "北京", "to": "上海", "types": "Q"}, 400, "types", "unknown_train_type"),
        ({"to": "上海"}, 400, "from", "missing"),
    ],
)
def test_bad_search_input(
    client: TestClient,
    container: Container,
    params: dict[str, str],
    status: int,
    field: str,
    reason: str,
) -> None:
    params = {"date": day(container), **params}
    response = search(client, **params)
    assert response.status_code == status
    error = response.json()["error"]
    assert (error["field"], error["reason"]) == (field, reason)
    assert error["message"]


def test_unknown_station_gets_suggestions(client: TestClient, container: Container) -> None:
    response = search(client, **{"from": "beijingnn", "to": "上海", "date": day(container)})
    assert response.status_code == 400
    names = [s["name"] for s in response.json()["error"]["suggestions"]]
    assert "北京南" in names


def test_stations_endpoint(client: TestClient) -> None:
    body = client.get("/api/v1/stations", params={"q": "bjn"}).json()
    assert body["stations"][0]["code"] == "VNP"
    assert client.get("/api/v1/stations").status_code == 400
    assert (
        client.get("/api/v1/stations", params={"q": "x", "limit": "lots"}).json()["error"]["field"]
        == "limit"
    )


def test_run_endpoint_and_errors(client: TestClient, container: Container) -> None:
    train = next(iter(container.catalog.trains.values()))
    service = next(d for code, d in sorted(container.read_model.runs) if code == train.code)
    body = client.get(f"/api/v1/runs/{train.code}/{service.isoformat()}").json()
    assert [s["code"] for s in body["stops"]] == [s.station for s in train.stops]
    assert len(body["segments"]) == train.segments
    assert client.get(f"/api/v1/runs/NOPE1/{service}").json()["error"]["reason"] == "unknown_train"
    assert client.get(f"/api/v1/runs/{train.code}/2026-99-01").status_code == 400
    assert client.get(f"/api/v1/runs/{train.code}/1999-01-01").json()["error"]["reason"] == "no_run"
    assert client.get("/api/v1/nowhere").status_code == 404


def test_search_counts_follow_allocation_and_release(container: Container) -> None:
    # Without a staleness bound every change shows at once (the bound: test_search_precomputed).
    client = TestClient(create_app(container, search_max_age=0.0))
    params = {"from": "北京", "to": "上海", "date": day(container, 2)}
    before = search(client, **params).json()["trains"][0]
    key = (before["train"], date.fromisoformat(before["service_date"]))
    seated = next(c for c in before["classes"] if c["class"] != "standing")
    cls = SeatClass(seated["class"])
    request = Request(cls, before["from_stop"], before["to_stop"], party=2, together=False)
    allocation = container.inventory.sell(key, request, 0)
    after = search(client, **params).json()["trains"][0]
    remaining = {c["class"]: c["remaining"] for c in after["classes"]}
    assert remaining[cls.value] == seated["remaining"] - 2
    container.inventory.release(key, allocation)
    again = search(client, **params).json()["trains"][0]
    assert {c["class"]: c["remaining"] for c in again["classes"]}[cls.value] == seated["remaining"]


def test_docs_are_served_without_internet(client: TestClient) -> None:
    page = client.get("/docs").text
    assert "/static/swagger/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    assert client.get("/openapi.json").json()["paths"]["/api/v1/search"]


def test_cached_answers_follow_quota_release(demo_settings: Settings) -> None:
    from datetime import datetime, time
    from urllib.parse import urlencode
    from zoneinfo import ZoneInfo

    from open12306.http.app import SearchCache
    from open12306.shared.clock import FixedClock
    from tests.operator_clock import operator_today

    zone = ZoneInfo(demo_settings.timezone)
    # 00:01 of the operator's day the demo's runs were made for (by the system clock)
    clock = FixedClock(datetime.combine(operator_today(demo_settings), time(0, 1), zone))
    container = build(demo_settings, clock=clock, materialise=False)
    cache = SearchCache(container)
    # Boarding two days ahead: the 48-hour quota releases fall later on this same day, so the
    # cached answer is not dropped for a change of date.
    boarding = (clock.now() + timedelta(days=2)).date().isoformat()
    query = urlencode({"from": "北京", "to": "天津", "date": boarding}).encode()

    def second_class(body: bytes) -> dict[str, int]:
        import json

        rows = json.loads(body)["trains"]
        return {
            r["train"]: c["remaining"] for r in rows for c in r["classes"] if c["class"] == "second"
        }

    held = second_class(cache.answer(query)[1])
    assert held, "no trains Beijing -> Tianjin"
    clock.advance(timedelta(hours=23))
    released = second_class(cache.answer(query)[1])
    grew = [train for train in held if released[train] > held[train]]
    assert grew, "quota seats were not released into the cached answer"


LATE_UTC = datetime(2027, 3, 1, 23, 30, tzinfo=UTC)  # 07:30 on 2 March in Beijing


@pytest.mark.parametrize(
    ("zone", "days", "expected"),
    [
        ("Asia/Shanghai", 15, ("2027-03-02T07:30:00+08:00", "2027-03-02", "2027-03-16")),
        ("Asia/Tokyo", 5, ("2027-03-02T08:30:00+09:00", "2027-03-02", "2027-03-06")),
        ("Europe/London", 3, ("2027-03-01T23:30:00Z", "2027-03-01", "2027-03-03")),
    ],
)
def test_the_calendar_is_the_operators_day_and_sale_window(
    demo_settings: Settings, zone: str, days: int, expected: tuple[str, str, str]
) -> None:
    settings = replace(demo_settings, timezone=zone, presale_days=days)
    container = build(settings, clock=FixedClock(LATE_UTC), materialise=False)
    client = TestClient(create_app(container))
    answer = client.get("/api/v1/calendar")
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    now, today, last = expected
    assert answer.json() == {
        "timezone": zone,
        "now": now,
        "today": today,
        "first_date": today,
        "last_date": last,
        "presale_days": days,
    }
    day_after = {"from": "北京", "to": "上海", "date": last}
    assert search(client, **day_after).status_code == 200  # the last date is on sale
    beyond = date.fromisoformat(last) + timedelta(days=1)
    refused = search(client, **{**day_after, "date": beyond.isoformat()})
    assert refused.json()["error"]["reason"] == "beyond_presale"
    before = date.fromisoformat(today) - timedelta(days=1)
    refused = search(client, **{**day_after, "date": before.isoformat()})
    assert refused.json()["error"]["reason"] == "in_past"


def test_the_calendar_is_in_the_api_schema_with_its_model(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    ok = schema["paths"]["/api/v1/calendar"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SaleCalendar"
    }
    model = schema["components"]["schemas"]["SaleCalendar"]
    assert set(model["required"]) == {
        "timezone", "now", "today", "first_date", "last_date", "presale_days",
    }  # fmt: skip
    assert model["properties"]["today"]["format"] == "date"
