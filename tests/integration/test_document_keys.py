import base64
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from open12306.accounts.adapters.document_keyer import HmacDocumentKeyer
from open12306.accounts.domain.identity import Document, DocumentKind
from open12306.config import Settings
from open12306.shared.document_keys import (
    DocumentCipher,
    SealedValueError,
    is_sealed,
    key_id,
    load_or_create_cipher,
    load_or_create_secret,
)


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


ID_NUMBER = "11010519491231002X"
PURPOSE = b"passengers.id_number|p1"


def test_sealed_values_name_their_key_and_differ_every_time() -> None:
    first = DocumentCipher((b"\x01" * 32,)).seal(ID_NUMBER, PURPOSE)
    cipher = DocumentCipher((b"\x01" * 32,))
    second = cipher.seal(ID_NUMBER, PURPOSE)
    assert first != second  # a fresh nonce per value
    form, kid, body = first.split(".")
    assert (form, kid) == ("enc1", key_id(b"\x01" * 32)) and len(kid) == 8
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    assert len(raw) == 12 + len(ID_NUMBER) + 16  # nonce, ciphertext, tag
    assert ID_NUMBER not in first and is_sealed(first) and not is_sealed(ID_NUMBER)
    assert cipher.open(first, PURPOSE) == cipher.open(second, PURPOSE) == ID_NUMBER


@pytest.mark.parametrize(
    "change",
    [
        lambda v: v,  # opened for another purpose (below)
        lambda v: v[:-2] + ("AA" if not v.endswith("AA") else "BB"),  # altered ciphertext
        lambda v: v.replace("enc1.", "enc2.", 1),  # another format
        lambda v: "enc1.00000000." + v.split(".")[2],  # another key id
        lambda v: v.split(".", 1)[1],  # no header
        lambda v: v[:-1] + "!",  # not base64
    ],
)
def test_a_value_that_was_altered_or_moved_does_not_open(change: Callable[[str], str]) -> None:
    cipher = DocumentCipher((b"\x01" * 32,))
    sealed = cipher.seal(ID_NUMBER, PURPOSE)
    with pytest.raises(SealedValueError):
        cipher.open(change(sealed), b"passengers.id_number|p2")
    with pytest.raises(SealedValueError):
        DocumentCipher((b"\x02" * 32,)).open(sealed, PURPOSE)


def test_a_value_read_and_written_back_unchanged_is_the_stored_one() -> None:
    stored = DocumentCipher((b"\x01" * 32,)).seal(ID_NUMBER, PURPOSE)
    cipher = DocumentCipher((b"\x01" * 32,))
    assert cipher.open(stored, PURPOSE) == ID_NUMBER
    assert cipher.seal(ID_NUMBER, PURPOSE) == stored  # no new value, no cipher work
    other_row = cipher.seal(ID_NUMBER, b"passengers.id_number|p2")
    assert other_row != stored and cipher.open(other_row, b"passengers.id_number|p2") == ID_NUMBER
    with pytest.raises(SealedValueError):  # remembered for its own row only
        cipher.open(stored, b"passengers.id_number|p2")


def test_after_a_rotation_old_values_open_and_are_resealed_with_the_first_key() -> None:
    old, new = b"\x01" * 32, b"\x02" * 32
    sealed_before = DocumentCipher((old,)).seal(ID_NUMBER, PURPOSE)
    rotated = DocumentCipher((new, old))
    assert rotated.open(sealed_before, PURPOSE) == ID_NUMBER
    assert rotated.seal(ID_NUMBER, PURPOSE).split(".")[1] == key_id(new)


def test_the_cipher_key_file_is_created_once_privately(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "db.document-enc-key"
    first = load_or_create_cipher(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_cipher(path) == first
    assert [p.name for p in path.parent.iterdir()] == ["db.document-enc-key"]
    lines = path.read_text().split()
    assert len(lines) == 1 and bytes.fromhex(lines[0]) == first.keys[0]
    path.write_text(f"{'ab' * 32}\n{lines[0]}\n")  # rotated by hand: a new key first
    assert load_or_create_cipher(path).keys == (b"\xab" * 32, first.keys[0])


@pytest.mark.parametrize("text", ["", "abcd\n", "zz" * 32 + "\n", "ab" * 16 + "\n"])
def test_a_bad_cipher_key_file_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "document-enc-key"
    path.write_text(text)
    with pytest.raises(ValueError, match="document-enc-key"):
        load_or_create_cipher(path)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (Settings(database_url="sqlite:///var/x.db"), "var/x.db.document-enc-key"),
        (Settings(database_url="postgresql://h/db"), "var/document-enc-key"),
        (Settings(document_key_file="/etc/o/document-key"), "/etc/o/document-enc-key"),
        (Settings(document_key_file="/etc/o/hash.key"), "/etc/o/hash.key.enc"),
        (
            Settings(document_enc_key_file="/k/enc", document_key_file="/etc/o/document-key"),
            "/k/enc",
        ),
    ],
)
def test_the_cipher_key_lives_beside_the_document_key(settings: Settings, expected: str) -> None:
    assert settings.document_enc_key_path() == Path(expected)


def test_the_environment_names_the_cipher_key_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPEN12306_DOCUMENT_ENC_KEY_FILE", "/srv/keys/enc")
    assert Settings.from_env().document_enc_key_path() == Path("/srv/keys/enc")
