"""What the order API tests share: a world on a fresh SQLite file, the order routes around it,
and a rider signed up with one saved passenger."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from open12306.database.migrate import upgrade
from open12306.http.accounts import accounts_router
from open12306.http.app import _install_error_handlers
from open12306.http.orders import orders_router, payments_router
from tests.integration.orders_support import DAY, World, build_world

PASSWORD = "rail-pass-2026"


def sqlite_world(tmp_path: Path) -> World:
    url = f"sqlite:///{tmp_path}/orders.db"
    upgrade(url)
    return build_world(url)


def orders_app(world: World, *, payments: bool = False) -> FastAPI:
    """Accounts and order routes (payments too when asked) on ``world``, with the app's errors."""
    app = FastAPI()
    _install_error_handlers(app)
    app.include_router(accounts_router(lambda: world.accounts))
    app.include_router(orders_router(lambda: world.orders, lambda: world.accounts))
    if payments:
        app.include_router(payments_router(lambda: world.settlement, lambda: world.accounts))
    return app


def signed_up(
    client: TestClient, username: str, name: str, number: str
) -> tuple[dict[str, str], str]:
    """Register, log in, save one passenger: the auth header and the passenger id."""
    credentials = {"username": username, "password": PASSWORD}
    assert client.post("/api/v1/accounts", json=credentials).status_code == 201
    token = client.post("/api/v1/sessions", json=credentials).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    saved = client.post(
        "/api/v1/passengers",
        json={"name": name, "id_type": "resident_id", "id_number": number},
        headers=headers,
    )
    assert saved.status_code == 201
    return headers, saved.json()["id"]


def order_body(passenger: str, **extra: Any) -> dict[str, Any]:
    return {
        "train": "G1",
        "date": DAY.isoformat(),
        "from": "VNP",
        "to": "AOH",
        "seat_class": "second",
        "passengers": [passenger],
        **extra,
    }


def reason(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["reason"]
