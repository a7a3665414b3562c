"""``/docs`` in headless Chromium: Swagger UI renders the served OpenAPI 3.1 schema and lists
its operations, at desktop width and on a 390 px phone, fetching nothing from outside."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from open12306.config import Settings
from open12306.http.docs_page import SWAGGER_UI_DIR, mount_docs
from tests.e2e.web_support import Site, launch_chromium, serve


@pytest.fixture(scope="module")
def site(demo_settings: Settings) -> Iterator[Site]:
    yield from serve(demo_settings)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


def documented_paths(site: Site) -> set[str]:
    return set(httpx.get(f"{site.url}/openapi.json", timeout=10).json()["paths"])


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_docs_render_every_operation(
    site: Site, browser: Any, tmp_path: Path, width: int, height: int
) -> None:
    page = browser.new_page(viewport={"width": width, "height": height})
    outside: list[str] = []
    page.on(
        "request",
        lambda request: None if request.url.startswith(site.url) else outside.append(request.url),
    )
    page.goto(f"{site.url}/docs")
    page.wait_for_selector(".opblock-summary-path, .errors-wrapper", timeout=30_000)
    text = page.inner_text("body")
    assert "Unable to render" not in text and "Could not render" not in text, text[:500]
    listed = page.eval_on_selector_all(
        ".opblock-summary-path", "nodes => nodes.map(n => n.getAttribute('data-path'))"
    )
    assert "/api/v1/search" in listed
    assert set(listed) == documented_paths(site)
    page.screenshot(path=str(tmp_path / f"docs-{width}.png"))
    search = page.locator(".opblock-get .opblock-summary-path[data-path='/api/v1/search']")
    search.click()
    page.wait_for_selector(".opblock.is-open .parameters-container", timeout=10_000)
    assert page.locator(".opblock.is-open tr[data-param-name='from']").count() == 1
    page.screenshot(path=str(tmp_path / f"docs-{width}-search.png"), full_page=False)
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, "sideways scroll"
    assert not outside, outside
    page.close()


def test_docs_without_the_viewer_installed_say_how_to_install_it(tmp_path: Path) -> None:
    app = FastAPI(docs_url=None, redoc_url=None)
    mount_docs(app, tmp_path)
    answer = TestClient(app).get("/docs")
    assert answer.status_code == 503 and "make install" in answer.text


def test_the_viewer_is_installed_from_the_pinned_package() -> None:
    assert (SWAGGER_UI_DIR / "swagger-ui-bundle.js").is_file(), "run make install"
    pinned = Path(__file__).resolve().parents[2] / "docs-ui" / "package.json"
    assert '"swagger-ui-dist": "5.' in pinned.read_text(encoding="utf-8")
