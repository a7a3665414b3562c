"""Where a ticket bought on board starts, and what was ridden without one.

Stops are indices on the run's route; ``current`` is the stop the train is leaving (the
conductor's segment). A supplementary ticket (补票) runs from ``current`` to the destination.
An extension (越站) of a ticket ending at stop ``ends``:

* asked for in time (``current <= ends``): a new ticket from ``ends`` to the destination;
* found afterwards (``current > ends``): the stretch ``ends``→``current`` was ridden without
  a ticket (charged with a surcharge, ``fees.undeclared_ride_price``) and the new ticket
  runs from ``current`` on.
"""

from __future__ import annotations

from dataclasses import dataclass

from open12306.shared.errors import DomainError
from open12306.travel.domain.onboard.manifest import Unprocessable


@dataclass(frozen=True, slots=True)
class SalePlan:
    """The new ticket's stops and, when some was ridden without a ticket, that stretch."""

    from_stop: int
    to_stop: int
    ridden: tuple[int, int] | None = None


def _check_destination(current: int, destination: int, stops: int) -> None:
    if not 0 <= current < stops - 1:
        raise Unprocessable("from", "no_segment", "no segment leaves that stop")
    if not current < destination < stops:
        raise DomainError("to", "bad_range", "the destination must come after the current stop")


def plan_supplementary(current: int, destination: int, stops: int) -> SalePlan:
    """A ticket from the current stop to the destination (补票)."""
    _check_destination(current, destination, stops)
    return SalePlan(current, destination)


def plan_extension(
    ticket_from: int, ticket_to: int, current: int, destination: int, stops: int
) -> SalePlan:
    """Extend a ticket riding ``ticket_from``→``ticket_to`` to ``destination`` (越站)."""
    _check_destination(current, destination, stops)
    if current < ticket_from:
        raise DomainError("ticket", "not_boarded", "the ticket's ride has not begun yet")
    if destination <= ticket_to:
        raise DomainError("to", "not_beyond", "an extension goes beyond the ticket's end")
    if current <= ticket_to:
        return SalePlan(ticket_to, destination)
    return SalePlan(current, destination, (ticket_to, current))
