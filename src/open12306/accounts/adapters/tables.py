"""Tables for accounts, login sessions, failed-login counters and saved passengers.

They live on the shared ``metadata`` (``open12306.shared.db.metadata``) so
migrations and the autogenerate comparison see one schema.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
)

from open12306.shared.db.metadata import metadata

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False, server_default="active"),
)
Index("ux_accounts_username", accounts.c.username, unique=True)

sessions = Table(
    "sessions",
    metadata,
    # SHA-256 (hex) of the bearer token; the token itself is never stored.
    Column("token_hash", String(64), primary_key=True),
    Column(
        "account_id",
        String(32),
        ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)
Index("ix_sessions_account_id", sessions.c.account_id)
Index("ix_sessions_expires_at", sessions.c.expires_at)

login_attempts = Table(
    "login_attempts",
    metadata,
    # ``user:<username>``, ``addr:<address>`` or ``pair:<username>@<address>``
    Column("key", String(128), primary_key=True),
    # Unix seconds: the start of the fixed counting window (user:) or of the failure's second
    Column("window_start", BigInteger, primary_key=True),
    Column("count", Integer, nullable=False),
)
Index("ix_login_attempts_window_start", login_attempts.c.window_start)

SEALED_NUMBER_LENGTH = 128  # a sealed 32-character number takes 94

passengers = Table(
    "passengers",
    metadata,
    Column("id", String(32), primary_key=True),
    Column(
        "account_id",
        String(32),
        ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(64), nullable=False),
    Column("id_type", String(32), nullable=False),
    # the normalised document number (as validate_document returns it), sealed: see
    # shared.db.documents_at_rest
    Column("id_number", String(SEALED_NUMBER_LENGTH), nullable=False),
    # keyed hash (HMAC-SHA256, hex) of type and number: the lookup and uniqueness key
    Column("id_key", String(64), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("sex", String(8), nullable=False),
    Column("student", Boolean, nullable=False, server_default="0"),
    Column("disabled_military", Boolean, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


Index("ux_passengers_account_document", passengers.c.account_id, passengers.c.id_key, unique=True)
Index("ix_passengers_id_key", passengers.c.id_key)


# Enrolled faces of saved passengers: only the 128-number embedding, never the photo.


passenger_faces = Table(
    "passenger_faces",
    metadata,
    Column(
        "passenger_id",
        String(32),
        ForeignKey("passengers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("account_id", String(32), nullable=False),
    Column("model", String(32), nullable=False),
    Column("embedding", LargeBinary, nullable=False),
    Column("enrolled_at", DateTime(timezone=True), nullable=False),
)
Index("ix_passenger_faces_account_id", passenger_faces.c.account_id)
