"""Request bodies are bounded and JSON depth is checked before anything parses them: over the
real server on loopback (raw sockets, so the server's own framing is what is tested) and for
every route of the served product, the payment sandbox mounted in it included."""

from __future__ import annotations

import select
import socket
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from fastapi.testclient import TestClient

from open12306.bootstrap import build
from open12306.config import Settings
from open12306.http.app import create_app
from open12306.http.body_guard import (
    DEFAULT_MAX_BODY,
    LIMIT_KEY,
    MAX_JSON_DEPTH,
    json_depth,
)
from open12306.http.faces import MAX_PHOTO_BODY
from open12306.http.gates import MAX_TAPS, MAX_TAPS_BODY
from tests.e2e.web_support import Site, serve

# Routes outside the OpenAPI document that take or could be sent a body.
UNDOCUMENTED = [
    ("POST", "/api/v1/payments/notify/alipay"),
    ("POST", "/api/v1/payments/notify/wechatpay"),
    ("POST", "/paysandbox/sandbox/alipay/paycodes"),
    ("POST", "/paysandbox/v3/pay/transactions/native"),
    ("POST", "/paysandbox/gateway.do"),
    ("GET", "/"),
    ("POST", "/docs"),
    ("POST", "/web/qr.png"),
]
JSON_SANDBOX = ["/paysandbox/sandbox/alipay/paycodes", "/paysandbox/v3/pay/transactions/native"]


@pytest.fixture(scope="module")
def site(demo_settings: Settings) -> Iterator[Site]:
    yield from serve(demo_settings)


@pytest.fixture(scope="module")
def client(demo_settings: Settings) -> TestClient:
    return TestClient(create_app(build(demo_settings)), raise_server_exceptions=False)


def operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, concrete path, operation) for every operation the schema documents."""
    schema = client.get("/openapi.json").json()
    found = []
    for template, item in schema["paths"].items():
        path = template.replace("{", "").replace("}", "")  # /runs/{train} -> /runs/train
        for method, operation in item.items():
            found.append((method.upper(), path, operation))
    return found


def exchange(site: Site, *parts: bytes) -> bytes:
    """Send ``parts`` on one connection, stopping as soon as the server answers (it does not
    read the rest of a refused body), and read the answer."""
    host, port = site.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        for part in parts:
            sock.sendall(part)
            if select.select([sock], [], [], 0.005)[0]:
                break
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:  # the unread rest of the body makes the close a reset
            assert answer, "the server reset the connection without answering"
    return answer


def status_and_error(answer: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), msgspec.json.decode(body)["error"]


def test_a_declared_length_over_the_limit_is_refused_before_the_body_arrives(
    site: Site,
) -> None:
    head = (
        b"POST /api/v1/accounts HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Content-Length: 10485760\r\n\r\n"
    )
    answer = exchange(site, head, b'{"username": "')  # 10 MB announced, 14 bytes sent
    status, error = status_and_error(answer)
    assert status == 413
    assert error["field"] == "body" and error["reason"] == "too_large"
    assert "65536 bytes" in error["message"]
    assert b"connection: close" in answer.lower()


def test_a_chunked_body_is_counted_while_it_is_read(site: Site) -> None:
    head = (
        b"POST /api/v1/accounts HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"400\r\n" + b" " * 1024 + b"\r\n"  # 1 KiB chunks, no length given
    answer = exchange(site, head, *[chunk] * 200)
    status, error = status_and_error(answer)
    assert (status, error["reason"]) == (413, "too_large")


def test_a_chunked_body_under_the_limit_reaches_the_route(site: Site) -> None:
    body = b'{"username": "chunky_rider", "password": "chunked pass 7"}'
    head = (
        b"POST /api/v1/accounts HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    chunks = [
        b"%x\r\n%s\r\n" % (len(body[i : i + 7]), body[i : i + 7]) for i in range(0, len(body), 7)
    ]
    answer = exchange(site, head, *chunks, b"0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 201"), answer[:300]


def test_every_route_refuses_a_body_over_its_limit(client: TestClient) -> None:
    routes = [(m, p, o.get(LIMIT_KEY, DEFAULT_MAX_BODY)) for m, p, o in operations(client)]
    routes += [(m, p, DEFAULT_MAX_BODY) for m, p in UNDOCUMENTED]
    assert len(routes) >= 40
    for method, path, limit in routes:
        answer = client.request(method, path, content=b"x" * (limit + 1))
        assert answer.status_code == 413, (method, path, answer.text[:200])
        assert answer.json()["error"]["reason"] == "too_large", (method, path)


def test_tap_uploads_and_face_photos_have_their_own_documented_bounds(
    client: TestClient,
) -> None:
    documented = {(m, p): o for m, p, o in operations(client)}
    taps = documented[("POST", "/api/v1/gate/taps")]
    face = documented[("POST", "/api/v1/passengers/passenger_id/face")]
    assert (taps[LIMIT_KEY], face[LIMIT_KEY]) == (MAX_TAPS_BODY, MAX_PHOTO_BODY)
    assert "413" in taps["responses"] and "413" in face["responses"]
    assert str(MAX_TAPS_BODY) in taps["responses"]["413"]["description"]
    limits = {o[LIMIT_KEY] for o in documented.values() if LIMIT_KEY in o}
    assert limits == {MAX_TAPS_BODY, MAX_PHOTO_BODY}  # every other route: the default
    # Over the default but within their own limits: the routes themselves answer (no gate
    # link configured here: 503; no bearer token: 401).
    photo = client.post("/api/v1/passengers/p1/face", content=b"\xff\xd8" + b"\0" * 2 * 2**20)
    assert photo.status_code == 401, photo.text[:200]
    batch = {"taps": [_largest_tap(i) for i in range(MAX_TAPS)]}
    encoded = msgspec.json.encode(batch)
    assert DEFAULT_MAX_BODY < len(encoded) <= MAX_TAPS_BODY
    upload = client.post(
        "/api/v1/gate/taps", content=encoded, headers={"content-type": "application/json"}
    )
    assert upload.status_code == 503 and upload.json()["error"]["reason"] == "gate_link_disabled"


def _largest_tap(number: int) -> dict[str, Any]:
    """A tap as ``GateJournal.export_taps`` gives it, with the largest code a gate scans (a
    ride scan code of 229 bytes: 197 + a 32-byte account token) and long identifiers."""
    return {
        "seq": 10_000_000 + number,
        "tap_id": f"{number:0128d}",
        "gate_id": "G" * 64,
        "station": "VNP",
        "direction": "entry",
        "gate_clock": 1_800_000_000_000,
        "kind": "ride",
        "accepted": False,
        "reason": "deny_listed_account",
        "subject": "S" * 64,
        "serial": 2**63 - 1,
        "counter": 2**31 - 1,
        "notes": ["offline", "face_check_skipped", "clock_behind"],
        "code": "ab" * 229,
    }


def test_deep_json_is_a_400_on_every_json_endpoint(client: TestClient) -> None:
    deep = b"[" * 60_000  # under the default limit
    targets = [(m, p) for m, p, o in operations(client) if "requestBody" in o]
    targets += [("POST", path) for path in JSON_SANDBOX]
    targets += [("POST", "/api/v1/payments/notify/wechatpay")]
    assert len(targets) > 10
    for method, path in targets:
        for kind in ("application/json", "text/plain", None):
            headers = {"content-type": kind} if kind else {}
            answer = client.request(method, path, content=deep, headers=headers)
            assert answer.status_code == 400, (method, path, kind, answer.text[:200])
            assert answer.json()["error"] == {
                "field": "body",
                "reason": "too_deep",
                "message": f"JSON nested deeper than {MAX_JSON_DEPTH} levels",
            }
    many = client.post(
        "/api/v1/gate/taps", content=b"[" * 100_000, headers={"content-type": "application/json"}
    )
    assert many.status_code == 400 and many.json()["error"]["reason"] == "too_deep"


def test_nesting_within_the_bound_is_left_to_the_route(client: TestClient) -> None:
    inner = MAX_JSON_DEPTH - 1  # within the object: exactly the bound
    nested = b'{"username": ' + b"[" * inner + b"]" * inner + b"}"
    answer = client.post(
        "/api/v1/accounts", content=nested, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["field"] == "username"


def test_malformed_json_names_the_body(client: TestClient) -> None:
    answer = client.post(
        "/api/v1/accounts", content=b'{"username": }', headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["field"], error["reason"]) == ("body", "malformed_json")


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"{}", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'{"a": "[[[[[[[[[["}', 1),
        (b'["\\"[[[[", ["x"]]', 2),
        (b'"{{{{"', 0),
        (b"[[[]]][]", 3),
    ],
)
def test_json_depth_ignores_brackets_inside_strings(body: bytes, depth: int) -> None:
    assert json_depth(body) == depth
