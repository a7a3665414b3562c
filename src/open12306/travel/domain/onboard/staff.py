"""Staff credentials for the conductor's endpoints: bearer tokens listed in a file.

Accounts have no roles, and conductors are not riders, so staff are kept apart: a text file
(its path in ``OPEN12306_STAFF_TOKENS``) lists one staff member a line::

    # staff id   role        token hash
    c-1024       conductor   sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08

Only SHA-256 hashes of the tokens are stored (``token_line`` makes a line); ``#`` starts a
comment. Roles: ``conductor`` (manifests and on-board sales) and ``staff`` (manifests only).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from open12306.shared.errors import DomainError

PREFIX = "sha256:"
MAX_TOKEN = 512


class StaffRole(StrEnum):
    CONDUCTOR = "conductor"
    STAFF = "staff"


@dataclass(frozen=True, slots=True)
class StaffMember:
    """Someone working the train: an id for the records and what they may do."""

    id: str
    role: StaffRole

    @property
    def sells(self) -> bool:
        return self.role is StaffRole.CONDUCTOR


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_line(staff_id: str, role: StaffRole, token: str) -> str:
    """The file line for a staff member and their token."""
    return f"{staff_id} {role.value} {PREFIX}{token_digest(token)}"


def parse_staff_tokens(text: str) -> dict[str, StaffMember]:
    """Token digests to staff members; DomainError naming the line for a bad one."""
    found: dict[str, StaffMember] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 3 or not parts[2].startswith(PREFIX):
            raise DomainError("staff_tokens", "malformed", f"line {number}: id role sha256:HEX")
        staff_id, role, digest = parts[0], parts[1], parts[2][len(PREFIX) :].lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise DomainError("staff_tokens", "malformed", f"line {number}: bad sha256 digest")
        try:
            found[digest] = StaffMember(staff_id, StaffRole(role))
        except ValueError:
            raise DomainError("staff_tokens", "malformed", f"line {number}: bad role") from None
    return found


def find_staff(tokens: Mapping[str, StaffMember], token: str) -> StaffMember | None:
    """The staff member holding ``token``, or None."""
    if not token or len(token) > MAX_TOKEN:
        return None
    digest = token_digest(token)
    for known, member in tokens.items():
        if hmac.compare_digest(known, digest):
            return member
    return None
