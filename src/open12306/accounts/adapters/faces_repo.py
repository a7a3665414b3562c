"""Enrolled face embeddings on the ``passenger_faces`` table (``accounts.ports.FaceStore``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, delete, insert, select

from open12306.accounts.adapters.tables import passenger_faces

CHUNK = 500


class SqlFaceStore:
    """One embedding per saved passenger; enrolling again replaces it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save_face(
        self, account_id: str, passenger_id: str, model: str, embedding: bytes, at: datetime
    ) -> None:
        table = passenger_faces
        with self.engine.begin() as conn:
            conn.execute(delete(table).where(table.c.passenger_id == passenger_id))
            conn.execute(
                insert(table).values(
                    passenger_id=passenger_id,
                    account_id=account_id,
                    model=model,
                    embedding=embedding,
                    enrolled_at=at,
                )
            )

    def delete_face(self, account_id: str, passenger_id: str) -> bool:
        table = passenger_faces
        query = delete(table).where(
            table.c.passenger_id == passenger_id, table.c.account_id == account_id
        )
        with self.engine.begin() as conn:
            return bool(conn.execute(query).rowcount)

    def embeddings(self, passenger_ids: Sequence[str], model: str) -> dict[str, bytes]:
        table = passenger_faces
        wanted = sorted(set(passenger_ids))
        found: dict[str, bytes] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), CHUNK):
                query = select(table.c.passenger_id, table.c.embedding).where(
                    table.c.passenger_id.in_(wanted[start : start + CHUNK]),
                    table.c.model == model,
                )
                found.update((str(p), bytes(e)) for p, e in conn.execute(query))
        return found
