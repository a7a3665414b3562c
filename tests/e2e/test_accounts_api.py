"""Accounts, sessions and passengers over HTTP, on a real migrated SQLite database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from open12306.accounts.adapters.accounts_repo import SqlAccountsStore
from open12306.accounts.adapters.document_keyer import HmacDocumentKeyer
from open12306.accounts.adapters.passwords import ScryptHasher
from open12306.accounts.services.accounts import AccountService
from open12306.database.migrate import upgrade
from open12306.http.accounts import accounts_router
from open12306.http.app import _install_error_handlers
from open12306.shared.clock import FixedClock
from tests.conftest import TEST_CIPHER
from tests.unit.accounts_support import ADULT_ID, CHILD_ID

PASSWORD = "rail-pass-2026"


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    url = f"sqlite:///{tmp_path}/accounts.db"
    upgrade(url)
    service = AccountService(
        SqlAccountsStore.from_url(url, TEST_CIPHER),
        ScryptHasher(log_n=4),  # cheap parameters keep the test quick
        HmacDocumentKeyer(b"s" * 32),
        FixedClock(datetime(2026, 2, 10, 1, 0, tzinfo=UTC)),
    )
    app = FastAPI()
    _install_error_handlers(app)
    app.include_router(accounts_router(lambda: service))
    return TestClient(app)


def signed_up(client: TestClient, username: str) -> dict[str, str]:
    """Register and log in; the Authorization header of the new session."""
    assert (
        client.post(
            "/api/v1/accounts", json={"username": username, "password": PASSWORD}
        ).status_code
        == 201
    )
    response = client.post("/api/v1/sessions", json={"username": username, "password": PASSWORD})
    assert response.status_code == 201
    return {"Authorization": f"Bearer {response.json()['token']}"}


def error(response: Any) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["field"], body["reason"]


ZHANG = {"name": "张三", "id_type": "resident_id", "id_number": ADULT_ID}


def test_register_log_in_and_see_yourself(client: TestClient) -> None:
    created = client.post("/api/v1/accounts", json={"username": "Zhang_San", "password": PASSWORD})
    assert created.status_code == 201
    assert created.json()["username"] == "zhang_san"
    assert "password" not in created.text and "scrypt" not in created.text
    login = client.post("/api/v1/sessions", json={"username": "zhang_san", "password": PASSWORD})
    assert login.status_code == 201
    body = login.json()
    assert body["token_type"] == "Bearer" and len(body["token"]) >= 40
    assert body["expires_at"] == "2026-02-17T01:00:00+00:00"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.json()["id"] == created.json()["id"]


def test_registration_errors_name_the_field(client: TestClient) -> None:
    short = client.post("/api/v1/accounts", json={"username": "zhang_san", "password": "a1"})
    assert error(short) == (400, "password", "too_short")
    missing = client.post("/api/v1/accounts", json={"username": "zhang_san"})
    assert missing.status_code == 400 and missing.json()["error"]["field"].endswith("password")
    signed_up(client, "zhang_san")
    taken = client.post("/api/v1/accounts", json={"username": "ZHANG_SAN", "password": PASSWORD})
    assert error(taken) == (409, "username", "taken")


def test_requests_without_a_live_token_are_unauthenticated(client: TestClient) -> None:
    headers = signed_up(client, "zhang_san")
    for sent in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        assert error(client.get("/api/v1/me", headers=sent)) == (
            401,
            "authorization",
            "unauthenticated",
        )
        assert client.get("/api/v1/passengers", headers=sent).status_code == 401
    assert client.delete("/api/v1/sessions/current", headers=headers).status_code == 204
    assert error(client.get("/api/v1/me", headers=headers))[2] == "unauthenticated"


def test_passengers_are_saved_listed_masked_and_deleted(client: TestClient) -> None:
    headers = signed_up(client, "zhang_san")
    saved = client.post("/api/v1/passengers", json=ZHANG, headers=headers)
    assert saved.status_code == 201
    view = saved.json()
    assert view["id_number"] == ADULT_ID[:3] + "*" * 11 + ADULT_ID[-4:]
    assert ADULT_ID not in saved.text and "1990" not in saved.text
    assert (view["sex"], view["passenger_type"]) == ("male", "adult")
    child = {"name": "张小妹", "id_type": "resident_id", "id_number": CHILD_ID, "student": True}
    assert (
        client.post("/api/v1/passengers", json=child, headers=headers).json()["passenger_type"]
        == "child"
    )
    listed = client.get("/api/v1/passengers", headers=headers).json()["passengers"]
    assert [p["name"] for p in listed] == ["张三", "张小妹"]
    one = client.get(f"/api/v1/passengers/{view['id']}", headers=headers)
    assert one.status_code == 200 and one.json() == view
    assert client.delete(f"/api/v1/passengers/{view['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/passengers/{view['id']}", headers=headers).status_code == 404


def test_another_account_gets_404_for_a_passenger(client: TestClient) -> None:
    owner = signed_up(client, "zhang_san")
    other = signed_up(client, "li_si_wu")
    pid = client.post("/api/v1/passengers", json=ZHANG, headers=owner).json()["id"]
    for method in ("GET", "DELETE"):
        response = client.request(method, f"/api/v1/passengers/{pid}", headers=other)
        assert error(response) == (404, "passenger_id", "not_found")
    assert client.get("/api/v1/passengers", headers=other).json() == {"passengers": []}
    assert client.get(f"/api/v1/passengers/{pid}", headers=owner).status_code == 200


def test_bad_id_number_is_400_naming_id_number(client: TestClient) -> None:
    headers = signed_up(client, "zhang_san")
    wrong_check = ADULT_ID[:-1] + ("1" if ADULT_ID[-1] != "1" else "2")
    response = client.post(
        "/api/v1/passengers", json={**ZHANG, "id_number": wrong_check}, headers=headers
    )
    assert error(response) == (400, "id_number", "bad_checksum")
    bad_type = client.post("/api/v1/passengers", json={**ZHANG, "id_type": "visa"}, headers=headers)
    assert error(bad_type) == (400, "id_type", "unknown")
    assert client.get("/api/v1/passengers", headers=headers).json() == {"passengers": []}


def test_duplicate_passenger_is_409(client: TestClient) -> None:
    headers = signed_up(client, "zhang_san")
    assert client.post("/api/v1/passengers", json=ZHANG, headers=headers).status_code == 201
    again = {**ZHANG, "id_number": " " + ADULT_ID.lower() + " "}
    response = client.post("/api/v1/passengers", json=again, headers=headers)
    assert error(response) == (409, "id_number", "duplicate_passenger")


def test_repeated_wrong_passwords_are_rate_limited(client: TestClient) -> None:
    signed_up(client, "zhang_san")
    for attempt in range(5):
        wrong = {"username": "zhang_san", "password": f"wrong-{attempt}-pass"}
        response = client.post("/api/v1/sessions", json=wrong)
        assert error(response) == (401, "password", "bad_credentials")
        assert response.headers["www-authenticate"] == "Bearer"
    right = {"username": "zhang_san", "password": PASSWORD}
    limited = client.post("/api/v1/sessions", json=right)
    assert error(limited) == (429, "username", "rate_limited")
    retry = int(limited.headers["retry-after"])
    assert 0 < retry <= 1800 and limited.json()["error"]["retry_after"] == retry
