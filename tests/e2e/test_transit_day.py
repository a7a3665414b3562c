"""A transit day end to end through the command line, on a temporary database.

Wallet credentials and per-scan codes → gates at walk-up railway stations (Beijing South,
Shanghai Hongqiao) and at a city metro → journals → ``gate sync`` to a collector →
``transit settle``: one charge per account, the metro's daily cap applied, the long railway
ride above a new account's monthly credit limit fails → arrears → the next bundle's deny
list refuses that rider → ``transit pay-debt`` through a channel → the next bundle admits.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from open12306.catalog.adapters.corridor_data import load_corridors
from open12306.cli import transit as cli_transit
from open12306.cli.main import app
from open12306.cli.transit import transit_app
from open12306.database.migrate import upgrade
from open12306.payments.ports import (
    PaymentOptions,
    PaymentPrompt,
    PaymentStatus,
)
from open12306.payments.ports import TradeState as PaymentState
from open12306.transit.domain import railway_operator

NOW = 1_800_000_000  # 2027-01-15 16:00 Beijing time: service day 2027-01-15
DAY = "2027-01-15"
METRO = ["MXA", "MXB", "MXC", "MXD"]  # 5 km apart: MXA→MXD is 15 km, 5 yuan
OPERATORS = {
    "operators": [
        {"id": "rail", "kind": "railway", "corridor": "jinghu-hsr", "train_type": "G"},
        {
            "id": "metro",
            "kind": "metro",
            "edges": [[a, b, 5_000] for a, b in itertools.pairwise(METRO)],
            "caps": {"daily_fen": 1_000},
        },
    ]
}


def run(application: Any, *args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(application, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def ok(*args: object) -> str:
    code, out, err = run(app, *args)
    assert code == 0, out + err
    return out


def transit(*args: object) -> str:
    code, out, err = run(transit_app, *args)
    assert code == 0, out + err
    return out


class Channel:
    """A payment channel as the port sees it: a trade is pending until the rider pays."""

    def __init__(self) -> None:
        self.trades: dict[str, tuple[int, bool]] = {}

    @property
    def name(self) -> str:
        return "alipay"

    def prepare(
        self, order_no: str, amount_fen: int, subject: str, options: PaymentOptions
    ) -> PaymentPrompt:
        self.trades[order_no] = (amount_fen, False)
        return PaymentPrompt("alipay", order_no, qr_content=f"https://qr.example/{order_no}")

    def pay(self, order_no: str) -> None:
        amount, _ = self.trades[order_no]
        self.trades[order_no] = (amount, True)

    def query(self, order_no: str) -> PaymentStatus:
        if order_no not in self.trades:
            return PaymentStatus("alipay", order_no, PaymentState.NOT_FOUND)
        amount, paid = self.trades[order_no]
        state = PaymentState.PAID if paid else PaymentState.PENDING
        return PaymentStatus("alipay", order_no, state, amount_fen=amount)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    url = f"sqlite:///{tmp_path}/transit.db"
    upgrade(url)
    monkeypatch.setenv("OPEN12306_DATABASE_URL", url)
    channel = Channel()
    monkeypatch.setattr(cli_transit, "providers", lambda: {"alipay": channel})
    keys = tmp_path / "keys"
    ok("keys", "init", "--dir", keys)
    operators = tmp_path / "operators.json"
    operators.write_text(json.dumps(OPERATORS))
    wallets = {}
    for rider in ("ann", "bo"):
        wallet = tmp_path / rider
        ok("wallet", "init", "--dir", wallet)
        ok("wallet", "credential", "--keys", keys, "--dir", wallet, "--now", NOW - 3600)
        wallets[rider] = wallet
    return {
        "tmp": tmp_path,
        "keys": keys,
        "operators": operators,
        "wallets": wallets,
        "channel": channel,
        "collector": tmp_path / "collector.db",
    }


def account_of(wallet: Path) -> str:
    out = ok("wallet", "code", "--dir", wallet, "--png", wallet / "probe.png", "--now", NOW)
    assert "scan code" in out
    from open12306.travel.adapters.qr import read_qr_png
    from open12306.travel.domain.codes import open_scan

    return open_scan(read_qr_png(wallet / "probe.png")).credential.value.account_token.hex()


def bundle(world: Mapping[str, Any], station: str, *deny: str) -> Path:
    out = world["tmp"] / f"bundle-{station}.json"
    flags = [x for token in deny for x in ("--deny-account", token)]
    args = ["gate", "bundle", "--keys", world["keys"], "--station", station, "--out", out]
    ok(*args, "--keys-only", *flags)
    return out


def tap(
    world: Mapping[str, Any], rider: str, station: str, direction: str, at: int
) -> dict[str, Any]:
    """The rider makes a fresh code and shows it to the station's gate."""
    wallet = world["wallets"][rider]
    image = wallet / f"{station}-{at}.png"
    hint = "--entry" if direction == "entry" else "--exit"
    ok("wallet", "code", "--dir", wallet, "--png", image, hint, "--now", at)
    held = world["tmp"] / f"bundle-{station}.json"
    if not held.exists():
        bundle(world, station)
    journal = world["tmp"] / f"journal-{station}.db"
    args = ["gate", "run", image, "--station", station, "--bundle", held, "--journal", journal]
    code, out, err = run(app, *args, "--direction", direction, "--now", at + 2, "--json")
    assert code in (0, 3), err
    result: dict[str, Any] = json.loads(out.splitlines()[0])
    return result


def sync_all(world: Mapping[str, Any]) -> None:
    for journal in sorted(world["tmp"].glob("journal-*.db")):
        ok("gate", "sync", "--journal", journal, "--collector", world["collector"])


def settle(world: Mapping[str, Any], now: int) -> dict[str, Any]:
    out = transit(
        "settle",
        *("--date", DAY, "--operators", world["operators"]),
        *("--collector", world["collector"], "--json", "--now", now),
    )
    totals: dict[str, Any] = json.loads(out)
    return totals


def rail_fare() -> int:
    corridor = next(c for c in load_corridors() if c.id == "jinghu-hsr")
    fare = railway_operator("rail", corridor, train_type="G").fare("VNP", "AOH")
    assert fare is not None
    return fare


def test_a_day_of_rides_is_charged_capped_and_arrears_block_until_paid(
    world: dict[str, Any],
) -> None:
    ann, bo = account_of(world["wallets"]["ann"]), account_of(world["wallets"]["bo"])
    clock = NOW
    # three 5-yuan metro rides, there and back and there again: 15 yuan, capped at 10
    for origin, destination in (("MXA", "MXD"), ("MXD", "MXA"), ("MXA", "MXD")):
        assert tap(world, "ann", origin, "entry", clock)["reason"] == "ok"
        assert tap(world, "ann", destination, "exit", clock + 1_200)["reason"] == "ok"
        clock += 2_400
    assert tap(world, "bo", "VNP", "entry", NOW)["accepted"]
    assert tap(world, "bo", "AOH", "exit", NOW + 5 * 3600)["accepted"]
    sync_all(world)
    sync_all(world)  # uploading twice changes nothing

    totals = settle(world, NOW + 12 * 3600)
    fare = rail_fare()
    assert fare > 50_000  # above a new account's monthly credit limit (500 yuan)
    assert (totals["accounts"], totals["journeys"], totals["received_taps"]) == (2, 4, 8)
    assert totals["charged_fen"] == 1_000
    assert totals["capped_savings_fen"] == 500
    assert (totals["failed_fen"], totals["failed_accounts"]) == (fare, 1)
    again = settle(world, NOW + 13 * 3600)  # a day is charged once
    assert (again["charged_fen"], again["failed_fen"], again["corrections"]) == (0, 0, 0)

    [owing] = json.loads(transit("arrears", "--json"))
    assert (owing["account"], owing["owed_fen"], owing["denied"]) == (bo, fare, True)
    assert transit("deny-list").split() == [bo]

    later = NOW + 20 * 3600
    bundle(world, "VNP", *transit("deny-list").split())
    refused = tap(world, "bo", "VNP", "entry", later)
    assert (refused["accepted"], refused["reason"]) == (False, "deny_listed")
    assert tap(world, "ann", "VNP", "entry", later + 10)["accepted"]

    started = transit("pay-debt", bo)
    assert "started" in started and "https://qr.example/" in started
    assert "not paid yet" in transit("pay-debt", bo)
    [number] = world["channel"].trades
    world["channel"].pay(number)
    assert "removed from the deny list" in transit("pay-debt", bo)
    assert json.loads(transit("arrears", "--json")) == []
    assert transit("deny-list").split() == []
    assert "owes nothing" in transit("pay-debt", bo)

    bundle(world, "VNP", *transit("deny-list").split())
    admitted = tap(world, "bo", "VNP", "entry", later + 60)
    assert (admitted["accepted"], admitted["reason"]) == (True, "ok")
    assert ann != bo


def test_bad_input_is_one_line_and_exit_2(world: dict[str, Any]) -> None:
    cases = [
        ("settle", "--date", "2027-13-01", "--operators", world["operators"]),
        ("settle", "--date", DAY, "--operators", world["tmp"] / "missing.json"),
        ("settle", "--date", DAY, "--operators", world["operators"], "--collector", "nope.db"),
        ("pay-debt", "not-hex"),
        ("pay-debt", "ab", "--channel", "cash"),
    ]
    bad = world["tmp"] / "bad.json"
    bad.write_text('{"operators": [{"id": "x", "kind": "tram"}]}')
    cases.append(("settle", "--date", DAY, "--operators", bad))
    for case in cases:
        code, _, err = run(transit_app, *case)
        assert code == 2, (case, err)
        assert err.count("\n") == 1 and err.startswith("error: "), (case, err)
