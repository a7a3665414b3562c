"""Reserved e-ticket codes: an issuer-signed ticket checked at the boarding station."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from open12306.inventory.domain.seats import SeatClass
from open12306.travel.domain.codes.errors import bad_field
from open12306.travel.domain.codes.fields import (
    check_code_text,
    check_label,
    check_token,
    check_uint,
    check_window,
)
from open12306.travel.domain.codes.header import CodeType, read_header, write_header
from open12306.travel.domain.codes.sealed import Sealed, read_signature, require, sign
from open12306.travel.domain.codes.signing import Signer, Verifier
from open12306.travel.domain.codes.wire import U16_MAX, U32_MAX, Reader, Writer

EPOCH = date(1970, 1, 1)
MAX_TICKET_NO = 24
_CLASS_BY_CODE = {seat_class.code: seat_class for seat_class in SeatClass}


@dataclass(frozen=True, slots=True)
class TicketCode:
    """What a reserved e-ticket code says; validated on construction.

    ``coach`` 0 and an empty ``seat_label`` mean no assigned place (standing, 无座).
    ``valid_from``/``valid_until`` (unix seconds) bound the check-in window.
    """

    key_id: int
    ticket_no: str
    train_code: str
    service_date: date
    from_station: str
    to_station: str
    seat_class: SeatClass
    coach: int
    seat_label: str
    passenger_token: bytes
    valid_from: int
    valid_until: int

    def __post_init__(self) -> None:
        check_uint("key_id", self.key_id, U16_MAX)
        check_code_text("ticket_no", self.ticket_no, MAX_TICKET_NO)
        check_code_text("train_code", self.train_code)
        if not isinstance(self.service_date, date) or not 0 <= _day(self.service_date) <= U16_MAX:
            raise bad_field("service_date", "must be a date from 1970-01-01 to 2149-06-06")
        check_code_text("from_station", self.from_station)
        check_code_text("to_station", self.to_station)
        if self.from_station == self.to_station:
            raise bad_field("to_station", "must differ from from_station")
        if not isinstance(self.seat_class, SeatClass):
            raise bad_field("seat_class", "must be a SeatClass")
        check_uint("coach", self.coach, 0xFF)
        check_label("seat_label", self.seat_label)
        check_token("passenger_token", self.passenger_token)
        check_uint("valid_from", self.valid_from, U32_MAX)
        check_uint("valid_until", self.valid_until, U32_MAX)
        check_window("valid_from", self.valid_from, "valid_until", self.valid_until)


def _day(value: date) -> int:
    return (value - EPOCH).days


def encode_ticket(ticket: TicketCode) -> bytes:
    """The signed part of a ticket code (everything but the signature)."""
    writer = write_header(Writer(), CodeType.TICKET)
    writer.u16(ticket.key_id).short_text(ticket.ticket_no).short_text(ticket.train_code)
    writer.u16(_day(ticket.service_date))
    writer.short_text(ticket.from_station).short_text(ticket.to_station)
    writer.raw(ticket.seat_class.code.encode("ascii")).u8(ticket.coach)
    writer.short_text(ticket.seat_label).short_bytes(ticket.passenger_token)
    writer.u32(ticket.valid_from).u32(ticket.valid_until)
    return writer.getvalue()


def seal_ticket(ticket: TicketCode, signer: Signer) -> bytes:
    """The complete ticket code: body and the issuer's signature (key ``ticket.key_id``)."""
    return sign(encode_ticket(ticket), signer)


def _read_body(reader: Reader) -> TicketCode:
    read_header(reader, CodeType.TICKET)
    key_id = reader.u16("key_id")
    ticket_no = reader.short_text("ticket_no")
    train_code = reader.short_text("train_code")
    service_date = EPOCH + timedelta(days=reader.u16("service_date"))
    from_station = reader.short_text("from_station")
    to_station = reader.short_text("to_station")
    class_code = reader.take(1, "seat_class").decode("latin-1")
    if class_code not in _CLASS_BY_CODE:
        raise bad_field("seat_class", f"{class_code!r} is not a known seat class code")
    return TicketCode(
        key_id=key_id,
        ticket_no=ticket_no,
        train_code=train_code,
        service_date=service_date,
        from_station=from_station,
        to_station=to_station,
        seat_class=_CLASS_BY_CODE[class_code],
        coach=reader.u8("coach"),
        seat_label=reader.short_text("seat_label"),
        passenger_token=reader.short_bytes("passenger_token"),
        valid_from=reader.u32("valid_from"),
        valid_until=reader.u32("valid_until"),
    )


def read_sealed_ticket(reader: Reader, data: bytes) -> Sealed[TicketCode]:
    start = reader.position
    ticket = _read_body(reader)
    message, signature = read_signature(reader, start, data)
    return Sealed(ticket, message, signature)


def open_ticket(data: bytes) -> Sealed[TicketCode]:
    """Decode a ticket code without checking its signature."""
    data = bytes(data)
    reader = Reader(data)
    sealed = read_sealed_ticket(reader, data)
    reader.end()
    return sealed


def verify_ticket(data: bytes, verifier: Verifier) -> TicketCode:
    """Decode a ticket code and check the issuer signature; raises CodeError otherwise."""
    sealed = open_ticket(data)
    require(verifier.verify(sealed.value.key_id, sealed.message, sealed.signature), "issuer")
    return sealed.value
