"""The gate's decision: one function from what was presented to open or not, and why."""

from __future__ import annotations

from open12306.shared.errors import DomainError
from open12306.travel.domain.codes import (
    CodeError,
    CodeType,
    DeviceVerifier,
    open_ticket,
    peek_type,
)
from open12306.travel.domain.gate.config import GateConfig
from open12306.travel.domain.gate.decision import Decision, reject
from open12306.travel.domain.gate.lists import DenyLists
from open12306.travel.domain.gate.manifest import Manifest
from open12306.travel.domain.gate.ports import RETIRED, TRUSTED, IssuerKeyring
from open12306.travel.domain.gate.reasons import CodeKind, Direction, ReasonCode
from open12306.travel.domain.gate.rides import check_ride
from open12306.travel.domain.gate.state import GateState
from open12306.travel.domain.gate.tickets import check_ticket

TICKET = CodeKind.TICKET
ID_DOCUMENT = CodeKind.ID_DOCUMENT
# How far an ID lookup got before failing: the furthest-along ticket explains the refusal.
_PROGRESS = {
    ReasonCode.REVOKED: 0,
    ReasonCode.WRONG_STATION: 1,
    ReasonCode.WRONG_DIRECTION: 2,
    ReasonCode.EXPIRED: 3,
    ReasonCode.NOT_YET_VALID: 3,
    ReasonCode.UNKNOWN_RUN: 3,
    ReasonCode.OUTSIDE_WINDOW: 4,
    ReasonCode.REPLAYED: 5,
}


class Gate:
    """An offline gate at ``config.station``: checks codes and ID numbers against the keys,
    deny lists and manifest it was given, and its own replay memory (``GateState``).

    ``evaluate*`` only decide; ``decide``/``admit_id`` also apply the decision's effects to
    the state. Nothing here reads a clock: the caller passes the gate's time.
    """

    def __init__(
        self,
        config: GateConfig,
        keyring: IssuerKeyring,
        device: DeviceVerifier,
        deny: DenyLists | None = None,
        manifest: Manifest | None = None,
    ) -> None:
        self.config = config
        self.keyring = keyring
        self.device = device
        self.deny = deny if deny is not None else DenyLists()
        self.manifest = manifest

    def decide(self, data: bytes, now: int, direction: Direction, state: GateState) -> Decision:
        """Decide on a scanned code and remember what an accepted tap changes."""
        decision = self.evaluate(data, now, direction, state)
        state.apply_all(decision.effects)
        return decision

    def admit_id(self, number: str, now: int, direction: Direction, state: GateState) -> Decision:
        """Decide on an ID number read at the gate, against the station manifest."""
        decision = self.evaluate_id(number, now, direction, state)
        state.apply_all(decision.effects)
        return decision

    def evaluate(self, data: bytes, now: int, direction: Direction, state: GateState) -> Decision:
        """The decision for a scanned code, without changing ``state``."""
        data = bytes(data)
        try:
            code_type = peek_type(data)
        except CodeError as error:
            return reject(CodeKind.UNKNOWN, ReasonCode.MALFORMED, f"{error.reason}: {error}")
        if code_type is CodeType.SCAN:
            config, keyring, device, deny = self.config, self.keyring, self.device, self.deny
            return check_ride(data, now, direction, state, config, keyring, device, deny)
        if code_type is CodeType.TICKET:
            return self._evaluate_ticket(data, now, direction, state)
        detail = "a credential alone is not a ride code; show a scan code"
        return reject(CodeKind.UNKNOWN, ReasonCode.WRONG_CODE_TYPE, detail)

    def evaluate_id(
        self, number: str, now: int, direction: Direction, state: GateState
    ) -> Decision:
        """The decision for an ID number, without changing ``state``."""
        if self.manifest is None:
            return reject(ID_DOCUMENT, ReasonCode.NO_MANIFEST, "no station manifest loaded")
        try:
            found = self.manifest.tickets_of(number)
        except DomainError as error:
            return reject(ID_DOCUMENT, ReasonCode.MALFORMED, error.message)
        if not found:
            return reject(ID_DOCUMENT, ReasonCode.NOT_IN_MANIFEST, "no reserved ticket")
        refusals = []
        for ticket in sorted(found, key=lambda t: (t.valid_from, t.ticket_no)):
            decision = check_ticket(
                ticket, now, direction, state, self.config, self.deny, self.manifest, ID_DOCUMENT
            )
            if decision.accepted:
                return decision
            refusals.append(decision)
        return max(refusals, key=lambda d: _PROGRESS.get(d.reason, 0))

    def _evaluate_ticket(
        self, data: bytes, now: int, direction: Direction, state: GateState
    ) -> Decision:
        try:
            sealed = open_ticket(data)
        except CodeError as error:
            return reject(TICKET, ReasonCode.MALFORMED, f"{error.reason}: {error.message}")
        ticket = sealed.value
        key_state = self.keyring.state_of(ticket.key_id)
        if key_state == RETIRED:
            detail = f"issuer key {ticket.key_id} is retired"
            return reject(TICKET, ReasonCode.RETIRED_KEY, detail, ticket.ticket_no)
        if key_state not in TRUSTED:
            detail = f"issuer key {ticket.key_id} is not in the bundle"
            return reject(TICKET, ReasonCode.UNKNOWN_KEY, detail, ticket.ticket_no)
        if not self.keyring.verify(ticket.key_id, sealed.message, sealed.signature):
            detail = "the issuer signature does not verify"
            return reject(TICKET, ReasonCode.BAD_SIGNATURE, detail, ticket.ticket_no)
        return check_ticket(
            ticket, now, direction, state, self.config, self.deny, self.manifest, TICKET
        )
