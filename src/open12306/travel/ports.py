"""Ports of the travel context: what its services need from the stores, the issuer key
store, the credit decision and the payment channels, and what its entrypoints see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from open12306.accounts.ports import Account
from open12306.inventory.ports import StoredState
from open12306.sales.domain.ledger import Entry
from open12306.sales.ports import OrderRecord, PaymentRecord
from open12306.shared.run_key import RunKey
from open12306.transit.domain.credit_score import CreditDecision, CreditHistory


class StationBundleSource(Protocol):
    """Fresh gate bundles for a station, as the gates' management link serves them."""

    def bundle(self, station: str) -> bytes:
        """The bundle (UTF-8 JSON) of the station ``station`` names (telecode, name, pinyin,
        initials); a ``DomainError`` for a station that is not one."""
        ...


class KeyedSigner(Protocol):
    """An issuer signer that names the key it signs with."""

    @property
    def key_id(self) -> int: ...

    def sign(self, message: bytes) -> bytes: ...


class IssuerSigning(Protocol):
    """Where the current issuer signer comes from (``travel.adapters.keys.IssuerKeyStore``)."""

    def signer(self) -> KeyedSigner: ...


class CreditHistorySource(Protocol):
    """The credit history of an account, as of now."""

    def history(self, account: Account, now: datetime) -> CreditHistory: ...


class CreditDecider(Protocol):
    """A full pay-later decision for an account (``transit.services.credit_line.TransitCredit``)."""

    def decision(self, account: Account, now: datetime) -> CreditDecision: ...


class GateTicketSource(Protocol):
    """Tickets by state over a range of service dates (``sales.adapters.gate_tickets_repo``)."""

    def revoked_ticket_numbers(self, first: date, last: date) -> list[str]:
        """Numbers of refunded or changed tickets on runs of these service dates."""
        ...

    def orders_with_issued_tickets(self, first: date, last: date) -> list[OrderRecord]:
        """Orders holding at least one issued ticket on a run of these service dates."""
        ...


class RunTickets(Protocol):
    """Orders with tickets on a run, and the run's stored inventory."""

    def orders_on_run(self, key: RunKey) -> list[OrderRecord]: ...

    def load(self, key: RunKey) -> StoredState | None: ...


@dataclass(frozen=True, slots=True)
class OnboardCharge:
    """What to take: ``amount_fen`` for order ``order_number`` from ``payer`` (the channel's
    credential: an account's bearer token for credit, a scanned payment code for counter)."""

    order_number: str
    amount_fen: int
    payer: str
    subject: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Authorized:
    """Money taken (or promised, for credit): the payment to record with the sale."""

    payment: PaymentRecord


class OnboardPayment(Protocol):
    """A way to take an on-board charge. ``account_of`` names the account the ticket is
    booked to (before any money moves); ``authorize`` takes the money or raises a
    DomainError (e.g. ``OnboardRefused``); ``void`` gives it back when the sale is not written.
    ``authorize`` should be idempotent per ``order_number``: an attempt may be repeated."""

    @property
    def channel(self) -> str: ...

    def account_of(self, payer: str) -> str: ...

    def authorize(self, charge: OnboardCharge) -> Authorized: ...

    def void(self, authorized: Authorized) -> None: ...


class CreditLedger(Protocol):
    def credit_used(self, account_id: str) -> int: ...


class OnboardSaleStore(Protocol):
    """Orders and inventories as the sale needs them (``sales.adapters.onboard_repo``)."""

    def load(self, key: RunKey) -> StoredState | None: ...

    def next_number(self) -> str: ...

    def get(self, number: str) -> OrderRecord | None: ...

    def by_key(self, account_id: str, key: str) -> OrderRecord | None: ...

    def busy_intervals(self, person_keys: Sequence[str]) -> dict[str, list[tuple[int, int]]]: ...

    def entries(self, number: str) -> list[Entry]: ...

    def insert_sale(
        self,
        record: OrderRecord,
        *,
        inventory: tuple[RunKey, bytes, int],
        entries: Sequence[Entry],
        payments: Sequence[PaymentRecord],
    ) -> tuple[OrderRecord, StoredState]: ...


class UsageStore(Protocol):
    """The orders store, as far as marking tickets used goes (``SqlOrdersStore`` of sales)."""

    def get(self, number: str) -> OrderRecord | None: ...

    def write(self, records: Sequence[OrderRecord], now: datetime) -> object: ...
