"""The on-board routes over HTTP: staff tokens, the segment manifest, selling on board."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from open12306.http.accounts import accounts_router
from open12306.http.app import _install_error_handlers
from open12306.http.onboard import onboard_router, staff_tokens_from_env
from open12306.travel.domain.onboard import StaffRole, token_line
from tests.integration.orders_support import DAY
from tests.integration.test_onboard_conductor import Onboard, board, build_onboard, paid
from tests.unit.accounts_support import resident_id

CONDUCTOR_TOKEN = "conductor-token-0123456789"
ATTENDANT_TOKEN = "attendant-token-0123456789"
WALK_UP_ID = resident_id("44030419800101456")
BASE = f"/api/v1/runs/G5/{DAY.isoformat()}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[TestClient, Onboard]]:
    # SQLite only: the integration tests run the same services on both databases
    from open12306.database.migrate import upgrade

    url = f"sqlite:///{tmp_path}/onboard.db"
    upgrade(url)
    onboard = build_onboard(url)
    staff_file = tmp_path / "staff.txt"
    staff_file.write_text(
        "# who works the trains\n"
        + token_line("c-1", StaffRole.CONDUCTOR, CONDUCTOR_TOKEN)
        + "\n"
        + token_line("s-1", StaffRole.STAFF, ATTENDANT_TOKEN)
        + "\n",
        encoding="utf-8",
    )
    tokens = staff_tokens_from_env({"OPEN12306_STAFF_TOKENS": str(staff_file)})
    app = FastAPI()
    _install_error_handlers(app)
    app.include_router(accounts_router(lambda: onboard.world.accounts))
    app.include_router(
        onboard_router(lambda: onboard.conductor, lambda: onboard.sales, lambda: tokens)
    )
    with TestClient(app) as client:
        yield client, onboard


def sale_body(account_token: str, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "from": "TIP",
        "to": "AOH",
        "seat_class": "second",
        "passenger": {"name": "王小二", "id_type": "resident_id", "id_number": WALK_UP_ID},
        "payment": {"channel": "credit", "account_token": account_token},
    }
    body.update(changes)
    return body


def rider_token(client: TestClient) -> str:
    credentials = {"username": "rider_one", "password": "rail-pass-2026"}
    assert client.post("/api/v1/accounts", json=credentials).status_code == 201
    return str(client.post("/api/v1/sessions", json=credentials).json()["token"])


def test_staff_tokens_are_required(setup: tuple[TestClient, Onboard]) -> None:
    client, _ = setup
    missing = client.get(f"{BASE}/manifest", params={"stop": "VNP"})
    assert missing.status_code == 401
    rider = rider_token(client)
    as_rider = client.get(f"{BASE}/manifest", params={"stop": "VNP"}, headers=bearer(rider))
    assert as_rider.status_code == 401
    assert as_rider.json()["error"]["reason"] == "not_staff"
    attendant = client.post(
        f"{BASE}/onboard-tickets", json=sale_body(rider), headers=bearer(ATTENDANT_TOKEN)
    )
    assert attendant.status_code == 403
    assert attendant.json()["error"]["reason"] == "not_conductor"


def test_the_manifest_over_http(setup: tuple[TestClient, Onboard]) -> None:
    client, onboard = setup
    _, record = paid(onboard.world, train="G5", to="NKH")
    ticket = record.order.tickets[0]
    answer = client.get(f"{BASE}/manifest", params={"stop": "TIP"}, headers=bearer(ATTENDANT_TOKEN))
    assert answer.status_code == 200
    body = answer.json()
    assert (body["from"], body["to"], body["segment"]) == ("TIP", "NKH", 1)
    assert body["seated"] == [
        {
            "coach": ticket.coach,
            "seat": ticket.seat_label,
            "seat_class": "second",
            "name": "张*丰",
            "ticket": ticket.number,
            "from": "VNP",
            "to": "NKH",
            "boards_here": False,
            "alights_next": True,
            "state": "issued",
        }
    ]
    assert body["empty_count"] == sum(c["count"] for c in body["empty"])
    synced = client.get(f"{BASE}/handheld-manifest", headers=bearer(ATTENDANT_TOKEN)).json()
    assert synced["live"] == [ticket.number] and synced["stations"][0] == "VNP"


UNKNOWN = [
    ("/api/v1/runs/G999/2026-02-12/manifest", {"stop": "VNP"}, 404, "train"),
    ("/api/v1/runs/G5/2026-05-01/manifest", {"stop": "VNP"}, 404, "date"),
    ("/api/v1/runs/G5/2026-13-01/manifest", {"stop": "VNP"}, 400, "date"),
    ("/api/v1/runs/G5/2026-02-12/manifest", {"stop": "XXX"}, 400, "stop"),
    ("/api/v1/runs/G5/2026-02-12/manifest", {"stop": "AOH"}, 422, "stop"),
    ("/api/v1/runs/G5/2026-02-12/manifest", {}, 400, "stop"),
]


def test_unknown_things_are_named(setup: tuple[TestClient, Onboard]) -> None:
    client, _ = setup
    for path, params, status, field in UNKNOWN:
        answer = client.get(path, params=params, headers=bearer(CONDUCTOR_TOKEN))
        assert (answer.status_code, answer.json()["error"]["field"]) == (status, field), path


def test_selling_on_board_over_http(setup: tuple[TestClient, Onboard]) -> None:
    client, onboard = setup
    rider = rider_token(client)
    board(onboard, "TIP")
    headers = bearer(CONDUCTOR_TOKEN) | {"Idempotency-Key": "handheld-7-0001"}
    answer = client.post(f"{BASE}/onboard-tickets", json=sale_body(rider), headers=headers)
    assert answer.status_code == 201, answer.text
    sold = answer.json()
    assert sold["ticket"]["from"] == "TIP" and sold["ticket"]["to"] == "AOH"
    assert sold["fee_fen"] == 200
    assert sold["total_fen"] == sold["fare_fen"] + 200
    assert sold["payment_id"] == f"credit:{sold['order']}"
    stored = onboard.store.get(sold["order"])
    assert stored is not None and stored.order.tickets[0].number == sold["ticket"]["number"]
    again = client.post(f"{BASE}/onboard-tickets", json=sale_body(rider), headers=headers)
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["ticket"]["number"] == sold["ticket"]["number"]
    manifest = client.get(
        f"{BASE}/manifest", params={"stop": "NKH"}, headers=bearer(CONDUCTOR_TOKEN)
    ).json()
    assert [o["ticket"] for o in manifest["seated"]] == [sold["ticket"]["number"]]
    assert manifest["seated"][0]["name"] == "王*二"


def test_stops_are_named_as_search_names_stations(setup: tuple[TestClient, Onboard]) -> None:
    client, onboard = setup
    rider = rider_token(client)
    board(onboard, "TIP")
    headers = bearer(CONDUCTOR_TOKEN)
    for stop in ("天津", "tianjin", "tj"):
        answer = client.get(f"{BASE}/manifest", params={"stop": stop}, headers=headers)
        assert answer.status_code == 200, answer.text
        assert (answer.json()["from"], answer.json()["to"]) == ("TIP", "NKH")
    unknown = client.get(f"{BASE}/manifest", params={"stop": "天京"}, headers=headers)
    assert (unknown.status_code, unknown.json()["error"]["reason"]) == (400, "unknown_station")
    assert "天津" in [s["name"] for s in unknown.json()["error"]["suggestions"]]
    body = sale_body(rider, **{"from": "天津", "to": "上海"})  # a city: the run's stop in it
    sold = client.post(f"{BASE}/onboard-tickets", json=body, headers=headers)
    assert sold.status_code == 201, sold.text
    assert (sold.json()["ticket"]["from"], sold.json()["ticket"]["to"]) == ("TIP", "AOH")


def test_a_sale_with_a_bad_document_or_channel_is_refused(
    setup: tuple[TestClient, Onboard],
) -> None:
    client, onboard = setup
    rider = rider_token(client)
    board(onboard, "TIP")
    wrong = dict(sale_body(rider))
    wrong["passenger"] = {"name": "王小二", "id_type": "resident_id", "id_number": "123"}
    bad_id = client.post(f"{BASE}/onboard-tickets", json=wrong, headers=bearer(CONDUCTOR_TOKEN))
    assert bad_id.status_code == 400 and bad_id.json()["error"]["field"] == "id_number"
    channel = sale_body(rider, payment={"channel": "bitcoin", "code": "x"})
    unknown = client.post(f"{BASE}/onboard-tickets", json=channel, headers=bearer(CONDUCTOR_TOKEN))
    assert unknown.status_code == 400
    assert unknown.json()["error"]["reason"] == "unknown_channel"


def test_the_router_wires_to_the_real_container(demo_settings: Any, tmp_path: Path) -> None:
    from open12306.bootstrap import build
    from open12306.http.onboard import onboard_router_for

    container = build(demo_settings)
    staff_file = tmp_path / "staff.txt"
    staff_file.write_text(token_line("c-9", StaffRole.CONDUCTOR, CONDUCTOR_TOKEN), "utf-8")
    tokens = staff_tokens_from_env({"OPEN12306_STAFF_TOKENS": str(staff_file)})
    app = FastAPI()
    _install_error_handlers(app)
    app.include_router(onboard_router_for(container, staff=tokens))
    train, day = sorted(container.read_model.runs)[0]
    first = container.catalog.train(train).stops[0].station
    with TestClient(app) as client:
        answer = client.get(
            f"/api/v1/runs/{train}/{day.isoformat()}/manifest",
            params={"stop": first},
            headers=bearer(CONDUCTOR_TOKEN),
        )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["from"] == first and body["seated"] == []
    assert body["empty_count"] > 0
