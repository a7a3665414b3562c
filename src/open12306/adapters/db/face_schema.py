"""Enrolled faces of saved passengers: only the 128-number embedding, never the photo.

One row per saved passenger (deleted with the passenger). ``embedding`` is 128 little-endian
float32 values (512 bytes); ``model`` names what computed it, so a gate never compares
embeddings of two different models.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Index, LargeBinary, String, Table

from open12306.adapters.db.schema import metadata

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
