"""The conductor's handheld check of a scanned ticket code against the run's manifest."""

from __future__ import annotations

from datetime import date

import pytest

from open12306.travel.domain.codes import seal_ticket
from open12306.travel.domain.onboard import OnboardReason, RunManifest, check_scanned
from open12306.travel.domain.onboard.check import OnboardCheck
from tests.unit.codes_support import FakeIssuer, a_ticket
from tests.unit.gate_support import FakeKeyring

ROUTE = ("VNP", "TIP", "NJH", "AOH")
NO = "E123456789012"
RUN = RunManifest.of("G1", date(2026, 2, 10), ROUTE, live=[NO], revoked=["E999"])


def code(key_id: int = 7, **changes: object) -> bytes:
    return seal_ticket(a_ticket(key_id=key_id, **changes), FakeIssuer(key_id))


def scan(data: bytes, segment: int = 1, run: RunManifest = RUN) -> OnboardCheck:
    return check_scanned(data, FakeKeyring(), run, segment)


def test_a_good_ticket_on_its_segment_passes() -> None:
    result = scan(code())
    assert (result.ok, result.reason) == (True, OnboardReason.OK)
    assert result.detail == "coach 5 seat 07F"
    assert result.ticket is not None and result.ticket.ticket_no == NO


@pytest.mark.parametrize(
    ("data", "segment", "reason"),
    [
        (b"\x00garbage", 1, OnboardReason.MALFORMED),
        (code(key_id=5), 1, OnboardReason.RETIRED_KEY),
        (code(key_id=9), 1, OnboardReason.UNKNOWN_KEY),
        (code(train_code="G3"), 1, OnboardReason.WRONG_RUN),
        (code(service_date=date(2026, 2, 11)), 1, OnboardReason.WRONG_RUN),
        (code(ticket_no="E999"), 1, OnboardReason.REVOKED),
        (code(ticket_no="E555"), 1, OnboardReason.NOT_IN_MANIFEST),
        (code(to_station="SHH"), 1, OnboardReason.OFF_ROUTE),
        (code(from_station="TIP"), 0, OnboardReason.NOT_BOARDED_YET),
        (code(to_station="TIP"), 1, OnboardReason.BEYOND_DESTINATION),
    ],
)
def test_each_failure_has_its_reason(data: bytes, segment: int, reason: OnboardReason) -> None:
    result = scan(data, segment)
    assert (result.ok, result.reason) == (False, reason)


def test_a_forged_signature_is_refused() -> None:
    data = bytearray(code())
    data[-1] ^= 0x01
    assert scan(bytes(data)).reason is OnboardReason.BAD_SIGNATURE


def test_a_standing_ticket_says_so() -> None:
    assert scan(code(coach=0, seat_label="")).detail == "standing"
