"""``open12306 ticket-code``: a signed reserved e-ticket code as a PNG, for demos."""

from __future__ import annotations

import secrets
from dataclasses import fields
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer

from open12306.cli.errors import InputError
from open12306.cli.travel_options import (
    ISSUER_OPTION,
    NOW_HELP,
    STATION_HELP,
    clock,
    hex_bytes,
    offline_station,
    run,
)
from open12306.config import Settings
from open12306.inventory.domain.seats import SeatClass
from open12306.travel.domain.codes import TicketCode, seal_ticket
from open12306.travel.domain.gate import GateConfig

_GATE_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(GateConfig)}


def _departure(text: str, zone: ZoneInfo, now: int) -> datetime:
    if not text:
        return datetime.fromtimestamp(now + 3600, zone).replace(second=0, microsecond=0)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"departs: expected YYYY-MM-DDTHH:MM, got {text!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def ticket_code(
    ticket_no: str = typer.Option(..., "--ticket-no", help="ticket number"),
    train: str = typer.Option(..., help="train code, e.g. G1"),
    origin: str = typer.Option(..., "--from", help=f"boarding {STATION_HELP}"),
    destination: str = typer.Option(..., "--to", help=f"destination {STATION_HELP}"),
    png: Path = typer.Option(..., "--png", help="PNG file to write"),
    keys: Path = ISSUER_OPTION,
    departs: str = typer.Option(
        "", help="departure from --from, YYYY-MM-DDTHH:MM local time (default: in an hour)"
    ),
    service_date: str = typer.Option(
        "", "--date", help="the run's service date (default: the departure's date)"
    ),
    seat_class: SeatClass = typer.Option(SeatClass.SECOND, "--class", help="seat class"),
    coach: int = typer.Option(0, min=0, max=255, help="coach number (0: none)"),
    seat: str = typer.Option("", help="seat label, e.g. 07F (empty: standing)"),
    passenger: str = typer.Option("", help="passenger token in hex (default: random)"),
    now: int | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Issue a signed reserved e-ticket code as a PNG (for demos, until booking issues them).

    Its window is the gate's default check-in window: it opens 120 minutes before departure
    and closes 5 minutes before.
    """
    from open12306.bootstrap import devices

    def issue() -> TicketCode:
        zone = ZoneInfo(Settings.from_env().timezone)
        leaves = _departure(departs, zone, clock(now))
        try:
            run_date = date.fromisoformat(service_date) if service_date else leaves.date()
        except ValueError:
            raise InputError(f"date: expected YYYY-MM-DD, got {service_date!r}") from None
        opens = leaves - timedelta(minutes=_GATE_DEFAULTS["check_in_opens_minutes"])
        closes = leaves - timedelta(minutes=_GATE_DEFAULTS["closes_minutes_before"])
        token = hex_bytes(passenger, "passenger") if passenger else secrets.token_bytes(16)
        signer = devices.open_issuer_keys(keys).signer()
        ticket = TicketCode(
            key_id=signer.key_id,
            ticket_no=ticket_no,
            train_code=train,
            service_date=run_date,
            from_station=offline_station(origin, "from"),
            to_station=offline_station(destination, "to"),
            seat_class=seat_class,
            coach=coach,
            seat_label=seat,
            passenger_token=token,
            valid_from=int(opens.timestamp()),
            valid_until=int(closes.timestamp()),
        )
        devices.save_qr(seal_ticket(ticket, signer), png)
        return ticket

    ticket = run(issue)
    typer.echo(
        f"ticket {ticket.ticket_no} {ticket.train_code} {ticket.service_date} "
        f"{ticket.from_station}→{ticket.to_station} check-in {ticket.valid_from}–"
        f"{ticket.valid_until}, signed by key {ticket.key_id}, saved to {png}"
    )
