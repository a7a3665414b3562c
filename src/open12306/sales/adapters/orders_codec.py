"""Orders to and from the JSON document kept in ``orders.body``.

The passengers' document numbers are not in the JSON in clear: ``docs`` holds them as one
value sealed with the deployment's ``DocumentCipher``, bound to the order number (see
``documents_at_rest``); the rest of each passenger (name, document kind, ticket type) is plain.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec

from open12306.accounts.domain.identity import Document, DocumentKind
from open12306.catalog.domain.fares import PassengerType
from open12306.inventory.domain.seats import SeatClass
from open12306.sales.domain import (
    Order,
    OrderState,
    Passenger,
    SeatAssignment,
    Ticket,
    TicketState,
    Trip,
)
from open12306.sales.ports import OrderRecord
from open12306.shared.db.documents_at_rest import order_purpose
from open12306.shared.document_keys import DocumentCipher

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


def _dt(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _pdt(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _trip(trip: Trip) -> dict[str, Any]:
    return {
        "train": trip.train_code,
        "date": trip.service_date.isoformat(),
        "from": trip.from_station,
        "to": trip.to_station,
        "i": trip.from_stop,
        "j": trip.to_stop,
        "class": trip.seat_class.value,
        "departs": trip.departs_at.isoformat(),
        "arrives": trip.arrives_at.isoformat(),
    }


def _parse_trip(raw: dict[str, Any]) -> Trip:
    return Trip(
        raw["train"],
        date.fromisoformat(raw["date"]),
        raw["from"],
        raw["to"],
        raw["i"],
        raw["j"],
        SeatClass(raw["class"]),
        datetime.fromisoformat(raw["departs"]),
        datetime.fromisoformat(raw["arrives"]),
    )


def _ticket(t: Ticket) -> dict[str, Any]:
    return {
        "number": t.number,
        "passenger": t.passenger,
        "trip": _trip(t.trip),
        "coach": t.coach,
        "seat": t.seat_label,
        "fare": t.fare_fen,
        "state": t.state.value,
        "changes": t.changes,
        "changed_from": t.changed_from,
        "floor": t.refund_floor,
        "closed_at": _dt(t.closed_at),
    }


def _parse_ticket(order: str, raw: dict[str, Any]) -> Ticket:
    return Ticket(
        number=raw["number"],
        order_number=order,
        passenger=raw["passenger"],
        trip=_parse_trip(raw["trip"]),
        coach=raw["coach"],
        seat_label=raw["seat"],
        fare_fen=raw["fare"],
        state=TicketState(raw["state"]),
        changes=raw["changes"],
        changed_from=raw["changed_from"],
        refund_floor=raw["floor"],
        closed_at=_pdt(raw["closed_at"]),
    )


class PlainDocuments(ValueError):
    """An order body still holding document numbers in clear (``open12306 db upgrade``)."""


def _seal_numbers(numbers: list[str], order_number: str, cipher: DocumentCipher) -> str:
    """The ``docs`` field of an order body: its passengers' numbers, sealed."""
    return cipher.seal(_encoder.encode(numbers).decode(), order_purpose(order_number))


def _open_numbers(sealed: str, order_number: str, cipher: DocumentCipher) -> list[str]:
    numbers = _decoder.decode(cipher.open(sealed, order_purpose(order_number)))
    if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
        raise ValueError(f"order {order_number}: the sealed documents are not a list of numbers")
    return numbers


def encode(record: OrderRecord, cipher: DocumentCipher) -> str:
    o = record.order
    body = {
        "account": o.account,
        "trip": _trip(o.trip),
        "passengers": [
            {
                "name": p.name,
                "kind": p.document.kind.value,
                "type": p.ticket_type.value,
                "infant": p.infant,
            }
            for p in o.passengers
        ],
        "docs": _seal_numbers([p.document.number for p in o.passengers], o.number, cipher),
        "queued_at": o.queued_at.isoformat(),
        "state": o.state.value,
        "seats": [[s.coach, s.seat_label, s.fare_fen, s.seat_index] for s in o.seats],
        "deadline": _dt(o.pay_deadline),
        "failure": o.failure,
        "paid_at": _dt(o.paid_at),
        "closed_at": _dt(o.closed_at),
        "tickets": [_ticket(t) for t in o.tickets],
        "passenger_ids": list(record.passenger_ids),
        "person_keys": list(record.person_keys),
        "letters": list(record.letters),
        "berths": list(record.berths),
        "together": record.together,
        "allow_standing": record.allow_standing,
        "standing_pool": None if record.standing_pool is None else record.standing_pool.value,
    }
    return _encoder.encode(body).decode()


def decode(
    number: str, text: str, idempotency_key: str | None, version: int, cipher: DocumentCipher
) -> OrderRecord:
    raw = _decoder.decode(text)
    people = raw["passengers"]
    if "docs" not in raw:
        raise PlainDocuments(f"order {number}: document numbers in clear; run the migrations")
    numbers = _open_numbers(raw["docs"], number, cipher)
    if len(numbers) != len(people):
        raise ValueError(f"order {number}: {len(numbers)} documents for {len(people)} passengers")
    order = Order(
        number=number,
        account=raw["account"],
        trip=_parse_trip(raw["trip"]),
        passengers=tuple(
            Passenger(
                p["name"],
                Document(DocumentKind(p["kind"]), doc),
                PassengerType(p["type"]),
                p["infant"],
            )
            for p, doc in zip(people, numbers, strict=True)
        ),
        queued_at=datetime.fromisoformat(raw["queued_at"]),
        state=OrderState(raw["state"]),
        seats=tuple(SeatAssignment(c, label, fare, idx) for c, label, fare, idx in raw["seats"]),
        pay_deadline=_pdt(raw["deadline"]),
        failure=raw["failure"],
        paid_at=_pdt(raw["paid_at"]),
        closed_at=_pdt(raw["closed_at"]),
        tickets=tuple(_parse_ticket(number, t) for t in raw["tickets"]),
    )
    pool = raw["standing_pool"]
    return OrderRecord(
        order=order,
        passenger_ids=tuple(raw["passenger_ids"]),
        person_keys=tuple(raw["person_keys"]),
        idempotency_key=idempotency_key,
        letters=tuple(raw["letters"]),
        berths=tuple(raw["berths"]),
        together=raw["together"],
        allow_standing=raw["allow_standing"],
        standing_pool=None if pool is None else SeatClass(pool),
        version=version,
    )
