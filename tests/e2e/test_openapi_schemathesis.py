"""Schemathesis against the real server on loopback, on the schema it serves: every operation
gets a bounded number of generated requests (valid and invalid), sent with a real account's
bearer token (a conductor's staff token, the gate link token where those are asked for), and
every answer is checked: no server error, a documented status, the documented content type,
a body matching the documented schema."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from hashlib import sha256
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from open12306.bootstrap import build
from open12306.config import Settings
from open12306.http.app import create_app
from open12306.http.gates import GATE_TOKEN_ENV
from open12306.http.onboard import STAFF_TOKENS_ENV
from tests.e2e.web_support import _Late
from tests.integration.payments_support import LiveServer

MAX_EXAMPLES = 20
GATE_TOKEN = "gate-link-token-for-schemathesis"
STAFF_TOKEN = "conductor-token-for-schemathesis"
PASSWORD = "fuzzing pass 7"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
examples: Counter[str] = Counter()
answers: Counter[tuple[str, int]] = Counter()


@dataclass
class Live:
    """The server under test and the tokens its callers hold."""

    url: str
    account: str
    spare: list[str] = field(default_factory=list)  # fresh sessions, one per logout case

    def headers_for(self, scheme: str | None) -> dict[str, str]:
        tokens = {"staff": STAFF_TOKEN, "gate": GATE_TOKEN, "account": self.account}
        if scheme is None:
            return {}
        return {"Authorization": f"Bearer {tokens[scheme]}"}


@pytest.fixture(scope="module")
def live(demo_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder = tmp_path_factory.mktemp("schemathesis")
    database = folder / "fuzzed.db"
    shutil.copy(demo_settings.database_url.removeprefix("sqlite:///"), database)
    staff = folder / "staff.txt"
    staff.write_text(f"c1 conductor sha256:{sha256(STAFF_TOKEN.encode()).hexdigest()}\n")
    late = _Late()
    server = LiveServer(late)
    settings_ = replace(  # the copy keeps the demo's keys: its sealed documents open
        demo_settings,
        database_url=f"sqlite:///{database}",
        host="127.0.0.1",
        port=server.port,
        document_key_file=str(demo_settings.document_key_path()),
        document_enc_key_file=str(demo_settings.document_enc_key_path()),
    )
    with pytest.MonkeyPatch.context() as patch:  # read while the routes are wired
        patch.setenv(GATE_TOKEN_ENV, GATE_TOKEN)
        patch.setenv(STAFF_TOKENS_ENV, str(staff))
        patch.setenv("OPEN12306_KEY_DIR", str(folder / "keys"))
        late.app = create_app(build(settings_))
    server.start()
    try:
        yield _signed_in(server.url)
    finally:
        server.stop()


def _signed_in(url: str) -> Live:
    """A registered account, a saved passenger, and sessions to spend (all logged in now,
    before the fuzzing of the login itself trips the per-address login limit)."""
    with httpx.Client(base_url=url, timeout=30) as http:
        credentials = {"username": "fuzz_rider", "password": PASSWORD}
        assert http.post("/api/v1/accounts", json=credentials).status_code == 201
        tokens = [
            http.post("/api/v1/sessions", json=credentials).json()["token"]
            for _ in range(MAX_EXAMPLES * 4 + 1)
        ]
        passenger = {"name": "张三", "id_type": "resident_id", "id_number": "11010519491231002X"}
        saved = http.post(
            "/api/v1/passengers", json=passenger, headers={"Authorization": f"Bearer {tokens[0]}"}
        )
        assert saved.status_code == 201, saved.text
    return Live(url, tokens[0], tokens[1:])


@pytest.fixture(scope="module")
def api_schema(live: Live) -> Any:
    return schemathesis.openapi.from_url(f"{live.url}/openapi.json")


def test_every_answer_is_documented(api_schema: Any, live: Live) -> None:
    failed: dict[str, str] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    for operation in operations:
        try:
            _fuzz(operation, live)
        except (Exception, BaseExceptionGroup) as failure:  # keep going, report them all
            failed[operation.label] = f"{type(failure).__name__}: {failure}"[:2000]
    total = sum(examples.values())
    print(f"\nschemathesis: {len(operations)} operations, {total} requests, {len(failed)} failing")
    for operation in operations:
        seen = sorted(
            (status, n) for (label, status), n in answers.items() if label == operation.label
        )
        print(f"  {operation.label}: " + ", ".join(f"{status}×{n}" for status, n in seen))
    assert not failed, "\n\n".join(f"{label}\n{why}" for label, why in failed.items())
    assert set(examples) == {operation.label for operation in operations}
    assert total >= len(operations) * MAX_EXAMPLES


def _fuzz(operation: Any, live: Live) -> None:
    """Up to MAX_EXAMPLES valid and as many invalid requests to ``operation``."""
    schemes = [name for need in operation.definition.raw.get("security", []) for name in need]
    scheme = schemes[0] if schemes else None
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            headers = live.headers_for(scheme)
            if operation.label == "DELETE /api/v1/sessions/current" and live.spare:
                headers = {"Authorization": f"Bearer {live.spare.pop()}"}
            examples[operation.label] += 1
            response = case.call(base_url=live.url, headers=headers, timeout=30)
            answers[operation.label, response.status_code] += 1
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Unsatisfiable:
            if mode is GenerationMode.POSITIVE:
                raise  # an operation with no invalid input (no parameters, no body) is fine


def test_the_schema_bounds_the_password_as_the_server_does(api_schema: Any) -> None:
    raw = api_schema.raw_schema
    credentials = raw["components"]["schemas"]["Credentials"]["properties"]
    assert credentials["password"]["maxLength"] == 128
    assert credentials["username"]["maxLength"] == 30
