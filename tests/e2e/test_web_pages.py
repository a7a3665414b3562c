"""The web app's files as the server hands them out (no browser): the page, every script
module it imports, no outside URLs, and the QR endpoint's image read back."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from open12306.http.web import WEB_DIR, mount_web
from open12306.travel.adapters.qr import read_qr_png

IMPORT = re.compile(r"""^import\b[^"']*["'](\./[\w./-]+\.js)["'];""", re.MULTILINE)


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    mount_web(app)
    return TestClient(app)


def module_graph(client: TestClient, entry: str) -> dict[str, str]:
    """Every script reachable from ``entry`` by relative imports, fetched over HTTP."""
    seen: dict[str, str] = {}
    pending = [entry]
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert "javascript" in answer.headers["content-type"], path
        seen[path] = answer.text
        folder = path.rsplit("/", 1)[0]
        pending += [f"{folder}/{name[2:]}" for name in IMPORT.findall(answer.text)]
    return seen


def test_the_page_loads_its_styles_and_every_module_it_imports(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/web/js/main.js">' in page.text
    assert client.get("/web/app.css").status_code == 200
    modules = module_graph(client, "/web/js/main.js")
    assert set(modules) == {f"/web/js/{p.name}" for p in (WEB_DIR / "js").glob("*.js")}


def test_nothing_is_fetched_from_outside(client: TestClient) -> None:
    for path in WEB_DIR.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"(?:src|href)=[\"']?(?:https?:)?//", text), path
            assert not re.search(r"url\(\s*[\"']?(?:https?:)?//", text), path
            assert "@import" not in text, path


def test_every_field_has_a_label_and_an_error_slot_it_points_to(client: TestClient) -> None:
    page = client.get("/").text
    for described in re.findall(r'aria-describedby="([\w -]+)"', page):
        ids = described.split()
        assert all(f'id="{i}"' in page for i in ids), described
        assert any(re.search(rf'id="{i}"[^>]*data-error-for=', page) for i in ids), described
    for field_id in re.findall(r'<(?:input|select)[^>]*\bid="([\w-]+)"', page):
        assert f'for="{field_id}"' in page, field_id


def test_qr_endpoint_draws_the_text_given(client: TestClient) -> None:
    text = "http://127.0.0.1:8000/paysandbox/cashier/wechatpay/wx2026112515101300000001"
    image = client.get("/web/qr.png", params={"text": text})
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert read_qr_png(image.content) == text.encode("utf-8")
    assert client.get("/web/qr.png", params={"text": "x" * 1025}).status_code == 422
