"""The real server on loopback with the gate and face routes, for wallet and gate tests.

uvicorn serves ``create_app(build(settings))`` (its gate routes with a gate token) on a free
port, with an issuer key store of its own; orders are paid through the sandbox the app mounts.
``offline_gate`` runs ``open12306 gate run`` in a separate process that has no usable database
URL and whose sockets cannot connect anywhere.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from open12306.bootstrap import build
from open12306.cli.main import app as cli_app
from open12306.config import Settings
from open12306.http.app import create_app
from open12306.http.gates import GATE_TOKEN_ENV
from tests.e2e.test_orders_payment_sandbox import (
    PASSWORD,
    Live,
    _Late,
    held_order,
    pay_at_cashier,
    start_payment,
    wait_state,
)
from tests.e2e.test_orders_payment_sandbox import signed_up as sandbox_signed_up
from tests.integration.payments_support import LiveServer
from tests.unit.accounts_support import resident_id

GATE_TOKEN = "gate-link-token-for-tests"
_riders = itertools.count(501)
SRC = Path(__file__).resolve().parents[2] / "src"
# Loaded by the gate's process before anything else: sockets cannot connect, and a marker
# file proves the guard was in place.
_OFFLINE_GUARD = """
import os, socket

def _refuse(*args, **kwargs):
    raise OSError("network disabled for the offline gate")

socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
open(os.environ["GATE_OFFLINE_MARKER"], "w").close()
"""


@dataclass
class GateLive(Live):
    """The running server, the issuer key store it signs with, a CLI runner."""

    keys: Path = Path()
    cli: CliRunner = field(default_factory=CliRunner)

    def invoke(self, *args: str) -> Any:
        return self.cli.invoke(cli_app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def gate_live(
    demo_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GateLive]:
    keys = tmp_path_factory.mktemp("issuer") / "keys"
    late = _Late()
    server = LiveServer(late)
    settings = replace(demo_settings, host="127.0.0.1", port=server.port)
    with pytest.MonkeyPatch.context() as patch:  # the key store path is read while wiring
        patch.setenv("OPEN12306_KEY_DIR", str(keys))
        patch.setenv(GATE_TOKEN_ENV, GATE_TOKEN)  # read while the gate routes are wired
        container = build(settings)
        app = create_app(container, fast_path=False)
    late.app = app
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30.0) as http:
            yield GateLive(container, http, server.url, keys)
    finally:
        server.stop()


def signed_up(live: GateLive) -> tuple[dict[str, str], str, str]:
    """A fresh account with a saved passenger: auth header, passenger id, username."""
    headers, passenger = sandbox_signed_up(live)
    username = live.http.get("/api/v1/me", headers=headers).json()["username"]
    return headers, passenger, username


@dataclass
class Rider:
    """An account with one saved passenger whose ID number the test knows."""

    headers: dict[str, str]
    passenger: str
    id_number: str


def rider(live: GateLive) -> Rider:
    serial = next(_riders)
    credentials = {"username": f"gater_{serial}", "password": PASSWORD}
    assert live.http.post("/api/v1/accounts", json=credentials).status_code == 201
    token = live.http.post("/api/v1/sessions", json=credentials).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    number = resident_id(f"11010119900307{serial:03d}")
    saved = live.http.post(
        "/api/v1/passengers",
        json={"name": "李明", "id_type": "resident_id", "id_number": number},
        headers=headers,
    )
    assert saved.status_code == 201, saved.text
    return Rider(headers, saved.json()["id"], number)


def paid_ticket(
    live: GateLive, headers: dict[str, str], passenger: str, offset: int = 1
) -> tuple[str, dict[str, Any]]:
    """Order one second-class seat and pay it through the sandbox's Alipay cashier."""
    number = held_order(live, headers, passenger, offset)["number"]
    prompt = start_payment(live, headers, number, channel="alipay", mode="page")
    pay_at_cashier(live, prompt["redirect_url"])
    (ticket,) = wait_state(live, headers, number, "paid")["tickets"]
    return number, ticket


def offline_gate(
    tmp: Path, *args: str, no_face_extra: bool = False
) -> tuple[int, list[dict[str, Any]]]:
    """``open12306 gate run ... --json`` in its own process: no database, no network (and,
    with ``no_face_extra``, no dlib: as on a gate without the face extra)."""
    guard = tmp / "offline-guard"
    guard.mkdir(exist_ok=True)
    hide = "\nimport sys\nsys.modules['dlib'] = None\n" if no_face_extra else ""
    (guard / "sitecustomize.py").write_text(_OFFLINE_GUARD + hide)
    marker = tmp / "guard-was-loaded"
    marker.unlink(missing_ok=True)
    nowhere = tmp / "no-such-dir" / "gate.db"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join([str(guard), str(SRC)]),
        "OPEN12306_DATABASE_URL": f"sqlite:///{nowhere}",
        "GATE_OFFLINE_MARKER": str(marker),
        "HOME": str(tmp),
    }
    command = [sys.executable, "-c", "from open12306.cli.main import main; main()"]
    done = subprocess.run(
        [*command, "gate", "run", *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert marker.exists(), "the offline guard did not load"
    assert not nowhere.parent.exists(), "the gate touched a database"
    assert done.returncode in (0, 3), done.stderr
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()]
