"""Tables for orders, their passengers and tickets, payments and the money ledger.

On the shared ``metadata`` (``open12306.shared.db.metadata``). Every order
row carries the run key (train_code, service_date) so the allocator can claim a run's queue.
The full order is also kept as a JSON document (``body``) so it is read back in one row; the
columns are what queries and constraints need.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from open12306.shared.db.metadata import metadata

orders = Table(
    "orders",
    metadata,
    Column("number", String(16), primary_key=True),
    Column("account_id", String(32), nullable=False),
    Column("train_code", String(64), nullable=False),
    Column("service_date", Date, nullable=False),
    Column("from_stop", Integer, nullable=False),
    Column("to_stop", Integer, nullable=False),
    Column("from_station", String(64), nullable=False),
    Column("to_station", String(64), nullable=False),
    Column("seat_class", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("reason", String(64), nullable=True),
    Column("deadline", DateTime(timezone=True), nullable=True),
    Column("amount_fen", BigInteger, nullable=False, server_default="0"),
    Column("idempotency_key", String(128), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    Column("body", Text, nullable=False),
)
Index("ix_orders_run_state", orders.c.train_code, orders.c.service_date, orders.c.state)
Index("ix_orders_account", orders.c.account_id, orders.c.created_at)
Index("ix_orders_state_deadline", orders.c.state, orders.c.deadline)
Index("ux_orders_idempotency", orders.c.account_id, orders.c.idempotency_key, unique=True)

order_tickets = Table(
    "order_tickets",
    metadata,
    Column(
        "order_number",
        String(16),
        ForeignKey("orders.number", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True),
    Column("generation", Integer, primary_key=True),
    Column("ticket_number", String(16), nullable=True),
    Column("passenger_id", String(32), nullable=False),
    Column("passenger_name", String(64), nullable=False),
    # keyed hash of the passenger's document (plus a child's name): the overlap rule's key
    Column("person_key", String(160), nullable=False),
    Column("train_code", String(64), nullable=False),
    Column("service_date", Date, nullable=False),
    Column("departs_min", BigInteger, nullable=False),
    Column("arrives_min", BigInteger, nullable=False),
    Column("coach", Integer, nullable=True),
    Column("seat_label", String(16), nullable=True),
    Column("seat_index", Integer, nullable=True),
    Column("fare_fen", BigInteger, nullable=True),
    # pending (order queued/held), issued, refunded, changed, used, void (order closed)
    Column("state", String(16), nullable=False),
)
Index("ix_order_tickets_person", order_tickets.c.person_key, order_tickets.c.state)
Index("ix_order_tickets_number", order_tickets.c.ticket_number)
Index("ix_order_tickets_run", order_tickets.c.train_code, order_tickets.c.service_date)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_number", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("ticket_number", String(16), nullable=True),
    Column("reference", String(128), nullable=False, server_default=""),
    Column("at", DateTime(timezone=True), nullable=False),
)
Index("ix_ledger_entries_order", ledger_entries.c.order_number)

payments = Table(
    "payments",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("order_number", String(16), nullable=False),
    Column("account_id", String(32), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("provider_trade_no", String(128), nullable=True),
    Column("amount_fen", BigInteger, nullable=False),
    # created, succeeded, refunded (a late payment returned), closed
    Column("state", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


Index("ix_payments_order", payments.c.order_number)


# The checkout's books: channel refunds still owed (the retry queue) and dearer changes
# awaiting payment.


pending_refunds = Table(
    "pending_refunds",
    metadata,
    # the refund's idempotency number at the channel (out_request_no / out_refund_no)
    Column("refund_no", String(64), primary_key=True),
    Column("order_number", String(16), nullable=False),
    # our trade number at the channel: the order number, or a change payment's
    Column("trade_no", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("total_fen", BigInteger, nullable=False),
    # pending (not yet confirmed by the channel), done, failed (refused for good: an operator's)
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("next_at", DateTime(timezone=True), nullable=False),
)
Index("ix_pending_refunds_due", pending_refunds.c.state, pending_refunds.c.next_at)
Index("ix_pending_refunds_order", pending_refunds.c.order_number)

change_payments = Table(
    "change_payments",
    metadata,
    # our trade number at the channel for the fare difference
    Column("id", String(40), primary_key=True),
    Column("order_number", String(16), nullable=False),
    Column("ticket_number", String(16), nullable=False),
    Column("account_id", String(32), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    # pending (new seat held), completed, expired, returned (paid too late: refunded)
    Column("state", String(16), nullable=False),
    Column("deadline", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("provider_trade_no", String(128), nullable=True),
    # the new trip and seat as JSON
    Column("body", Text, nullable=False),
)
Index("ix_change_payments_state_deadline", change_payments.c.state, change_payments.c.deadline)
Index("ix_change_payments_ticket", change_payments.c.ticket_number)
Index("ix_change_payments_order", change_payments.c.order_number)
