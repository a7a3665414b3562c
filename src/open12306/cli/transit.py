"""Transit settlement for operators: ``open12306 transit settle|arrears|pay-debt|deny-list``.

Reads ``OPEN12306_DATABASE_URL``. ``settle`` first takes in the taps of gate collectors
(``--collector``, the files ``gate sync`` uploads to; taps already stored are skipped), then
settles the service day: one charge per account on the pay-later credit line, caps applied,
failed charges to arrears and the deny list; settling a day again charges or refunds only
the difference. The operators (and which stations are theirs) come from a JSON file
(``--operators`` or ``OPEN12306_TRANSIT_OPERATORS``, see ``transit.domain.catalog``); without
either, the demo operators shipped in ``open12306/data/transit_operators.json``. ``pay-debt``
pays through the channels configured like the server's (``OPEN12306_ALIPAY_*``,
``OPEN12306_WECHATPAY_*``, see ``payments.adapters.settings``); ``bootstrap.transit`` builds
the store, services and channels. docs/credit.md describes it all.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import typer

from open12306.cli.errors import InputError, guarded
from open12306.payments.ports import PaymentError, PaymentProvider
from open12306.transit.domain import Tap
from open12306.transit.domain.catalog import OperatorCatalog, catalog_from_config
from open12306.transit.services.day_settlement import DebtPaymentOutcome

transit_app = typer.Typer(no_args_is_help=True, help="Transit settlement: charges, arrears.")

OPERATORS_ENV = "OPEN12306_TRANSIT_OPERATORS"
DEMO_OPERATORS = Path(__file__).resolve().parents[1] / "data" / "transit_operators.json"
T = TypeVar("T")
NOW_HELP = "the clock in unix seconds (default: the system clock); for tests and replays"


def _run(work: Callable[[], T]) -> T:
    from open12306.bootstrap import transit

    return guarded(work, (*transit.EXPECTED_ERRORS, PaymentError))


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"date: expected YYYY-MM-DD, got {text!r}") from None


def _token(text: str) -> str:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise InputError(f"account: expected the account token in hex, got {text!r}") from None
    if not 1 <= len(raw) <= 32:
        raise InputError("account: expected 1 to 32 bytes of hex")
    return raw.hex()


def load_catalog(path: Path) -> OperatorCatalog:
    """The operators file, with the corridors of the packaged corridor data."""
    from open12306.bootstrap import transit

    if not path.is_file():
        raise InputError(f"operators: no such file {path} (set --operators or {OPERATORS_ENV})")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"operators: {path} is not JSON ({error})") from None
    if not isinstance(document, dict):
        raise InputError(f"operators: {path} must hold a JSON object")
    return catalog_from_config(document, transit.corridors())


def _collect(catalog: OperatorCatalog, collectors: list[Path]) -> tuple[list[Tap], int]:
    from open12306.bootstrap import transit

    taps: list[Tap] = []
    unknown = 0
    for path in collectors:
        if not path.is_file():
            raise InputError(f"collector: no such file {path}")
        found, left_out = catalog.taps(transit.collector_taps(path))
        taps.extend(found)
        unknown += left_out
    return taps, unknown


def providers() -> Mapping[str, PaymentProvider]:
    """The payment channels configured in the environment (OPEN12306_ALIPAY_*, …)."""
    from open12306.bootstrap import transit

    return transit.payment_channels()


def _channels() -> Mapping[str, PaymentProvider]:
    try:
        return providers()
    except ValueError as error:  # a channel enabled with a setting missing
        raise InputError(f"channel: {error}") from None


def _yuan(fen: int) -> str:
    return f"{fen / 100:.2f}"


@transit_app.command("settle")
def settle(
    day: str = typer.Option(..., "--date", help="the service day, YYYY-MM-DD"),
    operators: Path = typer.Option(
        DEMO_OPERATORS,
        "--operators",
        envvar=OPERATORS_ENV,
        help="operators and their stations (JSON); default: the shipped demo operators",
    ),
    collector: list[Path] = typer.Option(
        [], "--collector", help="a gate collector file to take taps from (repeatable)"
    ),
    json_out: bool = typer.Option(False, "--json", help="print the totals as JSON"),
    now: int | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Settle a service day's uploaded taps: one charge per account, caps applied."""

    from open12306.bootstrap import transit

    def work() -> dict[str, Any]:
        service_day = _day(day)
        catalog = load_catalog(operators)
        taps, unknown = _collect(catalog, collector)
        clock = transit.clock(now)
        store = transit.transit_store(clock)
        received = store.receive_taps(taps)
        service = transit.day_settlement(store, clock, catalog)
        totals = asdict(service.settle(service_day))
        totals["day"] = service_day.isoformat()
        return totals | {"received_taps": received, "unknown_station_taps": unknown}

    totals = _run(work)
    if json_out:
        sys.stdout.write(json.dumps(totals, ensure_ascii=False) + "\n")
        return
    typer.echo(
        f"{totals['day']}: {totals['journeys']} journeys, {totals['accounts']} accounts, "
        f"charged {_yuan(totals['charged_fen'])} yuan, failed {_yuan(totals['failed_fen'])}"
        f" yuan ({totals['failed_accounts']} accounts), refunded "
        f"{_yuan(totals['refunded_fen'])} yuan, caps saved "
        f"{_yuan(totals['capped_savings_fen'])} yuan; {totals['received_taps']} new taps"
    )


@transit_app.command("arrears")
def arrears(json_out: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Accounts in arrears: what each owes, for which days, and whether gates refuse it."""

    from open12306.bootstrap import transit

    def work() -> list[dict[str, Any]]:
        store = transit.transit_store(transit.clock(None))
        denied = store.deny_list.accounts()
        accounts: dict[str, dict[str, Any]] = {}
        for debt in store.all_outstanding():
            entry = accounts.setdefault(
                debt.account_token,
                {"account": debt.account_token, "owed_fen": 0, "debts": [], "denied": False},
            )
            entry["owed_fen"] += debt.amount_fen
            entry["debts"].append({"reference": debt.reference, "amount_fen": debt.amount_fen})
            entry["denied"] = debt.account_token in denied
        return list(accounts.values())

    listed = _run(work)
    if json_out:
        sys.stdout.write(json.dumps(listed, ensure_ascii=False) + "\n")
        return
    if not listed:
        typer.echo("no arrears")
    for entry in listed:
        state = "denied" if entry["denied"] else "not denied"
        typer.echo(
            f"{entry['account']} owes {_yuan(entry['owed_fen'])} yuan "
            f"({len(entry['debts'])} debts, {state})"
        )


@transit_app.command("deny-list")
def deny_list() -> None:
    """The account tokens gate bundles must refuse, one per line (hex)."""
    from open12306.bootstrap import transit

    accounts = _run(lambda: sorted(transit.transit_store(transit.clock(None)).deny_list.accounts()))
    for account in accounts:
        typer.echo(account)


@transit_app.command("pay-debt")
def pay_debt(
    account: str = typer.Argument(..., help="account token (hex)"),
    channel: str = typer.Option("alipay", help="payment channel: alipay or wechatpay"),
    json_out: bool = typer.Option(False, "--json", help="print the outcome as JSON"),
    now: int | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Pay an account's debts through a channel. The first call starts a trade and prints
    where to pay; run it again once paid: the debts are cleared and the account leaves the
    deny list. The channels are configured like the server's (OPEN12306_ALIPAY_*, …)."""

    from open12306.bootstrap import transit

    def work() -> DebtPaymentOutcome:
        token = _token(account)
        clock = transit.clock(now)
        store = transit.transit_store(clock)
        return transit.debt_payments(store, clock, _channels()).pay(token, channel)

    outcome = _run(work)
    if json_out:
        sys.stdout.write(json.dumps(asdict(outcome), ensure_ascii=False) + "\n")
        return
    if outcome.state == "nothing_owed":
        typer.echo(f"{outcome.account_token} owes nothing; not on the deny list")
    elif outcome.state == "started":
        where = outcome.redirect_url or outcome.qr_content or "-"
        typer.echo(
            f"payment {outcome.payment_no} of {_yuan(outcome.amount_fen)} yuan started: pay at"
            f" {where} then run this again"
        )
    elif outcome.state == "pending":
        typer.echo(f"payment {outcome.payment_no} is not paid yet at the channel")
    elif outcome.state == "amount_mismatch":
        typer.echo(
            f"payment {outcome.payment_no}: the channel reports a different amount paid than"
            f" {_yuan(outcome.amount_fen)} yuan; left open, debts stand (check the trade)"
        )
    else:
        typer.echo(
            f"payment {outcome.payment_no} paid {_yuan(outcome.amount_fen)} yuan; "
            f"still owed {_yuan(outcome.owed_fen)} yuan"
            + ("" if outcome.owed_fen else "; removed from the deny list")
        )
