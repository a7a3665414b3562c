"""Reserved e-tickets at the gate: every check, its reason, and what the gate remembers."""

from datetime import date

import pytest

from open12306.travel.domain.codes import seal_ticket
from open12306.travel.domain.gate import (
    DenyLists,
    Direction,
    GateState,
    ManifestRun,
    ReasonCode,
    TicketUsed,
)
from tests.unit.codes_support import T0, FakeIssuer, a_ticket, flips
from tests.unit.gate_support import (
    DEPARTURE,
    DESTINATION,
    FakeKeyring,
    gate,
    manifest,
    manifest_ticket,
    ticket_code,
)

ENTRY, EXIT = Direction.ENTRY, Direction.EXIT
NOW = T0 + 600


def test_a_valid_ticket_enters_at_its_boarding_station_and_is_remembered() -> None:
    state = GateState()
    decision = gate().decide(ticket_code(), NOW, ENTRY, state)
    assert decision.accepted and decision.reason is ReasonCode.OK
    assert decision.subject == "E123456789012"
    assert decision.effects == (TicketUsed("E123456789012", ENTRY, NOW),)
    assert state.used == {("E123456789012", ENTRY): NOW}


def test_the_same_ticket_is_refused_the_second_time() -> None:
    state = GateState()
    the_gate = gate()
    assert the_gate.decide(ticket_code(), NOW, ENTRY, state).accepted
    again = the_gate.decide(ticket_code(), NOW + 5, ENTRY, state)
    assert not again.accepted and again.reason is ReasonCode.REPLAYED


def test_entry_and_exit_are_remembered_separately() -> None:
    state = GateState()
    state.used[("E123456789012", ENTRY)] = NOW
    decision = gate(DESTINATION).decide(ticket_code(), NOW + 7200, EXIT, state)
    assert decision.accepted
    assert gate(DESTINATION).decide(ticket_code(), NOW + 7300, EXIT, state).reason == "replayed"


def test_evaluate_leaves_the_state_alone() -> None:
    state = GateState()
    assert gate().evaluate(ticket_code(), NOW, ENTRY, state).accepted
    assert state.used == {}


@pytest.mark.parametrize(
    ("station", "direction", "reason"),
    [
        ("SHH", ENTRY, ReasonCode.WRONG_STATION),
        ("SHH", EXIT, ReasonCode.WRONG_STATION),
        (DESTINATION, ENTRY, ReasonCode.WRONG_DIRECTION),
        ("VNP", EXIT, ReasonCode.WRONG_DIRECTION),
    ],
)
def test_station_and_direction(station: str, direction: Direction, reason: ReasonCode) -> None:
    decision = gate(station).decide(ticket_code(), NOW, direction, GateState())
    assert not decision.accepted and decision.reason is reason


def test_a_revoked_ticket_is_refused() -> None:
    deny = DenyLists(tickets=frozenset({"E123456789012"}))
    decision = gate(deny=deny).decide(ticket_code(), NOW, ENTRY, GateState())
    assert decision.reason is ReasonCode.REVOKED and not decision.accepted


def test_other_revocations_do_not_matter() -> None:
    deny = DenyLists(tickets=frozenset({"E999"}))
    assert gate(deny=deny).decide(ticket_code(), NOW, ENTRY, GateState()).accepted


def test_a_forged_signature_is_refused() -> None:
    forged = seal_ticket(a_ticket(key_id=7), FakeIssuer(8))  # key 8's signature, claims key 7
    decision = gate().decide(forged, NOW, ENTRY, GateState())
    assert decision.reason is ReasonCode.BAD_SIGNATURE


@pytest.mark.parametrize(
    ("key_id", "reason"),
    [(5, ReasonCode.RETIRED_KEY), (99, ReasonCode.UNKNOWN_KEY), (6, ReasonCode.OK)],
)
def test_key_states(key_id: int, reason: ReasonCode) -> None:
    decision = gate().decide(ticket_code(key_id), NOW, ENTRY, GateState())
    assert decision.reason is reason
    assert decision.accepted is (reason is ReasonCode.OK)


def test_next_key_is_trusted() -> None:
    assert gate().decide(ticket_code(8), NOW, ENTRY, GateState()).accepted


@pytest.mark.parametrize(
    ("now", "reason"),
    [
        (T0 - 90, ReasonCode.OK),
        (T0 - 91, ReasonCode.NOT_YET_VALID),
        (T0 + 3600 + 90, ReasonCode.OK),
        (T0 + 3600 + 91, ReasonCode.EXPIRED),
    ],
)
def test_the_ticket_window_allows_the_clock_skew_and_no_more(now: int, reason: ReasonCode) -> None:
    assert gate(clock_skew_seconds=90).decide(ticket_code(), now, ENTRY, GateState()).reason is (
        reason
    )


def test_exit_is_allowed_until_the_grace_period_ends() -> None:
    exit_gate = gate(DESTINATION, exit_grace_minutes=600)
    assert exit_gate.decide(ticket_code(), T0 + 3600 + 600 * 60, EXIT, GateState()).accepted
    late = exit_gate.decide(ticket_code(), T0 + 3600 + 600 * 60 + 1, EXIT, GateState())
    assert late.reason is ReasonCode.EXPIRED


RUN_DEPARTS = T0 + 3000  # check-in (30 min before, closing 5 min before) inside the ticket's


@pytest.mark.parametrize(
    ("now", "reason"),
    [
        (T0 - 1, ReasonCode.NOT_YET_VALID),
        (RUN_DEPARTS - 30 * 60 - 1, ReasonCode.OUTSIDE_WINDOW),
        (RUN_DEPARTS - 30 * 60, ReasonCode.OK),
        (RUN_DEPARTS - 5 * 60, ReasonCode.OK),
        (RUN_DEPARTS - 5 * 60 + 1, ReasonCode.OUTSIDE_WINDOW),
    ],
)
def test_the_manifest_run_sets_the_check_in_window(now: int, reason: ReasonCode) -> None:
    run = ManifestRun("G1", date(2026, 2, 10), RUN_DEPARTS)
    the_gate = gate(
        man=manifest(runs=(run,)),
        check_in_opens_minutes=30,
        closes_minutes_before=5,
        clock_skew_seconds=0,
    )
    assert the_gate.decide(ticket_code(), now, ENTRY, GateState()).reason is reason


def test_a_run_missing_from_the_manifest_is_refused() -> None:
    other = manifest(runs=(ManifestRun("G3", date(2026, 2, 10), DEPARTURE),))
    assert gate(man=other).decide(ticket_code(), NOW, ENTRY, GateState()).reason == "unknown_run"
    passing = manifest(runs=(ManifestRun("G1", date(2026, 2, 10), None, DEPARTURE),))
    assert gate(man=passing).decide(ticket_code(), NOW, ENTRY, GateState()).reason == (
        "unknown_run"
    )


def test_the_manifest_asks_for_a_face_check() -> None:
    man = manifest(manifest_ticket(face_required=True))
    decision = gate(man=man).decide(ticket_code(), NOW + 3000, ENTRY, GateState())
    assert decision.accepted and decision.face_required
    plain = gate(man=manifest()).decide(ticket_code(), NOW + 3000, ENTRY, GateState())
    assert plain.accepted and not plain.face_required


def test_every_single_byte_change_is_refused() -> None:
    the_gate = gate()
    for changed in flips(ticket_code()):
        decision = the_gate.decide(changed, NOW, ENTRY, GateState())
        assert not decision.accepted, changed.hex()


def test_a_ticket_signed_for_another_state_of_keys_fails_once_the_key_is_dropped() -> None:
    keyring = FakeKeyring({7: "retired", 8: "current", 9: "next"})
    assert gate(keyring=keyring).decide(ticket_code(7), NOW, ENTRY, GateState()).reason == (
        "retired_key"
    )
