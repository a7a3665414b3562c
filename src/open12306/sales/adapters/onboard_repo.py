"""What the conductor's services read and write on the orders tables (SQLAlchemy Core).

``orders_on_run`` finds every order with a ticket row on a run (ticket rows carry their own
run, so a ticket changed onto this run is found too). ``insert_sale`` writes a ticket sold on
board in one transaction: the run's inventory (version-checked), the new order with its
ticket row, its payment and ledger entries; a conflict writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, select

from open12306.inventory.adapters import inventory_repo
from open12306.inventory.adapters.inventory_repo import StoredInventory
from open12306.sales.adapters.orders_repo import (
    DuplicateOrder,
    add_entries,
    busy_intervals,
    credit_used,
    entries,
    insert_order,
    next_order_number,
    order,
    order_by_key,
    read_orders,
    save_payment,
)
from open12306.sales.adapters.tables import order_tickets, orders
from open12306.sales.domain.ledger import Entry
from open12306.sales.ports import OrderRecord, PaymentRecord
from open12306.shared.db.documents_at_rest import sealed_engine
from open12306.shared.document_keys import DocumentCipher
from open12306.shared.run_key import RunKey

ON_RUN_STATES = ("issued", "used", "refunded", "changed")


class SqlOnboardStore:
    """The ``RunTickets`` and ``OnboardSaleStore`` ports on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str, cipher: DocumentCipher | None = None) -> SqlOnboardStore:
        """A store on a new engine for ``url`` sealing document numbers with ``cipher``
        (without one, reading or writing a document number raises NoDocumentCipher)."""
        return cls(sealed_engine(url, cipher))

    def orders_on_run(self, key: RunKey) -> list[OrderRecord]:
        """Orders holding a ticket (live or revoked) on the run, by number."""
        holding = (
            select(order_tickets.c.order_number)
            .where(
                order_tickets.c.train_code == key[0],
                order_tickets.c.service_date == key[1],
                order_tickets.c.state.in_(ON_RUN_STATES),
            )
            .distinct()
        )
        query = (
            select(orders.c.number, orders.c.body, orders.c.idempotency_key, orders.c.version)
            .where(orders.c.number.in_(holding))
            .order_by(orders.c.number)
        )
        with self.engine.connect() as conn:
            return read_orders(conn, query)

    def load(self, key: RunKey) -> StoredInventory | None:
        with self.engine.connect() as conn:
            return inventory_repo.load(conn, key)

    def next_number(self) -> str:
        with self.engine.begin() as conn:
            return next_order_number(conn)

    def get(self, number: str) -> OrderRecord | None:
        with self.engine.connect() as conn:
            return order(conn, number)

    def by_key(self, account_id: str, key: str) -> OrderRecord | None:
        with self.engine.connect() as conn:
            return order_by_key(conn, account_id, key)

    def credit_used(self, account_id: str) -> int:
        with self.engine.connect() as conn:
            return credit_used(conn, account_id)

    def busy_intervals(self, person_keys: Sequence[str]) -> dict[str, list[tuple[int, int]]]:
        with self.engine.connect() as conn:
            return busy_intervals(conn, person_keys)

    def entries(self, number: str) -> list[Entry]:
        with self.engine.connect() as conn:
            return entries(conn, number)

    def insert_sale(
        self,
        record: OrderRecord,
        *,
        inventory: tuple[RunKey, bytes, int],
        entries: Sequence[Entry],
        payments: Sequence[PaymentRecord],
    ) -> tuple[OrderRecord, StoredInventory]:
        """One transaction: inventory (version-checked), the order, payments, ledger.
        VersionConflict or DuplicateOrder leave nothing written."""
        key, state, version = inventory
        with self.engine.begin() as conn:
            stored = inventory_repo.save(conn, key, state, version)
            saved = insert_order(conn, record)
            for payment in payments:
                save_payment(conn, payment)
            add_entries(conn, list(entries))
        return saved, stored


__all__ = ["DuplicateOrder", "SqlOnboardStore"]
