"""Order and ticket numbers.

An order number is ``E`` and nine digits: eight of body and a Luhn check digit, so a number
read out at a counter or typed by hand is checked before any look-up (E123456782). The body
is the order's serial number (0 ≤ serial < 10**8, allocated by the store) put through a fixed
permutation of 0..10**8-1, so consecutive orders do not get consecutive numbers.

A ticket number is the order number, the passenger's position in the order (1-5) and the
ticket's generation (0 as issued, 1 after a change): E12345678210 is passenger 1's ticket as
issued, E12345678211 the ticket that replaced it after a change.
"""

from __future__ import annotations

import re

from open12306.shared.errors import DomainError

PREFIX = "E"
SERIALS = 10**8
# Multiplying by a number coprime with 10 permutes the residues mod 10**8; its inverse undoes it.
_MULTIPLIER = 48_271_207
_INVERSE = pow(_MULTIPLIER, -1, SERIALS)
_OFFSET = 31_415_926

_ORDER = re.compile(r"E[0-9]{9}")
_TICKET = re.compile(r"(E[0-9]{9})([1-9])([0-9])")


def luhn_digit(digits: str) -> str:
    """The Luhn check digit to append to ``digits``."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str(-total % 10)


def order_number(serial: int) -> str:
    """The order number for store serial ``serial``."""
    if not 0 <= serial < SERIALS:
        raise DomainError("serial", "out_of_range", f"order serials run from 0 to {SERIALS - 1}")
    body = f"{(serial * _MULTIPLIER + _OFFSET) % SERIALS:08d}"
    return PREFIX + body + luhn_digit(body)


def order_serial(number: str) -> int:
    """The store serial an order number was made from; DomainError when malformed."""
    check_order_number(number)
    return ((int(number[1:9]) - _OFFSET) * _INVERSE) % SERIALS


def check_order_number(number: str) -> None:
    """Raise DomainError(``order_number``) unless ``number`` is a well-formed order number."""
    if not _ORDER.fullmatch(number):
        raise DomainError("order_number", "bad_format", "an order number is E and 9 digits")
    if luhn_digit(number[1:9]) != number[9]:
        raise DomainError("order_number", "bad_checksum", "the order number check digit is wrong")


def ticket_number(order: str, position: int, generation: int = 0) -> str:
    """Ticket number for passenger ``position`` (1-5) of ``order``, ``generation`` changes on."""
    check_order_number(order)
    if not 1 <= position <= 9 or not 0 <= generation <= 9:
        raise DomainError("ticket_number", "out_of_range", "position 1-9 and generation 0-9")
    return f"{order}{position}{generation}"


def parse_ticket_number(number: str) -> tuple[str, int, int]:
    """(order number, position, generation) of a ticket number."""
    match = _TICKET.fullmatch(number)
    if match is None:
        raise DomainError("ticket_number", "bad_format", "a ticket number is E and 11 digits")
    check_order_number(match[1])
    return match[1], int(match[2]), int(match[3])
