"""Gate taps reach the server: an admitted reserved ticket becomes ``used`` (idempotently).

Gates work offline and upload their taps later (``open12306 gate sync --server``). For every
accepted tap of a reserved ticket — by QR code or by ID number, at an entry or an exit gate —
the ticket moves ``issued → used`` with the gate's clock as the moment. Uploading the same tap
again, or the exit tap after the entry tap, finds the ticket already used and changes nothing.

Once used, a ticket can no longer be refunded or changed: :func:`refuse_if_used` is the check
the refund and change paths make (reason ``ticket_used``). A tap for a ticket that was
refunded or changed while the gate was offline cannot be undone; it is reported as
``not_live`` for staff to follow up (the passenger passed with a revoked ticket).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from open12306.sales.domain import use_ticket
from open12306.sales.domain.tickets import Ticket, TicketState
from open12306.sales.ports import OrderRecord
from open12306.travel.ports import UsageStore

TICKET_KINDS = frozenset({"ticket", "id_document"})
RETRIES = 5


@dataclass(frozen=True, slots=True)
class TicketTap:
    """What the server needs of one uploaded tap (see ``GateJournal.export_taps``)."""

    tap_id: str
    kind: str
    accepted: bool
    subject: str
    direction: str
    gate_clock: int
    station: str = ""


class TapOutcome(StrEnum):
    """What an uploaded tap did to its ticket. Values are stable (the API returns them)."""

    USED = "used"
    ALREADY_USED = "already_used"
    NOT_LIVE = "not_live"
    UNKNOWN_TICKET = "unknown_ticket"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class TapResult:
    tap_id: str
    outcome: TapOutcome
    ticket: str = ""
    detail: str = ""


class TicketUsageService:
    """Applies uploaded gate taps to tickets.

    ``order_of`` finds the order number of a ticket number (``SqlGateTickets.order_of_ticket``);
    ``conflict`` is the store's optimistic-locking error, on which a tap is retried.
    """

    def __init__(
        self,
        store: UsageStore,
        order_of: Callable[[str], str | None],
        zone: ZoneInfo,
        conflict: type[Exception] = Exception,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.order_of = order_of
        self.zone = zone
        self.conflict = conflict
        self.clock = clock or (lambda: datetime.now(zone))

    def record_taps(self, taps: Sequence[TicketTap]) -> list[TapResult]:
        """Apply every tap in order; one result per tap."""
        return [self.record(tap) for tap in taps]

    def record(self, tap: TicketTap) -> TapResult:
        if not tap.accepted or tap.kind not in TICKET_KINDS or not tap.subject:
            return TapResult(tap.tap_id, TapOutcome.SKIPPED, tap.subject)
        for attempt in range(RETRIES):
            try:
                return self._apply(tap)
            except self.conflict:
                if attempt == RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _apply(self, tap: TicketTap) -> TapResult:
        number = self.order_of(tap.subject)
        record = None if number is None else self.store.get(number)
        found = None if record is None else _ticket(record, tap.subject)
        if record is None or found is None:
            return TapResult(tap.tap_id, TapOutcome.UNKNOWN_TICKET, tap.subject)
        if found.state is TicketState.USED:
            return TapResult(tap.tap_id, TapOutcome.ALREADY_USED, found.number)
        if found.state is not TicketState.ISSUED:
            detail = f"admitted at {tap.station or 'a gate'} but {found.state}"
            return TapResult(tap.tap_id, TapOutcome.NOT_LIVE, found.number, detail)
        at = datetime.fromtimestamp(tap.gate_clock, self.zone)
        order = use_ticket(record.order, found.number, at)
        self.store.write([dataclasses.replace(record, order=order)], self.clock())
        return TapResult(tap.tap_id, TapOutcome.USED, found.number, f"{tap.direction} at {at}")


def _ticket(record: OrderRecord, number: str) -> Ticket | None:
    return next((t for t in record.order.tickets if t.number == number), None)
