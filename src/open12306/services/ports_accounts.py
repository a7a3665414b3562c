"""Ports the account services need; adapters implement them."""

from __future__ import annotations

from typing import Protocol


class PasswordHasher(Protocol):
    """One-way password hashing with self-describing encoded hashes.

    ``hash`` returns a string that names its algorithm and parameters, so the parameters can
    be raised later: ``needs_rehash`` says when a stored hash was made with weaker ones and
    should be replaced on the next successful login. ``verify`` compares in constant time
    and answers False (never raises) for a wrong password or a malformed hash.
    """

    def hash(self, password: str) -> str: ...

    def verify(self, password: str, encoded: str) -> bool: ...

    def needs_rehash(self, encoded: str) -> bool: ...
