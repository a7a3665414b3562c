"""order_tickets by run: conductors' manifests and gate bundles read a run's tickets

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_order_tickets_run", "order_tickets", ["train_code", "service_date"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_order_tickets_run", table_name="order_tickets")
