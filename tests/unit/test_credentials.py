import pytest

from open12306.accounts.domain.credentials import (
    PASSWORD_MAX,
    USERNAME_MAX,
    check_password,
    check_username,
)
from open12306.shared.errors import DomainError


@pytest.mark.parametrize(
    ("given", "expected"),
    [("zhang_san", "zhang_san"), ("  ZhangSan1 ", "zhangsan1"), ("a" * USERNAME_MAX, "a" * 30)],
)
def test_good_usernames_are_normalised(given: str, expected: str) -> None:
    assert check_username(given) == expected


@pytest.mark.parametrize(
    "username",
    ["abcde", "a" * 31, "_zhang", "1zhang", "zhang-san", "zhang san", "ｚｈａｎｇｓａｎ"],
)
def test_bad_usernames(username: str) -> None:
    with pytest.raises(DomainError) as info:
        check_username(username)
    assert (info.value.field, info.value.reason) == ("username", "bad_format")


@pytest.mark.parametrize(
    "password", ["rail-pass", "12306 是我的", "Gaotie2026", "x" * (PASSWORD_MAX - 1) + "1"]
)
def test_good_passwords(password: str) -> None:
    check_password(password, "zhang_san")


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("a1b2c3d", "too_short"),
        ("a1" * 64 + "x", "too_long"),
        ("abcdefghij", "too_weak"),
        ("1234567890", "too_weak"),
        ("火车票火车票火车票", "too_weak"),
        ("Zhang_San", "too_weak"),
        ("ABCD1234", "too_weak"),
    ],
)
def test_bad_passwords(password: str, reason: str) -> None:
    with pytest.raises(DomainError) as info:
        check_password(password, "zhang_san")
    assert (info.value.field, info.value.reason) == ("password", reason)
