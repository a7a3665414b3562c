"""The gate journal: taps in SQLite (WAL), replay memory kept across restarts, idempotent export."""

import sqlite3
from datetime import date
from pathlib import Path

from open12306.travel.adapters.gate import GateJournal, TapCollector
from open12306.travel.adapters.gate.keyring import DeviceKeyVerifier
from open12306.travel.domain.gate import (
    Direction,
    Gate,
    GateConfig,
    Manifest,
    ManifestRun,
    ManifestTicket,
    ReasonCode,
    document_hash,
)
from tests.integration.gate_support import NOW, keyring, scan, ticket

ENTRY, EXIT = Direction.ENTRY, Direction.EXIT


def a_gate(station: str = "VNP") -> Gate:
    return Gate(GateConfig(station), keyring(), DeviceKeyVerifier())


def tap(journal: GateJournal, gate: Gate, code: bytes, now: int, direction: Direction) -> str:
    state = journal.load_state()
    decision = gate.decide(code, now, direction, state)
    journal.record(decision, code, now, direction)
    return str(decision.reason)


def test_a_restarted_gate_keeps_its_replay_memory(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    gate = a_gate()
    with GateJournal(path, "g1", "VNP") as journal:
        state = journal.load_state()
        for code in (ticket(), scan(counter=5)):
            journal.record(gate.decide(code, NOW, ENTRY, state), code, NOW, ENTRY)
    with GateJournal(path, "g1", "VNP") as journal:  # the gate restarted
        state = journal.load_state()
        assert gate.decide(ticket(), NOW + 1, ENTRY, state).reason is ReasonCode.REPLAYED
        assert gate.decide(scan(counter=5), NOW + 1, ENTRY, state).reason is ReasonCode.REPLAYED
        assert gate.decide(scan(counter=4), NOW + 1, ENTRY, state).reason is (
            ReasonCode.COUNTER_REPLAY
        )
        assert gate.decide(scan(counter=6), NOW + 1, ENTRY, state).reason is (
            ReasonCode.ALREADY_INSIDE
        )


def test_an_exit_clears_the_inside_state_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    gate = a_gate()
    with GateJournal(path, "g1", "VNP") as journal:
        assert tap(journal, gate, scan(counter=1), NOW, ENTRY) == "ok"
        assert tap(journal, gate, scan(counter=2, timestamp=NOW + 60), NOW + 60, EXIT) == "ok"
    with GateJournal(path, "g1", "VNP") as journal:
        assert journal.load_state().inside == {}
        assert journal.load_state().counters[2**40 + 5].counter == 2
        assert tap(journal, gate, scan(counter=3, timestamp=NOW + 99), NOW + 99, ENTRY) == "ok"


def test_refusals_are_journaled_but_change_no_memory(tmp_path: Path) -> None:
    with GateJournal(tmp_path / "j.sqlite", "g1", "VNP") as journal:
        assert tap(journal, a_gate("SHH"), ticket(), NOW, ENTRY) == "wrong_station"
        assert tap(journal, a_gate(), b"\x01\x09", NOW, ENTRY) == "malformed"
        state = journal.load_state()
        assert state.counters == {} and state.used == {} and state.inside == {}
        taps = journal.export_taps()
    assert [t["reason"] for t in taps] == ["wrong_station", "malformed"]
    assert [t["accepted"] for t in taps] == [False, False]
    assert taps[1]["code"] == "0109"


def test_export_is_incremental_and_uploads_are_idempotent(tmp_path: Path) -> None:
    gate = a_gate()
    with GateJournal(tmp_path / "j.sqlite", "g1", "VNP") as journal:
        for n in range(1, 4):
            tap(journal, gate, scan(counter=n, timestamp=NOW + n), NOW + n, [ENTRY, EXIT][n % 2])
        first = journal.export_taps()
        assert [t["seq"] for t in first] == [1, 2, 3]
        assert first[0]["serial"] == 2**40 + 5 and first[0]["counter"] == 1
        assert len({t["tap_id"] for t in first}) == 3
        assert all(t["tap_id"].startswith(f"g1/{journal.journal_id}/") for t in first)
        tap(journal, gate, scan(counter=9, timestamp=NOW + 9), NOW + 9, EXIT)
        newer = journal.export_taps(since=first[-1]["seq"])
        assert [t["counter"] for t in newer] == [9]
        assert journal.tap_count() == 4
    with TapCollector(tmp_path / "station.sqlite") as collector:
        assert collector.receive(first) == 3
        assert collector.receive(first + newer) == 1  # a retried upload adds only the new tap
        assert collector.receive(first + newer) == 0
        assert [t["counter"] for t in collector.taps()] == [1, 2, 3, 9]


def test_two_journals_of_one_gate_never_share_tap_ids(tmp_path: Path) -> None:
    ids = set()
    for name in ("a.sqlite", "b.sqlite"):
        with GateJournal(tmp_path / name, "g1", "VNP") as journal:
            tap(journal, a_gate(), ticket(), NOW, ENTRY)
            ids |= {t["tap_id"] for t in journal.export_taps()}
    assert len(ids) == 2


def test_the_journal_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    GateJournal(path, "g1", "VNP").close()
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_prune_forgets_only_what_is_old(tmp_path: Path) -> None:
    with GateJournal(tmp_path / "j.sqlite", "g1", "VNP") as journal:
        gate = a_gate()
        assert tap(journal, gate, ticket(), NOW, ENTRY) == "ok"
        assert tap(journal, gate, scan(counter=1), NOW, ENTRY) == "ok"
        journal.prune(NOW + 10, keep_seconds=3600)
        kept = journal.load_state()
        assert kept.used and kept.inside and kept.counters
        credential_ends = kept.counters[2**40 + 5].valid_until
        journal.prune(credential_ends + 3601, keep_seconds=3600)
        gone = journal.load_state()
        assert gone.used == {} and gone.inside == {} and gone.counters == {}
        assert journal.tap_count() == 2


def test_an_id_tap_is_journaled_without_the_number(tmp_path: Path) -> None:
    number = "11010519491231002X"
    listed = ManifestTicket(
        "E1", "G1", date(2026, 2, 10), "VNP", "AOH", NOW - 60, NOW + 60, document_hash(number, b"s")
    )
    gate = Gate(
        GateConfig("VNP"),
        keyring(),
        DeviceKeyVerifier(),
        manifest=Manifest(b"s", [ManifestRun("G1", date(2026, 2, 10), NOW + 1800)], [listed]),
    )
    path = tmp_path / "j.sqlite"
    with GateJournal(path, "g1", "VNP") as journal:
        decision = gate.admit_id(number, NOW, ENTRY, journal.load_state())
        assert decision.accepted
        journal.record(decision, b"", NOW, ENTRY)
        assert journal.export_taps()[0]["kind"] == "id_document"
        assert journal.load_state().used == {("E1", ENTRY): NOW}
    assert number.encode() not in path.read_bytes()
