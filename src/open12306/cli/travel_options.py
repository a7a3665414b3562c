"""What the travel commands (keys, wallet, gate, ticket-code) share: options, the offline
station list, the clock and how their failures are reported.

They work on local files with no database or network: the wallet's credential is signed from
a local issuer key store (or fetched from a server) and gate taps go to a local collector file
or a station server (docs/ride-codes.md, "Command line").
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import typer

from open12306.cli.errors import InputError, guarded
from open12306.travel.ports import DeviceError

T = TypeVar("T")

KEY_DIR_ENV = "OPEN12306_KEY_DIR"
STATION_HELP = "station: telecode, name, pinyin or initials (VNP, 北京南, beijingnan)"
NOW_HELP = "the clock in unix seconds (default: the system clock); for tests and replays"
KEY_DIR_OPTION = typer.Option(
    Path("var/keys"), "--dir", envvar=KEY_DIR_ENV, help="issuer key store directory"
)
ISSUER_OPTION = typer.Option(
    Path("var/keys"), "--keys", envvar=KEY_DIR_ENV, help="issuer key store directory"
)


def run(work: Callable[[], T]) -> T:
    """Run a command body; every expected failure becomes one line on stderr and exit 2."""
    return guarded(work, (DeviceError,))


def clock(now: int | None) -> int:
    """``--now``, else the system clock, in unix seconds."""
    from open12306.bootstrap import devices

    return devices.seconds(now)


def hex_bytes(text: str, what: str) -> bytes:
    """1 to 32 bytes given in hex, for option ``what``."""
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise InputError(f"{what}: expected hex digits, got {text!r}") from None
    if not 1 <= len(raw) <= 32:
        raise InputError(f"{what}: expected 1 to 32 bytes")
    return raw


def offline_station(query: str, field: str = "station") -> str:
    """The code ``query`` stands for (a code as given, else the one station a name, pinyin or
    initials name) on the shipped station list: gates and demo codes work without the
    database. Unknown or ambiguous names are DomainErrors with suggestions."""
    from open12306.bootstrap import devices

    return devices.offline_stations().code_of(query, field)


def same_station(query: str, code: str) -> bool:
    """Whether ``query`` names the station ``code``."""
    return query == code or offline_station(query) == code
