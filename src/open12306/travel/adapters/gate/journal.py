"""The gate's journal: every tap, and the replay memory, in one SQLite file (WAL).

A tap and the state changes it causes are written in one transaction, so a gate restarted
mid-day (or after a crash) keeps its memory of counters, used tickets and riders inside.
Every tap gets a unique id ``<gate id>/<journal id>/<sequence>``; ``export_taps`` hands taps
out in sequence order for upload and a receiver stores them once per id (``TapCollector``).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

from open12306.travel.domain.gate import (
    CounterSeen,
    Decision,
    Direction,
    Entered,
    Exited,
    GateState,
    TicketUsed,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS taps (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tap_id TEXT NOT NULL UNIQUE,
    gate_id TEXT NOT NULL,
    station TEXT NOT NULL,
    direction TEXT NOT NULL,
    gate_clock INTEGER NOT NULL,
    kind TEXT NOT NULL,
    accepted INTEGER NOT NULL,
    reason TEXT NOT NULL,
    subject TEXT NOT NULL,
    serial TEXT,
    counter INTEGER,
    notes TEXT NOT NULL,
    code BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    serial TEXT PRIMARY KEY,
    counter INTEGER NOT NULL,
    digest BLOB NOT NULL,
    valid_until INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS used_tickets (
    ticket_no TEXT NOT NULL,
    direction TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (ticket_no, direction)
);
CREATE TABLE IF NOT EXISTS inside (
    account BLOB PRIMARY KEY,
    at INTEGER NOT NULL,
    station TEXT NOT NULL
);
"""

_TAP_COLUMNS = (
    "seq, tap_id, gate_id, station, direction, gate_clock, kind, accepted, reason, subject, "
    "serial, counter, notes, code"
)


def _connect(path: Path | str) -> sqlite3.Connection:
    connection = sqlite3.connect(str(path), isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    return connection


class GateJournal:
    """Taps and replay memory of one gate (one file per gate)."""

    def __init__(self, path: Path | str, gate_id: str, station: str) -> None:
        self.path = Path(path)
        self.gate_id = gate_id
        self.station = station
        self._db = _connect(self.path)
        self._db.executescript(_SCHEMA)
        self.journal_id = self._meta_value("journal_id", uuid.uuid4().hex[:12])

    def __enter__(self) -> GateJournal:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    # -- state -------------------------------------------------------------------------------

    def load_state(self) -> GateState:
        """The replay memory as it was after the last recorded tap."""
        state = GateState()
        for serial, counter, digest, valid_until in self._db.execute(
            "SELECT serial, counter, digest, valid_until FROM counters"
        ):
            state.apply(CounterSeen(int(serial), counter, bytes(digest), valid_until))
        for ticket_no, direction, at in self._db.execute(
            "SELECT ticket_no, direction, at FROM used_tickets"
        ):
            state.apply(TicketUsed(ticket_no, Direction(direction), at))
        for account, at, station in self._db.execute("SELECT account, at, station FROM inside"):
            state.apply(Entered(bytes(account), at, station))
        return state

    # -- recording ---------------------------------------------------------------------------

    def record(
        self,
        decision: Decision,
        code: bytes,
        now: int,
        direction: Direction,
        reason: str | None = None,
    ) -> str:
        """Store one tap and the memory it changes, atomically; returns the tap id.

        ``reason`` replaces the decision's reason in the journal (a face check that refused
        an otherwise valid ticket is journaled as ``face_…``)."""
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO taps (tap_id, gate_id, station, direction, gate_clock, kind,"
                " accepted, reason, subject, serial, counter, notes, code)"
                " VALUES ('', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.gate_id,
                    self.station,
                    str(direction),
                    now,
                    str(decision.kind),
                    int(decision.accepted),
                    str(decision.reason) if reason is None else reason,
                    decision.subject,
                    None if decision.serial is None else str(decision.serial),
                    decision.counter,
                    ",".join(decision.notes),
                    bytes(code),
                ),
            )
            seq = cursor.lastrowid
            tap_id = f"{self.gate_id}/{self.journal_id}/{seq}"
            self._db.execute("UPDATE taps SET tap_id = ? WHERE seq = ?", (tap_id, seq))
            for effect in decision.effects:
                self._persist(effect)
        return tap_id

    def _persist(self, effect: CounterSeen | TicketUsed | Entered | Exited) -> None:
        if isinstance(effect, CounterSeen):
            self._db.execute(
                "INSERT OR REPLACE INTO counters VALUES (?, ?, ?, ?)",
                (str(effect.serial), effect.counter, effect.digest, effect.valid_until),
            )
        elif isinstance(effect, TicketUsed):
            self._db.execute(
                "INSERT OR REPLACE INTO used_tickets VALUES (?, ?, ?)",
                (effect.ticket_no, str(effect.direction), effect.at),
            )
        elif isinstance(effect, Entered):
            self._db.execute(
                "INSERT OR REPLACE INTO inside VALUES (?, ?, ?)",
                (effect.account_token, effect.at, effect.station),
            )
        else:
            self._db.execute("DELETE FROM inside WHERE account = ?", (effect.account_token,))

    def prune(self, now: int, keep_seconds: int) -> None:
        """Forget memory nobody can use any more: counters of credentials expired more than
        ``keep_seconds`` ago, tickets used and entries made before ``now - keep_seconds``.
        Taps stay (they leave by upload, not by pruning)."""
        cutoff = now - keep_seconds
        with self._transaction():
            self._db.execute("DELETE FROM counters WHERE valid_until < ?", (cutoff,))
            self._db.execute("DELETE FROM used_tickets WHERE at < ?", (cutoff,))
            self._db.execute("DELETE FROM inside WHERE at < ?", (cutoff,))

    # -- export ------------------------------------------------------------------------------

    def export_taps(self, since: int = 0, limit: int = 10_000) -> list[dict[str, Any]]:
        """Taps after sequence number ``since``, oldest first, as JSON-ready dicts.

        Pass the last ``seq`` you uploaded as ``since`` next time; re-sending a tap is harmless
        because receivers keep one row per ``tap_id``.
        """
        rows = self._db.execute(
            f"SELECT {_TAP_COLUMNS} FROM taps WHERE seq > ? ORDER BY seq LIMIT ?",
            (since, limit),
        ).fetchall()
        return [_tap_dict(row) for row in rows]

    def tap_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM taps").fetchone()[0])

    # -- internals ---------------------------------------------------------------------------

    def _meta_value(self, key: str, default: str) -> str:
        with self._transaction():
            self._db.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (key, default))
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0])

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on error (autocommit connections)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *_: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")


def _tap_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    (seq, tap_id, gate_id, station, direction, clock, kind, accepted, reason, subject) = row[:10]
    serial, counter, notes, code = row[10:]
    return {
        "seq": seq,
        "tap_id": tap_id,
        "gate_id": gate_id,
        "station": station,
        "direction": direction,
        "gate_clock": clock,
        "kind": kind,
        "accepted": bool(accepted),
        "reason": reason,
        "subject": subject,
        "serial": None if serial is None else int(serial),
        "counter": counter,
        "notes": [n for n in notes.split(",") if n],
        "code": bytes(code).hex(),
    }


class TapCollector:
    """The receiving end of uploads (a station server): one row per tap id."""

    def __init__(self, path: Path | str) -> None:
        self._db = _connect(path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS collected (tap_id TEXT PRIMARY KEY, tap TEXT NOT NULL)"
        )

    def __enter__(self) -> TapCollector:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def receive(self, taps: list[dict[str, Any]]) -> int:
        """Store taps not seen before; returns how many were new."""
        with _Transaction(self._db):
            before = self._db.total_changes
            self._db.executemany(
                "INSERT OR IGNORE INTO collected VALUES (?, ?)",
                [(tap["tap_id"], json.dumps(tap, sort_keys=True)) for tap in taps],
            )
            return self._db.total_changes - before

    def taps(self) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT tap FROM collected ORDER BY tap_id").fetchall()
        return [json.loads(row[0]) for row in rows]
