"""Fen (integer) inside, yuan strings at the channel edge."""

from __future__ import annotations

import re

_YUAN = re.compile(r"^(0|[1-9][0-9]{0,9})(?:\.([0-9]{1,2}))?$")


def fen_to_yuan(fen: int) -> str:
    """12345 -> "123.45". Negative amounts are a programming error."""
    if fen < 0:
        raise ValueError(f"negative amount: {fen} fen")
    return f"{fen // 100}.{fen % 100:02d}"


def yuan_to_fen(text: str) -> int:
    """ "123.45" -> 12345; at most two decimals, no sign, no exponent."""
    match = _YUAN.match(text.strip())
    if match is None:
        raise ValueError(f"not a yuan amount: {text!r}")
    whole, cents = match.group(1), (match.group(2) or "").ljust(2, "0")
    return int(whole) * 100 + int(cents)
