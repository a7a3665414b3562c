"""Real-name travel documents, the ticket type a passenger's age gives, and display masking.

12306 sells every ticket to a named person holding one of these documents:

* ``resident_id``: the PRC resident identity card number (公民身份号码, GB 11643-1999): six
  digits of administrative region (GB/T 2260), eight of birth date (YYYYMMDD), three of
  sequence (odd for men, even for women) and one ISO 7064 MOD 11-2 check character
  (0-9 or X).
* ``passport``: a passport number, Chinese or foreign (ICAO 9303 allows up to 9 characters in
  the machine-readable zone; some countries issue longer numbers, so 5 to 17 letters and
  digits are accepted, with at least one digit).
* ``hk_macao_permit``: 港澳居民来往内地通行证, ``H`` (Hong Kong) or ``M`` (Macao) and 8 digits
  (booklets) or 10 digits (cards since 2013: 8 personal digits and a 2-digit issue count).
* ``taiwan_permit``: 台湾居民来往大陆通行证, 8 digits (cards since 2015).

Numbers are normalised (surrounding blanks removed, letters upper-cased) before checking.
Every failure is a DomainError on field ``id_number`` with one of the reasons ``bad_format``,
``bad_checksum``, ``bad_birth_date`` or ``bad_region``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from open12306.catalog.domain.fares import PassengerType
from open12306.shared.errors import DomainError

FIELD = "id_number"

# Province-level prefixes of GB/T 2260 (the first two digits of a region code), plus 83, which
# the 2018 residence permits for Taiwan residents (台湾居民居住证, 830000…) use; Hong Kong and
# Macao residence permits use 810000 and 820000.
PROVINCES: dict[str, str] = {
    "11": "北京",
    "12": "天津",
    "13": "河北",
    "14": "山西",
    "15": "内蒙古",
    "21": "辽宁",
    "22": "吉林",
    "23": "黑龙江",
    "31": "上海",
    "32": "江苏",
    "33": "浙江",
    "34": "安徽",
    "35": "福建",
    "36": "江西",
    "37": "山东",
    "41": "河南",
    "42": "湖北",
    "43": "湖南",
    "44": "广东",
    "45": "广西",
    "46": "海南",
    "50": "重庆",
    "51": "四川",
    "52": "贵州",
    "53": "云南",
    "54": "西藏",
    "61": "陕西",
    "62": "甘肃",
    "63": "青海",
    "64": "宁夏",
    "65": "新疆",
    "71": "台湾",
    "81": "香港",
    "82": "澳门",
    "83": "台湾(居住证)",
}

# Birth dates before this are not plausible for a living traveller.
EARLIEST_BIRTH = date(1900, 1, 1)

# ISO 7064 MOD 11-2 weights for the first 17 characters (2**(17 - i) mod 11) and the check
# character for each remainder.
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK = "10X98765432"

_RESIDENT = re.compile(r"[0-9]{17}[0-9X]")
_PASSPORT = re.compile(r"(?=.*[0-9])[A-Z0-9]{5,17}")
_HK_MACAO = re.compile(r"[HM]([0-9]{8}|[0-9]{10})")
_TAIWAN = re.compile(r"[0-9]{8}")


class DocumentKind(StrEnum):
    """Documents 12306 accepts for real-name tickets (values are the API names)."""

    RESIDENT_ID = "resident_id"
    PASSPORT = "passport"
    HK_MACAO_PERMIT = "hk_macao_permit"
    TAIWAN_PERMIT = "taiwan_permit"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


@dataclass(frozen=True, slots=True)
class Document:
    """A travel document: its kind and number (normalised by ``validate_document``)."""

    kind: DocumentKind
    number: str

    @property
    def key(self) -> tuple[str, str]:
        """What identifies the holder across orders: (kind, normalised number)."""
        return (self.kind.value, normalize_number(self.number))


@dataclass(frozen=True, slots=True)
class ResidentId:
    """What a resident ID number says about its holder."""

    number: str
    region: str
    province: str
    birth_date: date
    sex: Sex


def normalize_number(number: str) -> str:
    """Blanks around removed, letters upper-cased."""
    return number.strip().upper()


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits of a resident ID."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise DomainError(FIELD, "bad_format", "a resident ID starts with 17 digits")
    total = sum(int(ch) * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def parse_resident_id(number: str, today: date) -> ResidentId:
    """Check a resident ID number fully and return what it encodes.

    The region check is deliberately coarse: the province prefix must be in ``PROVINCES``
    (county codes change every year and old numbers keep their old codes).
    """
    value = normalize_number(number)
    if not _RESIDENT.fullmatch(value):
        raise DomainError(FIELD, "bad_format", "a resident ID is 17 digits and a digit or X")
    if check_character(value[:17]) != value[17]:
        raise DomainError(FIELD, "bad_checksum", "the resident ID check character is wrong")
    province = PROVINCES.get(value[:2])
    if province is None:
        raise DomainError(FIELD, "bad_region", f"no province has the code {value[:2]}")
    birth = _birth_date(value[6:14])
    if birth is None or not EARLIEST_BIRTH <= birth <= today:
        raise DomainError(FIELD, "bad_birth_date", "the birth date in the resident ID is invalid")
    sex = Sex.MALE if int(value[16]) % 2 else Sex.FEMALE
    return ResidentId(value, value[:6], province, birth, sex)


def _birth_date(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def validate_document(document: Document, today: date) -> Document:
    """Return the document with its number normalised, or raise DomainError(``id_number``)."""
    value = normalize_number(document.number)
    kind = document.kind
    if kind is DocumentKind.RESIDENT_ID:
        parse_resident_id(value, today)
    elif kind is DocumentKind.PASSPORT:
        _require(_PASSPORT, value, "a passport number is 5 to 17 letters and digits")
    elif kind is DocumentKind.HK_MACAO_PERMIT:
        _require(_HK_MACAO, value, "a Hong Kong/Macao permit is H or M and 8 or 10 digits")
    elif kind is DocumentKind.TAIWAN_PERMIT:
        _require(_TAIWAN, value, "a Taiwan permit number is 8 digits")
    else:  # pragma: no cover - the enum is closed
        raise DomainError("id_type", "unknown", f"unknown document kind {kind!r}")
    return Document(kind, value)


def _require(pattern: re.Pattern[str], value: str, message: str) -> None:
    if not value.isascii() or not pattern.fullmatch(value):
        raise DomainError(FIELD, "bad_format", message)


# --- ticket type from age ---------------------------------------------------------------

CHILD_FROM_AGE = 6
ADULT_FROM_AGE = 14


def age_on(birth: date, day: date) -> int:
    """Completed years on ``day`` (周岁). Someone born on 29 February turns a year older on
    1 March in common years."""
    years = day.year - birth.year
    return years - 1 if (day.month, day.day) < (birth.month, birth.day) else years


def ticket_type(
    birth: date,
    travel_date: date,
    *,
    student: bool = False,
    disabled_military: bool = False,
    infant_seat: bool = False,
) -> PassengerType:
    """The ticket type 12306 sells a passenger, by age on the travel date (2023 rules).

    From 2023-01-01 the child ticket is by age: 6 to 13 years buy a child ticket, 14 and over
    buy adult (or student / disabled-military concession) tickets. Under 6 years a child rides
    free without a seat of their own with a ticketed adult; that is no ticket at all, so it
    is refused (reason ``infant``) unless ``infant_seat`` asks for a seat, which is then sold
    as a child ticket. Concessions never cost more than a child ticket, so a child stays a
    child. Between the two concessions the cheaper disabled-military one wins.
    """
    if travel_date < birth:
        raise DomainError("birth_date", "after_travel", "the passenger is not born yet")
    age = age_on(birth, travel_date)
    if age < CHILD_FROM_AGE and not infant_seat:
        raise DomainError(
            "passenger_type",
            "infant",
            "children under 6 ride free without a seat with an adult; ask for a seat to buy one",
        )
    if age < ADULT_FROM_AGE:
        return PassengerType.CHILD
    if disabled_military:
        return PassengerType.DISABLED_MILITARY
    if student:
        return PassengerType.STUDENT
    return PassengerType.ADULT


# --- masking ------------------------------------------------------------------------------


def mask_number(number: str) -> str:
    """A document number for display: 18-character IDs keep 3 leading and 4 trailing
    characters (110***********1234); shorter numbers keep 2 and 2 (E1*****78), and numbers
    of 4 characters or fewer are fully masked."""
    value = normalize_number(number)
    n = len(value)
    if n <= 4:
        return "*" * n
    head, tail = (3, 4) if n >= 15 else (2, 2)
    return value[:head] + "*" * (n - head - tail) + value[-tail:]


def mask_name(name: str) -> str:
    """A name for display: the first character kept, the rest starred (张** / J***)."""
    value = name.strip()
    return value[:1] + "*" * (len(value) - 1)
