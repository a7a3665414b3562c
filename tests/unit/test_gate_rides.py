"""Ride codes (credential + per-scan part) at the gate: every check and the replay memory."""

from hypothesis import given, settings
from hypothesis import strategies as st

from open12306.travel.domain.codes import ScanHint, ScanPart, seal_scan
from open12306.travel.domain.gate import (
    CounterSeen,
    DenyLists,
    Direction,
    Entered,
    Exited,
    GateState,
    ReasonCode,
    code_digest,
)
from tests.unit.codes_support import T0, FakeDevice, flips
from tests.unit.gate_support import (
    DESTINATION,
    SERIAL,
    STATION,
    TOKEN,
    credential_code,
    gate,
    scan_code,
)

ENTRY, EXIT = Direction.ENTRY, Direction.EXIT
NOW = T0 + 100  # scan codes are made at T0 + 100 unless told otherwise


def test_a_fresh_scan_enters_and_is_remembered() -> None:
    state = GateState()
    code = scan_code(counter=3)
    decision = gate().decide(code, NOW, ENTRY, state)
    assert decision.accepted and decision.reason is ReasonCode.OK
    assert (decision.serial, decision.counter, decision.subject) == (SERIAL, 3, f"serial:{SERIAL}")
    assert decision.face_required  # the credential's flags ask for it
    assert state.counters[SERIAL] == CounterSeen(SERIAL, 3, code_digest(code), T0 + 72 * 3600)
    assert state.inside[TOKEN] == Entered(TOKEN, NOW, STATION)


def test_the_same_code_shown_again_is_a_replay() -> None:
    state = GateState()
    code = scan_code(counter=3)
    assert gate().decide(code, NOW, ENTRY, state).accepted
    decision = gate().decide(code, NOW + 1, EXIT, state)
    assert not decision.accepted and decision.reason is ReasonCode.REPLAYED


def test_a_used_or_older_counter_in_a_new_code_is_refused() -> None:
    state = GateState()
    assert gate().decide(scan_code(counter=10), NOW, ENTRY, state).accepted
    for counter, timestamp in ((10, NOW + 5), (9, NOW + 30), (0, NOW)):
        decision = gate().decide(scan_code(counter, timestamp), NOW + 30, EXIT, state)
        assert decision.reason is ReasonCode.COUNTER_REPLAY, counter
    assert gate().decide(scan_code(11, NOW + 30), NOW + 30, EXIT, state).accepted


def test_a_refused_scan_does_not_move_the_counter() -> None:
    state = GateState()
    gate(deny=DenyLists(serials=frozenset({SERIAL}))).decide(scan_code(5), NOW, ENTRY, state)
    assert state.counters == {} and state.inside == {}
    assert gate().decide(scan_code(5), NOW, ENTRY, state).accepted


def test_credential_validity_allows_the_skew_and_no_more() -> None:
    early = credential_code(valid_from=NOW + 91, valid_until=NOW + 3600)
    decision = gate().decide(scan_code(credential=early), NOW, ENTRY, GateState())
    assert decision.reason is ReasonCode.NOT_YET_VALID
    at_edge = credential_code(valid_from=NOW + 90, valid_until=NOW + 3600)
    assert gate().decide(scan_code(credential=at_edge), NOW, ENTRY, GateState()).accepted


def test_an_expired_credential_is_refused() -> None:
    expired = credential_code(valid_from=T0 - 7200, valid_until=NOW - 91)
    decision = gate().decide(scan_code(credential=expired), NOW, ENTRY, GateState())
    assert decision.reason is ReasonCode.EXPIRED and not decision.accepted
    at_edge = credential_code(valid_from=T0 - 7200, valid_until=NOW - 90)
    assert gate().decide(scan_code(credential=at_edge), NOW, ENTRY, GateState()).accepted


def test_a_stale_or_future_scan_is_clock_skew() -> None:
    the_gate = gate(clock_skew_seconds=90, scan_validity_seconds=60)
    for timestamp, accepted in ((NOW - 150, True), (NOW - 151, False), (NOW + 150, True)):
        decision = the_gate.decide(scan_code(timestamp=timestamp), NOW, ENTRY, GateState())
        assert decision.accepted is accepted, timestamp
    future = the_gate.decide(scan_code(timestamp=NOW + 151), NOW, ENTRY, GateState())
    assert future.reason is ReasonCode.CLOCK_SKEW


def test_deny_listed_account_or_serial() -> None:
    for deny in (DenyLists(accounts=frozenset({TOKEN})), DenyLists(serials=frozenset({SERIAL}))):
        decision = gate(deny=deny).decide(scan_code(), NOW, ENTRY, GateState())
        assert decision.reason is ReasonCode.DENY_LISTED


def test_keys_retired_unknown_previous_next() -> None:
    cases = {5: ReasonCode.RETIRED_KEY, 42: ReasonCode.UNKNOWN_KEY}
    cases |= {6: ReasonCode.OK, 8: ReasonCode.OK}
    for key_id, reason in cases.items():
        code = scan_code(credential=credential_code(key_id))
        assert gate().decide(code, NOW, ENTRY, GateState()).reason is reason, key_id


def test_forged_issuer_or_device_signature() -> None:
    genuine = credential_code()
    forged_credential = genuine[:-64] + credential_code(8)[-64:]  # key 8's signature on key 7
    decision = gate().decide(scan_code(credential=forged_credential), NOW, ENTRY, GateState())
    assert decision.reason is ReasonCode.BAD_SIGNATURE and "issuer" in decision.detail
    stranger = seal_scan(genuine, ScanPart(NOW, 1), FakeDevice(b"\x99" * 32))
    decision = gate().decide(stranger, NOW, ENTRY, GateState())
    assert decision.reason is ReasonCode.BAD_SIGNATURE and "device" in decision.detail


def test_every_single_byte_change_is_refused() -> None:
    code = scan_code(counter=7)
    for changed in flips(code):
        assert not gate().decide(changed, NOW, ENTRY, GateState()).accepted, changed.hex()


def test_entering_twice_without_leaving_is_refused_until_the_rider_leaves() -> None:
    state = GateState()
    assert gate().decide(scan_code(1), NOW, ENTRY, state).accepted
    twice = gate().decide(scan_code(2), NOW, ENTRY, state)
    assert twice.reason is ReasonCode.ALREADY_INSIDE
    out = gate(DESTINATION).decide(scan_code(3, NOW + 1800), NOW + 1800, EXIT, state)
    assert out.accepted and out.notes == () and Exited(TOKEN) in out.effects
    assert TOKEN not in state.inside
    assert gate().decide(scan_code(4, NOW + 3600), NOW + 3600, ENTRY, state).accepted


def test_an_old_entry_is_forgotten_after_the_expiry() -> None:
    state = GateState()
    assert gate().decide(scan_code(1), NOW, ENTRY, state).accepted
    later = NOW + 60 * 60
    refused = gate(inside_expiry_minutes=60).decide(scan_code(2, later), later, ENTRY, state)
    assert refused.reason is ReasonCode.ALREADY_INSIDE
    after = gate(inside_expiry_minutes=60).decide(scan_code(3, later + 1), later + 1, ENTRY, state)
    assert after.accepted


def test_exit_without_a_known_entry_is_noted_for_settlement() -> None:
    decision = gate(DESTINATION).decide(scan_code(), NOW, EXIT, GateState())
    assert decision.accepted and decision.notes == ("entry_unknown",)


def test_leaving_where_one_entered_soon_after_is_a_cancelled_trip() -> None:
    state = GateState()
    gate(cancel_minutes=20).decide(scan_code(1), NOW, ENTRY, state)
    soon = NOW + 20 * 60
    decision = gate(cancel_minutes=20).decide(scan_code(2, soon), soon, EXIT, state)
    assert decision.accepted and decision.notes == ("cancelled_trip",)


def test_a_credential_alone_or_garbage_is_refused() -> None:
    for data, reason in (
        (credential_code(), ReasonCode.WRONG_CODE_TYPE),
        (b"", ReasonCode.MALFORMED),
        (b"\x02\x03" + scan_code()[2:], ReasonCode.MALFORMED),
        (scan_code()[:-1], ReasonCode.MALFORMED),
        (scan_code() + b"\x00", ReasonCode.MALFORMED),
    ):
        decision = gate().decide(data, NOW, ENTRY, GateState())
        assert decision.reason is reason and not decision.accepted


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.booleans(), st.integers(-200, 200)), max_size=25))
def test_accepted_counters_of_a_credential_only_go_up(
    taps: list[tuple[int, bool, int]],
) -> None:
    state = GateState()
    accepted: list[int] = []
    now = NOW
    for counter, leaving, offset in taps:
        now += 10
        direction = EXIT if leaving else ENTRY
        decision = gate().decide(scan_code(counter, now + offset), now, direction, state)
        if decision.accepted:
            accepted.append(counter)
    assert accepted == sorted(set(accepted))
    if accepted:
        assert state.counters[SERIAL].counter == accepted[-1]


def test_the_hint_is_only_advice() -> None:
    code = scan_code(hint=ScanHint.EXIT)
    decision = gate().decide(code, NOW, ENTRY, GateState())
    assert decision.accepted and decision.effects[1] == Entered(TOKEN, NOW, STATION)
