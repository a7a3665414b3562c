"""Wires adapters into services: the one place that knows both.

``build()`` makes the server's ``Container`` (every service, each built once); the modules
beside it build what other entrypoints need: ``devices`` (issuer keys, wallets, gates for the
travel commands), ``transit`` (the settlement commands), ``schema`` (``db upgrade``),
``embedded_payments`` (the sandbox channels of embedded mode), ``allocator_process`` (the
allocator in a process of its own), ``tasks`` and ``demo_sales`` (loading and filling the demo).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from open12306.accounts.adapters.accounts_repo import SqlAccountsStore
from open12306.accounts.adapters.document_keyer import HmacDocumentKeyer
from open12306.accounts.adapters.embedder import FACE_MODEL, LazyEmbedder
from open12306.accounts.adapters.faces_repo import SqlFaceStore
from open12306.accounts.adapters.passwords import ScryptHasher
from open12306.accounts.services.accounts import AccountPolicy, AccountService
from open12306.accounts.services.faces import FaceEnrolment, unpack_embedding
from open12306.bootstrap.embedded_payments import embedded_channels, embedded_providers
from open12306.catalog.adapters.holidays import is_peak_day
from open12306.catalog.services.catalog import Catalog
from open12306.catalog.services.runs import ensure_runs, window_bounds
from open12306.config import Settings
from open12306.database.store import SqlStore
from open12306.inventory.adapters.inventory_repo import VersionConflict
from open12306.inventory.domain.quota_policy import QuotaPolicy
from open12306.inventory.services.run_inventory import InventoryService
from open12306.payments.adapters import build_providers
from open12306.payments.adapters.sandbox.app import Sandbox
from open12306.payments.adapters.settings import payment_settings_from_env
from open12306.sales.adapters.checkout_books import SqlSettlementBooks
from open12306.sales.adapters.gate_tickets_repo import SqlGateTickets
from open12306.sales.adapters.onboard_repo import DuplicateOrder, SqlOnboardStore
from open12306.sales.adapters.orders_repo import SqlOrdersStore
from open12306.sales.domain.slow_queue import SlowQueueRule
from open12306.sales.services.allocator import Allocator, AllocatorLoop
from open12306.sales.services.changes import ChangeService
from open12306.sales.services.checkout import COUNTER, CREDIT, Outcome, Settlement
from open12306.sales.services.orders import OrderService
from open12306.search.services.read_model import ReadModel
from open12306.search.services.search import PresaleWindow, SearchService
from open12306.shared.clock import Clock, SystemClock
from open12306.shared.db.documents_at_rest import attach_document_cipher
from open12306.shared.document_keys import load_or_create_cipher, load_or_create_secret
from open12306.transit.adapters.transit_repo import SqlTransitStore
from open12306.transit.services.credit_line import TransitCredit
from open12306.transit.services.day_settlement import DebtPayments
from open12306.travel.adapters.gate.station_bundle import StationBundles
from open12306.travel.adapters.issuer_signing import (
    IssuerKeysOnDemand,
    key_dir_from_env,
    token_secret,
)
from open12306.travel.services.conductor import ConductorService
from open12306.travel.services.gate_bundles import GateBundleService
from open12306.travel.services.onboard_counter import CounterOnboardPayment
from open12306.travel.services.onboard_sales import CreditOnboardPayment, OnboardSales
from open12306.travel.services.ticket_codes import (
    RideCredentialService,
    TicketCodeService,
    account_token,
)
from open12306.travel.services.ticket_usage import TicketUsageService


@dataclass
class Container:
    """Every service an entrypoint needs, built once per process by ``build``."""

    settings: Settings
    store: SqlStore
    clock: Clock
    catalog: Catalog
    read_model: ReadModel
    window: PresaleWindow
    search: SearchService
    inventory: InventoryService
    accounts: AccountService
    orders: OrderService
    allocator: Allocator
    allocator_loop: AllocatorLoop
    settlement: Settlement
    changes: ChangeService
    debts: DebtPayments
    account_token_of: Callable[[str], str]
    ticket_codes: TicketCodeService
    ride_credentials: RideCredentialService
    faces: FaceEnrolment
    gate_usage: TicketUsageService
    station_bundles: StationBundles
    conductor: ConductorService
    onboard_sales: OnboardSales


@dataclass(frozen=True)
class _Core:
    """What every context is built on: the store, the clock, the timetable, the read side."""

    settings: Settings
    zone: ZoneInfo
    store: SqlStore
    clock: Clock
    catalog: Catalog
    read_model: ReadModel
    window: PresaleWindow


def build(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    store: SqlStore | None = None,
    materialise: bool = True,
) -> Container:
    """The container of ``settings`` (default: the environment): the runs of the pre-sale
    window are created first unless ``materialise`` is false."""
    core = _core(settings or Settings.from_env(), clock, store, materialise)
    accounts = _accounts(core)
    orders, allocator, loop = _orders(core, accounts)
    settlement, changes = _checkout(core, orders, allocator, loop)
    secret = token_secret(load_or_create_secret(core.settings.document_key_path()))
    issuer = IssuerKeysOnDemand(key_dir_from_env())
    transit = SqlTransitStore(core.store.engine, core.clock.now)
    faces = _faces(core, accounts)
    usage, bundles = _gates(core, faces, issuer, transit)
    conductor, onboard = _onboard(core, accounts, settlement, allocator)
    return Container(
        settings=core.settings,
        store=core.store,
        clock=core.clock,
        catalog=core.catalog,
        read_model=core.read_model,
        window=core.window,
        search=SearchService(core.read_model, core.window),
        inventory=InventoryService(core.store, core.read_model, VersionConflict),
        accounts=accounts,
        orders=orders,
        allocator=allocator,
        allocator_loop=loop,
        settlement=settlement,
        changes=changes,
        debts=_debts(core, settlement, transit),
        account_token_of=lambda account_id: account_token(secret, account_id).hex(),
        ticket_codes=TicketCodeService(orders, issuer, secret),
        ride_credentials=_ride_credentials(core, issuer, secret, transit),
        faces=faces,
        gate_usage=usage,
        station_bundles=bundles,
        conductor=conductor,
        onboard_sales=onboard,
    )


def _core(
    settings: Settings, clock: Clock | None, store: SqlStore | None, materialise: bool
) -> _Core:
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
    return _Core(settings, zone, store, clock, catalog, read_model, window)


def _accounts(core: _Core) -> AccountService:
    return AccountService(
        SqlAccountsStore(core.store.engine),
        ScryptHasher(),
        HmacDocumentKeyer(load_or_create_secret(core.settings.document_key_path())),
        core.clock,
        AccountPolicy(
            session_ttl=timedelta(days=core.settings.session_ttl_days),
            session_cache_seconds=core.settings.session_cache_seconds,
        ),
    )


def open_store(settings: Settings, store: SqlStore | None = None) -> SqlStore:
    """The store of ``settings`` (or ``store``) sealing document numbers with the deployment's
    key file (``Settings.document_enc_key_path``, created on first use)."""
    store = store or SqlStore.from_url(settings.database_url)
    attach_document_cipher(store.engine, load_or_create_cipher(settings.document_enc_key_path()))
    return store


def _orders(core: _Core, accounts: AccountService) -> tuple[OrderService, Allocator, AllocatorLoop]:
    """Orders, the allocator and its background loop (started by the server app)."""
    store = SqlOrdersStore(core.store.engine)
    allocator = Allocator(
        store,
        core.catalog,
        core.read_model,
        core.clock,
        VersionConflict,
        cache_runs=core.settings.inventory_cache_runs,
    )
    orders = OrderService(
        store,
        core.catalog,
        core.read_model,
        accounts,
        core.clock,
        core.zone,
        expire=allocator.expire_if_overdue,
        watch=allocator.watch,
        slow_queue=slow_queue_rule(core.settings),
        max_pending=core.settings.intake_max_pending,
    )
    loop = AllocatorLoop(allocator, orders.intake, allocate=core.settings.allocator == "thread")
    return orders, allocator, loop


def slow_queue_rule(settings: Settings) -> SlowQueueRule:
    """The slow queue's thresholds from ``settings`` (a delay of 0 switches it off; a
    per-address limit of 0 leaves addresses uncounted)."""
    return SlowQueueRule(
        window_seconds=settings.slow_queue_window_seconds,
        max_per_account=settings.slow_queue_per_account,
        max_per_address=settings.slow_queue_per_address or None,
        delay_seconds=settings.slow_queue_delay_seconds,
        enabled=settings.slow_queue_delay_seconds > 0,
    )


def _checkout(
    core: _Core, orders: OrderService, allocator: Allocator, loop: AllocatorLoop
) -> tuple[Settlement, ChangeService]:
    """Paying for orders, refunds and changes; their retries and expiries run as the
    allocator loop's chores."""
    providers = build_providers(payment_settings_from_env(os.environ))
    books = SqlSettlementBooks(core.store.engine)
    settlement = Settlement(
        orders.store,
        orders,
        allocator,
        core.clock,
        providers,
        conflict=VersionConflict,
        refunds=books,
        cancels=books,
        zone=core.zone,
    )
    changes = ChangeService.from_settlement(settlement, books)
    if settlement.refund_retry is not None:
        loop.chores.append(settlement.refund_retry.run_due)
    loop.chores.append(changes.expire_changes)
    return settlement, changes


def _ride_credentials(
    core: _Core, issuer: IssuerKeysOnDemand, secret: bytes, transit: SqlTransitStore
) -> RideCredentialService:
    """Ride credentials signed with the issuer key store (OPEN12306_KEY_DIR, created on first
    use), their pay-later limit decided by the transit credit line."""
    decider = TransitCredit(
        transit, core.clock, token_of=lambda account_id: account_token(secret, account_id)
    )
    return RideCredentialService(issuer, secret, core.clock, decider=decider)


def _debts(core: _Core, settlement: Settlement, transit: SqlTransitStore) -> DebtPayments:
    """Riders repay transit debts through the settlement's channels (the same mapping, so the
    embedded sandbox channels the app adds later are seen); a channel's notification of a debt
    trade clears the debts at once."""
    debts = DebtPayments(
        transit, transit.deny_list, transit.arrears, settlement.providers, core.clock
    )

    def debt_trade(channel: str, number: str, amount_fen: int, trade_no: str) -> Outcome | None:
        done = debts.notified(channel, number)
        return None if done is None else Outcome(done.state)

    settlement.trade_handlers.append(debt_trade)
    return debts


def _faces(core: _Core, accounts: AccountService) -> FaceEnrolment:
    """Face enrolment of saved passengers; the matcher is loaded on first use."""
    return FaceEnrolment(
        accounts, SqlFaceStore(core.store.engine), LazyEmbedder(), core.clock.now, FACE_MODEL
    )


def _gates(
    core: _Core, faces: FaceEnrolment, issuer: IssuerKeysOnDemand, transit: SqlTransitStore
) -> tuple[TicketUsageService, StationBundles]:
    """What the gates' management link reaches: taps that mark tickets used, fresh bundles."""
    engine = core.store.engine
    tickets = SqlGateTickets(engine)
    usage = TicketUsageService(
        SqlOrdersStore(engine), tickets.order_of_ticket, core.zone, VersionConflict, core.clock.now
    )
    service = GateBundleService(
        tickets,
        core.catalog.train,
        core.store.runs,
        core.zone,
        blocked_accounts=transit.deny_list.accounts,
        faces=faces.embeddings,
        stations=core.catalog.stations,
    )
    return usage, StationBundles(service, issuer, core.clock.now)


def _onboard(
    core: _Core, accounts: AccountService, settlement: Settlement, allocator: Allocator
) -> tuple[ConductorService, OnboardSales]:
    """The conductor and on-board sales, paying through the credit line or a payment code."""
    store = SqlOnboardStore(core.store.engine)
    conductor = ConductorService(store, core.catalog, core.store.runs)
    credit = CreditOnboardPayment(store, accounts.authenticate, settlement.credit_limit_fen)
    counter = CounterOnboardPayment(
        lambda: settlement.provider_for(COUNTER), settlement.refund_retry
    )
    sales = OnboardSales(
        store,
        conductor,
        core.read_model,
        accounts.keyer,
        core.clock,
        core.zone,
        {CREDIT: credit, COUNTER: counter},
        conflict=VersionConflict,
        duplicate=DuplicateOrder,
    )
    sales.on_change = allocator.on_change
    return conductor, sales


def embedded_sandbox(container: Container) -> Sandbox | None:
    """Embedded mode (no channel configured): a payment sandbox for the server to mount at
    ``SANDBOX_PATH``, its Alipay and WeChat Pay channels added to the settlement's."""
    settlement = container.settlement
    if settlement.providers:
        return None
    settings = container.settings
    public = f"http://{settings.host}:{settings.port}"
    sandbox, providers = embedded_channels(public, settings)
    settlement.providers.update(providers)
    return sandbox


def attach_embedded_channels(container: Container) -> None:
    """Operator commands beside an embedded server (no channel configured): the server's own
    sandbox channels, the same merchant, called at the server's address, so a refund from the
    command line returns money the way one from the server does."""
    settlement = container.settlement
    if settlement.providers:
        return
    settings = container.settings
    public = f"http://{settings.host}:{settings.port}"
    settlement.providers.update(embedded_providers(public, settings))


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

    def embeddings(passenger_ids: Sequence[str]) -> Mapping[str, tuple[float, ...]]:
        found = store.embeddings(passenger_ids, FACE_MODEL)
        return {pid: unpack_embedding(data) for pid, data in found.items()}

    return embeddings
