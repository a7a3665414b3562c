"""Ports of the travel context: what its services need (stores, the issuer key store, the
credit decision, payment channels), what its entrypoints see, and what the travel commands
work with on a device (issuer keys, a wallet, a server, a gate).

The device adapters (``travel.adapters``: Ed25519 key files, the wallet directory, the HTTP
client, gate bundles and journals) supply the latter; ``bootstrap.devices`` builds them, and the
commands (``cli.keys``, ``cli.wallet``, ``cli.gate``, ``cli.ticket_code``) see only these shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from open12306.accounts.ports import Account, FaceResult
from open12306.inventory.ports import StoredState
from open12306.sales.domain.ledger import Entry
from open12306.sales.ports import OrderRecord, PaymentRecord
from open12306.shared.run_key import RunKey
from open12306.transit.domain.credit_score import CreditDecision, CreditHistory
from open12306.travel.domain.codes import Signer
from open12306.travel.domain.gate import Decision, DenyLists, Manifest


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


class DeviceError(Exception):
    """A key store, gate bundle, QR image, wallet or server answer is missing, malformed or
    refused. The message is one line, ready to be shown after ``error:``."""


class IssuerKey(Protocol):
    """One issuer key as a key store lists it."""

    @property
    def key_id(self) -> int: ...

    @property
    def state(self) -> str:
        """``previous``, ``current``, ``next`` or ``retired``."""
        ...

    @property
    def public_key(self) -> bytes: ...


class IssuerSigner(Signer, Protocol):
    """Signs with the issuer's current key; ``key_id`` goes into every code it signs."""

    @property
    def key_id(self) -> int: ...


class IssuerKeys(Protocol):
    """The issuer's key store (private keys on this machine)."""

    def entries(self) -> Sequence[IssuerKey]: ...

    def rotate(self) -> IssuerKey:
        """next → current → previous → retired, and a new next key; the new current key."""
        ...

    def signer(self) -> IssuerSigner: ...

    def public_bundle(self) -> bytes:
        """The trusted public keys as the JSON document gates hold."""
        ...


class DeviceKey(Signer, Protocol):
    """A wallet's own key: its public half goes into the ride credential."""

    @property
    def public_key(self) -> bytes: ...


class Wallet(Protocol):
    """A phone-side wallet: its device key, ride credential, scan counter and server login."""

    @property
    def directory(self) -> Path: ...

    def create(self) -> DeviceKey:
        """A new wallet with a new device key; refused when one is there already."""
        ...

    def device_key(self) -> DeviceKey: ...

    def credential(self) -> bytes:
        """The sealed ride credential stored last."""
        ...

    def save_credential(self, sealed: bytes) -> None: ...

    def next_counter(self) -> int:
        """One above the last scan counter, persisted before it is handed out."""
        ...

    def save_login(self, server: str, token: str) -> None: ...

    def login(self) -> tuple[str, str] | None:
        """(server, session token) of the last login, None before any."""
        ...


class TravelServer(Protocol):
    """The open12306 server's endpoints a wallet and a gate call."""

    def login(self, username: str, password: str) -> tuple[str, str]:
        """(session token, when it expires as the server says it)."""
        ...

    def ride_credential(self, device_public_key: bytes, hours: int) -> bytes:
        """A sealed credential issued for this very device key."""
        ...

    def upload_taps(self, taps: Sequence[dict[str, Any]]) -> int:
        """Send a gate's taps; how many tickets the server marked used for the first time."""
        ...

    def station_bundle(self, station: str) -> Any:
        """A fresh gate bundle for the station (its JSON document)."""
        ...


class GateBundleInfo(Protocol):
    """What a gate bundle says about itself."""

    @property
    def station(self) -> str: ...

    @property
    def bundle_version(self) -> int: ...

    @property
    def deny(self) -> DenyLists: ...

    @property
    def manifest(self) -> Manifest | None: ...

    @property
    def keys_only(self) -> bool:
        """Built without the booking database: revoked tickets are not refused."""
        ...


class GateTap(Protocol):
    """One tap at a gate: what was shown, the decision and the id it was journaled under."""

    @property
    def image(self) -> Path: ...

    @property
    def decision(self) -> Decision: ...

    @property
    def tap_id(self) -> str: ...

    @property
    def face(self) -> FaceResult | None: ...

    @property
    def reason(self) -> str: ...

    @property
    def bundle_keys_only(self) -> bool: ...
