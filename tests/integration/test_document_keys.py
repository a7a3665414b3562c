import stat
from pathlib import Path

import pytest

from open12306.adapters.document_keys import HmacDocumentKeyer, load_or_create_secret
from open12306.domain.identity import Document, DocumentKind


def test_keys_depend_on_secret_kind_and_normalised_number() -> None:
    keyer = HmacDocumentKeyer(b"k" * 32)
    passport = Document(DocumentKind.PASSPORT, "E12345678")
    assert keyer.key(passport) == keyer.key(Document(DocumentKind.PASSPORT, " e12345678 "))
    assert len(keyer.key(passport)) == 64
    assert keyer.key(passport) != keyer.key(Document(DocumentKind.TAIWAN_PERMIT, "E12345678"))
    assert keyer.key(passport) != HmacDocumentKeyer(b"j" * 32).key(passport)
    with pytest.raises(ValueError):
        HmacDocumentKeyer(b"short")


def test_the_secret_is_created_once_privately(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "document.key"
    first = load_or_create_secret(path)
    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(path) == first
    assert [p.name for p in path.parent.iterdir()] == ["document.key"]


def test_a_truncated_secret_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "document.key"
    path.write_text("abcd\n")
    with pytest.raises(ValueError):
        load_or_create_secret(path)
