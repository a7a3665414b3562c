"""`open12306 orders refund` returns the money the way the server does: the command, a process
of its own beside the running embedded server, is the same merchant (credentials kept beside
the database) and calls the sandbox the server mounts. A refund whose money could not go back
is refused before anything is written.

The real server runs under uvicorn on loopback; the order is paid through the Alipay cashier
over HTTP; the command runs as its own process with the deployment's environment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from open12306.config import Settings
from open12306.payments.ports import RefundState
from tests.e2e.test_orders_payment_sandbox import (
    Live,
    held_order,
    pay_at_cashier,
    serve_live,
    signed_up,
    start_payment,
    wait_state,
)


@pytest.fixture(scope="module")
def live(demo_settings: Settings) -> Iterator[Live]:
    yield from serve_live(demo_settings)


def command(live: Live, *args: str) -> subprocess.CompletedProcess[str]:
    """``open12306 …`` as the operator runs it: the deployment's database and address."""
    settings = live.container.settings
    env = {
        **os.environ,
        "OPEN12306_DATABASE_URL": settings.database_url,
        "OPEN12306_HOST": settings.host,
        "OPEN12306_PORT": str(settings.port),
    }
    return subprocess.run(
        [str(Path(sys.executable).with_name("open12306")), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def paid_by_alipay(live: Live, offset: int) -> tuple[dict[str, str], str, dict[str, Any]]:
    headers, passenger = signed_up(live)
    number = held_order(live, headers, passenger, offset=offset)["number"]
    prompt = start_payment(live, headers, number, channel="alipay", mode="page")
    pay_at_cashier(live, prompt["redirect_url"])
    return headers, number, wait_state(live, headers, number, "paid")["tickets"][0]


def test_a_refund_from_the_command_line_goes_back_through_alipay(live: Live) -> None:
    _, number, ticket = paid_by_alipay(live, offset=8)
    done = command(live, "orders", "refund", number, ticket["number"], "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    answer = json.loads(done.stdout)
    assert answer["channel"] == "alipay" and answer["refund_fen"] > 0
    [refund] = answer["refunds"]
    assert (refund["channel"], refund["state"]) == ("alipay", "done")
    assert refund["amount_fen"] == answer["refund_fen"]
    alipay = live.container.settlement.providers["alipay"]  # type: ignore[union-attr]
    at_channel = alipay.refund_status(number, refund["refund_no"])
    assert at_channel.state is RefundState.SUCCEEDED
    assert at_channel.amount_fen == answer["refund_fen"]
    assert all(
        r.refund_no != refund["refund_no"] for r in live.container.settlement.refund_retry.failed()
    )  # type: ignore[union-attr]


def test_a_refund_that_cannot_reach_the_payer_is_an_error_and_writes_nothing(
    live: Live,
) -> None:
    headers, number, ticket = paid_by_alipay(live, offset=9)
    folder = live.container.settings.sandbox_dir()
    aside = folder.with_name(folder.name + ".aside")
    shutil.move(folder, aside)  # as on a machine where the server never ran
    try:
        refused = command(live, "orders", "refund", number, ticket["number"])
    finally:
        shutil.move(aside, folder)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("error: channel: ") and "alipay" in line
    after = live.http.get(f"/api/v1/orders/{number}", headers=headers).json()
    assert after["tickets"][0]["state"] == "issued"
    assert after["refunded_fen"] == 0
