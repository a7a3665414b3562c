"""transit settlement: taps, settled days, credit draws, debts, deny list, debt payments,
enrolments

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "transit_taps",
        sa.Column("tap_id", sa.String(length=160), nullable=False),
        sa.Column("account_token", sa.String(length=64), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("station", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("received_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("tap_id"),
    )
    op.create_index("ix_transit_taps_at", "transit_taps", ["at"], unique=False)
    op.create_table(
        "transit_settled",
        sa.Column("day_reference", sa.String(length=128), nullable=False),
        sa.Column("account_token", sa.String(length=64), nullable=False),
        sa.Column("service_day", sa.Date(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("journeys", sa.Integer(), nullable=False),
        sa.Column("corrections", sa.Integer(), nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("day_reference"),
    )
    op.create_index("ix_transit_settled_day", "transit_settled", ["service_day"], unique=False)
    op.create_index(
        "ix_transit_settled_account", "transit_settled", ["account_token"], unique=False
    )
    op.create_table(
        "transit_credit_draws",
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("account_token", sa.String(length=64), nullable=False),
        sa.Column("service_day", sa.Date(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("collected", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("reference"),
    )
    op.create_index(
        "ix_transit_credit_draws_account",
        "transit_credit_draws",
        ["account_token"],
        unique=False,
    )
    op.create_table(
        "transit_debts",
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("account_token", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("paid_at", _AT, nullable=True),
        sa.PrimaryKeyConstraint("reference"),
    )
    op.create_index("ix_transit_debts_account", "transit_debts", ["account_token"], unique=False)
    op.create_table(
        "transit_deny",
        sa.Column("account_token", sa.String(length=64), nullable=False),
        sa.Column("since", _AT, nullable=False),
        sa.PrimaryKeyConstraint("account_token"),
    )
    op.create_table(
        "transit_debt_payments",
        sa.Column("payment_no", sa.String(length=32), nullable=False),
        sa.Column("account_token", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("debts", sa.String(length=4000), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("payment_no"),
    )
    op.create_index(
        "ix_transit_debt_payments_account",
        "transit_debt_payments",
        ["account_token"],
        unique=False,
    )
    op.create_table(
        "transit_enrolments",
        sa.Column("account_token", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("account_created_at", _AT, nullable=False),
        sa.Column("enrolled_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("account_token"),
    )


def downgrade() -> None:
    op.drop_table("transit_enrolments")
    op.drop_index("ix_transit_debt_payments_account", table_name="transit_debt_payments")
    op.drop_table("transit_debt_payments")
    op.drop_table("transit_deny")
    op.drop_index("ix_transit_debts_account", table_name="transit_debts")
    op.drop_table("transit_debts")
    op.drop_index("ix_transit_credit_draws_account", table_name="transit_credit_draws")
    op.drop_table("transit_credit_draws")
    op.drop_index("ix_transit_settled_account", table_name="transit_settled")
    op.drop_index("ix_transit_settled_day", table_name="transit_settled")
    op.drop_table("transit_settled")
    op.drop_index("ix_transit_taps_at", table_name="transit_taps")
    op.drop_table("transit_taps")
