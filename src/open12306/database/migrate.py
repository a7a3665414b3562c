"""Alembic migrations run programmatically (``open12306 db upgrade``).

Migrations that rewrite stored document numbers (0010) take the deployment's document cipher
from the Alembic config's ``attributes["document_cipher"]``; ``upgrade`` puts it there.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from open12306.shared.db.engine import normalise_url
from open12306.shared.document_keys import DocumentCipher

MIGRATIONS = Path(__file__).parent / "migrations"
CIPHER = "document_cipher"


def alembic_config(url: str, cipher: DocumentCipher | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    config.attributes[CIPHER] = cipher
    return config


def upgrade(url: str, revision: str = "head", cipher: DocumentCipher | None = None) -> None:
    """Bring the database at ``url`` to ``revision`` (creating the SQLite file if needed).

    ``cipher`` seals document numbers stored in clear by older versions; without it such rows
    make the upgrade fail (a new, empty database needs none).
    """
    from open12306.shared.db.engine import make_engine

    make_engine(url).dispose()  # creates the SQLite folder
    command.upgrade(alembic_config(url, cipher), revision)


def downgrade(url: str, revision: str, cipher: DocumentCipher | None = None) -> None:
    command.downgrade(alembic_config(url, cipher), revision)
