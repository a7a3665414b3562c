"""A paid ticket's code PNG over HTTP admits it at an offline gate built from the database,
and the same PNG is refused ``revoked`` once the ticket is refunded and the gate has synced."""

from __future__ import annotations

import base64
import json
import shutil
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from open12306.cli.main import app as cli_app
from open12306.database.migrate import upgrade
from open12306.http.accounts import accounts_router
from open12306.http.app import _install_error_handlers
from open12306.http.orders import orders_router, payments_router
from open12306.http.ride import ride_router
from open12306.travel.adapters.gate import load_bundle
from open12306.travel.adapters.keys import DeviceKey, IssuerKeyStore
from open12306.travel.adapters.qr import read_qr_png
from open12306.travel.domain.codes import CredentialFlags, verify_credential, verify_ticket
from open12306.travel.services.ticket_codes import RideCredentialService, TicketCodeService
from tests.conftest import cipher_key_file
from tests.e2e.orders_support import order_body, reason, signed_up
from tests.integration.orders_support import ADULT_ID, DAY, OTHER_ID, ZONE, World, build_world

SECRET = b"ticket-token-secret-for-tests-32"
DEPARTS = datetime.combine(DAY, time(9, 0), ZONE)  # G1 leaves VNP at 09:00
AT_GATE = int((DEPARTS - timedelta(minutes=30)).timestamp())


class Setup:
    def __init__(self, tmp_path: Path, url: str | None = None) -> None:
        self.url = url or f"sqlite:///{tmp_path}/travel.db"
        upgrade(self.url)
        self.world: World = build_world(self.url)
        self.keys_dir = tmp_path / "keys"
        self.keys = IssuerKeyStore.create(self.keys_dir)
        codes = TicketCodeService(self.world.orders, self.keys, SECRET)
        credentials = RideCredentialService(self.keys, SECRET, self.world.clock)
        app = FastAPI()
        _install_error_handlers(app)
        accounts = self.world.accounts
        app.include_router(accounts_router(lambda: accounts))
        app.include_router(orders_router(lambda: self.world.orders, lambda: accounts))
        app.include_router(payments_router(lambda: self.world.settlement, lambda: accounts))
        app.include_router(ride_router(lambda: codes, lambda: credentials, lambda: accounts))
        self.client = TestClient(app)
        self.cli = CliRunner()
        self.tmp = tmp_path

    def paid_ticket(self, headers: dict[str, str], passenger: str) -> tuple[str, str]:
        number = self.client.post(
            "/api/v1/orders", json=order_body(passenger), headers=headers
        ).json()["number"]
        self.world.allocator.run_once()
        paid = self.client.post(
            f"/api/v1/orders/{number}/payments", json={"channel": "credit"}, headers=headers
        )
        assert paid.json()["state"] == "paid"
        order = self.client.get(f"/api/v1/orders/{number}", headers=headers).json()
        return number, order["tickets"][0]["number"]

    def invoke(self, *args: str) -> Any:
        return self.cli.invoke(
            cli_app,
            list(args),
            env={
                "OPEN12306_DATABASE_URL": self.url,
                "OPEN12306_DOCUMENT_ENC_KEY_FILE": str(cipher_key_file(self.tmp)),
            },
            catch_exceptions=False,
        )

    def bundle(self, out: Path, station: str = "VNP") -> Any:
        result = self.invoke(
            "gate", "bundle", "--station", station, "--out", str(out),
            "--keys", str(self.keys_dir), "--now", str(AT_GATE),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        return result

    def gate(self, png: Path, bundle: Path, journal: Path, now: int) -> tuple[int, dict[str, Any]]:
        result = self.invoke(
            "gate", "run", str(png), "--station", "VNP", "--bundle", str(bundle),
            "--journal", str(journal), "--direction", "entry", "--now", str(now), "--json",
        )  # fmt: skip
        return result.exit_code, json.loads(result.output.strip().splitlines()[-1])


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    return Setup(tmp_path)


def test_code_admits_offline_then_refund_revokes_it(setup: Setup) -> None:
    client = setup.client
    headers, passenger = signed_up(client, "zhang_san", "张三", ADULT_ID)
    number, ticket = setup.paid_ticket(headers, passenger)
    url = f"/api/v1/orders/{number}/tickets/{ticket}/code"

    png = client.get(url, headers=headers)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    image = setup.tmp / "ticket.png"
    image.write_bytes(png.content)
    data = read_qr_png(image)
    as_bytes = client.get(url, params={"format": "bytes"}, headers=headers).json()
    assert base64.b64decode(as_bytes["code"]) == data  # Ed25519 is deterministic
    code = verify_ticket(data, setup.keys.verifier())
    assert (code.ticket_no, code.train_code, code.from_station, code.to_station) == (
        ticket, "G1", "VNP", "AOH",
    )  # fmt: skip
    assert code.valid_until == int((DEPARTS - timedelta(minutes=5)).timestamp())
    assert ADULT_ID.encode() not in data and code.passenger_token not in (b"", ADULT_ID.encode())

    other, _ = signed_up(client, "li_si_001", "李四", OTHER_ID)
    assert reason(client.get(url, headers=other)) == (404, "not_found")

    gate_bundle = setup.tmp / "gate-bundle.json"
    setup.bundle(gate_bundle)
    held = load_bundle(gate_bundle)
    assert held.manifest is not None and ticket not in held.deny.tickets
    assert [t.ticket_no for t in held.manifest.tickets_of(ADULT_ID)] == [ticket]
    assert ADULT_ID not in gate_bundle.read_text()
    journal = setup.tmp / "journal.db"
    status, decision = setup.gate(image, gate_bundle, journal, AT_GATE)
    assert (status, decision["accepted"], decision["reason"]) == (0, True, "ok")
    assert decision["subject"] == ticket

    setup.world.clock.advance(DEPARTS - timedelta(minutes=25) - setup.world.clock.now())
    refunded = client.post(f"/api/v1/orders/{number}/tickets/{ticket}/refund", headers=headers)
    assert refunded.status_code == 200
    assert reason(client.get(url, headers=headers)) == (409, "revoked")

    fresh = setup.tmp / "fresh-bundle.json"
    setup.bundle(fresh)
    synced = setup.invoke(
        "gate", "sync", "--journal", str(journal), "--collector", str(setup.tmp / "c.db"),
        "--fetch", str(fresh), "--bundle", str(gate_bundle),
    )  # fmt: skip
    assert synced.exit_code == 0, synced.output
    installed = load_bundle(gate_bundle)
    assert ticket in installed.deny.tickets and installed.bundle_version == 1
    assert installed.manifest is not None and installed.manifest.tickets_of(ADULT_ID) == []
    status, decision = setup.gate(image, gate_bundle, journal, AT_GATE + 60)
    assert (status, decision["accepted"], decision["reason"]) == (3, False, "revoked")


def test_code_is_refused_at_another_station_and_before_check_in(setup: Setup) -> None:
    headers, passenger = signed_up(setup.client, "zhang_san", "张三", ADULT_ID)
    number, ticket = setup.paid_ticket(headers, passenger)
    image = setup.tmp / "ticket.png"
    url = f"/api/v1/orders/{number}/tickets/{ticket}/code"
    image.write_bytes(setup.client.get(url, headers=headers).content)
    bundle = setup.tmp / "vnp.json"
    setup.bundle(bundle)
    status, early = setup.gate(image, bundle, setup.tmp / "j.db", AT_GATE - 3 * 3600)
    assert (status, early["accepted"]) == (3, False)
    assert early["reason"] in ("not_yet_valid", "outside_window")
    status, on_time = setup.gate(image, bundle, setup.tmp / "j.db", AT_GATE)
    assert (status, on_time["reason"]) == (0, "ok")


def test_ride_credential_for_the_logged_in_account(setup: Setup) -> None:
    client = setup.client
    headers, _ = signed_up(client, "zhang_san", "张三", ADULT_ID)
    device = DeviceKey.generate()
    body = {"device_public_key": base64.b64encode(device.public_key).decode(), "hours": 48}
    issued = client.post("/api/v1/ride/credentials", json=body, headers=headers)
    assert issued.status_code == 201, issued.text
    answer = issued.json()
    credential = verify_credential(base64.b64decode(answer["credential"]), setup.keys.verifier())
    assert credential.device_public_key == device.public_key
    assert credential.valid_until - credential.valid_from == 48 * 3600
    # a new account: score 600, pay-later allowed, the lowest offline tier (2,000 fen)
    assert credential.flags == CredentialFlags.PAY_LATER and answer["flags"] == ["pay_later"]
    assert credential.offline_credit_limit == 2000 and answer["credit_score"] == 600
    again = client.post("/api/v1/ride/credentials", json=body, headers=headers).json()
    assert again["account_token"] == answer["account_token"]
    assert again["serial"] != answer["serial"]
    other, _ = signed_up(client, "li_si_001", "李四", OTHER_ID)
    theirs = client.post("/api/v1/ride/credentials", json=body, headers=other).json()
    assert theirs["account_token"] != answer["account_token"]
    short = {"device_public_key": base64.b64encode(b"x" * 31).decode()}
    assert reason(client.post("/api/v1/ride/credentials", json=short, headers=headers)) == (
        400,
        "invalid",
    )
    assert reason(client.post("/api/v1/ride/credentials", json=body)) == (401, "unauthenticated")


def test_a_changed_ticket_is_revoked_and_its_replacement_has_a_code(setup: Setup) -> None:
    client = setup.client
    headers, passenger = signed_up(client, "zhang_san", "张三", ADULT_ID)
    number, ticket = setup.paid_ticket(headers, passenger)
    change = {"train": "G3", "date": DAY.isoformat(), "seat_class": "second"}
    moved = client.post(
        f"/api/v1/orders/{number}/tickets/{ticket}/change", json=change, headers=headers
    )
    assert moved.status_code == 200, moved.text
    new = moved.json()["ticket"]["number"]
    old_url = f"/api/v1/orders/{number}/tickets/{ticket}/code"
    assert reason(client.get(old_url, headers=headers)) == (409, "revoked")
    fresh = client.get(
        f"/api/v1/orders/{number}/tickets/{new}/code", params={"format": "bytes"}, headers=headers
    ).json()
    code = verify_ticket(base64.b64decode(fresh["code"]), setup.keys.verifier())
    assert (code.ticket_no, code.train_code) == (new, "G3")
    bundle = setup.tmp / "vnp.json"
    setup.bundle(bundle)
    held = load_bundle(bundle)
    assert ticket in held.deny.tickets and new not in held.deny.tickets
    assert held.manifest is not None
    assert [t.ticket_no for t in held.manifest.tickets_of(ADULT_ID)] == [new]
    missing = f"/api/v1/orders/{number}/tickets/NOPE/code"
    assert reason(client.get(missing, headers=headers)) == (404, "not_found")


def test_the_readme_bundle_command_refuses_a_refunded_ticket(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`gate bundle --keys var/keys --station VNP --out var/gate.json`, as the README has it
    (plus the injected clock), reads the configured database (SQLite or PostgreSQL): the
    refund is in its deny list."""
    setup = Setup(tmp_path, db_url)
    client = setup.client
    headers, passenger = signed_up(client, "zhang_san", "张三", ADULT_ID)
    number, ticket = setup.paid_ticket(headers, passenger)
    image = setup.tmp / "ticket.png"
    image.write_bytes(
        client.get(f"/api/v1/orders/{number}/tickets/{ticket}/code", headers=headers).content
    )
    setup.world.clock.advance(DEPARTS - timedelta(minutes=40) - setup.world.clock.now())
    refunded = client.post(f"/api/v1/orders/{number}/tickets/{ticket}/refund", headers=headers)
    assert refunded.status_code == 200, refunded.text

    monkeypatch.chdir(setup.tmp)
    shutil.copytree(setup.keys_dir, setup.tmp / "var" / "keys")
    built = setup.invoke(
        "gate", "bundle", "--keys", "var/keys", "--station", "VNP", "--out", "var/gate.json",
        "--now", str(AT_GATE),
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    assert "1 revoked tickets" in built.stdout and built.stderr == ""
    held = load_bundle(setup.tmp / "var" / "gate.json")
    assert ticket in held.deny.tickets and held.manifest is not None
    status, decision = setup.gate(image, Path("var/gate.json"), Path("var/gate.db"), AT_GATE)
    assert (status, decision["accepted"], decision["reason"]) == (3, False, "revoked")


def test_a_bundle_and_a_gate_name_the_station_as_search_does(setup: Setup) -> None:
    headers, passenger = signed_up(setup.client, "zhang_san", "张三", ADULT_ID)
    number, ticket = setup.paid_ticket(headers, passenger)
    image = setup.tmp / "ticket.png"
    url = f"/api/v1/orders/{number}/tickets/{ticket}/code"
    image.write_bytes(setup.client.get(url, headers=headers).content)
    for name in ("北京南", "beijingnan", "bjn", "vnp"):
        out = setup.tmp / f"{name}.json"
        built = setup.bundle(out, station=name)
        assert f"for VNP to {out}" in built.stdout
        held = load_bundle(out)
        assert held.station == "VNP" and held.manifest is not None
        assert [t.ticket_no for t in held.manifest.tickets_of(ADULT_ID)] == [ticket]
    result = setup.invoke(
        "gate", "run", str(image), "--station", "北京南", "--bundle", str(out),
        "--journal", str(setup.tmp / "j.db"), "--direction", "entry", "--now", str(AT_GATE),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    unknown = setup.invoke(
        "gate", "bundle", "--station", "北京京京", "--out", str(setup.tmp / "x.json"),
        "--keys", str(setup.keys_dir), "--now", str(AT_GATE),
    )  # fmt: skip
    assert unknown.exit_code == 2 and not (setup.tmp / "x.json").exists()
    assert unknown.stderr.strip() == (
        "error: station: unknown station '北京京京'; did you mean: 北京南 (VNP)?"
    )
