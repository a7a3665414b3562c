"""From QR PNG files to decisions: the runner reads images, decides, journals, restarts."""

from pathlib import Path

import pytest

from open12306.travel.adapters.gate import GateBundle, GateJournal, run_gate, save_bundle
from open12306.travel.adapters.qr import save_qr_png
from open12306.travel.domain.gate import Direction, ReasonCode
from tests.integration.gate_support import LIVE, NOW, issuer_bundle, scan, ticket
from tests.unit.codes_support import T0


@pytest.fixture
def bundle_path(tmp_path: Path) -> Path:
    bundle = GateBundle(
        station="VNP", bundle_version=1, created=T0, issuer_keys=issuer_bundle(LIVE)
    )
    path = tmp_path / "bundle.json"
    save_bundle(bundle, path)
    return path


def test_a_folder_of_codes_is_decided_in_name_order(tmp_path: Path, bundle_path: Path) -> None:
    folder = tmp_path / "camera"
    folder.mkdir()
    save_qr_png(ticket(), folder / "01-ticket.png")
    save_qr_png(scan(counter=1), folder / "02-ride.png")
    save_qr_png(ticket(), folder / "03-ticket-again.png")
    forged = bytearray(scan(counter=2))
    forged[-1] ^= 1
    save_qr_png(bytes(forged), folder / "04-forged.png")
    (folder / "05-blank.png").write_bytes(b"not a png")
    (folder / "notes.txt").write_text("ignored")
    journal = tmp_path / "journal.sqlite"
    results = run_gate(bundle_path, journal, folder, "entry", now=NOW)
    assert [r.image.name for r in results] == [
        "01-ticket.png",
        "02-ride.png",
        "03-ticket-again.png",
        "04-forged.png",
        "05-blank.png",
    ]
    assert [r.decision.reason for r in results] == [
        ReasonCode.OK,
        ReasonCode.OK,
        ReasonCode.REPLAYED,
        ReasonCode.BAD_SIGNATURE,
        ReasonCode.UNREADABLE,
    ]
    with GateJournal(journal, "gate-1", "VNP") as opened:
        assert [t["tap_id"] for t in opened.export_taps()] == [r.tap_id for r in results]


def test_a_second_run_remembers_the_first(tmp_path: Path, bundle_path: Path) -> None:
    image = tmp_path / "ride.png"
    save_qr_png(scan(counter=3), image)
    journal = tmp_path / "journal.sqlite"
    first = run_gate(bundle_path, journal, image, Direction.ENTRY, now=NOW)
    second = run_gate(bundle_path, journal, image, Direction.EXIT, now=NOW + 30)
    assert first[0].decision.accepted
    assert second[0].decision.reason is ReasonCode.REPLAYED
