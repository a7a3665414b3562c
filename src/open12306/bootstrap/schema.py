"""The database as the operator sets it up: ``open12306 db upgrade``, and what a command
should say when the database is not there or not set up."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError, ProgrammingError

from open12306.config import Settings
from open12306.database.migrate import upgrade
from open12306.shared.document_keys import DocumentCipher, load_or_create_cipher


def document_cipher(settings: Settings) -> DocumentCipher:
    """The deployment's document cipher (its key file is created on first use); ValueError
    when the key file does not read."""
    return load_or_create_cipher(settings.document_enc_key_path())


def upgrade_database(settings: Settings, cipher: DocumentCipher) -> None:
    """Create or migrate the database of ``settings`` (sealing clear document numbers)."""
    upgrade(settings.database_url, cipher=cipher)


def database_failure(error: BaseException) -> str | None:
    """The line to show for a database that cannot be used (``database: …``, with what to do
    when it is not set up); None for any other error."""
    if not isinstance(error, OperationalError | ProgrammingError):
        return None
    text = str(error.orig) if error.orig is not None else str(error)
    hint = ""
    if "no such table" in text or "does not exist" in text:
        hint = " — the database is not set up: run `open12306 db upgrade`"
    return f"database: {text.splitlines()[0]}{hint}"
