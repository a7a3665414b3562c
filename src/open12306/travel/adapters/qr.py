"""QR codes for binary ride and ticket codes: draw with segno, read back with zxing-cpp.

Codes are written in QR byte mode without ECI at error correction level M (never boosted, so
the level is what gates are specified for), and read back through zxing-cpp's ``bytes``
(the uninterpreted payload), never its text, so every byte survives.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import segno
import zxingcpp
from PIL import Image

from open12306.travel.ports import DeviceError

ERROR_LEVEL = "M"
DEFAULT_SCALE = 4
QUIET_ZONE = 4
_QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


class QrReadError(DeviceError):
    """No QR code, more than one, or an unreadable image."""


@dataclass(frozen=True, slots=True)
class QrInfo:
    """The symbol a payload needs: QR version (1..40), modules per side, error level."""

    version: int
    modules: int
    error: str


def _symbol(data: bytes) -> segno.QRCode:
    return segno.make_qr(bytes(data), error=ERROR_LEVEL, mode="byte", boost_error=False)


def qr_info(data: bytes) -> QrInfo:
    symbol = _symbol(data)
    width, _ = symbol.symbol_size(border=0)
    return QrInfo(int(symbol.version), int(width), str(symbol.error))


def qr_png(data: bytes, scale: int = DEFAULT_SCALE, border: int = QUIET_ZONE) -> bytes:
    """PNG bytes of the QR code for ``data``."""
    out = io.BytesIO()
    _symbol(data).save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def save_qr_png(
    data: bytes, path: Path | str, scale: int = DEFAULT_SCALE, border: int = QUIET_ZONE
) -> None:
    """Write the QR code for ``data`` as a PNG file."""
    Path(path).write_bytes(qr_png(data, scale, border))


def qr_terminal(data: bytes, border: int = 2) -> str:
    """The QR code as text for a terminal: two modules per character cell."""
    out = io.StringIO()
    _symbol(data).terminal(out=out, border=border, compact=True)
    return out.getvalue()


def read_qr_png(source: bytes | Path | str) -> bytes:
    """The exact payload of the single QR code in a PNG (bytes or a file path)."""
    raw = source if isinstance(source, bytes) else Path(source).read_bytes()
    try:
        with Image.open(io.BytesIO(raw)) as image:
            gray = image.convert("L")
    except (OSError, ValueError) as error:
        raise QrReadError(f"not a readable image: {error}") from None
    found = [barcode for barcode in zxingcpp.read_barcodes(gray, formats=_QR_ONLY) if barcode.valid]
    if len(found) != 1:
        raise QrReadError(f"expected one QR code, found {len(found)}")
    return bytes(found[0].bytes)
