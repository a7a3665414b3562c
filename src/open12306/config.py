"""Settings read from the environment (OPEN12306_*), with documented defaults."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///var/open12306.db"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name}: expected an integer, got {raw!r}") from exc


ALLOCATOR_MODES = ("process", "thread", "none")  # the first is the default


def _choice(name: str, choices: tuple[str, ...]) -> str:
    raw = os.environ.get(name) or choices[0]
    if raw not in choices:
        raise SystemExit(f"{name}: expected one of {', '.join(choices)}, got {raw!r}")
    return raw


def _pairs(name: str) -> tuple[tuple[str, str], ...]:
    """Comma-separated ``from:to`` pairs of station queries (names, cities, telecodes)."""
    raw = os.environ.get(name) or ""
    found = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        origin, colon, destination = part.partition(":")
        if not colon or not origin.strip() or not destination.strip():
            raise SystemExit(f"{name}: {part!r} is not a from:to pair (e.g. 北京:上海)")
        found.append((origin.strip(), destination.strip()))
    return tuple(found)


def _networks(name: str) -> tuple[str, ...]:
    """Comma-separated addresses or CIDR blocks, each checked (normalised: ``10.0.0.0/8``)."""
    raw = os.environ.get(name) or ""
    found = []
    for part in raw.replace(" ", ",").split(","):
        if not part:
            continue
        try:
            found.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError as exc:
            raise SystemExit(f"{name}: {part!r} is not an address or CIDR block") from exc
    return tuple(found)


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. Every field has an OPEN12306_<NAME> environment variable."""

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    timezone: str = "Asia/Shanghai"
    presale_days: int = 15
    demo_seed: int = 12306
    demo_trains: int = 1200
    session_ttl_days: int = 7
    # How long a server process trusts a session it has read without reading it again (a
    # logout elsewhere still ends it at the next look at the revocation count); 0: every
    # request reads its session.
    session_cache_seconds: int = 5
    quota_share_percent: int = 20
    quota_release_hours: int = 48
    document_key_file: str = ""
    document_enc_key_file: str = ""
    # Where orders are admitted and allocated: "process" (the order desk, a child process of
    # each server: its own interpreter, so its own core; docs/benchmarks.md measures it ahead
    # of the thread for booking and for search under booking), "thread" (in the server
    # process), "none" (the server admits; other processes run `open12306 allocator`).
    allocator: str = "process"
    # Decoded run inventories the allocator keeps between passes (about 40 KiB each for an
    # emu-8 run, 190 KiB for a long 16-coach one); a run outside them is decoded again.
    inventory_cache_runs: int = 8192
    # City or station pairs whose itineraries (with one-change journeys) the server computes
    # for every day of the sale window in the background, before anyone asks.
    search_warm_pairs: tuple[tuple[str, str], ...] = ()
    # The embedded payment sandbox's setup API (registrations, faults, notification listing)
    # answers only this bearer token; empty: a token generated into a file on first use
    # (``sandbox_admin_token_path``).
    sandbox_admin_token: str = field(default="", repr=False)
    # Proxies whose X-Forwarded-For is believed when telling a client's address (login
    # throttling): addresses or CIDR blocks. Empty: the socket peer is the client.
    trusted_proxies: tuple[str, ...] = ()
    # The slow queue (``sales.domain.slow_queue``): an account submitting more than
    # ``slow_queue_per_account`` orders (an address more than ``slow_queue_per_address``)
    # within ``slow_queue_window_seconds`` has its orders served ``slow_queue_delay_seconds``
    # later; a delay of 0 switches it off, a per-address limit of 0 (the default) leaves
    # addresses uncounted (users behind one NAT, load generators on loopback share one).
    slow_queue_window_seconds: int = 60
    slow_queue_per_account: int = 10
    slow_queue_per_address: int = 0
    slow_queue_delay_seconds: int = 30
    # Submissions waiting for the intake beyond which new ones are shed (429, Retry-After).
    intake_max_pending: int = 5000
    data_dir: Path = field(default_factory=lambda: Path(__file__).parent / "data")

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            database_url=env.get("OPEN12306_DATABASE_URL") or DEFAULT_DATABASE_URL,
            host=env.get("OPEN12306_HOST") or "127.0.0.1",
            port=_int("OPEN12306_PORT", 8000),
            timezone=env.get("OPEN12306_TIMEZONE") or "Asia/Shanghai",
            presale_days=_int("OPEN12306_PRESALE_DAYS", 15),
            demo_seed=_int("OPEN12306_DEMO_SEED", 12306),
            demo_trains=_int("OPEN12306_DEMO_TRAINS", 1200),
            session_ttl_days=_int("OPEN12306_SESSION_TTL_DAYS", 7),
            session_cache_seconds=_int("OPEN12306_SESSION_CACHE_SECONDS", 5),
            quota_share_percent=_int("OPEN12306_QUOTA_SHARE_PERCENT", 20),
            quota_release_hours=_int("OPEN12306_QUOTA_RELEASE_HOURS", 48),
            document_key_file=env.get("OPEN12306_DOCUMENT_KEY_FILE") or "",
            document_enc_key_file=env.get("OPEN12306_DOCUMENT_ENC_KEY_FILE") or "",
            allocator=_choice("OPEN12306_ALLOCATOR", ALLOCATOR_MODES),
            inventory_cache_runs=_int("OPEN12306_INVENTORY_CACHE_RUNS", 8192),
            search_warm_pairs=_pairs("OPEN12306_SEARCH_WARM_PAIRS"),
            sandbox_admin_token=env.get("OPEN12306_SANDBOX_ADMIN_TOKEN") or "",
            trusted_proxies=_networks("OPEN12306_TRUSTED_PROXIES"),
            slow_queue_window_seconds=_int("OPEN12306_SLOW_QUEUE_WINDOW_SECONDS", 60),
            slow_queue_per_account=_int("OPEN12306_SLOW_QUEUE_PER_ACCOUNT", 10),
            slow_queue_per_address=_int("OPEN12306_SLOW_QUEUE_PER_ADDRESS", 0),
            slow_queue_delay_seconds=_int("OPEN12306_SLOW_QUEUE_DELAY_SECONDS", 30),
            intake_max_pending=_int("OPEN12306_INTAKE_MAX_PENDING", 5000),
        )

    def document_key_path(self) -> Path:
        """Secret for passenger document hashes: next to the SQLite file, else under var/."""
        if self.document_key_file:
            return Path(self.document_key_file)
        if self.database_url.startswith("sqlite:///"):
            database = Path(self.database_url[len("sqlite:///") :])
            return database.with_name(database.name + ".document-key")
        return Path("var/document-key")

    def sandbox_dir(self) -> Path:
        """Where the embedded payment sandbox keeps its keys and the demo merchant's
        credentials (0600): next to the SQLite file, else under var/."""
        if self.database_url.startswith("sqlite:///"):
            database = Path(self.database_url[len("sqlite:///") :])
            return database.with_name(database.name + ".paysandbox")
        return Path("var/paysandbox")

    def sandbox_admin_token_path(self) -> Path:
        """Where the generated sandbox admin token is kept (when the setting is empty): next
        to the SQLite file, else under var/."""
        if self.database_url.startswith("sqlite:///"):
            database = Path(self.database_url[len("sqlite:///") :])
            return database.with_name(database.name + ".sandbox-admin-token")
        return Path("var/sandbox-admin-token")

    def document_enc_key_path(self) -> Path:
        """Keys sealing stored document numbers: beside the document key, ``…document-key``
        becoming ``…document-enc-key`` (any other name gets ``.enc`` added)."""
        if self.document_enc_key_file:
            return Path(self.document_enc_key_file)
        key = self.document_key_path()
        if key.name.endswith("document-key"):
            return key.with_name(key.name.removesuffix("document-key") + "document-enc-key")
        return key.with_name(key.name + ".enc")
