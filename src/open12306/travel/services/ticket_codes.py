"""Signed e-ticket codes for paid tickets, and ride credentials for a logged-in account.

The issuer key store is reached through ``IssuerSigning`` (the current key signs), so this
module never touches key files. Passenger and account tokens are opaque keyed hashes
(HMAC-SHA256 with the server's token secret, truncated to 16 bytes): a gate can compare them
but cannot turn them back into a person, and no ID number is ever put in a code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from open12306.accounts.ports import Account
from open12306.sales.domain import Order
from open12306.sales.domain.tickets import Ticket, TicketState
from open12306.sales.services.orders import OrderService
from open12306.shared.clock import Clock
from open12306.shared.errors import DomainError, NotFound
from open12306.transit.domain.credit_score import (
    CreditHistory,
    CreditRules,
    credit_decision,
)
from open12306.travel.domain.codes import (
    PUBLIC_KEY_SIZE,
    CredentialFlags,
    RideCredential,
    TicketCode,
    seal_credential,
    seal_ticket,
)
from open12306.travel.ports import CreditDecider, CreditHistorySource, IssuerSigning

TOKEN_SIZE = 16
MIN_SECRET = 16
DEFAULT_HOURS = 24
MAX_HOURS = 72
_PASSENGER_LABEL = b"open12306 passenger token\x00"
_ACCOUNT_LABEL = b"open12306 account token\x00"
_REFUSALS = {
    "arrears": "the account has unpaid transit charges: pay them to ride again",
    "score_too_low": "the credit score does not allow riding now and paying later",
}


class Revoked(DomainError):
    """A ticket that no longer rides (refunded or changed): its code is not issued."""

    status = 409


class TicketNotLive(DomainError):
    """A ticket already used at a gate: no new code."""

    status = 409


@dataclass(frozen=True, slots=True)
class CheckInWindow:
    """A ticket code is valid from ``opens_minutes`` before departure from its boarding
    station until ``closes_minutes_before`` it (the gate defaults: 120 and 5)."""

    opens_minutes: int = 120
    closes_minutes_before: int = 5

    def __post_init__(self) -> None:
        if not 0 <= self.closes_minutes_before < self.opens_minutes:
            raise DomainError("window", "invalid", "check-in must close after it opens")

    def bounds(self, departs_at: datetime) -> tuple[int, int]:
        opens = departs_at - timedelta(minutes=self.opens_minutes)
        closes = departs_at - timedelta(minutes=self.closes_minutes_before)
        return int(opens.timestamp()), int(closes.timestamp())


def keyed_token(secret: bytes, label: bytes, subject: str) -> bytes:
    """HMAC-SHA256(secret, label + subject), truncated to 16 bytes."""
    if len(secret) < MIN_SECRET:
        raise ValueError("the token secret must be at least 16 bytes")
    digest = hmac.new(secret, label + subject.encode("utf-8"), hashlib.sha256).digest()
    return digest[:TOKEN_SIZE]


def passenger_token(secret: bytes, person_key: str) -> bytes:
    """The passenger's token: from the order's person key (itself a keyed document hash)."""
    return keyed_token(secret, _PASSENGER_LABEL, person_key)


def account_token(secret: bytes, account_id: str) -> bytes:
    """The account's token in ride credentials: a keyed hash of the account id."""
    return keyed_token(secret, _ACCOUNT_LABEL, account_id)


@dataclass(frozen=True, slots=True)
class IssuedTicketCode:
    """A sealed ticket code (``data``: body + signature) and what it says."""

    ticket: TicketCode
    data: bytes


def find_ticket(order: Order, ticket_no: str) -> Ticket:
    for ticket in order.tickets:
        if ticket.number == ticket_no:
            return ticket
    raise NotFound("ticket", "not_found", f"no ticket {ticket_no} in order {order.number}")


def _require_rideable(ticket: Ticket) -> None:
    if ticket.state in (TicketState.REFUNDED, TicketState.CHANGED):
        raise Revoked("ticket", "revoked", f"ticket {ticket.number} was {ticket.state}")
    if ticket.state is not TicketState.ISSUED:
        raise TicketNotLive("ticket", "used", f"ticket {ticket.number} was {ticket.state}")


class TicketCodeService:
    """Issues the signed e-ticket code of a paid, issued ticket to the order's owner."""

    def __init__(
        self,
        orders: OrderService,
        issuer: IssuerSigning,
        token_secret: bytes,
        window: CheckInWindow | None = None,
    ) -> None:
        self.orders = orders
        self.issuer = issuer
        self.token_secret = token_secret
        self.window = window or CheckInWindow()

    def code(self, account: Account, order_no: str, ticket_no: str) -> IssuedTicketCode:
        """The sealed code; NotFound for someone else's order, 404 ``not_found`` for an unknown
        ticket, 409 ``revoked`` for a refunded or changed one, 409 ``used`` for a used one."""
        record = self.orders.get(account, order_no)
        ticket = find_ticket(record.order, ticket_no)
        _require_rideable(ticket)
        trip = ticket.trip
        valid_from, valid_until = self.window.bounds(trip.departs_at)
        signer = self.issuer.signer()
        code = TicketCode(
            key_id=signer.key_id,
            ticket_no=ticket.number,
            train_code=trip.train_code,
            service_date=trip.service_date,
            from_station=trip.from_station,
            to_station=trip.to_station,
            seat_class=trip.seat_class,
            coach=ticket.coach,
            seat_label=ticket.seat_label,
            passenger_token=passenger_token(
                self.token_secret, record.person_keys[ticket.passenger]
            ),
            valid_from=valid_from,
            valid_until=valid_until,
        )
        return IssuedTicketCode(code, seal_ticket(code, signer))


class NewAccountHistory:
    """The default history while no settlement record exists: the account's age and nothing
    else (no paid days, no failed charges, no arrears). Under the default credit rules a new
    account scores 600: pay-later allowed, offline limit 2,000 fen (docs/ride-codes.md)."""

    def history(self, account: Account, now: datetime) -> CreditHistory:
        age = max(0, (now - account.created_at).days)
        return CreditHistory(account_age_days=age)


class CreditRefused(DomainError):
    """The credit score refuses pay-later, or the account is in arrears: no ride credential."""

    status = 403


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    """A sealed ride credential and what it says."""

    credential: RideCredential
    data: bytes
    score: int


class RideCredentialService:
    """Issues ride credentials binding a wallet's device key to the caller's account."""

    def __init__(
        self,
        issuer: IssuerSigning,
        token_secret: bytes,
        clock: Clock,
        history: CreditHistorySource | None = None,
        rules: CreditRules | None = None,
        serials: Callable[[], int] = lambda: secrets.randbits(63),
        decider: CreditDecider | None = None,
    ) -> None:
        self.decider = decider
        self.issuer = issuer
        self.token_secret = token_secret
        self.clock = clock
        self.history = history or NewAccountHistory()
        self.rules = rules or CreditRules()
        self.serials = serials

    def issue(
        self, account: Account, device_public_key: bytes, hours: int = DEFAULT_HOURS
    ) -> IssuedCredential:
        """A credential valid for ``hours`` (1..72) from now, flags and offline limit from
        the account's credit decision."""
        if len(device_public_key) != PUBLIC_KEY_SIZE:
            raise DomainError("device_public_key", "invalid", "an Ed25519 public key has 32 bytes")
        if isinstance(hours, bool) or not 1 <= hours <= MAX_HOURS:
            raise DomainError("hours", "invalid", f"hours must be 1..{MAX_HOURS}")
        now = self.clock.now()
        if self.decider is not None:
            decision = self.decider.decision(account, now)
        else:
            decision = credit_decision(self.history.history(account, now), self.rules)
        if not decision.pay_later:
            raise CreditRefused("account", decision.reason, _REFUSALS.get(decision.reason, "no"))
        flags = CredentialFlags.PAY_LATER
        start = int(now.timestamp())
        signer = self.issuer.signer()
        credential = RideCredential(
            key_id=signer.key_id,
            serial=self.serials(),
            account_token=account_token(self.token_secret, account.id),
            device_public_key=bytes(device_public_key),
            valid_from=start,
            valid_until=start + hours * 3600,
            flags=flags,
            offline_credit_limit=decision.offline_limit_fen,
        )
        return IssuedCredential(credential, seal_credential(credential, signer), decision.score)
