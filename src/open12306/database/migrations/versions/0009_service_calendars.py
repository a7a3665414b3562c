"""service calendars: trains that run on some dates only (GTFS calendar and calendar_dates)

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("trains", schema=None) as batch_op:
        batch_op.add_column(sa.Column("service_id", sa.String(length=128), nullable=True))
    op.create_table(
        "service_calendars",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.String(length=128), nullable=False),
        sa.Column("weekdays", sa.String(length=7), server_default="0000000", nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("source", "service_id"),
    )
    op.create_table(
        "service_calendar_dates",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.String(length=128), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("added", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source", "service_id"],
            ["service_calendars.source", "service_calendars.service_id"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source", "service_id", "day"),
    )


def downgrade() -> None:
    op.drop_table("service_calendar_dates")
    op.drop_table("service_calendars")
    with op.batch_alter_table("trains", schema=None) as batch_op:
        batch_op.drop_column("service_id")
