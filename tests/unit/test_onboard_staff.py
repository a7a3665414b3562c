"""Staff bearer tokens from a file: only hashes stored, roles checked."""

from __future__ import annotations

import pytest

from open12306.shared.errors import DomainError
from open12306.travel.domain.onboard import (
    StaffMember,
    StaffRole,
    find_staff,
    parse_staff_tokens,
    token_line,
)


def test_a_token_line_round_trips_without_the_token() -> None:
    line = token_line("c-1", StaffRole.CONDUCTOR, "secret-token-1")
    assert "secret-token-1" not in line
    tokens = parse_staff_tokens(f"# staff\n\n{line}  # night shift\n")
    assert find_staff(tokens, "secret-token-1") == StaffMember("c-1", StaffRole.CONDUCTOR)
    assert find_staff(tokens, "secret-token-2") is None
    assert find_staff(tokens, "") is None


def test_only_conductors_sell() -> None:
    assert StaffMember("c", StaffRole.CONDUCTOR).sells
    assert not StaffMember("s", StaffRole.STAFF).sells


@pytest.mark.parametrize(
    "text",
    [
        "c-1 conductor",
        "c-1 conductor abc",
        "c-1 conductor sha256:xyz",
        "c-1 driver sha256:" + "0" * 64,
    ],
)
def test_bad_lines_are_named(text: str) -> None:
    with pytest.raises(DomainError) as bad:
        parse_staff_tokens("\n" + text)
    assert bad.value.field == "staff_tokens" and "line 2" in bad.value.message
