from datetime import date

import pytest
from hypothesis import given, settings

from open12306.inventory.domain.seats import SeatClass
from open12306.travel.domain.codes import (
    CodeError,
    CodeType,
    TicketCode,
    encode_ticket,
    open_code,
    open_ticket,
    seal_credential,
    seal_ticket,
    verify_ticket,
)
from open12306.travel.domain.codes.wire import Writer
from tests.unit.codes_support import (
    FakeIssuer,
    FakeIssuerVerifier,
    a_credential,
    a_ticket,
    flips,
    tickets,
)

ISSUER = FakeIssuer(7)
GATE = FakeIssuerVerifier(6, 7, 8)
CODE = seal_ticket(a_ticket(), ISSUER)


def reason(data: bytes) -> tuple[str, str]:
    with pytest.raises(CodeError) as caught:
        open_ticket(data)
    return caught.value.reason, caught.value.field


def test_layout_starts_with_version_type_and_key_id() -> None:
    assert CODE[:4] == bytes([1, CodeType.TICKET, 0, 7])
    assert len(CODE) == len(encode_ticket(a_ticket())) + 64


def test_round_trip_keeps_every_field() -> None:
    sealed = open_ticket(CODE)
    assert sealed.value == a_ticket()
    assert sealed.data == CODE
    assert sealed.signature == ISSUER.sign(sealed.message)
    assert verify_ticket(CODE, GATE) == a_ticket()


def test_standing_ticket_without_coach_or_seat_round_trips() -> None:
    standing = a_ticket(seat_class=SeatClass.STANDING, coach=0, seat_label="")
    assert open_ticket(seal_ticket(standing, ISSUER)).value == standing


def test_unicode_seat_label_round_trips() -> None:
    berth = a_ticket(seat_class=SeatClass.HARD_SLEEPER, seat_label="12号下铺")
    assert open_ticket(seal_ticket(berth, ISSUER)).value.seat_label == "12号下铺"


@settings(max_examples=150)
@given(tickets())
def test_any_valid_ticket_round_trips_canonically(ticket: TicketCode) -> None:
    code = seal_ticket(ticket, FakeIssuer(ticket.key_id))
    sealed = open_ticket(code)
    assert sealed.value == ticket
    assert encode_ticket(sealed.value) == sealed.message
    assert verify_ticket(code, FakeIssuerVerifier(ticket.key_id)) == ticket


def test_flipping_any_single_byte_fails_verification() -> None:
    for mutated in flips(CODE):
        with pytest.raises(CodeError):
            verify_ticket(mutated, GATE)


def test_signature_from_an_untrusted_key_is_rejected() -> None:
    foreign = seal_ticket(a_ticket(key_id=9), FakeIssuer(9))
    with pytest.raises(CodeError) as caught:
        verify_ticket(foreign, GATE)
    assert caught.value.reason == "bad_signature"


def test_signature_by_another_trusted_key_than_named_is_rejected() -> None:
    lying = seal_ticket(a_ticket(key_id=7), FakeIssuer(8))
    with pytest.raises(CodeError) as caught:
        verify_ticket(lying, GATE)
    assert caught.value.reason == "bad_signature"


def test_every_proper_prefix_is_truncated() -> None:
    for size in range(len(CODE)):
        assert reason(CODE[:size])[0] == "truncated"


def test_extra_bytes_are_rejected() -> None:
    assert reason(CODE + b"\x00") == ("trailing_bytes", "code")


@pytest.mark.parametrize("version", [0, 2, 255])
def test_unknown_version_is_rejected(version: int) -> None:
    assert reason(bytes([version]) + CODE[1:]) == ("bad_version", "version")


def test_unknown_type_and_other_code_types_are_rejected() -> None:
    assert reason(CODE[:1] + b"\x09" + CODE[2:]) == ("bad_type", "type")
    credential = seal_credential(a_credential(), ISSUER)
    assert reason(credential) == ("bad_type", "type")
    assert open_code(CODE).value == a_ticket()  # type: ignore[union-attr]


def body(**overrides: object) -> bytes:
    """A ticket body written field by field, so invalid values can be placed on the wire."""
    f: dict[str, object] = {
        "ticket_no": b"E1",
        "train": b"G1",
        "from": b"VNP",
        "to": b"AOH",
        "class": b"O",
        "label": b"07F",
        "token": b"\x01" * 8,
        "window": (100, 200),
    }
    f.update(overrides)
    w = Writer().u8(1).u8(1).u16(7)
    w.short_bytes(f["ticket_no"]).short_bytes(f["train"]).u16(20_000)  # type: ignore[arg-type]
    w.short_bytes(f["from"]).short_bytes(f["to"]).raw(f["class"]).u8(5)  # type: ignore[arg-type]
    w.short_bytes(f["label"]).short_bytes(f["token"])  # type: ignore[arg-type]
    start, end = f["window"]  # type: ignore[misc]
    return w.u32(start).u32(end).getvalue() + bytes(64)


def test_hand_written_body_matches_the_encoder() -> None:
    expected = a_ticket(
        ticket_no="E1",
        service_date=date(2024, 10, 4),
        passenger_token=b"\x01" * 8,
        valid_from=100,
        valid_until=200,
    )
    assert open_ticket(body()).value == expected


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ticket_no": b""}, "ticket_no"),
        ({"ticket_no": b"E 1"}, "ticket_no"),
        ({"train": b"G\x001"}, "train_code"),
        ({"from": b"\xff\xfe"}, "from_station"),
        ({"to": b"VNP"}, "to_station"),
        ({"class": b"Z"}, "seat_class"),
        ({"label": b"\xe5\x8f"}, "seat_label"),
        ({"label": b"0\n"}, "seat_label"),
        ({"label": b"x" * 17}, "seat_label"),
        ({"token": b""}, "passenger_token"),
        ({"token": b"x" * 33}, "passenger_token"),
        ({"token": b"11010519491231002X"}, "passenger_token"),
        ({"window": (200, 200)}, "valid_until"),
        ({"window": (300, 200)}, "valid_until"),
    ],
)
def test_out_of_range_fields_are_bad_fields(overrides: dict[str, object], field: str) -> None:
    assert reason(body(**overrides)) == ("bad_field", field)


@pytest.mark.parametrize(
    "changes",
    [
        {"key_id": 65536},
        {"key_id": -1},
        {"coach": 256},
        {"ticket_no": "E" * 25},
        {"train_code": ""},
        {"service_date": date(1969, 12, 31)},
        {"seat_class": "second"},
        {"passenger_token": "abc"},
        {"valid_until": 2**32},
    ],
)
def test_encoder_refuses_invalid_tickets(changes: dict[str, object]) -> None:
    with pytest.raises(CodeError) as caught:
        a_ticket(**changes)
    assert caught.value.reason == "bad_field"
    assert caught.value.field in changes
