"""Digital travel from the terminal: issuer keys, a wallet, offline gates, demo ticket codes.

``open12306 keys``, ``open12306 wallet``, ``open12306 gate`` and ``open12306 ticket-code``.
Everything here works on local files with no database or network: the wallet's credential is
signed from a local issuer key store and gate taps go to a local collector file until the
server endpoints exist (docs/ride-codes.md, "Command line").
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import json
import math
import os
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

import typer

from open12306.catalog.adapters.station_data import load_stations
from open12306.catalog.domain.station_index import StationIndex
from open12306.cli.errors import InputError, fail, guarded
from open12306.cli.http_client import ServerError, call
from open12306.config import Settings
from open12306.inventory.domain.seats import SeatClass
from open12306.shared.errors import DomainError
from open12306.travel.adapters.gate import (
    BundleError,
    FaceLane,
    GateBundle,
    GateJournal,
    GateResult,
    TapCollector,
    load_bundle,
    run_gate,
    run_gate_id,
    save_bundle,
)
from open12306.travel.adapters.gate.station_bundle import station_bundle
from open12306.travel.adapters.keys import (
    DIR_MODE,
    FILE_MODE,
    DeviceKey,
    IssuerKeyStore,
    KeyStoreError,
)
from open12306.travel.adapters.qr import QrReadError, qr_terminal, save_qr_png
from open12306.travel.domain.codes import (
    CredentialFlags,
    RideCredential,
    ScanHint,
    ScanPart,
    TicketCode,
    open_credential,
    seal_credential,
    seal_scan,
    seal_ticket,
)
from open12306.travel.domain.gate import DenyLists, Direction, GateConfig

if TYPE_CHECKING:
    from open12306.travel.services.gate_bundles import StationContent

keys_app = typer.Typer(no_args_is_help=True, help="Issuer signing keys for ticket and ride codes.")
wallet_app = typer.Typer(no_args_is_help=True, help="A phone-side wallet: device key, ride codes.")
gate_app = typer.Typer(no_args_is_help=True, help="Offline station gates: bundles, taps, sync.")

KEY_DIR_ENV = "OPEN12306_KEY_DIR"
WALLET_DIR_ENV = "OPEN12306_WALLET_DIR"
GATE_TOKEN_ENV = "OPEN12306_GATE_TOKEN"
DEVICE_KEY_FILE = "device.key"
CREDENTIAL_FILE = "credential.bin"
COUNTER_FILE = "counter"
LOGIN_FILE = "server.json"
CODE_PNG = "code.png"
ACCOUNT_TOKEN_SIZE = 16
EXIT_REFUSED = 3
U32_MAX = 0xFFFF_FFFF
UPLOAD_BATCH = 10_000
FLAG_NAMES = {
    "pay-later": CredentialFlags.PAY_LATER,
    "concession": CredentialFlags.CONCESSION,
    "face": CredentialFlags.FACE_REQUIRED,
}
T = TypeVar("T")


def _fail(message: str) -> NoReturn:
    fail(message)


def _run(work: Callable[[], T]) -> T:
    """Run a command body; every expected failure becomes one line on stderr and exit 2."""
    return guarded(work, (KeyStoreError, BundleError, QrReadError, ServerError))


def _clock(now: int | None) -> int:
    return int(time.time()) if now is None else now


def _hex(text: str, what: str) -> bytes:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise InputError(f"{what}: expected hex digits, got {text!r}") from None
    if not 1 <= len(raw) <= 32:
        raise InputError(f"{what}: expected 1 to 32 bytes")
    return raw


@lru_cache(maxsize=1)
def _shipped_stations() -> StationIndex:
    return StationIndex(load_stations())


def offline_station(query: str, field: str = "station") -> str:
    """The code ``query`` stands for (a code as given, else the one station a name, pinyin or
    initials name) on the shipped station list: gates and demo codes work without the
    database. Unknown or ambiguous names are DomainErrors with suggestions."""
    return _shipped_stations().code_of(query, field)


STATION_HELP = "station: telecode, name, pinyin or initials (VNP, 北京南, beijingnan)"
NOW_HELP = "the clock in unix seconds (default: the system clock); for tests and replays"
KEY_DIR_OPTION = typer.Option(
    Path("var/keys"), "--dir", envvar=KEY_DIR_ENV, help="issuer key store directory"
)
ISSUER_OPTION = typer.Option(
    Path("var/keys"), "--keys", envvar=KEY_DIR_ENV, help="issuer key store directory"
)
WALLET_DIR_OPTION = typer.Option(
    Path("var/wallet"), "--dir", envvar=WALLET_DIR_ENV, help="wallet directory"
)


# -- keys ------------------------------------------------------------------------------------


def _describe_keys(store: IssuerKeyStore) -> None:
    for entry in store.entries():
        typer.echo(f"key {entry.key_id} {entry.state} {entry.public_key.hex()}")


@keys_app.command("init")
def keys_init(directory: Path = KEY_DIR_OPTION) -> None:
    """Create an issuer key store (a current and a next key) in a new directory."""
    store = _run(lambda: IssuerKeyStore.create(directory))
    typer.echo(f"created issuer key store at {directory}")
    _describe_keys(store)


@keys_app.command("rotate")
def keys_rotate(directory: Path = KEY_DIR_OPTION) -> None:
    """next → current → previous → retired, and a new next key. Rebuild gate bundles after."""
    store = _run(lambda: IssuerKeyStore.open(directory))
    current = _run(store.rotate)
    typer.echo(f"rotated: key {current.key_id} is current")
    _describe_keys(store)


@keys_app.command("export")
def keys_export(
    directory: Path = KEY_DIR_OPTION,
    out: Path | None = typer.Option(None, "--out", help="write here (default: stdout)"),
) -> None:
    """Write the public key bundle (trusted keys only) as JSON: what gates hold."""
    store = _run(lambda: IssuerKeyStore.open(directory))
    bundle = store.public_bundle()
    if out is None:
        sys.stdout.write(bundle.decode("utf-8"))
        return
    _run(lambda: out.write_bytes(bundle))
    typer.echo(f"wrote public key bundle to {out}")


# -- wallet ----------------------------------------------------------------------------------


def _wallet_key(wallet: Path) -> DeviceKey:
    path = wallet / DEVICE_KEY_FILE
    if not path.is_file():
        raise InputError(f"no wallet at {wallet}: run `open12306 wallet init`")
    return DeviceKey.load(path)


def _wallet_credential(wallet: Path) -> bytes:
    path = wallet / CREDENTIAL_FILE
    if not path.is_file():
        raise InputError(f"no credential in {wallet}: run `open12306 wallet credential`")
    return path.read_bytes()


@contextmanager
def _locked(wallet: Path) -> Iterator[None]:
    fd = os.open(wallet / ".lock", os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _replace_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, readable by the owner only."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def next_counter(wallet: Path) -> int:
    """The wallet's next scan counter: one above the last, persisted before it is used."""
    path = wallet / COUNTER_FILE
    with _locked(wallet):
        last = 0
        if path.exists():
            text = path.read_text().strip()
            if not text.isdigit():
                raise InputError(f"{path}: expected a number, found {text!r}")
            last = int(text)
        if last >= U32_MAX:
            raise InputError("counter: exhausted; make a new wallet")
        _replace_private(path, f"{last + 1}\n".encode("ascii"))
    return last + 1


@wallet_app.command("init")
def wallet_init(directory: Path = WALLET_DIR_OPTION) -> None:
    """Create a wallet: a new device key (mode 0600) in a directory of mode 0700."""

    def create() -> DeviceKey:
        directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        os.chmod(directory, DIR_MODE)
        if (directory / DEVICE_KEY_FILE).exists():
            raise InputError(f"{directory} already holds a wallet")
        key = DeviceKey.generate()
        key.save(directory / DEVICE_KEY_FILE)
        return key

    key = _run(create)
    typer.echo(f"created wallet at {directory}; device public key {key.public_key.hex()}")


def _parse_flags(names: list[str]) -> CredentialFlags:
    flags = CredentialFlags.NONE
    for name in names:
        if name not in FLAG_NAMES:
            raise InputError(f"flag: {name!r} is not one of {', '.join(FLAG_NAMES)}")
        flags |= FLAG_NAMES[name]
    return flags


@wallet_app.command("login")
def wallet_login(
    server: str = typer.Option(..., help="the open12306 server, e.g. http://127.0.0.1:8000"),
    username: str = typer.Option(..., help="account name"),
    password: str = typer.Option(..., prompt=True, hide_input=True, help="account password"),
    directory: Path = WALLET_DIR_OPTION,
) -> None:
    """Log in to a server and keep its session token in the wallet (server.json, mode 0600),
    so that `wallet credential` fetches credentials from it."""

    def login() -> str:
        _wallet_key(directory)
        answer = call(
            server, "POST", "/api/v1/sessions", {"username": username, "password": password}
        )
        token = answer.get("token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise InputError("server: the login answer holds no token")
        login = {"server": server, "token": token}
        _replace_private(directory / LOGIN_FILE, json.dumps(login).encode("utf-8"))
        return str(answer.get("expires_at", "?"))

    expires = _run(login)
    typer.echo(f"logged in to {server} as {username}; session until {expires}")


def _stored_login(wallet: Path) -> tuple[str, str] | None:
    path = wallet / LOGIN_FILE
    if not path.is_file():
        return None
    try:
        login = json.loads(path.read_bytes())
        return str(login["server"]), str(login["token"])
    except (ValueError, KeyError, TypeError):
        raise InputError(f"{path}: unreadable; run `open12306 wallet login` again") from None


def fetch_credential(server: str, token: str, device: DeviceKey, hours: int) -> bytes:
    """POST the device public key to the server; the sealed credential it issued.

    The answer must be a credential for this very device key (else it is refused)."""
    body = {"device_public_key": base64.b64encode(device.public_key).decode(), "hours": hours}
    answer = call(server, "POST", "/api/v1/ride/credentials", body, token=token)
    try:
        data = base64.b64decode(answer["credential"], validate=True)
        credential = open_credential(data).value
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise InputError("server: the answer holds no readable credential") from None
    except DomainError as error:
        raise InputError(f"server: the credential does not decode ({error.reason})") from None
    if credential.device_public_key != device.public_key:
        raise InputError("server: the credential is for another device key")
    return data


@wallet_app.command("credential")
def wallet_credential(
    keys: Path | None = typer.Option(
        None,
        "--keys",
        help="sign locally with this issuer key store (default: the server of `wallet login`,"
        f" else ${KEY_DIR_ENV}, else var/keys)",
    ),
    server: str = typer.Option(
        "", help="fetch from this server's POST /api/v1/ride/credentials (needs --token)"
    ),
    token: str = typer.Option("", help="bearer session token for --server"),
    directory: Path = WALLET_DIR_OPTION,
    account: str = typer.Option(
        "", help="account token in hex (default: derived from the device key)"
    ),
    hours: int = typer.Option(24, min=1, max=72, help="validity in hours"),
    flag: list[str] = typer.Option([], "--flag", help="pay-later, concession or face"),
    offline_limit: int = typer.Option(5000, min=0, max=U32_MAX, help="offline credit, fen"),
    serial: int | None = typer.Option(None, min=0, help="credential serial (default: random)"),
    now: int | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Get a ride credential for this wallet's device key and store it (credential.bin).

    With --server URL --token T, or after `wallet login`, the server issues it
    (POST /api/v1/ride/credentials; account, flags and limits are then the server's). Otherwise
    it is signed from a local issuer key store (--keys): the issuer's private key must be on
    this machine, so that is for demos and tests only.
    """
    source = _credential_source(server, token, keys, directory)

    def issue() -> RideCredential:
        device = _wallet_key(directory)
        if isinstance(source, tuple):
            data = fetch_credential(source[0], source[1], device, hours)
            _replace_private(directory / CREDENTIAL_FILE, data)
            return open_credential(data).value
        token = _hex(account, "account") if account else _derived_account(device)
        signer = IssuerKeyStore.open(source).signer()
        start = _clock(now)
        credential = RideCredential(
            key_id=signer.key_id,
            serial=secrets.randbits(63) if serial is None else serial,
            account_token=token,
            device_public_key=device.public_key,
            valid_from=start,
            valid_until=start + hours * 3600,
            flags=_parse_flags(flag),
            offline_credit_limit=offline_limit,
        )
        _replace_private(directory / CREDENTIAL_FILE, seal_credential(credential, signer))
        return credential

    credential = _run(issue)
    typer.echo(
        f"credential serial {credential.serial} for account {credential.account_token.hex()}"
        f" signed by key {credential.key_id}, valid until {credential.valid_until}"
    )


def _credential_source(
    server: str, token: str, keys: Path | None, wallet: Path
) -> tuple[str, str] | Path:
    """(server, token) to fetch from, or the issuer key store to sign with."""
    if server:
        if not token:
            login = _run(lambda: _stored_login(wallet))
            if login is None or login[0].rstrip("/") != server.rstrip("/"):
                _fail("token: --server needs --token (or `open12306 wallet login` first)")
            token = login[1]
        return server, token
    if token:
        _fail("server: --token goes with --server")
    if keys is not None:
        return keys
    login = _run(lambda: _stored_login(wallet))
    if login is not None:
        return login
    return Path(os.environ.get(KEY_DIR_ENV) or "var/keys")


def _derived_account(device: DeviceKey) -> bytes:
    return hashlib.sha256(b"open12306-account" + device.public_key).digest()[:ACCOUNT_TOKEN_SIZE]


@wallet_app.command("code")
def wallet_code(
    entry: bool | None = typer.Option(
        None, "--entry/--exit", help="hint the gate: entering or leaving (advisory)"
    ),
    png: Path | None = typer.Option(None, "--png", help="PNG path (default: <wallet>/code.png)"),
    directory: Path = WALLET_DIR_OPTION,
    now: int | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Make a fresh per-scan code: print its QR in the terminal and save it as a PNG."""
    hint = ScanHint.UNSPECIFIED if entry is None else ScanHint.ENTRY if entry else ScanHint.EXIT
    target = png if png is not None else directory / CODE_PNG

    def make() -> tuple[bytes, int]:
        device = _wallet_key(directory)
        credential = _wallet_credential(directory)
        clock = _clock(now)
        valid_until = open_credential(credential).value.valid_until
        if clock > valid_until:
            raise InputError(
                f"credential: expired at {valid_until}; run `open12306 wallet credential`"
            )
        counter = next_counter(directory)
        data = seal_scan(credential, ScanPart(clock, counter, hint), device)
        save_qr_png(data, target)
        return data, counter

    data, counter = _run(make)
    sys.stdout.write(qr_terminal(data))
    typer.echo(f"scan code counter {counter} ({len(data)} bytes) saved to {target}")


# -- gate ------------------------------------------------------------------------------------


def _previous_version(path: Path) -> int:
    if not path.is_file():
        return 0
    try:
        return load_bundle(path).bundle_version
    except BundleError:
        return 0


KEYS_ONLY_WARNING = (
    "the bundle carries no revoked tickets and no manifest: refunded and changed tickets "
    "stay valid at the gate until a bundle built from the database replaces it"
)


@gate_app.command("bundle")
def gate_bundle(
    station: str = typer.Option(..., help=f"the gates' {STATION_HELP}"),
    out: Path = typer.Option(..., "--out", help="bundle file to write"),
    keys: Path = ISSUER_OPTION,
    deny_ticket: list[str] = typer.Option([], "--deny-ticket", help="revoked ticket number"),
    deny_account: list[str] = typer.Option([], "--deny-account", help="blocked account (hex)"),
    deny_serial: list[int] = typer.Option([], "--deny-serial", help="blocked credential serial"),
    keys_only: bool = typer.Option(
        False,
        "--keys-only",
        "--no-db",
        help="build without the database: issuer keys and the --deny-* given only, no "
        "revoked tickets, no manifest (warned, and marked keys_only in the bundle)",
    ),
    from_db: bool = typer.Option(
        False, "--from-db", hidden=True, help="the default (kept for older scripts)"
    ),
    now: int | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Write a station's gate bundle: issuer public keys, retired key ids, deny lists and the
    station manifest.

    The deny list holds every refunded or changed ticket of runs from yesterday to two days
    ahead and the accounts in transit arrears, read from the configured database
    (OPEN12306_DATABASE_URL), with the station manifest (runs calling here, issued tickets
    boarding or alighting here with salted document hashes) for ID-number admission. A
    database that cannot be read is an error. --keys-only builds a bundle without them
    (for ride-code-only demos). The bundle version is one above that of the bundle at --out.
    --station takes the forms search takes (VNP, 北京南, beijingnan); the bundle holds the
    telecode.
    """
    if keys_only and from_db:
        _fail("keys-only: --keys-only and --from-db exclude each other")

    def build() -> GateBundle:
        issuer = IssuerKeyStore.open(keys)
        accounts = frozenset(_hex(a, "deny-account") for a in deny_account)
        deny = DenyLists(frozenset(deny_ticket), accounts, frozenset(deny_serial))
        content = None if keys_only else _station_content(station, _clock(now))
        code = offline_station(station) if content is None else content.station
        GateConfig(code)  # the telecode must be valid code text
        version = _previous_version(out) + 1
        bundle = station_bundle(issuer, code, version, _clock(now), content, deny)
        save_bundle(bundle, out)
        return bundle

    bundle = _run(build)
    deny = bundle.deny
    listed = "" if bundle.manifest is None else f", {len(bundle.manifest.tickets)} manifest tickets"
    typer.echo(
        f"wrote bundle version {bundle.bundle_version} for {bundle.station} to {out}: "
        f"{len(deny.tickets)} revoked tickets, {len(deny.accounts)} blocked accounts, "
        f"{len(deny.serials)} blocked serials{listed}"
    )
    if bundle.keys_only:
        typer.echo(f"warning: --keys-only: {KEYS_ONLY_WARNING}", err=True)


def _station_content(station: str, now: int) -> StationContent:
    """The station's deny list and manifest from the configured database; InputError
    (``database: ...``) when it cannot be read."""
    from sqlalchemy.exc import SQLAlchemyError

    from open12306.bootstrap import gate_bundle_service

    settings = Settings.from_env()
    shown = _readable_database(settings.database_url)
    moment = datetime.fromtimestamp(now, ZoneInfo(settings.timezone))
    try:
        return gate_bundle_service(settings).station_content(station, moment)
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        raise InputError(f"database: cannot read {shown}: {reason}") from None


def _readable_database(url: str) -> str:
    """The URL as it may be shown (no password), after checking that an SQLite file exists:
    connecting to a missing one would create an empty database."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from open12306.shared.db.engine import normalise_url

    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError:
        raise InputError("database: OPEN12306_DATABASE_URL is not a database URL") from None
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or not Path(database).is_file():
            raise InputError(
                f"database: no database file at {database or '(none)'} "
                "(OPEN12306_DATABASE_URL); create it (`make run`, `open12306 db upgrade`) "
                "or build with --keys-only"
            )
    return shown


@gate_app.command("run")
def gate_run(
    image: Path | None = typer.Argument(
        None, help="a QR PNG, or a folder of them (decided by name); omit with --id"
    ),
    station: str = typer.Option(..., help=f"this gate's {STATION_HELP}"),
    bundle: Path = typer.Option(..., "--bundle", help="gate bundle file"),
    journal: Path = typer.Option(..., "--journal", help="the gate's journal (SQLite)"),
    direction: Direction = typer.Option(..., help="entry or exit"),
    gate_id: str = typer.Option("gate-1", help="this gate's id (part of every tap id)"),
    id_number: str = typer.Option(
        "", "--id", help="an ID number read at the gate (the ID-card lane) instead of a QR"
    ),
    face: Path | None = typer.Option(
        None, "--face", help="the face camera's photo, for tickets that need a face check"
    ),
    json_out: bool = typer.Option(False, "--json", help="one JSON object per line"),
    now: int | None = typer.Option(None, help=NOW_HELP),
    watch: bool = typer.Option(
        False, "--watch", help="keep watching the folder: decide each new PNG as it appears"
    ),
    poll: float = typer.Option(0.2, min=0.01, max=10, help="seconds between looks (--watch)"),
) -> None:
    """Decide on QR images (or one ID number) offline. Exit status 0 when all were accepted,
    3 when any was refused. With --watch the gate decides every PNG that appears in the
    folder until it is stopped (a camera writing its frames there), taking in a fresh bundle
    file as soon as `gate sync` replaces it.

    A ticket whose passenger enrolled a face is admitted only when the --face photo matches
    the enrolled face carried in the bundle; otherwise (no match, no photo, or no face extra
    installed: "face check unavailable: manual lane") the tap is refused as face_… and the
    passenger goes to the manual lane.
    """

    def decide() -> list[GateResult]:
        loaded = load_bundle(bundle)
        if not _same_station(station, loaded.station):
            raise InputError(f"station: the bundle is for {loaded.station}, not {station}")
        if face is not None and not face.is_file():
            raise InputError(f"{face}: no such face image")
        lane = FaceLane(face)
        if id_number:
            if image is not None:
                raise InputError("id: give either --id or an image, not both")
            return [run_gate_id(bundle, journal, id_number, direction, now, gate_id, face=lane)]
        if image is None:
            raise InputError("image: give a QR image or folder, or --id NUMBER")
        if not image.exists():
            raise InputError(f"{image}: no such file or folder")
        if image.is_dir() and not any(p.suffix.lower() == ".png" for p in image.iterdir()):
            raise InputError(f"{image}: no PNG images in the folder")
        return run_gate(bundle, journal, image, direction, now=now, gate_id=gate_id, face=lane)

    if watch:
        if image is None or not image.is_dir():
            _fail("watch: give the folder to watch")

        def decide_file(path: Path) -> list[GateResult]:
            if not _same_station(station, load_bundle(bundle).station):
                raise InputError(f"station: the bundle is not for {station}")
            lane = FaceLane(face)
            return run_gate(bundle, journal, path, direction, now=now, gate_id=gate_id, face=lane)

        _watch(image, poll, decide_file, json_out, bundle)
        return
    results = _run(decide)
    for result in results:
        _report(result, json_out)
    if any(r.bundle_keys_only for r in results):
        _warn_keys_only(bundle)
    if not all(r.decision.accepted for r in results):
        raise typer.Exit(EXIT_REFUSED)


def _same_station(query: str, code: str) -> bool:
    return query == code or offline_station(query) == code


def _watch(
    folder: Path,
    poll: float,
    decide: Callable[[Path], list[GateResult]],
    json_out: bool,
    bundle: Path,
) -> None:
    """Decide each PNG that appears in ``folder`` (once per name), until interrupted. A camera
    should write a frame under another name and rename it into place (a rename is atomic)."""
    seen: set[str] = set()
    warned = False
    try:
        while True:
            fresh = sorted(
                p for p in folder.iterdir() if p.suffix.lower() == ".png" and p.name not in seen
            )
            for path in fresh:
                seen.add(path.name)
                for result in _run(lambda path=path: decide(path)):
                    _report(result, json_out)
                    if result.bundle_keys_only and not warned:
                        _warn_keys_only(bundle)
                    warned = result.bundle_keys_only
                sys.stdout.flush()  # a reader of a pipe sees each decision as it is made
            time.sleep(poll)
    except KeyboardInterrupt:
        return


def _warn_keys_only(source: Path) -> None:
    typer.echo(f"warning: keys-only bundle ({source}): {KEYS_ONLY_WARNING}", err=True)


def _report(result: GateResult, json_out: bool) -> None:
    decision, checked = result.decision, result.face
    if json_out:
        line = {
            "image": str(result.image),
            "accepted": decision.accepted,
            "reason": result.reason,
            "detail": decision.detail,
            "kind": str(decision.kind),
            "subject": decision.subject,
            "tap_id": result.tap_id,
            "notes": list(decision.notes),
            "face_required": decision.face_required,
            "bundle_keys_only": result.bundle_keys_only,
            "face": None
            if checked is None
            else {
                "match": checked.match,
                "reason": str(checked.reason),
                "distance": None if math.isinf(checked.distance) else checked.distance,
                "message": checked.message,
            },
        }
        typer.echo(json.dumps(line, ensure_ascii=False))
        return
    verdict = "accepted" if decision.accepted else "refused"
    subject = decision.subject or "-"
    typer.echo(
        f"{result.image.name}: {verdict} {result.reason} {subject} "
        f"tap {result.tap_id} ({decision.detail})"
    )


@gate_app.command("sync")
def gate_sync(
    journal: Path = typer.Option(..., "--journal", help="the gate's journal (SQLite)"),
    collector: Path | None = typer.Option(
        None, "--collector", help="a local collector's file (SQLite), instead of --server"
    ),
    server: str = typer.Option("", help="the station server: upload taps, fetch the bundle"),
    token: str = typer.Option(
        "", envvar=GATE_TOKEN_ENV, help="the gate's bearer token for --server"
    ),
    fetch: Path | None = typer.Option(None, "--fetch", help="a fresh bundle file to take in"),
    bundle: Path | None = typer.Option(None, "--bundle", help="the gate's bundle"),
    station: str = typer.Option(
        "", help=f"with --server: the {STATION_HELP} of a gate that holds no bundle yet"
    ),
) -> None:
    """Upload every tap of a journal, then optionally replace the gate's bundle.

    With --server the taps go to POST /api/v1/gate/taps (admitted reserved tickets become
    used there) and, with --bundle, a fresh bundle for the bundle's station comes from
    GET /api/v1/gate/stations/{station}/bundle. With --collector the taps go to a local file
    and --fetch names the fresh bundle. Either way repeating a sync changes nothing.
    """
    if (collector is None) == (not server):
        _fail("server: give either --server URL or --collector FILE")
    if collector is not None and (fetch is None) != (bundle is None):
        _fail("fetch: --fetch and --bundle go together")
    if server and fetch is not None:
        _fail("fetch: with --server the fresh bundle comes from the server")
    if collector is None and server and not token:
        _fail(f"token: --server needs --token (or {GATE_TOKEN_ENV})")

    def upload() -> tuple[int, int]:
        if not journal.is_file():
            if station:  # a new gate: nothing to upload yet
                return 0, 0
            raise InputError(f"{journal}: no such journal")
        if collector is not None:
            return _upload_to_collector(journal, collector)
        return _upload_to_server(journal, server, token)

    sent, new = _run(upload)
    if collector is not None:
        typer.echo(f"uploaded {sent} taps: {new} new, {sent - new} already collected")
    else:
        typer.echo(f"uploaded {sent} taps to {server}: {new} tickets marked used")
    if bundle is None:
        return
    if fetch is not None:
        fresh = _run(lambda: take_bundle(fetch, bundle))
    else:
        fresh = _run(lambda: _fetch_bundle(server, token, bundle, station))
    typer.echo(f"bundle version {fresh.bundle_version} for {fresh.station} now at {bundle}")
    if fresh.keys_only:
        _warn_keys_only(bundle)


def _journal_batches(journal: Path) -> Iterator[list[dict[str, Any]]]:
    with GateJournal(journal, "sync", "-") as source:
        since = 0
        while batch := source.export_taps(since, UPLOAD_BATCH):
            yield batch
            since = batch[-1]["seq"]


def _upload_to_collector(journal: Path, collector: Path) -> tuple[int, int]:
    sent = new = 0
    with TapCollector(collector) as sink:
        for batch in _journal_batches(journal):
            new += sink.receive(batch)
            sent += len(batch)
    return sent, new


def _upload_to_server(journal: Path, server: str, token: str) -> tuple[int, int]:
    """Send taps (without their code bytes) to the server; how many, and how many tickets
    the server marked used for the first time."""
    sent = used = 0
    for batch in _journal_batches(journal):
        taps = [{k: v for k, v in tap.items() if k != "code"} for tap in batch]
        answer = call(server, "POST", "/api/v1/gate/taps", {"taps": taps}, token=token)
        outcomes = answer.get("outcomes", {}) if isinstance(answer, dict) else {}
        used += int(outcomes.get("used", 0))
        sent += len(batch)
    return sent, used


def _fetch_bundle(server: str, token: str, gate_path: Path, station: str = "") -> GateBundle:
    """Fetch a fresh bundle for the held bundle's station (or ``station`` for a gate without
    one) and install it (see take_bundle)."""
    if gate_path.is_file():
        held = load_bundle(gate_path).station
        if station and not _same_station(station, held):
            raise InputError(f"station: the gate's bundle is for {held}, not {station}")
        station = held
    elif not station:
        raise InputError(f"{gate_path}: no bundle yet; give --station")
    path = f"/api/v1/gate/stations/{quote(station.strip(), safe='')}/bundle"  # names resolved there
    document = call(server, "GET", path, token=token)
    temporary = gate_path.with_name(gate_path.name + ".fetched")
    temporary.write_bytes(json.dumps(document, ensure_ascii=False).encode("utf-8"))
    try:
        return take_bundle(temporary, gate_path)
    finally:
        temporary.unlink(missing_ok=True)


def take_bundle(fresh_path: Path, gate_path: Path) -> GateBundle:
    """Install a fresh bundle for the same station, never an older one than the gate holds."""
    fresh = load_bundle(fresh_path)
    if gate_path.is_file():
        held = load_bundle(gate_path)
        if fresh.station != held.station:
            raise InputError(f"fetch: the bundle is for {fresh.station}, not {held.station}")
        if fresh.bundle_version < held.bundle_version:
            raise InputError(
                f"fetch: bundle version {fresh.bundle_version} is older than {held.bundle_version}"
            )
    save_bundle(fresh, gate_path)
    return fresh


# -- ticket codes ----------------------------------------------------------------------------


_GATE_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(GateConfig)}


def _departure(text: str, zone: ZoneInfo, now: int) -> datetime:
    if not text:
        return datetime.fromtimestamp(now + 3600, zone).replace(second=0, microsecond=0)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"departs: expected YYYY-MM-DDTHH:MM, got {text!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def ticket_code(
    ticket_no: str = typer.Option(..., "--ticket-no", help="ticket number"),
    train: str = typer.Option(..., help="train code, e.g. G1"),
    origin: str = typer.Option(..., "--from", help=f"boarding {STATION_HELP}"),
    destination: str = typer.Option(..., "--to", help=f"destination {STATION_HELP}"),
    png: Path = typer.Option(..., "--png", help="PNG file to write"),
    keys: Path = ISSUER_OPTION,
    departs: str = typer.Option(
        "", help="departure from --from, YYYY-MM-DDTHH:MM local time (default: in an hour)"
    ),
    service_date: str = typer.Option(
        "", "--date", help="the run's service date (default: the departure's date)"
    ),
    seat_class: SeatClass = typer.Option(SeatClass.SECOND, "--class", help="seat class"),
    coach: int = typer.Option(0, min=0, max=255, help="coach number (0: none)"),
    seat: str = typer.Option("", help="seat label, e.g. 07F (empty: standing)"),
    passenger: str = typer.Option("", help="passenger token in hex (default: random)"),
    now: int | None = typer.Option(None, help=NOW_HELP),
) -> None:
    """Issue a signed reserved e-ticket code as a PNG (for demos, until booking issues them).

    Its window is the gate's default check-in window: it opens 120 minutes before departure
    and closes 5 minutes before.
    """

    def issue() -> TicketCode:
        zone = ZoneInfo(Settings.from_env().timezone)
        leaves = _departure(departs, zone, _clock(now))
        try:
            run_date = date.fromisoformat(service_date) if service_date else leaves.date()
        except ValueError:
            raise InputError(f"date: expected YYYY-MM-DD, got {service_date!r}") from None
        opens = leaves - timedelta(minutes=_GATE_DEFAULTS["check_in_opens_minutes"])
        closes = leaves - timedelta(minutes=_GATE_DEFAULTS["closes_minutes_before"])
        token = _hex(passenger, "passenger") if passenger else secrets.token_bytes(16)
        signer = IssuerKeyStore.open(keys).signer()
        ticket = TicketCode(
            key_id=signer.key_id,
            ticket_no=ticket_no,
            train_code=train,
            service_date=run_date,
            from_station=offline_station(origin, "from"),
            to_station=offline_station(destination, "to"),
            seat_class=seat_class,
            coach=coach,
            seat_label=seat,
            passenger_token=token,
            valid_from=int(opens.timestamp()),
            valid_until=int(closes.timestamp()),
        )
        save_qr_png(seal_ticket(ticket, signer), png)
        return ticket

    ticket = _run(issue)
    typer.echo(
        f"ticket {ticket.ticket_no} {ticket.train_code} {ticket.service_date} "
        f"{ticket.from_station}→{ticket.to_station} check-in {ticket.valid_from}–"
        f"{ticket.valid_until}, signed by key {ticket.key_id}, saved to {png}"
    )
