"""The answer a gate gives for one tap."""

from __future__ import annotations

from dataclasses import dataclass

from open12306.travel.domain.gate.reasons import CodeKind, ReasonCode
from open12306.travel.domain.gate.state import Effect


@dataclass(frozen=True, slots=True)
class Decision:
    """Open (``accepted``) or not, and why.

    ``subject`` names what was checked (a ticket number, or ``serial:N`` for a ride code);
    ``face_required`` asks the gate for a face 1:1 check before it opens; ``notes`` carry
    facts for settlement (``cancelled_trip``, ``entry_unknown``); ``effects`` are what the
    gate must remember (already applied to the state by ``Gate.decide``).
    """

    accepted: bool
    reason: ReasonCode
    detail: str
    kind: CodeKind
    subject: str = ""
    serial: int | None = None
    counter: int | None = None
    face_required: bool = False
    notes: tuple[str, ...] = ()
    effects: tuple[Effect, ...] = ()


def reject(kind: CodeKind, reason: ReasonCode, detail: str, subject: str = "") -> Decision:
    return Decision(False, reason, detail, kind, subject)
