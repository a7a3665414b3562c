"""Orders over HTTP on a real migrated SQLite database: queue, wait, list, owner-only."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from open12306.catalog.domain.checkin import checkin_gate
from open12306.sales.services.allocator import AllocatorLoop
from tests.e2e.orders_support import order_body, orders_app, reason, signed_up, sqlite_world
from tests.integration.orders_support import ADULT_ID, OTHER_ID, World


@pytest.fixture
def world(tmp_path: Path) -> World:
    return sqlite_world(tmp_path)


@pytest.fixture
def client(world: World) -> TestClient:
    return TestClient(orders_app(world, payments=True))


def test_submit_wait_and_list(client: TestClient, world: World) -> None:
    headers, passenger = signed_up(client, "zhang_san", "张三", ADULT_ID)
    key = {**headers, "Idempotency-Key": "abc-1"}
    first = client.post("/api/v1/orders", json=order_body(passenger), headers=key)
    assert first.status_code == 202 and first.json()["state"] == "queued"
    again = client.post("/api/v1/orders", json=order_body(passenger), headers=key)
    assert again.json()["number"] == first.json()["number"]
    number = first.json()["number"]
    loop = AllocatorLoop(world.allocator, interval=0.05)
    loop.start()
    try:
        held = client.get(f"/api/v1/orders/{number}?wait=10", headers=headers).json()
    finally:
        loop.stop()
    assert held["state"] == "held"
    assert held["passengers"][0]["coach"] >= 1 and held["passengers"][0]["name"] == "张*"
    assert held["amount_fen"] == held["passengers"][0]["fare_fen"] > 0
    listed = client.get("/api/v1/orders", headers=headers).json()["orders"]
    assert [o["number"] for o in listed] == [number]
    # A client that last saw "queued" gets the decision at once, not after the whole wait.
    started = time.monotonic()
    seen = client.get(f"/api/v1/orders/{number}?wait=10&state=queued", headers=headers).json()
    assert seen["state"] == "held" and time.monotonic() - started < 5
    bad = client.get(f"/api/v1/orders/{number}?wait=1&state=sleepy", headers=headers)
    assert reason(bad) == (400, "invalid")


def test_other_accounts_see_404_and_errors_have_reasons(client: TestClient) -> None:
    headers, passenger = signed_up(client, "zhang_san", "张三", ADULT_ID)
    other, other_passenger = signed_up(client, "li_si_001", "李四", OTHER_ID)
    number = client.post("/api/v1/orders", json=order_body(passenger), headers=headers).json()[
        "number"
    ]
    assert reason(client.get(f"/api/v1/orders/{number}", headers=other)) == (404, "not_found")
    assert client.get("/api/v1/orders", headers=other).json()["orders"] == []
    assert reason(client.post("/api/v1/orders", json=order_body(passenger), headers=other)) == (
        404,
        "not_found",
    )
    assert reason(client.post("/api/v1/orders", json=order_body(passenger), headers=headers)) == (
        400,
        "too_many_unpaid",
    )
    bad_class = order_body(other_passenger, seat_class="deluxe")
    assert reason(client.post("/api/v1/orders", json=bad_class, headers=other)) == (400, "invalid")
    late = order_body(other_passenger, date="2026-03-20")
    assert reason(client.post("/api/v1/orders", json=late, headers=other)) == (404, "unknown_run")
    assert reason(client.get("/api/v1/orders")) == (401, "unauthenticated")


def test_the_app_serves_orders_and_runs_the_allocator(demo_settings: Any) -> None:
    from open12306.bootstrap import build
    from open12306.http.app import create_app

    container = build(demo_settings)
    with TestClient(create_app(container)) as app_client:
        assert reason(app_client.get("/api/v1/orders")) == (401, "unauthenticated")
        loop = container.allocator_loop
        assert loop is not None and loop._thread is not None and loop._thread.is_alive()
    assert loop._thread is None


def test_pay_with_credit_then_refund_a_ticket(client: TestClient, world: World) -> None:
    headers, passenger = signed_up(client, "zhang_san", "张三", ADULT_ID)
    number = client.post("/api/v1/orders", json=order_body(passenger), headers=headers).json()[
        "number"
    ]
    early = client.post(
        f"/api/v1/orders/{number}/payments", json={"channel": "credit"}, headers=headers
    )
    assert reason(early) == (409, "not_payable")  # still queued
    world.allocator.run_once()
    paid = client.post(
        f"/api/v1/orders/{number}/payments", json={"channel": "credit"}, headers=headers
    )
    assert paid.status_code == 201 and paid.json()["state"] == "paid"
    order = client.get(f"/api/v1/orders/{number}", headers=headers).json()
    assert order["state"] == "paid"
    assert order["tickets"][0]["gate"] == checkin_gate(order["from"], order["train"])
    ticket = order["tickets"][0]["number"]
    refund_url = f"/api/v1/orders/{number}/tickets/{ticket}/refund"
    refunded = client.post(refund_url, headers=headers).json()
    assert refunded["fee_fen"] + refunded["refund_fen"] == refunded["fare_fen"]
    assert reason(client.post(refund_url, headers=headers)) == (400, "bad_state")
    after = client.get(f"/api/v1/orders/{number}", headers=headers).json()
    assert after["tickets"][0]["state"] == "refunded"


def test_embedded_app_mounts_the_sandbox_and_rejects_forged_notifications(
    demo_settings: Any,
) -> None:
    from open12306.bootstrap import build
    from open12306.http.app import create_app
    from open12306.payments.adapters.sandbox.config import sandbox_admin_token

    container = build(demo_settings)
    with TestClient(create_app(container)) as app_client:
        assert container.settlement is not None
        assert sorted(container.settlement.providers) == ["alipay", "wechatpay"]
        forged = app_client.post(
            "/api/v1/payments/notify/alipay",
            content=b"out_trade_no=E123456782&trade_status=TRADE_SUCCESS&sign=AAAA",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert forged.content != b"success"
        assert app_client.get("/paysandbox/sandbox/keys").status_code == 401
        token = sandbox_admin_token(demo_settings)
        admin = {"Authorization": f"Bearer {token}"}
        assert app_client.get("/paysandbox/sandbox/keys", headers=admin).status_code == 200


STATION_FORMS = [
    ("北京南", "上海虹桥"),  # station names, as search takes them
    ("北京南站", "上海虹桥站"),
    ("VNP", "AOH"),  # telecodes
    ("vnp", "aoh"),
    ("beijingnan", "shanghaihongqiao"),  # pinyin
    ("bjn", "shhq"),  # pinyin initials
    ("北京", "上海"),  # cities: the run's stop in each
]


@pytest.mark.parametrize(("origin", "destination"), STATION_FORMS)
def test_an_order_names_its_stations_in_every_form_search_takes(
    client: TestClient, origin: str, destination: str
) -> None:
    headers, passenger = signed_up(client, "zhang_san", "张三", ADULT_ID)
    body = order_body(passenger, **{"from": origin, "to": destination})
    answer = client.post("/api/v1/orders", json=body, headers=headers)
    assert answer.status_code == 202, answer.text
    assert (answer.json()["from"], answer.json()["to"]) == ("VNP", "AOH")


def test_an_order_with_stations_it_cannot_use_is_refused_as_search_refuses(
    client: TestClient,
) -> None:
    headers, passenger = signed_up(client, "zhang_san", "张三", ADULT_ID)
    unknown = client.post(
        "/api/v1/orders", json=order_body(passenger, **{"from": "北京京京"}), headers=headers
    )
    assert reason(unknown) == (400, "unknown_station")
    error = unknown.json()["error"]
    assert error["field"] == "from" and "北京南" in [s["name"] for s in error["suggestions"]]
    off_route = order_body(passenger, train="G3", to="天津")  # G3 runs VNP → AOH non-stop
    refused = client.post("/api/v1/orders", json=off_route, headers=headers)
    assert reason(refused) == (400, "not_on_route")
    assert refused.json()["error"]["field"] == "to"
    backwards = order_body(passenger, **{"from": "上海", "to": "北京南"})
    assert reason(client.post("/api/v1/orders", json=backwards, headers=headers)) == (
        400,
        "bad_range",
    )
    assert client.get("/api/v1/orders", headers=headers).json()["orders"] == []
