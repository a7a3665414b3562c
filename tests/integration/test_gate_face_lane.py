"""The gate runner's face lane: a ticket whose passenger enrolled a face opens only on a match
of the live photo with the embedding the bundle carries; every other outcome refuses as
``face_…`` (manual lane) without using the ticket up. Matchers here are fakes; real photos
are in tests/e2e/test_gate_face.py."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pytest

from open12306.accounts.adapters.face import UnavailableMatcher
from open12306.accounts.ports import FaceReason, FaceResult
from open12306.travel.adapters.gate import (
    BundleError,
    FaceLane,
    GateBundle,
    GateJournal,
    dumps_bundle,
    loads_bundle,
    run_gate,
    run_gate_id,
    save_bundle,
)
from open12306.travel.adapters.qr import save_qr_png
from open12306.travel.domain.gate import CodeKind, ReasonCode
from tests.integration.gate_support import LIVE, NOW, issuer_bundle, ticket
from tests.unit.codes_support import T0
from tests.unit.gate_support import ID_NUMBER, manifest, manifest_ticket

TICKET_NO = "E123456789012"
ENROLLED = tuple(i / 128 for i in range(128))
LIVE_PHOTO = b"\xff\xd8 a live photo"


class FakeMatcher:
    """Answers a fixed result and remembers what it was asked."""

    def __init__(self, match: bool) -> None:
        self.match = match
        self.asked: list[tuple[Sequence[float], bytes]] = []

    def compare_embedding(self, enrolled: Sequence[float], live: bytes) -> FaceResult:
        self.asked.append((enrolled, live))
        if self.match:
            return FaceResult(True, 0.3, FaceReason.MATCH, "same person", 0.5)
        return FaceResult(False, 0.9, FaceReason.NO_MATCH, "different person; manual lane", 0.5)


def write_bundle(path: Path, faces: bool = True) -> Path:
    bundle = GateBundle(
        station="VNP",
        bundle_version=1,
        created=T0,
        issuer_keys=issuer_bundle(LIVE),
        manifest=manifest(manifest_ticket(face_required=True)),
        faces={TICKET_NO: ENROLLED} if faces else {},
    )
    save_bundle(bundle, path)
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    image = tmp_path / "ticket.png"
    save_qr_png(ticket(), image)
    live = tmp_path / "live.jpg"
    live.write_bytes(LIVE_PHOTO)
    return write_bundle(tmp_path / "bundle.json"), tmp_path / "journal.sqlite", image, live


def lane(live: Path | None, matcher: object) -> FaceLane:
    return FaceLane(live, loader=lambda: matcher)  # type: ignore[arg-type, return-value]


def test_a_matching_face_opens_and_the_rest_refuse(
    files: tuple[Path, Path, Path, Path],
) -> None:
    bundle, journal, image, live = files
    stranger = FakeMatcher(match=False)
    (refused,) = run_gate(bundle, journal, image, "entry", now=NOW, face=lane(live, stranger))
    assert not refused.decision.accepted and refused.reason == "face_no_match"
    assert refused.decision.face_required and refused.decision.effects == ()
    assert stranger.asked == [(ENROLLED, LIVE_PHOTO)]

    (no_photo,) = run_gate(bundle, journal, image, "entry", now=NOW + 1)
    assert no_photo.reason == "face_no_face_live" and "manual lane" in no_photo.decision.detail

    same = FakeMatcher(match=True)
    (opened,) = run_gate(bundle, journal, image, "entry", now=NOW + 2, face=lane(live, same))
    assert opened.decision.accepted and opened.reason == "ok"
    assert opened.face is not None and opened.face.match
    assert "face_match" in opened.decision.notes

    (again,) = run_gate(bundle, journal, image, "entry", now=NOW + 3, face=lane(live, same))
    assert again.decision.reason is ReasonCode.REPLAYED and again.face is None
    with GateJournal(journal, "gate-1", "VNP") as opened_journal:
        taps = opened_journal.export_taps()
    assert [(t["accepted"], t["reason"]) for t in taps] == [
        (False, "face_no_match"),
        (False, "face_no_face_live"),
        (True, "ok"),
        (False, "replayed"),
    ]


def test_without_the_face_extra_it_says_manual_lane(
    files: tuple[Path, Path, Path, Path],
) -> None:
    bundle, journal, image, live = files
    missing = UnavailableMatcher("dlib is not installed")
    (result,) = run_gate(bundle, journal, image, "entry", now=NOW, face=lane(live, missing))
    assert not result.decision.accepted and result.reason == "face_unavailable"
    assert result.decision.detail.startswith("face check unavailable: manual lane")
    assert result.face is not None and math.isinf(result.face.distance)


def test_no_enrolled_embedding_refuses(
    tmp_path: Path, files: tuple[Path, Path, Path, Path]
) -> None:
    _, journal, image, live = files
    bare = write_bundle(tmp_path / "bare.json", faces=False)
    same = FakeMatcher(match=True)
    (result,) = run_gate(bare, journal, image, "entry", now=NOW, face=lane(live, same))
    assert result.reason == "face_no_face_enrolled" and same.asked == []


def test_the_id_lane_checks_the_face_and_keeps_no_number(
    files: tuple[Path, Path, Path, Path],
) -> None:
    bundle, journal, _, live = files
    stranger, same = FakeMatcher(match=False), FakeMatcher(match=True)
    refused = run_gate_id(bundle, journal, ID_NUMBER, "entry", now=NOW, face=lane(live, stranger))
    assert refused.reason == "face_no_match"
    admitted = run_gate_id(bundle, journal, ID_NUMBER, "entry", now=NOW + 1, face=lane(live, same))
    assert admitted.decision.accepted and admitted.decision.kind is CodeKind.ID_DOCUMENT
    assert admitted.decision.subject == TICKET_NO
    assert ID_NUMBER not in admitted.image.name and admitted.image.name.endswith(ID_NUMBER[-4:])
    with GateJournal(journal, "gate-1", "VNP") as opened:
        taps = opened.export_taps()
    assert all(t["code"] == "" for t in taps)
    assert ID_NUMBER not in repr(taps)


def test_faces_travel_in_the_bundle(tmp_path: Path) -> None:
    path = write_bundle(tmp_path / "b.json")
    loaded = loads_bundle(path.read_bytes())
    assert loaded.faces == {TICKET_NO: pytest.approx(ENROLLED)}  # float32 in the file
    assert dumps_bundle(loaded) == path.read_bytes()
    broken = path.read_text().replace(f'"{TICKET_NO}": "', f'"{TICKET_NO}": "AAAA')
    with pytest.raises(BundleError, match=r"manifest\.faces"):
        loads_bundle(broken.encode())
