"""`open12306 orders list|show|refund` on a demo database with real orders (no login)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from open12306.bootstrap import Container, build
from open12306.cli import orders as cli_orders
from open12306.cli.main import app
from open12306.config import Settings
from open12306.http.app import create_app
from tests.unit.accounts_support import resident_id

PASSWORD = "rail-pass-2026"


def invoke(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def ok_json(*args: object) -> Any:
    code, out, err = invoke(*args, "--json")
    assert code == 0, out + err
    return json.loads(out)


def one_line_error(*args: object) -> str:
    code, out, err = invoke(*args)
    assert code == 2, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def _order(
    client: TestClient, today: date, username: str, serial: int, offset: int, pay: bool
) -> str:
    credentials = {"username": username, "password": PASSWORD}
    assert client.post("/api/v1/accounts", json=credentials).status_code == 201
    token = client.post("/api/v1/sessions", json=credentials).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    passenger = client.post(
        "/api/v1/passengers",
        json={
            "name": "赵六",
            "id_type": "resident_id",
            "id_number": resident_id(f"31010119920202{serial:03d}"),
        },
        headers=headers,
    ).json()["id"]
    day = (today + timedelta(days=offset)).isoformat()
    row = client.get("/api/v1/search", params={"from": "北京", "to": "上海", "date": day}).json()[
        "trains"
    ][0]
    body = {
        "train": row["train"],
        "date": day,
        "from": row["from"]["code"],
        "to": row["to"]["code"],
        "seat_class": "second",
        "passengers": [passenger],
    }
    number: str = client.post("/api/v1/orders", json=body, headers=headers).json()["number"]
    held = client.get(f"/api/v1/orders/{number}?wait=20", headers=headers).json()
    assert held["state"] == "held", held
    if pay:
        paid = client.post(
            f"/api/v1/orders/{number}/payments", json={"channel": "credit"}, headers=headers
        )
        assert paid.json()["state"] == "paid", paid.text
    return number


@pytest.fixture(scope="module")
def container(demo_settings: Settings) -> Container:
    return build(demo_settings)


@pytest.fixture(scope="module")
def orders(container: Container) -> dict[str, str]:
    today = container.window.today()
    with TestClient(create_app(container)) as client:
        return {
            "paid": _order(client, today, "cli_paid_1", 201, offset=9, pay=True),
            "held": _order(client, today, "cli_held_1", 202, offset=10, pay=False),
        }


@pytest.fixture(autouse=True)
def database(monkeypatch: pytest.MonkeyPatch, demo_settings: Settings) -> None:
    """The commands build their container from OPEN12306_DATABASE_URL."""
    monkeypatch.setenv("OPEN12306_DATABASE_URL", demo_settings.database_url)


@pytest.fixture
def built_once(monkeypatch: pytest.MonkeyPatch, container: Container) -> None:
    """Reuse one container (a build per command is slow); the list test builds its own."""
    monkeypatch.setattr(cli_orders, "_container", lambda: container)


def test_list_filters_by_account_and_state(orders: dict[str, str]) -> None:
    mine = ok_json("orders", "list", "--account", "CLI_Paid_1")["orders"]
    assert [o["number"] for o in mine] == [orders["paid"]]
    assert mine[0]["account"] == "cli_paid_1" and mine[0]["state"] == "paid"
    held = ok_json("orders", "list", "--state", "held")["orders"]
    assert orders["held"] in [o["number"] for o in held]
    assert orders["paid"] not in [o["number"] for o in held]
    assert {o["state"] for o in held} == {"held"}
    code, out, _ = invoke("orders", "list", "--account", "cli_held_1")
    assert code == 0 and orders["held"] in out and "held" in out


@pytest.mark.usefixtures("built_once")
def test_show_has_tickets_and_the_ledger(orders: dict[str, str]) -> None:
    shown = ok_json("orders", "show", orders["paid"])
    assert shown["state"] == "paid" and shown["passengers"][0]["name"] == "赵*"
    (ticket,) = shown["tickets"]
    assert ticket["state"] == "issued"
    assert [(e["kind"], e["amount_fen"]) for e in shown["ledger"]] == [
        ("payment", shown["amount_fen"])
    ]
    code, out, _ = invoke("orders", "show", orders["paid"])
    assert code == 0 and f"ticket {ticket['number']} issued" in out


@pytest.mark.usefixtures("built_once")
def test_refund_a_ticket_then_not_twice(orders: dict[str, str]) -> None:
    number = orders["paid"]
    ticket = ok_json("orders", "show", number)["tickets"][0]["number"]
    done = ok_json("orders", "refund", number, ticket)
    assert done["fee_fen"] + done["refund_fen"] == done["fare_fen"] > 0
    assert done["channel"] == "credit"
    after = ok_json("orders", "show", number)
    assert after["tickets"][0]["state"] == "refunded"
    kinds = sorted(e["kind"] for e in after["ledger"])
    assert "refund" in kinds and kinds.count("payment") == 1
    assert "error: " in one_line_error("orders", "refund", number, ticket)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("orders", "show", "E000000000"), "order"),
        (("orders", "list", "--account", "nobody_here"), "account"),
        (("orders", "list", "--state", "lost"), "state"),
        (("orders", "refund", "E000000000", "T1"), "order"),
    ],
)
@pytest.mark.usefixtures("built_once")
def test_bad_input_is_one_line_and_exit_2(
    orders: dict[str, str], args: tuple[str, ...], says: str
) -> None:
    assert one_line_error(*args).startswith(f"error: {says}: ")


@pytest.mark.usefixtures("built_once")
def test_refunding_an_unpaid_order_is_refused(orders: dict[str, str]) -> None:
    one_line_error("orders", "refund", orders["held"], "T0000000")


def test_failed_refunds_are_listed_and_requeued(
    built_once: None, container: Container, orders: dict[str, str]
) -> None:
    from open12306.sales.adapters.checkout_books import SqlSettlementBooks
    from open12306.sales.ports import PendingRefund, PendingState

    now = container.clock.now()
    failed = PendingRefund(
        "E000000001R",
        "E000000001",
        "E000000001",
        "alipay",
        1_000,
        5_000,
        now,
        now,
        PendingState.FAILED,
        attempts=3,
        last_error="refused: ACQ.TRADE_NOT_EXIST",
    )
    SqlSettlementBooks(container.store.engine).save_refund(failed)
    [listed] = [r for r in ok_json("orders", "refunds-failed") if r["refund_no"] == "E000000001R"]
    assert (listed["channel"], listed["amount_fen"], listed["attempts"]) == ("alipay", 1_000, 3)
    assert "ACQ.TRADE_NOT_EXIST" in listed["last_error"]
    code, out, err = invoke("orders", "refunds-requeue", "E000000001R")
    assert code == 0 and "requeued E000000001R" in out, out + err
    assert all(r["refund_no"] != "E000000001R" for r in ok_json("orders", "refunds-failed"))
    assert one_line_error("orders", "refunds-requeue", "E000000001R").startswith("error: ")
    report = ok_json("orders", "refunds-retry")
    assert set(report) == {"confirmed", "failing", "failed"}


@pytest.mark.usefixtures("built_once")
def test_audit_finds_a_paid_order_whose_money_went_back(
    container: Container, orders: dict[str, str]
) -> None:
    from open12306.sales.adapters.orders_repo import add_entries
    from open12306.sales.domain import ledger

    clean = ok_json("orders", "audit")
    assert clean["orders_checked"] >= 1
    assert [v for v in clean["violations"] if v["order"] == orders["paid"]] == []
    number = orders["paid"]
    [paid_in] = [e for e in container.orders.store.entries(number) if e.kind.value == "payment"]
    now = container.clock.now()
    with container.store.engine.begin() as conn:  # the counter race's footprint
        add_entries(
            conn,
            [
                ledger.payment(number, paid_in.amount_fen, now, paid_in.reference),
                ledger.refund_of_payment(number, paid_in.amount_fen, now, paid_in.reference),
            ],
        )
    code, out, err = invoke("orders", "audit")
    assert code == 1, out + err
    assert f"{number} trade_booked_twice {paid_in.reference}" in out
