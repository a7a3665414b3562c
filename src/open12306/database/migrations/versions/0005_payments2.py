"""pending channel refunds (retry queue) and change payments

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_refunds",
        sa.Column("refund_no", sa.String(length=64), nullable=False),
        sa.Column("order_number", sa.String(length=16), nullable=False),
        sa.Column("trade_no", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("refund_no"),
    )
    with op.batch_alter_table("pending_refunds", schema=None) as batch_op:
        batch_op.create_index("ix_pending_refunds_due", ["state", "next_at"], unique=False)
    op.create_table(
        "change_payments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_number", sa.String(length=16), nullable=False),
        sa.Column("ticket_number", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provider_trade_no", sa.String(length=128), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("change_payments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_change_payments_state_deadline", ["state", "deadline"], unique=False
        )
        batch_op.create_index("ix_change_payments_ticket", ["ticket_number"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("change_payments", schema=None) as batch_op:
        batch_op.drop_index("ix_change_payments_ticket")
        batch_op.drop_index("ix_change_payments_state_deadline")
    op.drop_table("change_payments")
    with op.batch_alter_table("pending_refunds", schema=None) as batch_op:
        batch_op.drop_index("ix_pending_refunds_due")
    op.drop_table("pending_refunds")
