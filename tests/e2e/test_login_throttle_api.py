"""Login throttling over HTTP on a real migrated SQLite database: the attacker's address is
refused, the owner at another address logs in; behind a proxy, X-Forwarded-For counts only
when the proxy is trusted, and its left end (which the client writes) never does."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from open12306.accounts.adapters.accounts_repo import SqlAccountsStore
from open12306.accounts.adapters.document_keyer import HmacDocumentKeyer
from open12306.accounts.adapters.passwords import ScryptHasher
from open12306.accounts.services.accounts import AccountService
from open12306.database.migrate import upgrade
from open12306.http.accounts import accounts_router
from open12306.http.app import _install_error_handlers
from open12306.shared.clock import FixedClock
from tests.integration.payments_support import wait_for

PASSWORD = "rail-pass-2026"
RIGHT = {"username": "zhang_san", "password": PASSWORD}
ATTACKER, OWNER, PROXY = "203.0.113.66", "198.51.100.7", "10.0.0.5"


def wrong(attempt: int) -> dict[str, str]:
    return {"username": "zhang_san", "password": f"wrong-{attempt}-pass"}


class World:
    """One account service on a migrated database and its clock."""

    def __init__(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path}/accounts.db"
        upgrade(url)
        self.clock = FixedClock(datetime(2026, 2, 10, 1, 0, tzinfo=UTC))
        self.service = AccountService(
            SqlAccountsStore.from_url(url),
            ScryptHasher(log_n=4),
            HmacDocumentKeyer(b"s" * 32),
            self.clock,
        )
        self.service.register("zhang_san", PASSWORD)

    def app(self, trusted_proxies: Sequence[str] = ()) -> FastAPI:
        app = FastAPI()
        _install_error_handlers(app)
        app.include_router(accounts_router(lambda: self.service, trusted_proxies))
        return app


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def at(app: FastAPI, address: str) -> TestClient:
    """A client whose socket peer is ``address``."""
    return TestClient(app, client=(address, 40_000))


def assert_throttled(response: Any, field: str = "username") -> int:
    assert response.status_code == 429, response.text
    body = response.json()["error"]
    assert (body["field"], body["reason"]) == (field, "rate_limited")
    assert body["message"].startswith("too many failed logins")
    retry = int(response.headers["retry-after"])
    assert retry > 0 and body["retry_after"] == retry
    return retry


def test_five_wrong_passwords_from_one_address_do_not_lock_the_owner_out(world: World) -> None:
    app = world.app()
    attacker, owner = at(app, ATTACKER), at(app, OWNER)
    for round_ in range(3):  # again and again: each time the attacker's wait ends
        for attempt in range(5 if round_ == 0 else 1):
            refused = attacker.post("/api/v1/sessions", json=wrong(attempt))
            assert refused.status_code == 401, refused.text
        retry = assert_throttled(attacker.post("/api/v1/sessions", json=RIGHT))
        logged_in = owner.post("/api/v1/sessions", json=RIGHT)
        assert logged_in.status_code == 201, logged_in.text
        world.clock.advance(timedelta(seconds=retry))
    assert retry == 240  # 60 s, 120 s, 240 s: the attacker's waits double


def test_behind_a_trusted_proxy_the_forwarded_client_is_throttled(world: World) -> None:
    proxy = at(world.app(trusted_proxies=["10.0.0.0/8"]), PROXY)

    def via_proxy(chain: str, body: dict[str, str]) -> Any:
        return proxy.post("/api/v1/sessions", json=body, headers={"X-Forwarded-For": chain})

    for attempt in range(5):  # the attacker writes its own left end; the proxy appends
        assert via_proxy(f"{OWNER}, {ATTACKER}", wrong(attempt)).status_code == 401
    assert_throttled(via_proxy(ATTACKER, RIGHT))
    assert_throttled(via_proxy(f"{OWNER}, {ATTACKER}", RIGHT))
    assert via_proxy(OWNER, RIGHT).status_code == 201
    # Another proxy in the chain, trusted too: the hop left of it is the client.
    assert_throttled(via_proxy(f"{ATTACKER}, 10.9.9.9", RIGHT))


def test_an_untrusted_peer_cannot_choose_its_address(world: World) -> None:
    app = world.app(trusted_proxies=["10.0.0.0/8"])
    attacker = at(app, ATTACKER)
    for attempt in range(5):
        spoofed = {"X-Forwarded-For": f"192.0.2.{attempt}"}
        answer = attacker.post("/api/v1/sessions", json=wrong(attempt), headers=spoofed)
        assert answer.status_code == 401
    assert_throttled(
        attacker.post("/api/v1/sessions", json=RIGHT, headers={"X-Forwarded-For": OWNER})
    )
    # And without trusted proxies the header is never read, even from a proxy's address.
    direct = at(world.app(), PROXY)
    for attempt in range(5):
        answer = direct.post(
            "/api/v1/sessions", json=wrong(attempt), headers={"X-Forwarded-For": OWNER}
        )
        assert answer.status_code == 401
    assert_throttled(direct.post("/api/v1/sessions", json=RIGHT))
    assert at(world.app(), OWNER).post("/api/v1/sessions", json=RIGHT).status_code == 201


class Loopback:
    """uvicorn as ``open12306 serve`` runs it (no proxy headers), on 127.0.0.1."""

    def __init__(self, app: FastAPI) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", proxy_headers=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> Loopback:
        self.thread.start()
        wait_for(lambda: self.server.started, what="server start")
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()

    def client_from(self, source: str) -> httpx.Client:
        """An HTTP client whose connections leave from ``source`` (any 127.x is loopback)."""
        transport = httpx.HTTPTransport(local_address=source)
        return httpx.Client(base_url=self.url, transport=transport, trust_env=False)


@pytest.fixture
def loopback(world: World) -> Iterator[Loopback]:
    with Loopback(world.app()) as server:
        yield server


def test_over_real_sockets_the_owner_at_another_address_logs_in(loopback: Loopback) -> None:
    with loopback.client_from("127.0.0.2") as attacker, loopback.client_from("127.0.0.3") as owner:
        for attempt in range(5):
            # X-Forwarded-For from a client is ignored: uvicorn and the app both use the peer.
            forged = {"X-Forwarded-For": "127.0.0.3"}
            answer = attacker.post("/api/v1/sessions", json=wrong(attempt), headers=forged)
            assert answer.status_code == 401
        assert_throttled(attacker.post("/api/v1/sessions", json=RIGHT))
        assert owner.post("/api/v1/sessions", json=RIGHT).status_code == 201


def test_open12306_serve_does_not_believe_x_forwarded_for(tmp_path: Path) -> None:
    """``open12306 serve`` as a process: a client on 127.0.0.1 writing a new X-Forwarded-For
    on every attempt is still one client (uvicorn's default would believe 127.0.0.1)."""
    url = f"sqlite:///{tmp_path}/serve.db"
    upgrade(url)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "OPEN12306_DATABASE_URL": url, "OPEN12306_TRUSTED_PROXIES": ""}
    command = [sys.executable, "-c", "from open12306.cli.main import main; main()"]
    server = subprocess.Popen(
        [*command, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False) as http:
            wait_for(lambda: _answers(http), what="open12306 serve", timeout=60)
            assert http.post("/api/v1/accounts", json=RIGHT).status_code == 201
            for attempt in range(5):
                forged = {"X-Forwarded-For": f"192.0.2.{attempt}"}
                answer = http.post("/api/v1/sessions", json=wrong(attempt), headers=forged)
                assert answer.status_code == 401, answer.text
            forged = {"X-Forwarded-For": "192.0.2.99"}
            assert_throttled(http.post("/api/v1/sessions", json=RIGHT, headers=forged))
    finally:
        server.terminate()
        server.wait(timeout=20)


def _answers(http: httpx.Client) -> bool:
    try:
        return http.get("/api/v1/health").status_code == 200
    except httpx.TransportError:
        return False
