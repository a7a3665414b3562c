"""Rules for account usernames and passwords.

Usernames follow 12306's rule: 6 to 30 characters of ASCII letters, digits and ``_``, starting
with a letter. They are case-insensitive, so they are stored lower-cased.

Passwords follow NIST SP 800-63B rather than 12306's older 6-character minimum: at least 8
characters (counted as code points), at most 128, not the username, not a well-known password,
and, as 12306 asks, at least two kinds of character (letters, digits, symbols). Every failure
is a DomainError naming the field (``username`` or ``password``).
"""

from __future__ import annotations

import re
import unicodedata

from open12306.shared.errors import DomainError

USERNAME_MIN = 6
USERNAME_MAX = 30
PASSWORD_MIN = 8
PASSWORD_MAX = 128

_USERNAME = re.compile(r"[a-z][a-z0-9_]*")

# A few of the most common leaked passwords (the top of public breach-corpus rankings) that
# pass the length and character-kind rules; the list only stops the laziest choices.
COMMON_PASSWORDS = frozenset(
    {
        "password1",
        "password123",
        "passw0rd",
        "qwerty123",
        "qwertyuiop1",
        "abc12345",
        "abcd1234",
        "a1234567",
        "a12345678",
        "1qaz2wsx",
        "1q2w3e4r",
        "1q2w3e4r5t",
        "zxcvbnm1",
        "iloveyou1",
        "woaini1314",
        "admin123",
        "letmein1",
        "welcome1",
        "12306abc",
        "abc123456",
    }
)


def normalize_username(username: str) -> str:
    """Blanks around removed, lower-cased."""
    return username.strip().lower()


def check_username(username: str) -> str:
    """The normalised username, or DomainError(``username``, ``bad_format``)."""
    value = normalize_username(username)
    if not USERNAME_MIN <= len(value) <= USERNAME_MAX:
        raise DomainError(
            "username",
            "bad_format",
            f"a username is {USERNAME_MIN} to {USERNAME_MAX} characters long",
        )
    if not value.isascii() or not _USERNAME.fullmatch(value):
        raise DomainError(
            "username",
            "bad_format",
            "a username starts with a letter and has only letters, digits and _",
        )
    return value


def check_password(password: str, username: str) -> None:
    """Raise DomainError(``password``, …) unless ``password`` is acceptable for ``username``."""
    if len(password) < PASSWORD_MIN:
        raise DomainError(
            "password", "too_short", f"a password has at least {PASSWORD_MIN} characters"
        )
    if len(password) > PASSWORD_MAX:
        raise DomainError(
            "password", "too_long", f"a password has at most {PASSWORD_MAX} characters"
        )
    folded = password.casefold()
    if folded == normalize_username(username) or folded in COMMON_PASSWORDS:
        raise DomainError("password", "too_weak", "this password is too easy to guess")
    if len(_kinds(password)) < 2:
        raise DomainError(
            "password",
            "too_weak",
            "a password mixes at least two of: letters, digits, symbols",
        )


def _kinds(password: str) -> set[str]:
    kinds = set()
    for ch in password:
        category = unicodedata.category(ch)
        if category.startswith("L"):
            kinds.add("letter")
        elif category.startswith("N"):
            kinds.add("digit")
        else:
            kinds.add("symbol")
    return kinds
