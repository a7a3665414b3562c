"""The framework-free order submission answers exactly as the route: what it serves itself
(good orders, and orders the sale rules refuse) and what it hands over (everything else)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from open12306.http.orders_fast import OrderFastPath
from tests.e2e.orders_support import order_body, orders_app, signed_up, sqlite_world
from tests.integration.orders_support import ADULT_ID, OTHER_ID, World


@pytest.fixture
def world(tmp_path: Path) -> World:
    return sqlite_world(tmp_path)


@pytest.fixture
def paths(world: World) -> tuple[TestClient, TestClient, OrderFastPath]:
    routes = orders_app(world)
    fast = OrderFastPath(routes, lambda: world.orders, lambda: world.accounts)
    return TestClient(routes), TestClient(fast), fast


def _post(client: TestClient, body: Any, headers: dict[str, str], query: str = "") -> Any:
    return client.post(f"/api/v1/orders{query}", json=body, headers=headers)


def test_a_good_order_is_served_without_the_framework_as_the_route_would(
    paths: tuple[TestClient, TestClient, OrderFastPath],
) -> None:
    plain, fast, path = paths
    headers, passenger = signed_up(plain, "zhang_san", "张三", ADULT_ID)
    other_headers, other = signed_up(plain, "li_si_01", "李四", OTHER_ID)
    by_route = _post(plain, order_body(other), other_headers)
    served = _post(fast, order_body(passenger), {**headers, "Idempotency-Key": "k-1"})
    assert (path.served, path.handed_over) == (1, 0)
    assert served.status_code == by_route.status_code == 202
    assert served.headers["content-type"] == "application/json"
    assert set(served.json()) == set(by_route.json())
    assert served.json()["state"] == "queued" and served.json()["queue"]["position"] == 2
    again = _post(fast, order_body(passenger), {**headers, "Idempotency-Key": "k-1"})
    assert again.json()["number"] == served.json()["number"]


BAD: list[tuple[str, Any, dict[str, str], str]] = [
    ("no token", None, {"Authorization": ""}, ""),
    ("unknown token", None, {"Authorization": "Bearer nope"}, ""),
    ("extra field", {"coach": 3}, {}, ""),
    ("unknown class", {"seat_class": "luxury"}, {}, ""),
    ("no passengers", {"passengers": []}, {}, ""),
    ("bad berth", {"berths": ["hammock"]}, {}, ""),
    ("bad date", {"date": "12/02/2026"}, {}, ""),
    ("wait too long", {}, {}, "?wait=31"),
    ("wait not a number", {}, {}, "?wait=soon"),
    ("key too long", {}, {"Idempotency-Key": "k" * 129}, ""),
]


@pytest.mark.parametrize(("case", "change", "extra_headers", "query"), BAD, ids=[b[0] for b in BAD])
def test_anything_else_is_answered_by_the_route(
    paths: tuple[TestClient, TestClient, OrderFastPath],
    case: str,
    change: Any,
    extra_headers: dict[str, str],
    query: str,
) -> None:
    plain, fast, path = paths
    headers, passenger = signed_up(plain, "zhang_san", "张三", ADULT_ID)
    body = {**order_body(passenger), **(change or {})}
    sent = {**headers, **extra_headers}
    if not sent["Authorization"]:
        del sent["Authorization"]
    expected = _post(plain, body, sent, query)
    answered = _post(fast, body, sent, query)
    assert expected.status_code in (400, 401)
    assert (answered.status_code, answered.json()) == (expected.status_code, expected.json())
    assert (path.served, path.handed_over) == (0, 1)


def test_a_body_that_is_not_json_is_the_routes(
    paths: tuple[TestClient, TestClient, OrderFastPath],
) -> None:
    plain, fast, path = paths
    headers, _ = signed_up(plain, "zhang_san", "张三", ADULT_ID)
    sent = {**headers, "Content-Type": "text/plain"}
    expected = plain.post("/api/v1/orders", content=b"train=G1", headers=sent)
    answered = fast.post("/api/v1/orders", content=b"train=G1", headers=sent)
    assert (answered.status_code, answered.json()) == (expected.status_code, expected.json())
    assert path.handed_over == 1


def test_refusals_of_the_sale_rules_are_served_with_the_routes_body_and_headers(
    paths: tuple[TestClient, TestClient, OrderFastPath], world: World
) -> None:
    plain, fast, path = paths
    headers, passenger = signed_up(plain, "zhang_san", "张三", ADULT_ID)
    for change in ({"train": "G999"}, {"from": "Nowhereville"}):
        body = {**order_body(passenger), **change}
        expected, answered = _post(plain, body, headers), _post(fast, body, headers)
        assert expected.status_code in (400, 404)
        assert (answered.status_code, answered.json()) == (expected.status_code, expected.json())
    assert (path.served, path.handed_over) == (2, 0)
    world.orders.intake.background, world.orders.intake.max_pending = True, 0
    busy = _post(fast, order_body(passenger), headers)
    assert busy.status_code == 429 and busy.json()["error"]["reason"] == "busy"
    assert int(busy.headers["retry-after"]) >= 1
