"""What a gate remembers between taps, and the changes an accepted tap makes to it."""

from __future__ import annotations

from dataclasses import dataclass, field

from open12306.travel.domain.gate.reasons import Direction


@dataclass(frozen=True, slots=True)
class CounterSeen:
    """The newest counter accepted for a credential, and a digest of that exact code."""

    serial: int
    counter: int
    digest: bytes
    valid_until: int


@dataclass(frozen=True, slots=True)
class TicketUsed:
    """A ticket admitted in one direction."""

    ticket_no: str
    direction: Direction
    at: int


@dataclass(frozen=True, slots=True)
class Entered:
    """A ride-code account went in at ``station``."""

    account_token: bytes
    at: int
    station: str


@dataclass(frozen=True, slots=True)
class Exited:
    """A ride-code account went out."""

    account_token: bytes


Effect = CounterSeen | TicketUsed | Entered | Exited


@dataclass
class GateState:
    """The gate's replay memory: last counters by credential serial, tickets already used,
    and the ride-code accounts it saw go in and not yet out."""

    counters: dict[int, CounterSeen] = field(default_factory=dict)
    used: dict[tuple[str, Direction], int] = field(default_factory=dict)
    inside: dict[bytes, Entered] = field(default_factory=dict)

    def apply(self, effect: Effect) -> None:
        if isinstance(effect, CounterSeen):
            self.counters[effect.serial] = effect
        elif isinstance(effect, TicketUsed):
            self.used[(effect.ticket_no, effect.direction)] = effect.at
        elif isinstance(effect, Entered):
            self.inside[effect.account_token] = effect
        else:
            self.inside.pop(effect.account_token, None)

    def apply_all(self, effects: tuple[Effect, ...]) -> None:
        for effect in effects:
            self.apply(effect)

    def prune(self, now: int, keep_seconds: int) -> None:
        """Forget counters of credentials that expired more than ``keep_seconds`` ago."""
        stale = [s for s, c in self.counters.items() if c.valid_until + keep_seconds < now]
        for serial in stale:
            del self.counters[serial]
