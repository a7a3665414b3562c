"""Real-name passengers an account saves for booking (常用联系人).

A passenger is a named person with one travel document (see ``identity``). For a resident ID
the birth date and sex come from the number itself; if they are given too they must agree.
For the other documents both must be given. ``student`` and ``disabled_military`` are the
concession flags the fare rules read (``identity.ticket_type``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime

from open12306.accounts.domain.identity import (
    EARLIEST_BIRTH,
    Document,
    DocumentKind,
    Sex,
    parse_resident_id,
    ticket_type,
    validate_document,
)
from open12306.catalog.domain.fares import PassengerType
from open12306.shared.errors import DomainError

NAME_MIN = 2
NAME_MAX = 60
# Letters of any script, spaces, and the separators names use: the middle dot of
# transliterated minority and foreign names (·, also written •), full stop, hyphen, apostrophe.
_NAME = re.compile(r"[^\W\d_]+(?:[ ·•.'-]*[^\W\d_]+)*\.?")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class PassengerDetails:
    """What an account holder enters for a passenger."""

    name: str
    document: Document
    birth_date: date | None = None
    sex: Sex | None = None
    student: bool = False
    disabled_military: bool = False


@dataclass(frozen=True, slots=True)
class Passenger:
    """A saved, validated passenger of one account."""

    id: str
    account_id: str
    name: str
    document: Document
    birth_date: date
    sex: Sex
    student: bool
    disabled_military: bool
    created_at: datetime

    def ticket_type_on(self, travel_date: date) -> PassengerType:
        """The ticket type this passenger buys on ``travel_date`` (under-6s with a seat)."""
        return ticket_type(
            self.birth_date,
            travel_date,
            student=self.student,
            disabled_military=self.disabled_military,
            infant_seat=True,
        )


def parse_document_kind(text: str) -> DocumentKind:
    """The document kind for its API name, or DomainError(``id_type``, ``unknown``)."""
    try:
        return DocumentKind(text.strip().lower())
    except ValueError:
        names = ", ".join(kind.value for kind in DocumentKind)
        raise DomainError("id_type", "unknown", f"id_type is one of: {names}") from None


def parse_sex(text: str) -> Sex:
    """``male`` or ``female``, or DomainError(``sex``, ``unknown``)."""
    try:
        return Sex(text.strip().lower())
    except ValueError:
        raise DomainError("sex", "unknown", "sex is male or female") from None


def normalize_name(name: str) -> str:
    """Blanks around removed and runs of blanks inside made one space."""
    return _SPACES.sub(" ", name.strip())


def check_name(name: str) -> str:
    """The normalised name, or DomainError(``name``, ``bad_format``)."""
    value = normalize_name(name)
    if not NAME_MIN <= len(value) <= NAME_MAX:
        raise DomainError(
            "name", "bad_format", f"a name is {NAME_MIN} to {NAME_MAX} characters long"
        )
    if not _NAME.fullmatch(value):
        raise DomainError(
            "name", "bad_format", "a name has letters, spaces and the separators · . - ' only"
        )
    return value


def check_passenger(details: PassengerDetails, today: date) -> PassengerDetails:
    """The details with name and number normalised and birth date and sex filled in, or the
    first DomainError found (fields: name, id_type, id_number, birth_date, sex)."""
    name = check_name(details.name)
    document = validate_document(details.document, today)
    birth, sex = details.birth_date, details.sex
    if document.kind is DocumentKind.RESIDENT_ID:
        encoded = parse_resident_id(document.number, today)
        if birth is not None and birth != encoded.birth_date:
            raise DomainError(
                "birth_date", "mismatch", "the birth date differs from the resident ID's"
            )
        if sex is not None and sex != encoded.sex:
            raise DomainError("sex", "mismatch", "the sex differs from the resident ID's")
        birth, sex = encoded.birth_date, encoded.sex
    if birth is None:
        raise DomainError("birth_date", "required", "the birth date is required")
    if not EARLIEST_BIRTH <= birth <= today:
        raise DomainError("birth_date", "bad_date", "the birth date is not plausible")
    if sex is None:
        raise DomainError("sex", "required", "sex is required")
    return replace(details, name=name, document=document, birth_date=birth, sex=sex)


def new_passenger(
    passenger_id: str, account_id: str, details: PassengerDetails, now: datetime
) -> Passenger:
    """A passenger of ``account_id`` from checked details (``check_passenger`` on the date
    of ``now``), created at ``now``."""
    checked = check_passenger(details, now.date())
    birth, sex = checked.birth_date, checked.sex
    if birth is None or sex is None:  # pragma: no cover - check_passenger fills both
        raise DomainError("passenger", "incomplete", "birth date and sex are required")
    return Passenger(
        id=passenger_id,
        account_id=account_id,
        name=checked.name,
        document=checked.document,
        birth_date=birth,
        sex=sex,
        student=checked.student,
        disabled_military=checked.disabled_military,
        created_at=now,
    )
