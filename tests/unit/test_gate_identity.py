"""Admission by ID number against the station manifest (which stores only salted hashes)."""

import pytest

from open12306.shared.errors import DomainError
from open12306.travel.domain.gate import (
    CodeKind,
    DenyLists,
    Direction,
    GateConfig,
    GateState,
    ReasonCode,
    document_hash,
    normalize_document,
)
from tests.unit.codes_support import T0
from tests.unit.gate_support import (
    DESTINATION,
    ID_NUMBER,
    SALT,
    gate,
    manifest,
    manifest_ticket,
    ticket_code,
)

ENTRY, EXIT = Direction.ENTRY, Direction.EXIT
NOW = T0 + 600


def test_a_passenger_enters_by_id_number_once() -> None:
    state = GateState()
    the_gate = gate(man=manifest(manifest_ticket(face_required=True)))
    decision = the_gate.admit_id(ID_NUMBER.lower(), NOW, ENTRY, state)
    assert decision.accepted and decision.kind is CodeKind.ID_DOCUMENT
    assert decision.subject == "E123456789012" and decision.face_required
    assert ID_NUMBER not in decision.detail
    again = the_gate.admit_id(ID_NUMBER, NOW + 10, ENTRY, state)
    assert again.reason is ReasonCode.REPLAYED


def test_id_and_qr_share_the_used_ticket_memory() -> None:
    state = GateState()
    the_gate = gate(man=manifest(manifest_ticket()))
    assert the_gate.admit_id(ID_NUMBER, NOW, ENTRY, state).accepted
    assert the_gate.decide(ticket_code(), NOW + 5, ENTRY, state).reason is ReasonCode.REPLAYED


def test_normalisation_and_hashing() -> None:
    assert normalize_document(" 110105-19491231002x ") == ID_NUMBER
    assert document_hash("11010519491231002x", SALT) == document_hash(ID_NUMBER, SALT)
    assert document_hash(ID_NUMBER, SALT) != document_hash(ID_NUMBER, b"another salt")
    for bad in ("", "  ", "1101０5", "a" * 33, "11010519491231002/"):
        with pytest.raises(DomainError):
            normalize_document(bad)


def test_unknown_number_and_missing_manifest() -> None:
    state = GateState()
    listed = gate(man=manifest(manifest_ticket()))
    assert listed.admit_id("110105194912310038", NOW, ENTRY, state).reason == "not_in_manifest"
    assert listed.admit_id("not a number!", NOW, ENTRY, state).reason == "malformed"
    assert gate().admit_id(ID_NUMBER, NOW, ENTRY, state).reason == "no_manifest"


def test_revoked_wrong_station_and_window() -> None:
    man = manifest(manifest_ticket())
    revoked = gate(man=man, deny=DenyLists(tickets=frozenset({"E123456789012"})))
    assert revoked.admit_id(ID_NUMBER, NOW, ENTRY, GateState()).reason == "revoked"
    assert gate("SHH", man=man).admit_id(ID_NUMBER, NOW, ENTRY, GateState()).reason == (
        "wrong_station"
    )
    assert gate(man=man).admit_id(ID_NUMBER, NOW, EXIT, GateState()).reason == "wrong_direction"
    assert gate(man=man).admit_id(ID_NUMBER, T0 + 9000, ENTRY, GateState()).reason == "expired"


def test_exit_by_id_at_the_destination() -> None:
    man = manifest(manifest_ticket())
    decision = gate(DESTINATION, man=man).admit_id(ID_NUMBER, T0 + 9000, EXIT, GateState())
    assert decision.accepted and decision.subject == "E123456789012"


def test_of_several_tickets_the_one_in_its_window_is_used() -> None:
    tomorrow = manifest_ticket(ticket_no="E2", valid_from=T0 + 86400, valid_until=T0 + 90000)
    today = manifest_ticket(ticket_no="E1")
    the_gate = gate(man=manifest(tomorrow, today))
    state = GateState()
    assert the_gate.admit_id(ID_NUMBER, NOW, ENTRY, state).subject == "E1"
    refused = the_gate.admit_id(ID_NUMBER, NOW + 60, ENTRY, state)
    assert refused.reason is ReasonCode.REPLAYED  # the furthest-along refusal explains it


def test_the_manifest_holds_no_id_numbers() -> None:
    the_manifest = manifest(manifest_ticket())
    assert all(ID_NUMBER.encode() not in t.document_hash for t in the_manifest.tickets)
    with pytest.raises(DomainError):
        manifest_ticket(document_hash=ID_NUMBER.encode())


def test_gate_config_is_checked() -> None:
    for bad in (
        {"station": ""},
        {"station": "VNP", "clock_skew_seconds": -1},
        {"station": "VNP", "check_in_opens_minutes": 4, "closes_minutes_before": 5},
        {"station": "VNP", "gate_id": ""},
        {"station": "VNP", "scan_validity_seconds": True},
    ):
        with pytest.raises(DomainError):
            GateConfig(**bad)  # type: ignore[arg-type]
    assert GateConfig("VNP").skew == 90
