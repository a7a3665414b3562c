"""Wires adapters into services: the one place that knows both."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from open12306.accounts.adapters.accounts_repo import SqlAccountsStore
from open12306.accounts.adapters.faces_repo import SqlFaceStore
from open12306.accounts.adapters.passwords import ScryptHasher
from open12306.accounts.services.accounts import AccountPolicy, AccountService
from open12306.accounts.services.faces import unpack_embedding
from open12306.catalog.adapters.holidays import is_peak_day
from open12306.catalog.domain.quota_policy import QuotaPolicy
from open12306.catalog.services.catalog import Catalog
from open12306.catalog.services.runs import ensure_runs, window_bounds
from open12306.config import Settings
from open12306.database.documents_at_rest import attach_document_cipher
from open12306.database.store import SqlStore
from open12306.inventory.adapters.inventory_repo import VersionConflict
from open12306.inventory.services.run_inventory import InventoryService
from open12306.payments.adapters import build_providers
from open12306.payments.adapters.settings import payment_settings_from_env
from open12306.sales.adapters.checkout_books import SqlSettlementBooks
from open12306.sales.adapters.orders_repo import SqlOrdersStore
from open12306.sales.services.allocator import Allocator, AllocatorLoop
from open12306.sales.services.changes import ChangeService
from open12306.sales.services.checkout import Outcome, Settlement
from open12306.sales.services.orders import OrderService
from open12306.search.services.read_model import ReadModel
from open12306.search.services.search import PresaleWindow, SearchService
from open12306.shared.clock import Clock, SystemClock
from open12306.shared.document_keys import (
    HmacDocumentKeyer,
    load_or_create_cipher,
    load_or_create_secret,
)
from open12306.transit.adapters.transit_repo import SqlTransitStore
from open12306.transit.services.credit_line import TransitCredit
from open12306.transit.services.day_settlement import DebtPayments
from open12306.travel.adapters.gate_tickets_repo import SqlGateTickets
from open12306.travel.adapters.issuer_signing import (
    IssuerKeysOnDemand,
    key_dir_from_env,
    token_secret,
)
from open12306.travel.services.gate_bundles import GateBundleService
from open12306.travel.services.ticket_codes import (
    RideCredentialService,
    TicketCodeService,
    account_token,
)


@dataclass
class Container:
    """Everything an entrypoint needs, built once per process."""

    settings: Settings
    store: SqlStore
    clock: Clock
    catalog: Catalog
    read_model: ReadModel
    window: PresaleWindow
    search: SearchService
    inventory: InventoryService
    accounts: AccountService
    orders: OrderService | None = None
    allocator: Allocator | None = None
    allocator_loop: AllocatorLoop | None = None
    settlement: Settlement | None = None
    changes: ChangeService | None = None
    debts: DebtPayments | None = None
    account_token_of: Callable[[str], str] | None = None
    ticket_codes: TicketCodeService | None = None
    ride_credentials: RideCredentialService | None = None


def build(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    store: SqlStore | None = None,
    materialise: bool = True,
) -> Container:
    settings = settings or Settings.from_env()
    zone = ZoneInfo(settings.timezone)
    clock = clock or SystemClock(zone)
    store = open_store(settings, store)
    trains = store.trains()
    quotas = QuotaPolicy(
        share=settings.quota_share_percent / 100, release_hours=settings.quota_release_hours
    )
    catalog = Catalog(store.stations(), trains, quota_policy=quotas)
    window = PresaleWindow(clock, settings.presale_days, zone)
    today = window.today()
    if materialise:
        ensure_runs(store, trains, today, settings.presale_days, is_peak_day)
    first, last = window_bounds(today, settings.presale_days)
    read_model = ReadModel(catalog, store, store.runs(first, last))
    read_model.refresh(force=True)
    container = Container(
        settings=settings,
        store=store,
        clock=clock,
        catalog=catalog,
        read_model=read_model,
        window=window,
        search=SearchService(read_model, window),
        inventory=InventoryService(store, read_model, VersionConflict),
        accounts=AccountService(
            SqlAccountsStore(store.engine),
            ScryptHasher(),
            HmacDocumentKeyer(load_or_create_secret(settings.document_key_path())),
            clock,
            AccountPolicy(session_ttl=timedelta(days=settings.session_ttl_days)),
        ),
    )
    _wire_orders(container, zone)
    _wire_ride(container)
    return container


def open_store(settings: Settings, store: SqlStore | None = None) -> SqlStore:
    """The store of ``settings`` (or ``store``) sealing document numbers with the deployment's
    key file (``Settings.document_enc_key_path``, created on first use)."""
    store = store or SqlStore.from_url(settings.database_url)
    attach_document_cipher(store.engine, load_or_create_cipher(settings.document_enc_key_path()))
    return store


def _wire_orders(container: Container, zone: ZoneInfo) -> None:
    """Orders, the allocator and its background loop (started by the server app)."""
    orders_store = SqlOrdersStore(container.store.engine)
    allocator = Allocator(
        orders_store, container.catalog, container.read_model, container.clock, VersionConflict
    )
    orders = OrderService(
        orders_store,
        container.catalog,
        container.read_model,
        container.accounts,
        container.clock,
        zone,
    )
    orders.expire_if_overdue = allocator.expire_if_overdue
    orders.watch = allocator.watch
    loop = AllocatorLoop(
        allocator, orders.intake, allocate=container.settings.allocator == "thread"
    )
    container.orders, container.allocator, container.allocator_loop = orders, allocator, loop
    providers = build_providers(payment_settings_from_env(os.environ))
    books = SqlSettlementBooks(container.store.engine)
    settlement = Settlement(
        orders_store,
        orders,
        allocator,
        container.clock,
        providers,
        conflict=VersionConflict,
        refunds=books,
        cancels=books,
        zone=zone,
    )
    changes = ChangeService.from_settlement(settlement, books)
    if settlement.refund_retry is not None:
        loop.chores.append(settlement.refund_retry.run_due)
    loop.chores.append(changes.expire_changes)
    container.settlement, container.changes = settlement, changes


def _wire_ride(container: Container) -> None:
    """Ticket codes and ride credentials, signed with the issuer key store (OPEN12306_KEY_DIR,
    created on first use)."""
    if container.orders is None:
        return
    issuer = IssuerKeysOnDemand(key_dir_from_env())
    secret = token_secret(load_or_create_secret(container.settings.document_key_path()))
    container.ticket_codes = TicketCodeService(container.orders, issuer, secret)
    decider = TransitCredit(
        SqlTransitStore(container.store.engine, container.clock.now),
        container.clock,
        token_of=lambda account_id: account_token(secret, account_id),
    )
    container.ride_credentials = RideCredentialService(
        issuer, secret, container.clock, decider=decider
    )
    container.account_token_of = lambda account_id: account_token(secret, account_id).hex()
    if container.settlement is not None:
        _wire_debts(container, container.settlement)


def attach_embedded_channels(container: Container) -> None:
    """Operator commands beside an embedded server (no channel configured): the server's own
    sandbox channels, the same merchant, called at the server's address, so a refund from the
    command line returns money the way one from the server does."""
    settlement = container.settlement
    if settlement is None or settlement.providers:
        return
    from open12306.payments.adapters.embedded import embedded_providers

    settings = container.settings
    public = f"http://{settings.host}:{settings.port}"
    settlement.providers.update(embedded_providers(public, settings))


def _wire_debts(container: Container, settlement: Settlement) -> None:
    """Riders repay transit debts through the settlement's channels (the same mapping, so the
    embedded sandbox channels the app adds later are seen); a channel's notification of a debt
    trade clears the debts at once."""
    transit = SqlTransitStore(container.store.engine, container.clock.now)
    debts = DebtPayments(
        transit, transit.deny_list, transit.arrears, settlement.providers, container.clock
    )

    def debt_trade(channel: str, number: str, amount_fen: int, trade_no: str) -> Outcome | None:
        done = debts.notified(channel, number)
        return None if done is None else Outcome(done.state)

    settlement.trade_handlers.append(debt_trade)
    container.debts = debts


def gate_bundle_service(settings: Settings) -> GateBundleService:
    """Deny lists and station manifests from the database, without building the app."""
    store = open_store(settings)
    catalog = Catalog(store.stations(), store.trains())
    return GateBundleService(
        SqlGateTickets(store.engine),
        catalog.train,
        store.runs,
        ZoneInfo(settings.timezone),
        blocked_accounts=SqlTransitStore(store.engine).deny_list.accounts,
        faces=enrolled_faces(SqlFaceStore(store.engine)),
        stations=catalog.stations,
    )


def enrolled_faces(
    store: SqlFaceStore,
) -> Callable[[Sequence[str]], Mapping[str, tuple[float, ...]]]:
    """Face embeddings of saved passengers, as gate bundles carry them."""
    from open12306.http.faces import FACE_MODEL

    def embeddings(passenger_ids: Sequence[str]) -> Mapping[str, tuple[float, ...]]:
        found = store.embeddings(passenger_ids, FACE_MODEL)
        return {pid: unpack_embedding(data) for pid, data in found.items()}

    return embeddings
