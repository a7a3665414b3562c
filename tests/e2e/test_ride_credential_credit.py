"""``POST /api/v1/ride/credentials`` asks the account's credit assessment (``TransitCredit``,
wired by ``bootstrap._wire_ride``) before it issues a ride credential.

uvicorn serves ``create_app(build(settings))`` on loopback over a fresh database; the pay-later
settlement writes to that database as ``open12306 transit settle`` does. A new account gets a
credential with the pay-later flag and the lowest offline limit; a failed daily charge puts it
in arrears → 403 ``arrears``; once the debt is paid through the server's own (embedded sandbox)
Alipay channel, it gets one again. Two failures repaid late leave no arrears but a score below
the threshold → 403 ``score_too_low``.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from open12306.bootstrap import Container, build
from open12306.catalog.adapters.corridor_data import load_corridors
from open12306.config import Settings
from open12306.database.migrate import upgrade
from open12306.http.app import create_app
from open12306.shared.clock import FixedClock
from open12306.transit.adapters.transit_repo import SqlTransitStore
from open12306.transit.domain import Tap, TapDirection, railway_operator, service_day_bounds
from open12306.transit.services.credit_line import CreditLineCharger, TransitCredit
from open12306.transit.services.day_settlement import DebtPayments, TransitSettlement
from open12306.travel.domain.codes import CredentialFlags, open_credential
from tests.e2e.test_orders_payment_sandbox import _Late
from tests.integration.payments_support import LiveServer, cashier_actions, wait_for

PASSWORD = "rail-pass-2026"
RAIL = railway_operator(
    "rail", next(c for c in load_corridors() if c.id == "jinghu-hsr"), train_type="G"
)
_serial = itertools.count(1)
pytestmark = pytest.mark.operator_day


@dataclass
class Server:
    container: Container
    http: httpx.Client
    url: str
    database_url: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder: Path = tmp_path_factory.mktemp("credit-api")
    url = f"sqlite:///{folder}/app.db"
    upgrade(url)
    late = _Late()
    live = LiveServer(late)
    settings = replace(Settings.from_env(), database_url=url, host="127.0.0.1", port=live.port)
    with pytest.MonkeyPatch.context() as patch:  # read while wiring: the issuer's key store
        patch.setenv("OPEN12306_KEY_DIR", str(folder / "keys"))
        for name in ("OPEN12306_ALIPAY_APP_ID", "OPEN12306_WECHATPAY_MCHID"):
            patch.delenv(name, raising=False)  # embedded mode: the app mounts the sandbox
        container = build(settings)
        late.app = create_app(container)
    live.start()
    try:
        with httpx.Client(base_url=live.url, timeout=30.0, trust_env=False) as http:
            yield Server(container, http, live.url, url)
    finally:
        live.stop()


def signed_up(server: Server) -> dict[str, str]:
    credentials = {"username": f"credit_{next(_serial)}", "password": PASSWORD}
    assert server.http.post("/api/v1/accounts", json=credentials).status_code == 201
    token = server.http.post("/api/v1/sessions", json=credentials).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def ask(server: Server, headers: dict[str, str]) -> httpx.Response:
    device = Ed25519PrivateKey.generate().public_key()
    raw = device.public_bytes(Encoding.Raw, PublicFormat.Raw)
    body = {"device_public_key": base64.b64encode(raw).decode(), "hours": 24}
    return server.http.post("/api/v1/ride/credentials", json=body, headers=headers)


def issued(server: Server, headers: dict[str, str]) -> dict[str, Any]:
    answer = ask(server, headers)
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    assert body["flags"] == ["pay_later"]
    credential = open_credential(base64.b64decode(body["credential"])).value
    assert credential.flags == CredentialFlags.PAY_LATER
    assert credential.offline_credit_limit == body["offline_credit_limit_fen"]
    assert credential.account_token.hex() == body["account_token"]
    return body


def refused(server: Server, headers: dict[str, str]) -> str:
    answer = ask(server, headers)
    assert answer.status_code == 403, answer.text
    reason: str = answer.json()["error"]["reason"]
    return reason


def fail_a_day(server: Server, account: str, day: date, at: datetime) -> int:
    """Settle ``day`` with a Beijing South → Shanghai Hongqiao ride at clock ``at``: above the
    account's credit limit (or blocked by an earlier failure), so the charge fails."""
    clock = FixedClock(at)
    store = SqlTransitStore.from_url(server.database_url, clock.now)
    start = service_day_bounds(day)[0] + 3 * 3600
    store.receive_taps(
        [
            Tap(f"{account}/{day}/in", account, "rail", "VNP", TapDirection.ENTRY, start),
            Tap(f"{account}/{day}/out", account, "rail", "AOH", TapDirection.EXIT, start + 18_000),
        ]
    )
    charger = CreditLineCharger(store, store.deny_list, TransitCredit(store, clock), clock)
    totals = TransitSettlement(
        store, {"rail": RAIL}, charger, store.deny_list, store.arrears
    ).settle(day)
    assert totals.failed_accounts == 1 and totals.charged_fen == 0
    return totals.failed_fen


def repay_through_alipay(server: Server, account: str, at: datetime) -> None:
    """Pay all of the account's debts through the server's Alipay channel and its cashier."""
    settlement = server.container.settlement
    assert settlement is not None
    store = SqlTransitStore.from_url(server.database_url, FixedClock(at).now)
    service = DebtPayments(
        store, store.deny_list, store.arrears, settlement.providers, FixedClock(at)
    )
    started = service.pay(account, "alipay")
    assert started.state == "started" and started.qr_content is not None
    assert started.qr_content.startswith(f"{server.url}/paysandbox/")
    page = server.http.get(started.qr_content, follow_redirects=True)
    assert page.status_code == 200, page.text
    assert server.http.post(str(page.url.join(cashier_actions(page.text)["pay"]))).status_code in (
        200,
        303,
    )
    # the channel's notification may have settled it already (the server handles debt trades)
    wait_for(lambda: service.pay(account, "alipay").owed_fen == 0, what="the debt paid")
    assert service.pay(account, "alipay").state == "nothing_owed"
    assert account not in store.deny_list.accounts()


def test_a_new_account_gets_a_pay_later_credential(server: Server) -> None:
    body = issued(server, signed_up(server))
    assert (body["offline_credit_limit_fen"], body["credit_score"]) == (2_000, 600)
    assert body["valid_until"] - body["valid_from"] == 24 * 3600


def test_arrears_refuse_a_credential_until_the_debt_is_paid(server: Server) -> None:
    headers = signed_up(server)
    account = issued(server, headers)["account_token"]
    now = server.container.clock.now()  # the server's clock: the operator's zone
    owed = fail_a_day(server, account, (now - timedelta(days=1)).date(), now)
    assert owed > 50_000

    assert refused(server, headers) == "arrears"
    assert refused(server, headers) == "arrears"  # asking again changes nothing

    repay_through_alipay(server, account, server.container.clock.now())
    again = issued(server, headers)
    assert again["account_token"] == account
    assert again["offline_credit_limit_fen"] == 2_000
    assert again["credit_score"] == 590  # one failure, repaid on time: -10


def test_failures_repaid_late_refuse_for_a_low_score(server: Server) -> None:
    headers = signed_up(server)
    account = issued(server, headers)["account_token"]
    failed_at = server.container.clock.now() - timedelta(days=20)
    for days_before in (2, 1):
        day = (failed_at - timedelta(days=days_before)).date()
        fail_a_day(server, account, day, failed_at)
    assert refused(server, headers) == "arrears"

    repay_through_alipay(server, account, failed_at + timedelta(days=10))  # grace is 7 days
    assert refused(server, headers) == "score_too_low"
    unrelated = signed_up(server)
    assert issued(server, unrelated)["credit_score"] == 600  # another account is not touched


def test_a_rider_pays_the_debt_over_http_and_the_notification_clears_it(server: Server) -> None:
    headers = signed_up(server)
    account = issued(server, headers)["account_token"]
    now = server.container.clock.now()  # the server's clock: the operator's zone
    owed = fail_a_day(server, account, (now - timedelta(days=2)).date(), now)
    listed = server.http.get("/api/v1/ride/debts", headers=headers).json()
    assert listed["owed_fen"] == owed and len(listed["debts"]) == 1
    bad = server.http.post("/api/v1/ride/debts/payments", json={"channel": "cash"}, headers=headers)
    assert (bad.status_code, bad.json()["error"]["reason"]) == (400, "unknown_channel")

    started = server.http.post(
        "/api/v1/ride/debts/payments", json={"channel": "alipay"}, headers=headers
    )
    assert started.status_code == 201, started.text
    body = started.json()
    assert (body["state"], body["amount_fen"]) == ("started", owed)
    page = server.http.get(body["qr_content"] or body["redirect_url"], follow_redirects=True)
    assert server.http.post(str(page.url.join(cashier_actions(page.text)["pay"]))).status_code in (
        200,
        303,
    )
    # nobody asks again: the sandbox's notification reaches the server and clears the debt
    wait_for(
        lambda: server.http.get("/api/v1/ride/debts", headers=headers).json()["owed_fen"] == 0,
        what="the debt cleared by the channel's notification",
    )
    store = SqlTransitStore.from_url(server.database_url)
    assert account not in store.deny_list.accounts()
    again = server.http.post(
        "/api/v1/ride/debts/payments", json={"channel": "alipay"}, headers=headers
    )
    assert (again.status_code, again.json()["state"]) == (200, "nothing_owed")
    assert issued(server, headers)["account_token"] == account
