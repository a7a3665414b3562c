"""Tables for channel refunds still owed (the retry queue) and dearer changes awaiting payment.

On the shared ``metadata`` of ``schema`` (which imports this module at its end).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, String, Table, Text

from open12306.adapters.db.schema import metadata

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
