"""Wires adapters into services: the one place that knows both."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from open12306.adapters.clock import SystemClock
from open12306.adapters.db.accounts_repo import SqlAccountsStore
from open12306.adapters.db.inventory_repo import VersionConflict
from open12306.adapters.db.store import SqlStore
from open12306.adapters.document_keys import HmacDocumentKeyer, load_or_create_secret
from open12306.adapters.holidays import is_peak_day
from open12306.adapters.passwords import ScryptHasher
from open12306.config import Settings
from open12306.domain.quota_policy import QuotaPolicy
from open12306.services.accounts import AccountPolicy, AccountService
from open12306.services.catalog import Catalog
from open12306.services.inventory import InventoryService
from open12306.services.ports import Clock
from open12306.services.read_model import ReadModel
from open12306.services.runs import ensure_runs, window_bounds
from open12306.services.search import PresaleWindow, SearchService


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
    store = store or SqlStore.from_url(settings.database_url)
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
    return Container(
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
