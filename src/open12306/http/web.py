"""The passenger web app: one HTML page, its scripts and styles (``src/open12306/web``), and a
QR drawing endpoint for text a payment channel asks the passenger to scan.

The page talks to the JSON API only (``/api/v1/...``) with a bearer token it keeps in
``sessionStorage``; nothing here reads the database.
"""

# No ``from __future__ import annotations``: FastAPI reads the route signatures at runtime.
from pathlib import Path

from fastapi import FastAPI, Query
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from open12306.travel.adapters.qr import qr_png

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
ASSETS_PATH = "/web"
MAX_QR_TEXT = 1024


def mount_web(app: FastAPI) -> None:
    """Serve the web app at ``/`` (assets under ``/web``) and ``GET /web/qr.png?text=``."""
    index = WEB_DIR / "index.html"

    @app.get("/", include_in_schema=False)
    def home() -> FileResponse:
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})

    @app.get(f"{ASSETS_PATH}/qr.png", include_in_schema=False)
    def text_qr(text: str = Query(..., min_length=1, max_length=MAX_QR_TEXT)) -> Response:
        """A QR code of ``text`` in UTF-8 (e.g. the code URL of WeChat Pay's native mode)."""
        image = qr_png(text.encode("utf-8"))
        return Response(image, media_type="image/png", headers={"Cache-Control": "no-store"})

    app.mount(ASSETS_PATH, StaticFiles(directory=WEB_DIR, check_dir=False), name="web")
