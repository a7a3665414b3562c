"""`open12306 orders list|show|refund`: an operator's tool on the database (no login).

Orders are shown as the API shows them (names masked, documents never), plus the owner's
username. Holds past their deadline are expired on read, as everywhere else. Errors are one
line on stderr and exit status 2.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import typer

from open12306.cli.errors import guarded
from open12306.sales.domain import OrderState
from open12306.shared.errors import DomainError, NotFound

if TYPE_CHECKING:
    from open12306.accounts.services.accounts import AccountService
    from open12306.bootstrap import Container
    from open12306.sales.ports import OrderRecord
    from open12306.sales.services.checkout import Settlement
    from open12306.sales.services.orders import OrderService

orders_app = typer.Typer(no_args_is_help=True, help="Orders: list, show, refund (operators).")

_JSON = typer.Option(False, "--json", help="print JSON")
T = TypeVar("T")


class _Readers(Protocol):
    """What showing an order reads: the order and account services."""

    @property
    def orders(self) -> OrderService | None: ...

    @property
    def accounts(self) -> AccountService: ...


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def _container() -> Container:
    from open12306.bootstrap import attach_embedded_channels, build

    container = build(materialise=False)
    attach_embedded_channels(container)
    return container


def _guarded(work: Callable[[], T]) -> T:
    return guarded(work)


def _wired(service: T | None, name: str) -> T:
    """A service ``bootstrap.build`` always wires (None only in a container built by hand)."""
    if service is None:
        raise RuntimeError(f"{name} is not wired in this container")
    return service


def _orders(c: _Readers) -> OrderService:
    return _wired(c.orders, "orders")


def _settlement(c: Container) -> Settlement:
    return _wired(c.settlement, "settlement")


def _state(text: str | None) -> OrderState | None:
    if text is None:
        return None
    try:
        return OrderState(text.strip().lower())
    except ValueError:
        names = ", ".join(s.value for s in OrderState)
        raise DomainError("state", "invalid", f"states are {names}") from None


def _username(c: _Readers, account_id: str) -> str | None:
    account = c.accounts.store.account_by_id(account_id)
    return None if account is None else str(account.username)


def _view(c: _Readers, record: OrderRecord) -> dict[str, Any]:
    from open12306.sales.services.order_view import order_view

    money = _orders(c).money([record])[record.number]
    return {"account": _username(c, record.order.account), **order_view(record, money)}


def _line(view: dict[str, Any]) -> str:
    money = ""
    if view["paid_fen"]:
        money = f"  paid {_yuan(view['paid_fen'])}"
        if view["refunded_fen"]:
            money += f", back {_yuan(view['refunded_fen'])}"
    return (
        f"{view['number']}  {view['state']:<9} {view['account'] or '?':<16} "
        f"{view['train']} {view['date']} {view['from']}-{view['to']} {view['seat_class']} "
        f"¥{view['amount']}  {len(view['passengers'])} pax{money}"
    )


def _yuan(fen: int) -> str:
    return f"¥{fen // 100}.{fen % 100:02d}"


@orders_app.command("list")
def list_orders(
    account: str | None = typer.Option(None, "--account", help="owner's username"),
    state: str | None = typer.Option(None, "--state", help="queued, held, paid, …"),
    limit: int = typer.Option(50, "--limit", min=1, max=1000),
    as_json: bool = _JSON,
) -> None:
    """Orders, newest first."""

    def work() -> list[dict[str, Any]]:
        wanted = _state(state)
        c = _container()
        owner = None
        if account is not None:
            found = c.accounts.store.account_by_username(account.strip().lower())
            if found is None:
                raise NotFound("account", "not_found", f"no account {account!r}")
            owner = found.id
        return [_view(c, r) for r in _orders(c).newest(owner, wanted, limit)]

    views: list[dict[str, Any]] = _guarded(work)
    if as_json:
        _print_json({"orders": views})
        return
    for view in views:
        typer.echo(_line(view))
    if not views:
        typer.echo("no orders")


def _order(c: Container, number: str) -> OrderRecord:
    record = _orders(c).store.get(number.strip().upper())
    if record is None:
        raise NotFound("order", "not_found", f"no order {number}")
    return _wired(c.allocator, "allocator").expire_if_overdue(record)


@orders_app.command("show")
def show(number: str = typer.Argument(..., help="order number"), as_json: bool = _JSON) -> None:
    """One order with its passengers, tickets and ledger."""

    def work() -> dict[str, Any]:
        c = _container()
        record = _order(c, number)
        view = _view(c, record)
        view["ledger"] = [
            {
                "kind": e.kind.value,
                "amount_fen": e.amount_fen,
                "ticket": e.ticket_number,
                "at": e.at.isoformat(),
                "reference": e.reference,
            }
            for e in _orders(c).store.entries(record.number)
        ]
        return view

    view: dict[str, Any] = _guarded(work)
    if as_json:
        _print_json(view)
        return
    typer.echo(_line(view))
    typer.echo(f"  departs {view['departs_at']}  arrives {view['arrives_at']}")
    if view["pay_deadline"] and view["state"] == "held":
        typer.echo(f"  pay by {view['pay_deadline']}")
    if view["reason"]:
        typer.echo(f"  reason: {view['reason']}")
    booked = view["booked"]
    if (booked["train"], booked["date"]) != (view["train"], view["date"]):
        typer.echo(f"  booked as {booked['train']} {booked['date']}, changed since")
    for p in view["passengers"]:
        typer.echo(
            f"  passenger {p['name']} ({p['ticket_type']}) {p['train']} {p['date']} "
            f"coach {p['coach']} {p['seat']}"
        )
    for t in view["tickets"]:
        typer.echo(
            f"  ticket {t['number']} {t['state']} {t['train']} {t['date']} "
            f"coach {t['coach']} {t['seat']}"
        )
    typer.echo(
        f"  money taken {_yuan(view['paid_fen'])}, given back {_yuan(view['refunded_fen'])}, "
        f"fees kept {_yuan(view['fee_fen'])}"
    )
    for e in view["ledger"]:
        typer.echo(f"  ledger {e['kind']:<10} {e['amount_fen']:>8} fen  {e['reference']}")


@orders_app.command("refund")
def refund(
    number: str = typer.Argument(..., help="order number"),
    ticket: str = typer.Argument(..., help="ticket number"),
    as_json: bool = _JSON,
) -> None:
    """Refund one ticket for its owner: 12306's fee ladder; the seat goes back on sale."""

    def work() -> dict[str, Any]:
        c = _container()
        record = _order(c, number)
        owner = c.accounts.store.account_by_id(record.order.account)
        if owner is None:
            raise NotFound("order", "not_found", f"order {number} has no owner")
        settlement = _settlement(c)
        wanted = ticket.strip()
        quote = settlement.refund(owner, record.number, wanted)
        sent = [
            r
            for r in settlement.refunds_of(record.number)
            if r.refund_no == f"{wanted}R" or r.refund_no.startswith(f"{wanted}R-")
        ]
        return {
            "order": record.number,
            "ticket": wanted,
            "fare_fen": quote.amount_fen,
            "fee_fen": quote.fee_fen,
            "refund_fen": quote.refund_fen,
            "channel": settlement.paying_channel(record.number),
            "refunds": [
                {
                    "refund_no": r.refund_no,
                    "channel": r.channel,
                    "amount_fen": r.amount_fen,
                    "state": r.state.value,
                    "error": r.last_error,
                }
                for r in sent
            ],
        }

    done: dict[str, Any] = _guarded(work)
    failed = [r for r in done["refunds"] if r["state"] == "failed"]
    if as_json:
        _print_json(done)
    else:
        typer.echo(
            f"refunded ticket {done['ticket']} of {done['order']}: fare {done['fare_fen']} fen, "
            f"fee {done['fee_fen']} fen, back {done['refund_fen']} fen"
        )
        for r in done["refunds"]:
            said = {
                "done": "returned",
                "pending": "sent, not confirmed yet (retried until it is)",
                "failed": f"FAILED: {r['error']}",
            }[r["state"]]
            typer.echo(f"  {r['refund_no']}: {r['amount_fen']} fen via {r['channel']}: {said}")
    if failed:
        typer.echo(
            f"error: refund: {len(failed)} channel refund(s) failed; see orders refunds-failed",
            err=True,
        )
        raise typer.Exit(1)


@orders_app.command("audit")
def audit(as_json: bool = _JSON) -> None:
    """Check every order's money against its tickets (DESIGN's invariant: payments = live
    fares + fees + refunds, and no channel trade booked in twice, which is how a paid order
    whose money went back shows). Exit status 1 when anything is off."""
    from open12306.sales.domain.ledger import balance_check

    def work() -> dict[str, Any]:
        c = _container()
        store = _orders(c).store
        found: list[dict[str, Any]] = []
        checked, after = 0, ""
        while page := store.ledger_orders(after):
            for number in page:
                record = store.get(number)
                tickets = [] if record is None else list(record.order.tickets)
                for v in balance_check(store.entries(number), tickets):
                    if v.order_number != "*":
                        found.append(
                            {
                                "order": v.order_number,
                                "reason": v.reason,
                                "reference": v.reference,
                                "payments_fen": v.payments_fen,
                                "tickets_fen": v.tickets_fen,
                                "fees_fen": v.fees_fen,
                                "refunds_fen": v.refunds_fen,
                            }
                        )
            checked += len(page)
            after = page[-1]
        return {"orders_checked": checked, "violations": found}

    report: dict[str, Any] = _guarded(work)
    if as_json:
        _print_json(report)
    else:
        for v in report["violations"]:
            typer.echo(
                f"{v['order']} {v['reason']} {v['reference']}: paid {v['payments_fen']} fen, "
                f"live fares {v['tickets_fen']}, fees {v['fees_fen']}, refunds {v['refunds_fen']}"
            )
        typer.echo(
            f"{report['orders_checked']} orders checked, {len(report['violations'])} violations"
        )
    if report["violations"]:
        raise typer.Exit(1)


@orders_app.command("refunds-retry")
def refunds_retry(
    limit: int = typer.Option(100, min=1, max=10000, help="refunds to try at most"),
    as_json: bool = _JSON,
) -> None:
    """Retry channel refunds that failed after they were committed (the server does this on
    its own while it runs); prints how many the channels confirmed, how many still fail and
    how many failed for good (see refunds-failed)."""

    def work() -> dict[str, int]:
        retry = _settlement(_container()).refund_retry
        if retry is None:
            return {"confirmed": 0, "failing": 0, "failed": 0}
        report = retry.run_due(limit)
        return {"confirmed": report.confirmed, "failing": report.failing, "failed": report.failed}

    done: dict[str, int] = _guarded(work)
    if as_json:
        _print_json(done)
        return
    typer.echo(
        f"refunds confirmed {done['confirmed']}, still failing {done['failing']}, "
        f"failed for good {done['failed']}"
    )


@orders_app.command("refunds-failed")
def refunds_failed(
    limit: int = typer.Option(100, min=1, max=10000, help="refunds to list at most"),
    as_json: bool = _JSON,
) -> None:
    """Channel refunds that failed for good (refused by the channel, or given up after many
    tries), oldest first: fix the cause, then refunds-requeue."""

    def work() -> list[dict[str, Any]]:
        retry = _settlement(_container()).refund_retry
        found = [] if retry is None else retry.failed(limit)
        return [
            {
                "refund_no": r.refund_no,
                "order": r.order_number,
                "channel": r.channel,
                "trade_no": r.trade_no,
                "amount_fen": r.amount_fen,
                "attempts": r.attempts,
                "last_error": r.last_error,
                "failed_at": r.next_at.isoformat(),
            }
            for r in found
        ]

    rows: list[dict[str, Any]] = _guarded(work)
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        typer.echo(
            f"{row['refund_no']} {row['order']} {row['channel']} {row['amount_fen']} fen, "
            f"{row['attempts']} attempts: {row['last_error']}"
        )


@orders_app.command("refunds-requeue")
def refunds_requeue(refund_no: str = typer.Argument(..., help="the refund number")) -> None:
    """Put a failed refund back in the queue, due now (its attempts start again)."""

    def work() -> str:
        retry = _settlement(_container()).refund_retry
        if retry is None:
            raise NotFound("refund", "not_found", "no refund queue in this configuration")
        return retry.requeue(refund_no.strip()).refund_no

    typer.echo(f"requeued {_guarded(work)}")
