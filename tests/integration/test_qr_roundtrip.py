"""Codes survive segno → PNG → zxing-cpp byte for byte (QR byte mode, level M)."""

from pathlib import Path

import pytest
from PIL import Image

from open12306.travel.adapters.keys import DeviceKey, Ed25519DeviceVerifier, IssuerKeyStore
from open12306.travel.adapters.qr import (
    QrReadError,
    qr_info,
    qr_png,
    qr_terminal,
    read_qr_png,
    save_qr_png,
)
from open12306.travel.domain.codes import (
    ScanHint,
    ScanPart,
    open_code,
    seal_credential,
    seal_scan,
    seal_ticket,
    verify_scan,
)
from tests.unit.codes_support import a_credential, a_ticket


@pytest.fixture(scope="module")
def codes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    store = IssuerKeyStore.create(tmp_path_factory.mktemp("keys") / "issuer")
    device = DeviceKey.generate()
    signer = store.signer()
    credential = seal_credential(
        a_credential(key_id=signer.key_id, device_public_key=device.public_key), signer
    )
    scan = seal_scan(credential, ScanPart(1_770_000_030, 1, ScanHint.ENTRY), device)
    assert verify_scan(scan, store.verifier(), Ed25519DeviceVerifier()).part.counter == 1
    return {
        "ticket": seal_ticket(a_ticket(key_id=signer.key_id), signer),
        "credential": credential,
        "scan": scan,
    }


@pytest.mark.parametrize("kind", ["ticket", "credential", "scan"])
def test_png_round_trip_is_byte_exact(
    codes: dict[str, bytes], kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = codes[kind]
    path = tmp_path / f"{kind}.png"
    save_qr_png(data, path)
    assert read_qr_png(path) == data
    assert read_qr_png(qr_png(data, scale=3)) == data
    info = qr_info(data)
    assert info.error == "M"
    with capsys.disabled():
        print(f"\n{kind}: {len(data)} bytes -> QR version {info.version} ({info.modules} modules)")


def test_scan_code_fits_qr_version_10_at_level_m(codes: dict[str, bytes]) -> None:
    assert len(codes["scan"]) == 213
    assert qr_info(codes["scan"]).version == 10
    assert qr_info(codes["scan"] + b"\x00").version == 11


def test_bytes_that_are_not_valid_text_survive() -> None:
    data = bytes(range(256))[::-1] + b"\x00\xff\xfe\x80"
    assert read_qr_png(qr_png(data)) == data


def test_decoded_payload_is_a_code_again(codes: dict[str, bytes]) -> None:
    assert open_code(read_qr_png(qr_png(codes["ticket"]))).value == a_ticket(  # type: ignore[union-attr]
        key_id=1
    )


def test_terminal_rendering_is_square_text(codes: dict[str, bytes]) -> None:
    text = qr_terminal(codes["scan"], border=2)
    lines = text.rstrip("\n").split("\n")
    side = qr_info(codes["scan"]).modules + 4
    assert {len(line) for line in lines} == {side}
    assert len(lines) == (side + 1) // 2
    assert set(text) <= {"█", "▀", "▄", " ", "\n"}


def test_images_without_one_qr_code_are_refused(tmp_path: Path) -> None:
    with pytest.raises(QrReadError):
        read_qr_png(b"not an image")
    blank = tmp_path / "blank.png"
    Image.new("L", (120, 120), 255).save(blank)
    with pytest.raises(QrReadError, match="found 0"):
        read_qr_png(blank)
