"""``/docs``: Swagger UI 5 (it reads OpenAPI 3.1) over ``/openapi.json``, from local files.

The files come from the npm package ``swagger-ui-dist`` (pinned in ``docs-ui/package.json``);
``make install`` copies the few the page loads into ``SWAGGER_UI_DIR``. The browser fetches
nothing from outside: no CDN, and no validator badge (``validatorUrl`` is null). Without the
files, ``/docs`` answers 503 saying how to install them.
"""

# No ``from __future__ import annotations``: FastAPI reads the route signatures at runtime.
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_UI_DIR = Path(__file__).resolve().parent.parent / "swagger_ui"
ASSETS_PATH = "/static/swagger"
MISSING = (
    "<!DOCTYPE html><html><head><title>open12306 API</title></head><body>"
    "<h1>The API viewer is not installed</h1>"
    "<p>Run <code>make install</code> (it needs npm once) to install Swagger UI, "
    'or read the schema at <a href="/openapi.json">/openapi.json</a>.</p></body></html>'
)


def mount_docs(app: FastAPI, folder: Path = SWAGGER_UI_DIR) -> None:
    """Serve ``/docs`` and its assets under ``ASSETS_PATH`` from ``folder``."""
    app.mount(ASSETS_PATH, StaticFiles(directory=folder, check_dir=False), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        if not (folder / "swagger-ui-bundle.js").is_file():
            return HTMLResponse(MISSING, status_code=503)
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="open12306 API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": False},
        )
