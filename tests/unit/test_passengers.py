from datetime import UTC, date, datetime

import pytest

from open12306.accounts.domain.identity import Document, DocumentKind, Sex
from open12306.accounts.domain.passengers import (
    PassengerDetails,
    check_name,
    check_passenger,
    new_passenger,
    parse_document_kind,
    parse_sex,
)
from open12306.shared.errors import DomainError
from tests.unit.accounts_support import ADULT_ID

TODAY = date(2026, 2, 10)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("张三", "张三"),
        ("  阿依古丽·买买提 ", "阿依古丽·买买提"),
        ("John   O'Neil-Smith", "John O'Neil-Smith"),
        ("José María Jr.", "José María Jr."),
    ],
)
def test_names_are_normalised(given: str, expected: str) -> None:
    assert check_name(given) == expected


@pytest.mark.parametrize("name", ["张", "", "张三3", "Zhang_San", "··张三", "a" * 61, "<b>x</b>"])
def test_bad_names(name: str) -> None:
    with pytest.raises(DomainError) as info:
        check_name(name)
    assert (info.value.field, info.value.reason) == ("name", "bad_format")


def test_document_kinds_and_sexes_parse_by_api_name() -> None:
    assert parse_document_kind(" Passport ") is DocumentKind.PASSPORT
    assert parse_sex("FEMALE") is Sex.FEMALE
    for parse, text, field in ((parse_document_kind, "visa", "id_type"), (parse_sex, "x", "sex")):
        with pytest.raises(DomainError) as info:
            parse(text)
        assert (info.value.field, info.value.reason) == (field, "unknown")


def test_other_documents_keep_the_given_birth_date_and_sex() -> None:
    details = PassengerDetails(
        "Chan Tai Man",
        Document(DocumentKind.HK_MACAO_PERMIT, "h12345678"),
        date(1985, 6, 1),
        Sex.MALE,
        student=True,
    )
    checked = check_passenger(details, TODAY)
    assert checked.document.number == "H12345678"
    assert (checked.birth_date, checked.sex, checked.student) == (date(1985, 6, 1), Sex.MALE, True)


def test_new_passenger_fills_in_what_the_resident_id_says() -> None:
    now = datetime(2026, 2, 10, 9, tzinfo=UTC)
    details = PassengerDetails("张三", Document(DocumentKind.RESIDENT_ID, ADULT_ID))
    passenger = new_passenger("p1", "a1", details, now)
    assert (passenger.birth_date, passenger.sex) == (date(1990, 3, 7), Sex.MALE)
    assert (passenger.id, passenger.account_id, passenger.created_at) == ("p1", "a1", now)
    assert passenger.ticket_type_on(TODAY).value == "adult"
