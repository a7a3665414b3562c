"""A small network (one train, a few runs), accounts with passengers, and the order services
on a real database, for the order tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from open12306.accounts.adapters.accounts_repo import SqlAccountsStore
from open12306.accounts.adapters.document_keyer import HmacDocumentKeyer
from open12306.accounts.adapters.passwords import ScryptHasher
from open12306.accounts.domain.identity import Document, DocumentKind
from open12306.accounts.domain.passengers import PassengerDetails
from open12306.accounts.ports import Account
from open12306.accounts.services.accounts import AccountService
from open12306.catalog.domain.stations import Station
from open12306.catalog.domain.timetable import StopTime, Train
from open12306.catalog.services.catalog import Catalog
from open12306.database.store import SqlStore
from open12306.inventory.adapters.inventory_repo import VersionConflict
from open12306.inventory.domain.seats import SeatClass
from open12306.inventory.services.run_inventory import InventoryService
from open12306.sales.adapters.orders_repo import SqlOrdersStore
from open12306.sales.services.allocator import Allocator
from open12306.sales.services.checkout import Settlement
from open12306.sales.services.orders import OrderRequest, OrderService
from open12306.search.services.read_model import ReadModel
from open12306.shared.clock import FixedClock
from open12306.shared.db.documents_at_rest import attach_document_cipher
from tests.conftest import TEST_CIPHER
from tests.unit.accounts_support import ADULT_ID, CHILD_ID, resident_id

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 2, 10, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
DAY = date(2026, 2, 12)
STATIONS = [
    Station("VNP", "北京南", "beijingnan", "bjn", "北京", 39.9, 116.4),
    Station("TIP", "天津", "tianjin", "tj", "天津"),
    Station("AOH", "上海虹桥", "shanghaihongqiao", "shhq", "上海", 31.2, 121.3),
]
G1 = Train(
    "G1",
    (
        StopTime("VNP", None, 540, 0),
        StopTime("TIP", 570, 572, 120),
        StopTime("AOH", 810, None, 1318),
    ),
    "emu-16",
    synthetic=True,
)
G3 = Train(
    "G3",
    (StopTime("VNP", None, 600, 0), StopTime("AOH", 870, None, 1318)),
    "emu-8",
    synthetic=True,
)
OTHER_ID = resident_id("11010119850101234")


@dataclass
class World:
    """Everything a test drives."""

    clock: FixedClock
    store: SqlStore
    orders_store: SqlOrdersStore
    read_model: ReadModel
    accounts: AccountService
    orders: OrderService
    allocator: Allocator
    inventory: InventoryService
    settlement: Settlement

    def account(self, name: str, *documents: tuple[str, str]) -> tuple[Account, list[str]]:
        """A registered account with saved passengers; their ids."""
        account = self.accounts.register(name, "rail-pass-2026")
        ids = [
            self.accounts.add_passenger(
                account, PassengerDetails(person, Document(DocumentKind.RESIDENT_ID, number))
            ).id
            for person, number in documents
        ]
        return account, ids


def build_world(url: str) -> World:
    store = SqlStore.from_url(url)
    attach_document_cipher(store.engine, TEST_CIPHER)
    store.save_network(STATIONS, [G1, G3], "test")
    store.add_runs([("G1", DAY), ("G3", DAY), ("G1", date(2026, 2, 13))])
    catalog = Catalog(STATIONS, [G1, G3])
    read_model = ReadModel(catalog, store, store.runs(date(2026, 2, 1), date(2026, 3, 1)))
    clock = FixedClock(NOW)
    accounts = AccountService(
        SqlAccountsStore(store.engine), ScryptHasher(log_n=4), HmacDocumentKeyer(b"k" * 32), clock
    )
    orders_store = SqlOrdersStore(store.engine)
    allocator = Allocator(orders_store, catalog, read_model, clock, VersionConflict)
    orders = OrderService(orders_store, catalog, read_model, accounts, clock, ZONE)
    orders.expire_if_overdue = allocator.expire_if_overdue
    inventory = InventoryService(store, read_model, VersionConflict)
    settlement = Settlement(orders_store, orders, allocator, clock, {}, conflict=VersionConflict)
    return World(
        clock, store, orders_store, read_model, accounts, orders, allocator, inventory, settlement
    )


def request(*ids: str, seat_class: SeatClass = SeatClass.SECOND, train: str = "G1") -> OrderRequest:
    return OrderRequest(train, DAY, "VNP", "AOH", seat_class, tuple(ids))


__all__ = ["ADULT_ID", "CHILD_ID", "OTHER_ID", "World", "build_world", "request"]
