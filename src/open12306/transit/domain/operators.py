"""Transit operators and their fare rules: flat bus fares and station-to-station fare tables.

A bus operator charges one flat fare per boarding. A metro or a walk-up railway line charges
by the pair of stations a rider enters and leaves at, from a fare table built once (see
``metro.py`` and ``railway.py``); its maximum fare is what an incomplete journey costs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from open12306.shared.errors import DomainError


@dataclass(frozen=True, slots=True)
class Caps:
    """Most an account pays an operator per service day and per week (None: no cap), in fen."""

    daily_fen: int | None = None
    weekly_fen: int | None = None

    def __post_init__(self) -> None:
        for name, value in (("daily_fen", self.daily_fen), ("weekly_fen", self.weekly_fen)):
            if value is not None and value < 0:
                raise DomainError(name, "negative", f"{name} must be at least 0")


@dataclass(frozen=True, slots=True)
class FlatFareOperator:
    """A bus operator: every boarding tap costs ``fare_fen``."""

    id: str
    fare_fen: int
    caps: Caps = field(default_factory=Caps)

    def __post_init__(self) -> None:
        if self.fare_fen < 0:
            raise DomainError("fare_fen", "negative", f"operator {self.id}: fare must be >= 0")

    @property
    def max_fare(self) -> int:
        return self.fare_fen


@dataclass(frozen=True, slots=True)
class TableFareOperator:
    """A tap-in/tap-out operator (metro, walk-up railway) priced from a fare table.

    ``fares`` maps (entry station, exit station) to fen and must hold both directions and each
    station to itself (the fare for leaving where one entered after ``cancel_window_s``).
    Taps in and out at the same station within ``cancel_window_s`` are a cancelled trip; an
    entry and exit further apart than ``max_journey_s`` are two broken journeys.
    """

    id: str
    fares: Mapping[tuple[str, str], int]
    caps: Caps = field(default_factory=Caps)
    cancel_window_s: int = 20 * 60
    max_journey_s: int = 4 * 3600
    max_fare: int = field(init=False)

    def __post_init__(self) -> None:
        if not self.fares:
            raise DomainError("fares", "empty", f"operator {self.id}: empty fare table")
        if min(self.fares.values()) < 0:
            raise DomainError("fares", "negative", f"operator {self.id}: negative fare")
        if self.cancel_window_s < 0 or self.max_journey_s <= 0:
            raise DomainError("window", "not_positive", f"operator {self.id}: bad time limits")
        object.__setattr__(self, "max_fare", max(self.fares.values()))

    def fare(self, origin: str, destination: str) -> int | None:
        """The fare between two stations in fen, or None when either is not on the table."""
        return self.fares.get((origin, destination))


Operator = FlatFareOperator | TableFareOperator
