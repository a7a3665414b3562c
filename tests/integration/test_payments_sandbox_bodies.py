"""No body makes the sandbox answer 500: deep-nested, truncated or mistyped JSON, bytes that
are not UTF-8 and forms it cannot read get a 4xx in each endpoint's own error shape, at every
endpoint, over real HTTP; and requests properly signed by the merchant carrying arbitrary
JSON (Hypothesis) are refused cleanly too."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from open12306.payments.adapters.sandbox import Sandbox, SandboxConfig, create_sandbox, keys
from open12306.payments.adapters.sandbox.alipay_gateway import sign_content
from open12306.payments.adapters.sandbox.config import SHANGHAI
from open12306.payments.adapters.sandbox.demo import MerchantCredentials
from open12306.payments.adapters.sandbox.wechat_api import SCHEME
from tests.integration.payments_support import ADMIN, ADMIN_TOKEN, servers

NOW = datetime(2026, 2, 10, 9, 30, tzinfo=SHANGHAI)
CREDS = MerchantCredentials.generate()
DEEP_LIST = b"[" * 100_000
DEEP_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
BAD_BODIES = [
    DEEP_LIST,
    DEEP_OBJECT,
    b'{"app_id": ' + b"[" * 5000,
    b"\xff\xfe\x00garbage",
    b"{",
    b"[]",
    b'"text"',
    b"null",
    b"1e999",
    b'{"times": 1e400, "api": "alipay.trade.refund"}',
    b'{"times": ' + b"9" * 5000 + b"}",
    b'{"app_id": {"x": 1}, "app_public_key": ["pem"]}',
    b'{"mchid": "1", "serial_no": 5, "public_key": "-----BEGIN PUBLIC KEY-----\\nAAAA", '
    b'"apiv3_key": "\\ud800"}',
    b'{"buyer_id": [1], "needs_password": "yes"}',
    b"a=%ff%fe&b=%%%",
]
CONTENT_TYPES = [
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "text/plain",
]
# Every route of the sandbox, with a path for its parameters. HTML pages (the cashier) answer
# HTML; everything else answers JSON.
ENDPOINTS = [
    ("GET", "/gateway.do"),
    ("POST", "/gateway.do"),
    ("POST", "/v3/pay/transactions/native"),
    ("GET", "/v3/pay/transactions/out-trade-no/E1"),
    ("GET", "/v3/pay/transactions/id/4200"),
    ("POST", "/v3/pay/transactions/out-trade-no/E1/close"),
    ("POST", "/v3/refund/domestic/refunds"),
    ("GET", "/v3/refund/domestic/refunds/R1"),
    ("GET", "/cashier/alipay/2026"),
    ("POST", "/cashier/alipay/2026/pay"),
    ("POST", "/cashier/alipay/2026/cancel"),
    ("GET", "/cashier/wechatpay/wx1"),
    ("POST", "/cashier/wechatpay/wx1/pay"),
    ("POST", "/cashier/wechatpay/wx1/cancel"),
    ("POST", "/sandbox/alipay/paycodes"),
    ("GET", "/sandbox/alipay/paycode"),
    ("GET", "/sandbox/keys"),
    ("GET", "/sandbox/notifications"),
    ("POST", "/sandbox/notifications/n1/redeliver"),
    ("POST", "/sandbox/alipay/apps"),
    ("POST", "/sandbox/wechatpay/merchants"),
    ("POST", "/sandbox/faults"),
    ("PUT", "/sandbox/faults"),
    ("POST", "/nowhere"),
]


def make_sandbox() -> Sandbox:
    return create_sandbox(
        SandboxConfig(
            alipay_apps=[CREDS.alipay_app()],
            wechat_merchants=[CREDS.wechat_merchant()],
            admin_token=ADMIN_TOKEN,
            clock=lambda: NOW,
        )
    )


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[Sandbox, httpx.Client]]:
    sandbox = make_sandbox()
    for [server] in servers(sandbox.app):
        with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as http:
            yield sandbox, http


HTML_PAGES = ("/cashier/", "/sandbox/alipay/paycode")


def assert_clean_refusal(answer: httpx.Response, method: str, path: str) -> None:
    assert answer.status_code < 500, (path, answer.status_code, answer.text[:300])
    if (method == "GET" and path.startswith(HTML_PAGES)) or path.startswith("/cashier/"):
        assert answer.headers["content-type"].startswith("text/html")
        return
    assert answer.headers["content-type"].startswith("application/json"), answer.text[:200]
    document = answer.json()
    if path.startswith("/sandbox/") and answer.status_code >= 400:
        assert set(document["error"]) == {"field", "reason", "message"}


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_no_malformed_body_gives_a_500_anywhere(
    live: tuple[Sandbox, httpx.Client], method: str, path: str
) -> None:
    sandbox, http = live
    # Content types matter to the gateway's form reading; the token to the setup routes.
    types = CONTENT_TYPES if path == "/gateway.do" else CONTENT_TYPES[:1]
    auth = ADMIN if path.startswith("/sandbox/") else {}
    for body in BAD_BODIES:
        for content_type in types:
            headers = {"content-type": content_type, **auth}
            answer = http.request(method, path, content=body, headers=headers)
            assert_clean_refusal(answer, method, path)
    assert sandbox.registry.alipay_ids() == [CREDS.alipay_app_id]
    assert sandbox.faults.pending() == {}


def test_deep_nesting_is_named_in_the_answer(live: tuple[Sandbox, httpx.Client]) -> None:
    _, http = live
    for path in ("/sandbox/alipay/apps", "/sandbox/faults", "/sandbox/alipay/paycodes"):
        answer = http.post(path, content=DEEP_LIST, headers=ADMIN)
        assert answer.status_code == 400
        assert answer.json()["error"] == {
            "field": "body",
            "reason": "too_deep",
            "message": "body nests too deeply",
        }
    fault = http.post("/sandbox/faults", json={"api": "x", "times": 1.5}, headers=ADMIN)
    assert fault.json()["error"]["field"] == "times"
    app = http.post(
        "/sandbox/alipay/apps", json={"app_id": "2021", "app_public_key": "x"}, headers=ADMIN
    )
    assert (app.status_code, app.json()["error"]["field"]) == (400, "app_public_key")


# --- properly signed requests carrying anything ------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=2)
    | st.sampled_from(["1.00", "0.01", "100000000.01", "-1", "1e3", "12.345", "E1", "R1"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)
PAID = "E000000001"  # a paid trade on both channels (set up below), to reach the refunds
ALIPAY_TEMPLATE: dict[str, Any] = {
    "out_trade_no": PAID,
    "subject": "G1 北京南-上海虹桥",
    "total_amount": "100.00",
    "refund_amount": "1.00",
    "out_request_no": f"{PAID}-R1",
    "scene": "bar_code",
    "auth_code": "281234567890123456",
    "extend_params": {"hb_fq_num": "3", "hb_fq_seller_percent": "0"},
    "passback_params": "x",
    "trade_no": "2026021022001000000000000001",
}
WECHAT_TEMPLATE: dict[str, Any] = {
    "mchid": CREDS.wechat_mchid,
    "appid": CREDS.wechat_appid,
    "description": "G1",
    "out_trade_no": PAID,
    "out_refund_no": f"{PAID}-R1",
    "notify_url": "http://127.0.0.1:9/notify",
    "amount": {"total": 10000, "refund": 1, "currency": "CNY"},
    "attach": "x",
    "reason": "x",
}


def perturbed(template: dict[str, Any]) -> st.SearchStrategy[Any]:
    """The template with some fields dropped and some replaced by anything (or anything)."""
    names = sorted(template)
    changed = st.tuples(
        st.sets(st.sampled_from(names)),
        st.dictionaries(st.sampled_from(names), values, max_size=3),
    ).map(lambda t: {k: v for k, v in template.items() if k not in t[0]} | t[1])
    return st.one_of(changed, values)


alipay_biz = perturbed(ALIPAY_TEMPLATE)
wechat_body = st.one_of(
    perturbed(WECHAT_TEMPLATE),
    perturbed(WECHAT_TEMPLATE["amount"]).map(lambda a: WECHAT_TEMPLATE | {"amount": a}),
)
ALIPAY_METHODS = [
    "alipay.trade.query",
    "alipay.trade.refund",
    "alipay.trade.fastpay.refund.query",
    "alipay.trade.close",
    "alipay.trade.precreate",
    "alipay.trade.pay",
    "alipay.trade.page.pay",
    "alipay.trade.wap.pay",
    "alipay.nothing",
]
WECHAT_CALLS = [
    ("POST", "/v3/pay/transactions/native"),
    ("POST", f"/v3/pay/transactions/out-trade-no/{PAID}/close"),
    ("POST", "/v3/pay/transactions/out-trade-no/E000000009/close"),
    ("POST", "/v3/refund/domestic/refunds"),
    ("GET", f"/v3/pay/transactions/out-trade-no/{PAID}?mchid={CREDS.wechat_mchid}"),
    ("GET", f"/v3/pay/transactions/out-trade-no/{PAID}?mchid=1"),
    ("GET", f"/v3/refund/domestic/refunds/{PAID}-R1"),
]
SANDBOX = make_sandbox()
CLIENT = TestClient(SANDBOX.app)  # in process: an exception would surface as itself
ALIPAY_KEY = keys.load_private(CREDS.alipay_private_key_pem)
WECHAT_KEY = keys.load_private(CREDS.wechat_private_key_pem)


def _pay_both_channels(sandbox: Sandbox) -> None:
    """A paid trade of 100.00 on each channel (straight in the ledgers: no notification)."""
    alipay = sandbox.alipay.ledger.open(
        CREDS.alipay_app_id, ALIPAY_TEMPLATE, "FAST_INSTANT_TRADE_PAY", None, None
    )
    assert sandbox.alipay.ledger.pay(alipay.trade_no) is not None
    wechat = sandbox.wechat.ledger.native(CREDS.wechat_mchid, WECHAT_TEMPLATE)
    assert sandbox.wechat.ledger.pay(wechat.prepay_id) is not None


_pay_both_channels(SANDBOX)


def signed_alipay(method: str, biz: Any) -> dict[str, str]:
    params = {
        "app_id": CREDS.alipay_app_id,
        "method": method,
        "charset": "utf-8",
        "sign_type": "RSA2",
        "timestamp": "2026-02-10 09:30:00",
        "version": "1.0",
        "notify_url": "http://127.0.0.1:9/notify",
        "biz_content": json.dumps(biz),
    }
    params["sign"] = keys.sign(ALIPAY_KEY, sign_content(params, drop_sign_type=False))
    return params


def wechat_authorization(method: str, path: str, body: str) -> str:
    stamp, nonce = str(int(NOW.timestamp())), secrets.token_hex(8)
    signature = keys.sign(WECHAT_KEY, f"{method}\n{path}\n{stamp}\n{nonce}\n{body}\n")
    return (
        f'{SCHEME} mchid="{CREDS.wechat_mchid}",nonce_str="{nonce}",signature="{signature}",'
        f'timestamp="{stamp}",serial_no="{CREDS.wechat_serial_no}"'
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(method=st.sampled_from(ALIPAY_METHODS), biz=alipay_biz, post=st.booleans())
# A lone surrogate parses as JSON but cannot be signed back in the answer.
@example(
    "alipay.trade.precreate",
    {"out_trade_no": "\ud800E1", "subject": "x", "total_amount": "1"},
    False,
)
def test_signed_gateway_calls_with_any_biz_content_are_answered_not_crashed(
    method: str, biz: Any, post: bool
) -> None:
    params = signed_alipay(method, biz)
    if post:
        answer = CLIENT.post(
            "/gateway.do",
            content=urlencode(params),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    else:
        answer = CLIENT.get(f"/gateway.do?{urlencode(params)}")
    assert answer.status_code < 500, answer.text[:300]
    if answer.headers["content-type"].startswith("application/json"):
        response = answer.json()
        assert set(response) <= {method.replace(".", "_") + "_response", "error_response", "sign"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(call=st.sampled_from(WECHAT_CALLS), body=wechat_body)
# Trade numbers that are not strings used to reach a dict lookup (unhashable: a 500).
@example(("POST", "/v3/refund/domestic/refunds"), WECHAT_TEMPLATE | {"out_trade_no": [1]})
@example(("POST", "/v3/refund/domestic/refunds"), WECHAT_TEMPLATE | {"transaction_id": {}})
@example(("POST", "/v3/pay/transactions/native"), WECHAT_TEMPLATE | {"description": "\udfff"})
def test_signed_wechat_calls_with_any_body_are_answered_not_crashed(
    call: tuple[str, str], body: Any
) -> None:
    method, path = call
    text = json.dumps(body) if method == "POST" else ""
    headers = {
        "Authorization": wechat_authorization(method, path, text),
        "content-type": "application/json",
    }
    answer = CLIENT.request(method, path, content=text.encode(), headers=headers)
    assert answer.status_code < 500 or answer.json()["code"] == "SYSTEM_ERROR", answer.text[:300]
    if answer.status_code >= 400:
        assert set(answer.json()) == {"code", "message"}


@settings(max_examples=100, deadline=None)
@given(
    path=st.sampled_from(
        ["/sandbox/alipay/apps", "/sandbox/wechatpay/merchants", "/sandbox/faults"]
    ),
    body=values,
)
def test_setup_calls_with_any_json_are_answered_in_the_error_shape(path: str, body: Any) -> None:
    answer = CLIENT.post(path, content=json.dumps(body).encode(), headers=ADMIN)
    assert answer.status_code in (200, 201, 400, 409), answer.text[:300]
    if answer.status_code >= 400:
        assert set(answer.json()["error"]) == {"field", "reason", "message"}
    assert SANDBOX.registry.alipay_ids() == [CREDS.alipay_app_id]
