"""The passenger web app: one HTML page, its scripts and styles (``src/open12306/web``), and a
QR drawing endpoint for text a payment channel asks the passenger to scan.

The page talks to the JSON API only (``/api/v1/...``) with a bearer token it keeps in
``sessionStorage``; nothing here reads the database.
"""

# No ``from __future__ import annotations``: FastAPI reads the route signatures at runtime.
import io
from pathlib import Path

import segno
from fastapi import FastAPI, Query
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
ASSETS_PATH = "/web"
MAX_QR_TEXT = 1024


def qr_svg(text: str) -> bytes:
    """``text`` as a QR code in SVG (level M, dark modules on white, 4-module quiet zone)."""
    buffer = io.BytesIO()
    symbol = segno.make_qr(text, error="M", boost_error=False)
    symbol.save(buffer, kind="svg", scale=4, border=4, xmldecl=False, svgns=True, title=None)
    return buffer.getvalue()


def mount_web(app: FastAPI) -> None:
    """Serve the web app at ``/`` (assets under ``/web``) and ``GET /web/qr.svg?text=``."""
    index = WEB_DIR / "index.html"

    @app.get("/", include_in_schema=False)
    def home() -> FileResponse:
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})

    @app.get(f"{ASSETS_PATH}/qr.svg", include_in_schema=False)
    def text_qr(text: str = Query(..., min_length=1, max_length=MAX_QR_TEXT)) -> Response:
        """A QR code of ``text`` (e.g. the code URL WeChat Pay's native mode returns)."""
        return Response(
            qr_svg(text), media_type="image/svg+xml", headers={"Cache-Control": "no-store"}
        )

    app.mount(ASSETS_PATH, StaticFiles(directory=WEB_DIR), name="web")
