"""network, runs and inventory

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    counters = op.create_table(
        "counters",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.bulk_insert(counters, [{"name": "inventory_seq", "value": 0}])
    op.create_table(
        "run_inventory",
        sa.Column("train_code", sa.String(length=64), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("train_code", "service_date"),
    )
    with op.batch_alter_table("run_inventory", schema=None) as batch_op:
        batch_op.create_index("ix_run_inventory_change_seq", ["change_seq"], unique=False)

    op.create_table(
        "stations",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("pinyin", sa.String(length=128), server_default="", nullable=False),
        sa.Column("initials", sa.String(length=32), server_default="", nullable=False),
        sa.Column("city", sa.String(length=64), server_default="", nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=32), server_default="12306", nullable=False),
        sa.Column("seq", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "trains",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("train_type", sa.String(length=2), server_default="", nullable=False),
        sa.Column("composition", sa.String(length=64), nullable=False),
        sa.Column("synthetic", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("holiday_only", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("name", sa.String(length=128), server_default="", nullable=False),
        sa.Column("source", sa.String(length=64), server_default="generator", nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "runs",
        sa.Column("train_code", sa.String(length=64), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="scheduled", nullable=False),
        sa.ForeignKeyConstraint(["train_code"], ["trains.code"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("train_code", "service_date"),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index("ix_runs_service_date", ["service_date"], unique=False)

    op.create_table(
        "train_stops",
        sa.Column("train_code", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("station", sa.String(length=64), nullable=False),
        sa.Column("arrive", sa.Integer(), nullable=True),
        sa.Column("depart", sa.Integer(), nullable=True),
        sa.Column("km", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["station"],
            ["stations.code"],
        ),
        sa.ForeignKeyConstraint(["train_code"], ["trains.code"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("train_code", "seq"),
    )


def downgrade() -> None:
    op.drop_table("train_stops")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("ix_runs_service_date")

    op.drop_table("runs")
    op.drop_table("trains")
    op.drop_table("stations")
    with op.batch_alter_table("run_inventory", schema=None) as batch_op:
        batch_op.drop_index("ix_run_inventory_change_seq")

    op.drop_table("run_inventory")
    op.drop_table("counters")
