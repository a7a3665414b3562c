"""Tables of transit settlement: uploaded taps, settled days, the credit line's draws,
debts, the deny list, debt payments through a channel, and pay-later enrolments.

On the shared ``metadata`` (``open12306.shared.db.metadata``). Account
tokens are the hex of the 16-byte token in ride credentials; amounts are fen.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, Index, Integer, String, Table

from open12306.shared.db.metadata import metadata

TOKEN = 64
REFERENCE = 128

transit_taps = Table(
    "transit_taps",
    metadata,
    Column("tap_id", String(160), primary_key=True),
    Column("account_token", String(TOKEN), nullable=False),
    Column("operator", String(64), nullable=False),
    Column("station", String(64), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)
Index("ix_transit_taps_at", transit_taps.c.at)

# What each account's service day was settled at so far (the original charge plus
# corrections): a day is charged once and later only by the difference.
transit_settled = Table(
    "transit_settled",
    metadata,
    Column("day_reference", String(REFERENCE), primary_key=True),
    Column("account_token", String(TOKEN), nullable=False),
    Column("service_day", Date, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("journeys", Integer, nullable=False),
    Column("corrections", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("ix_transit_settled_day", transit_settled.c.service_day)
Index("ix_transit_settled_account", transit_settled.c.account_token)

# The pay-later credit line: one row per reference asked for (idempotency), collected or not.
# Refunds are rows with a negative amount.
transit_credit_draws = Table(
    "transit_credit_draws",
    metadata,
    Column("reference", String(REFERENCE), primary_key=True),
    Column("account_token", String(TOKEN), nullable=False),
    Column("service_day", Date, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("collected", Boolean, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_transit_credit_draws_account", transit_credit_draws.c.account_token)

transit_debts = Table(
    "transit_debts",
    metadata,
    Column("reference", String(REFERENCE), primary_key=True),
    Column("account_token", String(TOKEN), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=True),
)
Index("ix_transit_debts_account", transit_debts.c.account_token)

transit_deny = Table(
    "transit_deny",
    metadata,
    Column("account_token", String(TOKEN), primary_key=True),
    Column("since", DateTime(timezone=True), nullable=False),
)

transit_debt_payments = Table(
    "transit_debt_payments",
    metadata,
    Column("payment_no", String(32), primary_key=True),
    Column("account_token", String(TOKEN), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    # The debt references this payment settles, comma-separated.
    Column("debts", String(4000), nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("ix_transit_debt_payments_account", transit_debt_payments.c.account_token)

transit_enrolments = Table(
    "transit_enrolments",
    metadata,
    Column("account_token", String(TOKEN), primary_key=True),
    Column("account_id", String(32), nullable=False),
    Column("account_created_at", DateTime(timezone=True), nullable=False),
    Column("enrolled_at", DateTime(timezone=True), nullable=False),
)
