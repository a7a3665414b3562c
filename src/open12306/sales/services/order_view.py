"""An order as its owner (the API, the operator's command line) is shown it: trip, passengers
and tickets as they stand, and the money the ledger booked."""

from __future__ import annotations

from typing import Any

from open12306.accounts.domain.identity import mask_name
from open12306.catalog.domain.checkin import checkin_gate
from open12306.sales.domain import Order, Ticket, Trip
from open12306.sales.domain.ledger import Totals
from open12306.sales.ports import OrderRecord


def yuan(fen: int) -> str:
    """Fen as a yuan amount with two decimals, e.g. ``"553.00"``."""
    return f"{fen // 100}.{fen % 100:02d}"


def trip_view(trip: Trip) -> dict[str, Any]:
    """A trip: train, date, stations, class and times."""
    return {
        "train": trip.train_code,
        "date": trip.service_date.isoformat(),
        "from": trip.from_station,
        "to": trip.to_station,
        "seat_class": trip.seat_class.value,
        "departs_at": trip.departs_at.isoformat(),
        "arrives_at": trip.arrives_at.isoformat(),
    }


def ticket_view(t: Ticket) -> dict[str, Any]:
    """A ticket with its seat, check-in gate, fare and state."""
    return {
        "number": t.number,
        "passenger": t.passenger,
        "train": t.trip.train_code,
        "date": t.trip.service_date.isoformat(),
        "from": t.trip.from_station,
        "to": t.trip.to_station,
        "seat_class": t.trip.seat_class.value,
        "departs_at": t.trip.departs_at.isoformat(),
        "coach": t.coach,
        "seat": t.seat_label,
        "gate": checkin_gate(t.trip.from_station, t.trip.train_code),
        "fare_fen": t.fare_fen,
        "state": t.state.value,
        "changed_from": t.changed_from,
    }


def _passenger_view(
    record: OrderRecord, i: int, current: Ticket | None, names: bool
) -> dict[str, Any]:
    p = record.order.passengers[i]
    seats = record.order.seats
    seat = seats[i] if seats else None
    return {
        "passenger_id": record.passenger_ids[i],
        "name": p.name if names else mask_name(p.name),
        "ticket_type": p.ticket_type.value,
        "ticket": None if current is None else current.number,
        "ticket_state": None if current is None else current.state.value,
        "train": record.order.trip.train_code if current is None else current.trip.train_code,
        "date": (current.trip if current else record.order.trip).service_date.isoformat(),
        "coach": current.coach if current else (seat.coach if seat else None),
        "seat": current.seat_label if current else (seat.seat_label if seat else None),
        "fare_fen": current.fare_fen if current else (seat.fare_fen if seat else None),
    }


def order_view(
    record: OrderRecord, money: Totals | None = None, *, names: bool = False
) -> dict[str, Any]:
    """An order as the API shows it (names masked unless ``names``, documents never shown).

    The trip and every passenger's row are what the passenger holds now: after a change,
    the new train and seat (``booked`` keeps the trip first booked). ``amount_fen`` is the
    price booked (what a held order costs); ``paid_fen`` / ``refunded_fen`` / ``fee_fen`` are
    the money the ledger says was taken, given back and kept (``money``)."""
    order: Order = record.order
    current = order.current_tickets()
    live = [t for t in current if t is not None]
    trips = {
        (t.trip.train_code, t.trip.service_date, t.trip.from_stop, t.trip.to_stop) for t in live
    }
    shown = live[0].trip if len(trips) == 1 and len(live) == len(current) else order.trip
    totals = money or Totals()
    return {
        "number": order.number,
        "state": order.state.value,
        "reason": order.failure,
        **trip_view(shown),
        "booked": trip_view(order.trip),
        "queued_at": order.queued_at.isoformat(),
        "pay_deadline": None if order.pay_deadline is None else order.pay_deadline.isoformat(),
        "amount_fen": order.total_fen,
        "amount": yuan(order.total_fen),
        "paid_fen": totals.paid_fen,
        "refunded_fen": totals.refunded_fen,
        "fee_fen": totals.fee_fen,
        "passengers": [
            _passenger_view(record, i, ticket, names) for i, ticket in enumerate(current)
        ],
        "tickets": [ticket_view(t) for t in order.tickets],
    }
