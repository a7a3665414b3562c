"""Face 1:1 at the gate: a passenger enrols a photo (only its embedding is kept), the station
bundle carries that embedding for the passenger's ticket, and the offline gate compares the
face camera's photo with it, for the QR code and for the ID-number lane. Without the face
extra the gate says ``face check unavailable: manual lane`` and does not crash.

The photos are the face_recognition project's (tests/data/faces/README.md).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from open12306.travel.adapters.gate import load_bundle
from tests.e2e.gate_live import GateLive, gate_live, rider
from tests.e2e.test_gate_demo import Gate, ticket_png

__all__ = ["gate_live"]

FACES = Path(__file__).resolve().parents[1] / "data" / "faces"
_EXTRA = ("numpy", "dlib", "face_recognition_models", "face_recognition")
_MISSING = [name for name in _EXTRA if importlib.util.find_spec(name) is None]

pytestmark = pytest.mark.skipif(
    bool(_MISSING), reason=f"face extra not installed (missing {', '.join(_MISSING)})"
)


def enrol(live: GateLive, headers: dict[str, str], passenger: str, photo: str) -> tuple[int, str]:
    answer = live.http.post(
        f"/api/v1/passengers/{passenger}/face",
        content=(FACES / photo).read_bytes(),
        headers={**headers, "Content-Type": "image/jpeg"},
    )
    reason = "" if answer.status_code == 201 else answer.json()["error"]["reason"]
    return answer.status_code, reason


def test_face_check_at_the_gate(gate_live: GateLive, tmp_path: Path) -> None:
    live = gate_live
    who = rider(live)
    assert enrol(live, who.headers, who.passenger, "rocket.jpg") == (400, "no_face")
    assert enrol(live, who.headers, who.passenger, "obama.jpg") == (201, "")
    other = rider(live)
    assert enrol(live, other.headers, who.passenger, "obama.jpg")[0] == 404

    _, ticket, png, code = ticket_png(live, who, tmp_path)
    station, at_gate = code.from_station, code.valid_from + 600
    gate = Gate(live, tmp_path, "gate-f")
    gate.sync(station)
    held = load_bundle(gate.bundle)
    assert held.manifest is not None
    listed = held.manifest.ticket(ticket)
    assert listed is not None and listed.face_required
    assert len(held.faces[ticket]) == 128
    assert b"JFIF" not in gate.bundle.read_bytes()  # an embedding, not the photo

    status, plain = gate.run(png, station, at_gate, no_face_extra=True)
    assert (status, plain["accepted"], plain["reason"]) == (3, False, "face_unavailable")
    assert plain["detail"].startswith("face check unavailable: manual lane")

    face = FACES / "biden.jpg"
    status, stranger = gate.run(png, station, at_gate + 10, "--face", str(face))
    assert (status, stranger["accepted"], stranger["reason"]) == (3, False, "face_no_match")
    assert stranger["face"]["distance"] > 0.5 and "manual lane" in stranger["detail"]

    # the refusals did not use the ticket up: the ID-card lane admits the right face
    status, by_id = gate.run_id(who.id_number, station, at_gate + 20, FACES / "obama2.jpg")
    assert (status, by_id["accepted"], by_id["reason"], by_id["kind"]) == (
        0, True, "ok", "id_document",
    )  # fmt: skip
    assert by_id["subject"] == ticket and by_id["face"]["match"]
    assert who.id_number not in by_id["image"]
    status, again = gate.run(png, station, at_gate + 30, "--face", str(FACES / "obama2.jpg"))
    assert (status, again["reason"]) == (3, "replayed")
