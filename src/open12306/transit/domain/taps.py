"""Taps as settlement receives them from gates, buses and validators."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TapDirection(StrEnum):
    """What a tap says: in through a gate, out through a gate, or on board a bus."""

    ENTRY = "entry"
    EXIT = "exit"
    BOARD = "board"


@dataclass(frozen=True, slots=True)
class Tap:
    """One accepted tap of an account at a station (or a bus route) of an operator.

    ``tap_id`` is unique per tap across uploads (a gate's ``<gate>/<journal>/<seq>``), so a
    tap sent twice counts once; ``at`` is the gate's clock in unix seconds.
    """

    tap_id: str
    account_token: str
    operator: str
    station: str
    direction: TapDirection
    at: int


def unique_taps(taps: list[Tap] | tuple[Tap, ...]) -> list[Tap]:
    """The taps with repeated ``tap_id``s dropped (the first copy is kept)."""
    seen: dict[str, Tap] = {}
    for tap in taps:
        seen.setdefault(tap.tap_id, tap)
    return list(seen.values())
