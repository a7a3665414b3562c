from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from open12306.accounts.domain.identity import (
    PROVINCES,
    Document,
    DocumentKind,
    Sex,
    age_on,
    check_character,
    mask_name,
    mask_number,
    parse_resident_id,
    ticket_type,
    validate_document,
)
from open12306.catalog.domain.fares import PassengerType
from open12306.shared.errors import DomainError

TODAY = date(2026, 2, 10)
# The worked examples printed in GB 11643-1999.
STANDARD_EXAMPLES = ("11010519491231002X", "440524188001010014")


def reason(kind: DocumentKind, number: str, today: date = TODAY) -> str:
    with pytest.raises(DomainError) as info:
        validate_document(Document(kind, number), today)
    assert info.value.field == "id_number"
    return info.value.reason


@pytest.mark.parametrize("number", STANDARD_EXAMPLES)
def test_standard_examples_check_characters(number: str) -> None:
    assert check_character(number[:17]) == number[17]


def test_parse_reads_region_birth_and_sex() -> None:
    parsed = parse_resident_id("11010519491231002x ", TODAY)
    assert parsed.number == "11010519491231002X"
    assert parsed.region == "110105"
    assert parsed.province == "北京"
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex is Sex.FEMALE  # 17th digit 2
    assert parse_resident_id("440524198001010013", TODAY).sex is Sex.MALE  # 17th digit 1


def test_validate_normalises_the_number() -> None:
    doc = validate_document(Document(DocumentKind.RESIDENT_ID, " 11010519491231002x"), TODAY)
    assert doc == Document(DocumentKind.RESIDENT_ID, "11010519491231002X")
    assert Document(DocumentKind.RESIDENT_ID, "11010519491231002x").key == doc.key


def with_check(first17: str) -> str:
    return first17 + check_character(first17)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("1101051949123100", "bad_format"),
        ("11010519491231002Y", "bad_format"),
        ("1101051949123100X2", "bad_format"),
        ("１１０１０５１９４９１２３１００２Ｘ", "bad_format"),  # full-width digits
        ("110105194912310021", "bad_checksum"),
        (with_check("99010519491231002"), "bad_region"),
        (with_check("00010519491231002"), "bad_region"),
        (with_check("11010519490230002"), "bad_birth_date"),  # 30 February
        (with_check("11010519491331002"), "bad_birth_date"),
        (with_check("11010518991231002"), "bad_birth_date"),  # before 1900
        (with_check("11010520260211002"), "bad_birth_date"),  # tomorrow
    ],
)
def test_bad_resident_ids(number: str, expected: str) -> None:
    assert reason(DocumentKind.RESIDENT_ID, number) == expected


def test_birth_today_is_accepted() -> None:
    number = with_check("110105" + TODAY.strftime("%Y%m%d") + "001")
    assert parse_resident_id(number, TODAY).birth_date == TODAY
    assert reason(DocumentKind.RESIDENT_ID, number, TODAY - timedelta(days=1)) == ("bad_birth_date")


def test_check_character_needs_17_digits() -> None:
    with pytest.raises(DomainError):
        check_character("1234")


id_bodies = st.builds(
    lambda province, rest, birth, seq: f"{province}{rest:04d}{birth:%Y%m%d}{seq:03d}",
    st.sampled_from(sorted(PROVINCES)),
    st.integers(0, 9999),
    st.dates(date(1900, 1, 1), TODAY),
    st.integers(0, 999),
)


@given(id_bodies)
def test_generated_ids_with_their_check_character_are_accepted(body: str) -> None:
    number = with_check(body)
    parsed = parse_resident_id(number, TODAY)
    assert parsed.birth_date.strftime("%Y%m%d") == body[6:14]
    assert (parsed.sex is Sex.MALE) == (int(body[16]) % 2 == 1)


@given(id_bodies, st.integers(0, 17), st.integers(1, 10))
def test_any_single_character_change_is_rejected(body: str, position: int, shift: int) -> None:
    number = with_check(body)
    alphabet = "0123456789X" if position == 17 else "0123456789"
    old = alphabet.index(number[position])
    new = alphabet[(old + shift) % len(alphabet)]
    if new == number[position]:
        return  # shift of a full turn in the 10-digit alphabet
    changed = number[:position] + new + number[position + 1 :]
    with pytest.raises(DomainError) as info:
        parse_resident_id(changed, TODAY)
    # MOD 11-2 detects every single substitution, so the checksum fails first.
    assert info.value.reason == "bad_checksum"


@pytest.mark.parametrize(
    ("kind", "number", "normalised"),
    [
        (DocumentKind.PASSPORT, "E12345678", "E12345678"),
        (DocumentKind.PASSPORT, "ea1234567", "EA1234567"),
        (DocumentKind.PASSPORT, "X1234", "X1234"),
        (DocumentKind.PASSPORT, "123456789ABCDEFGH", "123456789ABCDEFGH"),
        (DocumentKind.HK_MACAO_PERMIT, "H12345678", "H12345678"),
        (DocumentKind.HK_MACAO_PERMIT, "m1234567801", "M1234567801"),
        (DocumentKind.TAIWAN_PERMIT, "01234567", "01234567"),
    ],
)
def test_other_documents_valid(kind: DocumentKind, number: str, normalised: str) -> None:
    assert validate_document(Document(kind, number), TODAY).number == normalised


@pytest.mark.parametrize(
    ("kind", "number"),
    [
        (DocumentKind.PASSPORT, "E123"),
        (DocumentKind.PASSPORT, "ABCDEFGHI"),  # no digit
        (DocumentKind.PASSPORT, "E1234-5678"),
        (DocumentKind.PASSPORT, "123456789ABCDEFGHI"),  # 18 characters
        (DocumentKind.HK_MACAO_PERMIT, "H1234567"),
        (DocumentKind.HK_MACAO_PERMIT, "H123456789"),  # 9 digits
        (DocumentKind.HK_MACAO_PERMIT, "K12345678"),
        (DocumentKind.TAIWAN_PERMIT, "1234567"),
        (DocumentKind.TAIWAN_PERMIT, "T1234567"),
        (DocumentKind.TAIWAN_PERMIT, "١٢٣٤٥٦٧٨"),  # Arabic-Indic digits
    ],
)
def test_other_documents_invalid(kind: DocumentKind, number: str) -> None:
    assert reason(kind, number) == "bad_format"


def test_age_counts_completed_years_and_leap_birthdays() -> None:
    assert age_on(date(2012, 2, 10), date(2026, 2, 9)) == 13
    assert age_on(date(2012, 2, 10), date(2026, 2, 10)) == 14
    leap = date(2008, 2, 29)
    assert age_on(leap, date(2014, 2, 28)) == 5
    assert age_on(leap, date(2014, 3, 1)) == 6
    assert age_on(leap, date(2016, 2, 29)) == 8


def test_ticket_type_boundaries() -> None:
    birth = date(2012, 2, 10)
    assert ticket_type(birth, date(2026, 2, 9)) is PassengerType.CHILD
    assert ticket_type(birth, date(2026, 2, 10)) is PassengerType.ADULT
    six = date(2020, 2, 10)
    assert ticket_type(six, date(2026, 2, 10)) is PassengerType.CHILD
    with pytest.raises(DomainError) as info:
        ticket_type(six, date(2026, 2, 9))
    assert info.value.reason == "infant"
    assert ticket_type(six, date(2026, 2, 9), infant_seat=True) is PassengerType.CHILD


def test_concessions() -> None:
    adult = date(2000, 1, 1)
    child = date(2015, 1, 1)
    assert ticket_type(adult, TODAY, student=True) is PassengerType.STUDENT
    assert ticket_type(adult, TODAY, disabled_military=True) is PassengerType.DISABLED_MILITARY
    both = ticket_type(adult, TODAY, student=True, disabled_military=True)
    assert both is PassengerType.DISABLED_MILITARY
    assert ticket_type(child, TODAY, student=True) is PassengerType.CHILD
    with pytest.raises(DomainError) as info:
        ticket_type(TODAY, TODAY - timedelta(days=1))
    assert info.value.reason == "after_travel"


def test_masking() -> None:
    assert mask_number("110105194912311234") == "110***********1234"
    assert mask_number("E12345678") == "E1*****78"
    assert mask_number("H1234567801") == "H1*******01"
    assert mask_number("1234") == "****"
    assert mask_name("张三丰") == "张**"
    assert mask_name("Li") == "L*"
    assert mask_name("") == ""


@given(st.text(alphabet="0123456789X", min_size=5, max_size=18))
def test_masking_keeps_length_and_hides_the_middle(number: str) -> None:
    masked = mask_number(number)
    assert len(masked) == len(number)
    assert masked.count("*") >= len(number) // 3
