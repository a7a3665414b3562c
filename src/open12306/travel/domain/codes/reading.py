"""Decode any code by its type byte (what a scanner does before it knows what it holds)."""

from __future__ import annotations

from open12306.travel.domain.codes.credential import RideCredential, open_credential
from open12306.travel.domain.codes.header import CodeType, peek_type
from open12306.travel.domain.codes.scan import ScanCode, open_scan
from open12306.travel.domain.codes.sealed import Sealed
from open12306.travel.domain.codes.ticket import TicketCode, open_ticket

AnyCode = Sealed[TicketCode] | Sealed[RideCredential] | ScanCode


def open_code(data: bytes) -> AnyCode:
    """Decode a ticket, credential or scan code without checking signatures."""
    code_type = peek_type(data)
    if code_type is CodeType.TICKET:
        return open_ticket(data)
    if code_type is CodeType.CREDENTIAL:
        return open_credential(data)
    return open_scan(data)
