"""Builds what the device commands work with: issuer keys, a wallet, the server, a gate's files.

``open12306 keys|wallet|gate|ticket-code`` call these and see the ``travel.ports`` shapes only.
Everything here works on local files, except a gate bundle built from the booking database
(``station_content``) and the server calls.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from open12306.catalog.adapters.station_data import load_stations
from open12306.catalog.domain.station_index import StationIndex
from open12306.config import Settings
from open12306.shared.db.engine import normalise_url
from open12306.travel.adapters.gate import FaceLane, load_bundle, save_bundle
from open12306.travel.adapters.gate import run_gate as run_gate_images
from open12306.travel.adapters.gate import run_gate_id as run_gate_number
from open12306.travel.adapters.gate.station_bundle import station_bundle
from open12306.travel.adapters.gate.sync import (
    bundle_version_at,
    take_bundle,
    upload_to_collector,
    upload_to_server,
)
from open12306.travel.adapters.keys import IssuerKeyStore
from open12306.travel.adapters.qr import qr_terminal, save_qr_png
from open12306.travel.adapters.server_api import HttpTravelServer
from open12306.travel.adapters.wallet_file import WalletFiles
from open12306.travel.domain.gate import DenyLists, Direction
from open12306.travel.ports import (
    DeviceError,
    GateBundleInfo,
    GateTap,
    IssuerKeys,
    TravelServer,
    Wallet,
)
from open12306.travel.services.gate_bundles import StationContent

__all__ = [
    "BookingDatabaseError",
    "bundle_version_at",
    "create_issuer_keys",
    "fetch_bundle",
    "install_bundle",
    "load_gate_bundle",
    "offline_stations",
    "open_issuer_keys",
    "qr_text",
    "run_gate",
    "run_gate_id",
    "save_qr",
    "seconds",
    "station_content",
    "travel_server",
    "upload_taps",
    "upload_to_collector",
    "wallet",
    "write_station_bundle",
]


class BookingDatabaseError(DeviceError):
    """The booking database a gate bundle is built from cannot be read."""


def seconds(now: int | None) -> int:
    """``now``, else the system clock, in unix seconds."""
    return int(time.time()) if now is None else now


@lru_cache(maxsize=1)
def offline_stations() -> StationIndex:
    """The shipped station list: gates and demo codes name stations without the database."""
    return StationIndex(load_stations())


# -- keys, wallet, server, QR ----------------------------------------------------------------


def create_issuer_keys(directory: Path) -> IssuerKeys:
    """A new issuer key store (a current and a next key) in a new or empty directory."""
    return IssuerKeyStore.create(directory)


def open_issuer_keys(directory: Path) -> IssuerKeys:
    return IssuerKeyStore.open(directory)


def wallet(directory: Path) -> Wallet:
    return WalletFiles(directory)


def travel_server(server: str, token: str = "") -> TravelServer:
    return HttpTravelServer(server, token)


def save_qr(data: bytes, path: Path) -> None:
    """The QR code of ``data`` as a PNG file."""
    save_qr_png(data, path)


def qr_text(data: bytes) -> str:
    """The QR code of ``data`` drawn for a terminal."""
    return qr_terminal(data)


# -- gate ------------------------------------------------------------------------------------


def load_gate_bundle(path: Path) -> GateBundleInfo:
    return load_bundle(path)


def write_station_bundle(
    issuer: IssuerKeys,
    station: str,
    version: int,
    created: int,
    content: StationContent | None,
    deny: DenyLists,
    out: Path,
) -> GateBundleInfo:
    """Assemble a station's bundle (see ``station_bundle``) and write it to ``out``."""
    bundle = station_bundle(issuer, station, version, created, content, deny)
    save_bundle(bundle, out)
    return bundle


def run_gate(
    bundle: Path,
    journal: Path,
    image: Path,
    direction: Direction,
    now: int | None,
    gate_id: str,
    face: Path | None,
) -> Sequence[GateTap]:
    """Decide on a QR image or a folder of them; ``face`` is the face camera's photo."""
    lane = FaceLane(face)
    return run_gate_images(bundle, journal, image, direction, now=now, gate_id=gate_id, face=lane)


def run_gate_id(
    bundle: Path,
    journal: Path,
    number: str,
    direction: Direction,
    now: int | None,
    gate_id: str,
    face: Path | None,
) -> GateTap:
    """Decide on an ID number read at the gate (the ID-card lane)."""
    return run_gate_number(bundle, journal, number, direction, now, gate_id, face=FaceLane(face))


def upload_taps(journal: Path, server: str, token: str) -> tuple[int, int]:
    """Every tap of the journal to the station server: (sent, tickets marked used)."""
    return upload_to_server(journal, travel_server(server, token))


def install_bundle(fresh: Path, gate: Path) -> GateBundleInfo:
    """Take a fresh bundle file in (same station, never older than the one held)."""
    return take_bundle(fresh, gate)


def fetch_bundle(server: str, token: str, station: str, gate: Path) -> GateBundleInfo:
    """Fetch the station's bundle from the server and install it like ``install_bundle``."""
    document = travel_server(server, token).station_bundle(station)
    temporary = gate.with_name(gate.name + ".fetched")
    temporary.write_bytes(json.dumps(document, ensure_ascii=False).encode("utf-8"))
    try:
        return take_bundle(temporary, gate)
    finally:
        temporary.unlink(missing_ok=True)


def station_content(station: str, now: int) -> StationContent:
    """The station's deny list and manifest from the configured database
    (OPEN12306_DATABASE_URL); BookingDatabaseError when it cannot be read."""
    from open12306.bootstrap import gate_bundle_service

    settings = Settings.from_env()
    shown = _readable_database(settings.database_url)
    moment = datetime.fromtimestamp(now, ZoneInfo(settings.timezone))
    try:
        return gate_bundle_service(settings).station_content(station, moment)
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        raise BookingDatabaseError(f"database: cannot read {shown}: {reason}") from None


def _readable_database(url: str) -> str:
    """The URL as it may be shown (no password), after checking that an SQLite file exists:
    connecting to a missing one would create an empty database."""
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError:
        raise BookingDatabaseError(
            "database: OPEN12306_DATABASE_URL is not a database URL"
        ) from None
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or not Path(database).is_file():
            raise BookingDatabaseError(
                f"database: no database file at {database or '(none)'} "
                "(OPEN12306_DATABASE_URL); create it (`make run`, `open12306 db upgrade`) "
                "or build with --keys-only"
            )
    return shown
