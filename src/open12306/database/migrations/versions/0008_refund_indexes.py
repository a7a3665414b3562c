"""refund split: look-ups of an order's channel refunds and change payments

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pending_refunds", schema=None) as batch_op:
        batch_op.create_index("ix_pending_refunds_order", ["order_number"], unique=False)
    with op.batch_alter_table("change_payments", schema=None) as batch_op:
        batch_op.create_index("ix_change_payments_order", ["order_number"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("change_payments", schema=None) as batch_op:
        batch_op.drop_index("ix_change_payments_order")
    with op.batch_alter_table("pending_refunds", schema=None) as batch_op:
        batch_op.drop_index("ix_pending_refunds_order")
