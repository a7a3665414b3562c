"""orders, order tickets, ledger entries and payments

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("train_code", sa.String(length=64), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("from_stop", sa.Integer(), nullable=False),
        sa.Column("to_stop", sa.Integer(), nullable=False),
        sa.Column("from_station", sa.String(length=64), nullable=False),
        sa.Column("to_station", sa.String(length=64), nullable=False),
        sa.Column("seat_class", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("number"),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_run_state", ["train_code", "service_date", "state"], unique=False
        )
        batch_op.create_index("ix_orders_account", ["account_id", "created_at"], unique=False)
        batch_op.create_index("ix_orders_state_deadline", ["state", "deadline"], unique=False)
        batch_op.create_index(
            "ux_orders_idempotency", ["account_id", "idempotency_key"], unique=True
        )

    op.create_table(
        "order_tickets",
        sa.Column("order_number", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("ticket_number", sa.String(length=16), nullable=True),
        sa.Column("passenger_id", sa.String(length=32), nullable=False),
        sa.Column("passenger_name", sa.String(length=64), nullable=False),
        sa.Column("person_key", sa.String(length=160), nullable=False),
        sa.Column("train_code", sa.String(length=64), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("departs_min", sa.BigInteger(), nullable=False),
        sa.Column("arrives_min", sa.BigInteger(), nullable=False),
        sa.Column("coach", sa.Integer(), nullable=True),
        sa.Column("seat_label", sa.String(length=16), nullable=True),
        sa.Column("seat_index", sa.Integer(), nullable=True),
        sa.Column("fare_fen", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["order_number"], ["orders.number"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("order_number", "position", "generation"),
    )
    with op.batch_alter_table("order_tickets", schema=None) as batch_op:
        batch_op.create_index("ix_order_tickets_person", ["person_key", "state"], unique=False)
        batch_op.create_index("ix_order_tickets_number", ["ticket_number"], unique=False)

    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_number", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("ticket_number", sa.String(length=16), nullable=True),
        sa.Column("reference", sa.String(length=128), server_default="", nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_entries_order", ["order_number"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_number", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("provider_trade_no", sa.String(length=128), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index("ix_payments_order", ["order_number"], unique=False)

    counters = sa.table("counters", sa.column("name", sa.String), sa.column("value", sa.BigInteger))
    op.bulk_insert(counters, [{"name": "order_serial", "value": 0}])


def downgrade() -> None:
    op.execute("DELETE FROM counters WHERE name = 'order_serial'")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_order")
    op.drop_table("payments")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_order")
    op.drop_table("ledger_entries")
    with op.batch_alter_table("order_tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_order_tickets_number")
        batch_op.drop_index("ix_order_tickets_person")
    op.drop_table("order_tickets")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ux_orders_idempotency")
        batch_op.drop_index("ix_orders_state_deadline")
        batch_op.drop_index("ix_orders_account")
        batch_op.drop_index("ix_orders_run_state")
    op.drop_table("orders")
