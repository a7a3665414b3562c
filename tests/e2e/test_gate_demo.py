"""The issue's acceptance, over HTTP against the real server and an offline gate process.

A passenger orders and pays through the sandbox, fetches the ticket's code PNG; a gate takes a
bundle for the boarding station over its management link, then — in a process with no
database and no network — admits the QR image. The passenger refunds; ``gate sync`` uploads
the tap and fetches a fresh bundle; the same image is then refused ``revoked``. A ticket that
passed a gate is marked used on the server by the sync and can no longer be refunded or
changed, and a restarted gate still refuses the replayed image.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from open12306.travel.adapters.gate import load_bundle
from open12306.travel.domain.codes import open_ticket
from tests.e2e.gate_live import (
    GATE_TOKEN,
    GateLive,
    Rider,
    gate_live,
    offline_gate,
    paid_ticket,
    rider,
)

__all__ = ["gate_live"]


class Gate:
    """One gate's files: bundle and journal, and the ticket code it will see."""

    def __init__(self, live: GateLive, tmp: Path, name: str) -> None:
        self.live, self.tmp = live, tmp
        self.bundle = tmp / f"{name}-bundle.json"
        self.journal = tmp / f"{name}-journal.sqlite"
        self.name = name

    def sync(self, station: str = "") -> Any:
        args = [
            "gate", "sync", "--server", self.live.url, "--token", GATE_TOKEN,
            "--journal", str(self.journal), "--bundle", str(self.bundle),
        ]  # fmt: skip
        result = self.live.invoke(*args, *(["--station", station] if station else []))
        assert result.exit_code == 0, result.output
        return result

    def run(
        self, png: Path, station: str, now: int, *extra: str, no_face_extra: bool = False
    ) -> tuple[int, dict[str, Any]]:
        return self._gate(station, now, str(png), *extra, no_face_extra=no_face_extra)

    def run_id(self, number: str, station: str, now: int, face: Path) -> tuple[int, dict[str, Any]]:
        return self._gate(station, now, "--id", number, "--face", str(face))

    def _gate(
        self, station: str, now: int, *args: str, no_face_extra: bool = False
    ) -> tuple[int, dict[str, Any]]:
        status, lines = offline_gate(
            self.tmp, *args, "--station", station, "--bundle", str(self.bundle),
            "--journal", str(self.journal), "--direction", "entry", "--now", str(now),
            "--gate-id", self.name, no_face_extra=no_face_extra,
        )  # fmt: skip
        (line,) = lines
        return status, line


def ticket_png(live: GateLive, who: Rider, tmp: Path) -> tuple[str, str, Path, Any]:
    """Order, pay, fetch the code: order number, ticket number, the PNG and the code."""
    number, ticket = paid_ticket(live, who.headers, who.passenger)
    url = f"/api/v1/orders/{number}/tickets/{ticket['number']}/code"
    png = live.http.get(url, headers=who.headers)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    path = tmp / f"{ticket['number']}.png"
    path.write_bytes(png.content)
    raw = live.http.get(url, params={"format": "bytes"}, headers=who.headers).json()["code"]
    return number, ticket["number"], path, open_ticket(base64.b64decode(raw)).value


def ticket_state(live: GateLive, who: Rider, number: str) -> str:
    order = live.http.get(f"/api/v1/orders/{number}", headers=who.headers).json()
    state: str = order["tickets"][0]["state"]
    return state


def test_offline_gate_admits_then_refund_revokes(gate_live: GateLive, tmp_path: Path) -> None:
    live = gate_live
    who = rider(live)
    number, ticket, png, code = ticket_png(live, who, tmp_path)
    station, at_gate = code.from_station, code.valid_from + 600

    gate = Gate(live, tmp_path, "gate-1")
    gate.sync(station)  # a new gate: its first bundle for the boarding station
    held = load_bundle(gate.bundle)
    assert held.station == station and held.manifest is not None
    assert held.manifest.ticket(ticket) is not None and ticket not in held.deny.tickets
    assert who.id_number not in gate.bundle.read_text()

    status, admitted = gate.run(png, station, at_gate)
    assert (status, admitted["accepted"], admitted["reason"]) == (0, True, "ok")
    assert admitted["subject"] == ticket

    refunded = live.http.post(
        f"/api/v1/orders/{number}/tickets/{ticket}/refund", headers=who.headers
    )
    assert refunded.status_code == 200, refunded.text

    synced = gate.sync()
    assert "uploaded 1 taps" in synced.output and "0 tickets marked used" in synced.output
    assert ticket_state(live, who, number) == "refunded"  # the tap cannot undo the refund
    fresh = load_bundle(gate.bundle)
    assert ticket in fresh.deny.tickets and fresh.bundle_version > held.bundle_version
    status, refused = gate.run(png, station, at_gate + 60)
    assert (status, refused["accepted"], refused["reason"]) == (3, False, "revoked")


def test_a_used_ticket_cannot_be_refunded_or_changed(gate_live: GateLive, tmp_path: Path) -> None:
    live = gate_live
    who = rider(live)
    number, ticket, png, code = ticket_png(live, who, tmp_path)
    station, at_gate = code.from_station, code.valid_from + 600
    gate = Gate(live, tmp_path, "gate-2")
    gate.sync(station)

    status, admitted = gate.run(png, station, at_gate)
    assert (status, admitted["reason"]) == (0, "ok")
    # a new process on the same journal: a gate restarted mid-day still remembers
    status, replayed = gate.run(png, station, at_gate + 30)
    assert (status, replayed["reason"]) == (3, "replayed")

    synced = gate.sync()
    assert "uploaded 2 taps" in synced.output and "1 tickets marked used" in synced.output
    assert ticket_state(live, who, number) == "used"
    again = gate.sync()  # idempotent: nothing new to mark
    assert "0 tickets marked used" in again.output
    assert ticket_state(live, who, number) == "used"

    base = f"/api/v1/orders/{number}/tickets/{ticket}"
    code_again = live.http.get(f"{base}/code", headers=who.headers)
    assert (code_again.status_code, code_again.json()["error"]["reason"]) == (409, "used")
    refund = live.http.post(f"{base}/refund", headers=who.headers)
    elsewhere = {"train": code.train_code, "date": code.service_date.isoformat()}
    change = live.http.post(
        f"{base}/change", json={**elsewhere, "seat_class": "first"}, headers=who.headers
    )
    for refused in (refund, change):
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["reason"] == "ticket_used"
    assert ticket_state(live, who, number) == "used"


def test_the_gate_link_needs_the_gate_token(gate_live: GateLive, tmp_path: Path) -> None:
    live = gate_live
    assert live.http.get("/api/v1/gate/stations/VNP/bundle").status_code == 401
    user = rider(live)  # a passenger's session is not a gate's token
    posted = live.http.post("/api/v1/gate/taps", json={"taps": []}, headers=user.headers)
    assert (posted.status_code, posted.json()["error"]["reason"]) == (401, "unauthenticated")
    result = live.invoke(
        "gate", "sync", "--server", live.url, "--token", "wrong", "--station", "VNP",
        "--journal", str(tmp_path / "j.sqlite"), "--bundle", str(tmp_path / "b.json"),
    )  # fmt: skip
    assert result.exit_code == 2 and result.stderr.startswith("error: server: HTTP 401")
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "b.json").exists()


def test_gates_name_their_station_as_search_does(gate_live: GateLive, tmp_path: Path) -> None:
    live = gate_live
    who = rider(live)
    _, ticket, png, code = ticket_png(live, who, tmp_path)
    boarding = live.container.catalog.stations.get(code.from_station)
    assert boarding is not None
    gate = Gate(live, tmp_path, "gate-3")
    gate.sync(boarding.name)  # a new gate asks for its station by name: 北京南, not VNP
    held = load_bundle(gate.bundle)
    assert held.station == boarding.code and held.manifest is not None
    assert held.manifest.ticket(ticket) is not None
    status, admitted = gate.run(png, boarding.pinyin, code.valid_from + 600)  # offline
    assert (status, admitted["reason"], admitted["subject"]) == (0, "ok", ticket)
    token = {"Authorization": f"Bearer {GATE_TOKEN}"}
    unknown = live.http.get("/api/v1/gate/stations/北京京京/bundle", headers=token)
    error = unknown.json()["error"]
    assert (unknown.status_code, error["field"], error["reason"]) == (
        400,
        "station",
        "unknown_station",
    )
    assert "北京南" in [s["name"] for s in error["suggestions"]]
    several = live.http.get("/api/v1/gate/stations/bj/bundle", headers=token)
    assert (several.status_code, several.json()["error"]["reason"]) == (400, "ambiguous_station")


def test_bundles_built_within_a_second_still_have_rising_versions(gate_live: GateLive) -> None:
    token = {"Authorization": f"Bearer {GATE_TOKEN}"}
    versions = [
        json.loads(gate_live.http.get("/api/v1/gate/stations/VNP/bundle", headers=token).content)[
            "bundle_version"
        ]
        for _ in range(3)
    ]
    assert versions[0] < versions[1] < versions[2]  # three fetches in well under a second
