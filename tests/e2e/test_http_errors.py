"""Errors at the HTTP edge: 405 with ``Allow``, the schema's field limits as the server's, a
gate token the server cannot compare, and an error shape the schema documents."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from open12306.bootstrap import build
from open12306.config import Settings
from open12306.http.app import create_app
from open12306.http.gates import GATE_TOKEN_ENV

GATE_TOKEN = "gate-token-for-edge-tests"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@pytest.fixture(scope="module")
def client(demo_settings: Settings) -> Iterator[TestClient]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(GATE_TOKEN_ENV, GATE_TOKEN)
        app = create_app(build(demo_settings))
    yield TestClient(app, raise_server_exceptions=False)


def schema(client: TestClient) -> dict[str, Any]:
    answer: dict[str, Any] = client.get("/openapi.json").json()
    return answer


def test_every_405_carries_allow_with_every_method_of_the_path(client: TestClient) -> None:
    checked = 0
    for template, item in schema(client)["paths"].items():
        path = template.replace("{", "").replace("}", "")
        documented = {method.upper() for method in item}
        if template == "/api/v1/search":
            documented.add("HEAD")  # answered by the fast path
        for method in set(METHODS) - documented:
            answer = client.request(method, path)
            assert answer.status_code == 405, (method, path, answer.status_code)
            allowed = {m.strip() for m in answer.headers["allow"].split(",")}
            assert allowed == documented, (method, path)
            assert answer.json()["error"]["field"] == "method"
            checked += 1
    assert checked > 100


def test_static_files_and_pages_say_what_they_allow(client: TestClient) -> None:
    for path in ("/web/app.css", "/static/swagger/swagger-ui.css"):
        answer = client.post(path)
        assert answer.status_code == 405 and answer.headers["allow"] == "GET, HEAD"
    assert client.delete("/docs").headers["allow"] == "GET"


def test_the_password_limit_of_the_schema_is_the_servers(client: TestClient) -> None:
    credentials = schema(client)["components"]["schemas"]["Credentials"]["properties"]
    limit = credentials["password"]["maxLength"]
    assert limit == 128
    for path in ("/api/v1/accounts", "/api/v1/sessions"):
        over = client.post(path, json={"username": "long_pass", "password": "a1" * 65})
        assert over.status_code == 400, (path, over.text)
        assert over.json()["error"]["field"] == "password"
    at_limit = client.post(
        "/api/v1/accounts", json={"username": "long_pass", "password": "a1" * 64}
    )
    assert at_limit.status_code == 201, at_limit.text


def test_a_gate_token_that_is_not_ascii_is_refused_not_a_crash(client: TestClient) -> None:
    sent = {"Authorization": b"Bearer g\xe4te"}  # a Latin-1 byte, as a client may send
    answer = client.get("/api/v1/gate/stations/VNP/bundle", headers=sent)
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]["reason"] == "unauthenticated"


def test_no_operation_documents_422_or_fastapis_validation_shape(client: TestClient) -> None:
    document = schema(client)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for template, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            if operation.get("parameters") or "requestBody" in operation:
                assert "400" in responses, (method, template)
            if "422" in responses:  # only the conductor's manifest answers it
                assert "manifest" in template or "onboard" in template, (method, template)
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    shape = response["content"]["application/json"]["schema"]
                    assert shape == {"$ref": "#/components/schemas/ErrorBody"}, (template, status)
