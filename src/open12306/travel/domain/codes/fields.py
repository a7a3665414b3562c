"""Range checks shared by the code dataclasses; each raises ``CodeError(bad_field)``."""

from __future__ import annotations

import re

from open12306.travel.domain.codes.errors import bad_field

MAX_TOKEN = 32
MAX_CODE_TEXT = 16
# PRC resident ID numbers: 18 characters (17 digits + digit or X) or the old 15 digits.
_ID_NUMBER = re.compile(rb"\d{17}[\dXx]|\d{15}")
_CODE_TEXT = re.compile(r"[\x21-\x7e]+")


def check_uint(field: str, value: int, maximum: int, minimum: int = 0) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_field(field, "must be an integer")
    if not minimum <= value <= maximum:
        raise bad_field(field, f"{value} is outside {minimum}..{maximum}")


def check_code_text(field: str, value: str, max_len: int = MAX_CODE_TEXT) -> None:
    """Identifiers such as train numbers and station telecodes: 1..16 printable ASCII."""
    if not isinstance(value, str) or not _CODE_TEXT.fullmatch(value) or len(value) > max_len:
        raise bad_field(field, f"must be 1..{max_len} printable ASCII characters without spaces")


def check_label(field: str, value: str, max_bytes: int = MAX_CODE_TEXT) -> None:
    """Free labels (a seat label): 0..16 bytes of UTF-8 without control characters."""
    if not isinstance(value, str) or len(value.encode("utf-8")) > max_bytes:
        raise bad_field(field, f"must be at most {max_bytes} bytes of UTF-8")
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in value):
        raise bad_field(field, "must not contain control characters")


def check_token(field: str, value: bytes) -> None:
    """Opaque tokens: 1..32 bytes that must not be a resident ID number."""
    if not isinstance(value, bytes) or not 1 <= len(value) <= MAX_TOKEN:
        raise bad_field(field, f"must be 1..{MAX_TOKEN} bytes")
    if _ID_NUMBER.fullmatch(value):
        raise bad_field(field, "looks like an ID number; use an opaque token")


def check_exact_bytes(field: str, value: bytes, size: int) -> None:
    if not isinstance(value, bytes) or len(value) != size:
        raise bad_field(field, f"must be exactly {size} bytes")


def check_window(first: str, start: int, last: str, end: int) -> None:
    if start >= end:
        raise bad_field(last, f"{last} must be after {first}")
