"""Where document numbers are stored, and the cipher that seals them there.

Document numbers live sealed (``DocumentCipher``) in two places only:

* ``passengers.id_number``: one sealed number per saved passenger, bound to the passenger id
  (``id_key`` beside it stays the keyed hash used for look-ups);
* ``orders.body``: the field ``docs``, the order's passengers' numbers (a JSON list, in
  passenger order) sealed as one value bound to the order number.

The deployment's cipher rides on its engine (an execution option), so every repository and
command reading those tables through the engine seals and opens with the same keys; an engine
without one refuses to read or write them rather than store numbers in clear.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine

from open12306.shared.db.engine import make_engine
from open12306.shared.document_keys import DocumentCipher

_OPTION = "open12306_document_cipher"


class NoDocumentCipher(RuntimeError):
    """The engine was set up without the deployment's document cipher."""


def attach_document_cipher(engine: Engine, cipher: DocumentCipher) -> None:
    """Make ``engine`` (and every connection it opens) seal and open with ``cipher``."""
    held = engine.get_execution_options().get(_OPTION)
    if held is not None and held != cipher:
        raise ValueError("this engine already seals documents with other keys")
    engine.update_execution_options(**{_OPTION: cipher})


def document_cipher(bind: Engine | Connection) -> DocumentCipher:
    """The cipher attached to ``bind``'s engine; NoDocumentCipher when there is none."""
    cipher = bind.get_execution_options().get(_OPTION)
    if not isinstance(cipher, DocumentCipher):
        raise NoDocumentCipher(
            "no document cipher on this database engine (attach_document_cipher)"
        )
    return cipher


def passenger_purpose(passenger_id: str) -> bytes:
    """Associated data of a saved passenger's sealed number."""
    return f"passengers.id_number|{passenger_id}".encode()


def order_purpose(order_number: str) -> bytes:
    """Associated data of an order body's sealed document numbers."""
    return f"orders.body.docs|{order_number}".encode()


def sealed_engine(url: str, cipher: DocumentCipher | None = None) -> Engine:
    """A new engine for ``url`` sealing document numbers with ``cipher`` (without one, reading
    or writing a document number raises NoDocumentCipher)."""
    engine = make_engine(url)
    if cipher is not None:
        attach_document_cipher(engine, cipher)
    return engine
