"""Why a gate opened or stayed shut: stable machine-readable codes, and the gate's role."""

from __future__ import annotations

from enum import StrEnum


class ReasonCode(StrEnum):
    """The outcome of one tap. Values are stable: journals and uploads store them."""

    OK = "ok"
    MALFORMED = "malformed"
    UNREADABLE = "unreadable"
    WRONG_CODE_TYPE = "wrong_code_type"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_KEY = "unknown_key"
    RETIRED_KEY = "retired_key"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    WRONG_STATION = "wrong_station"
    WRONG_DIRECTION = "wrong_direction"
    OUTSIDE_WINDOW = "outside_window"
    UNKNOWN_RUN = "unknown_run"
    REVOKED = "revoked"
    REPLAYED = "replayed"
    COUNTER_REPLAY = "counter_replay"
    CLOCK_SKEW = "clock_skew"
    DENY_LISTED = "deny_listed"
    ALREADY_INSIDE = "already_inside"
    NOT_IN_MANIFEST = "not_in_manifest"
    NO_MANIFEST = "no_manifest"


class Direction(StrEnum):
    """What a gate is set up for: letting riders in or out."""

    ENTRY = "entry"
    EXIT = "exit"


class CodeKind(StrEnum):
    """What was presented at the gate."""

    TICKET = "ticket"
    RIDE = "ride"
    ID_DOCUMENT = "id_document"
    UNKNOWN = "unknown"
