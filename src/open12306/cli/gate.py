"""``open12306 gate``: offline station gates, with their bundles, taps and sync."""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from open12306.cli.errors import InputError, fail
from open12306.cli.travel_options import (
    ISSUER_OPTION,
    NOW_HELP,
    STATION_HELP,
    clock,
    hex_bytes,
    offline_station,
    run,
    same_station,
)
from open12306.travel.domain.gate import DenyLists, Direction, GateConfig
from open12306.travel.ports import GateBundleInfo, GateTap

if TYPE_CHECKING:
    from open12306.travel.services.gate_bundles import StationContent

gate_app = typer.Typer(no_args_is_help=True, help="Offline station gates: bundles, taps, sync.")

GATE_TOKEN_ENV = "OPEN12306_GATE_TOKEN"
EXIT_REFUSED = 3
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
    from open12306.bootstrap import devices

    if keys_only and from_db:
        fail("keys-only: --keys-only and --from-db exclude each other")

    def build() -> GateBundleInfo:
        issuer = devices.open_issuer_keys(keys)
        accounts = frozenset(hex_bytes(a, "deny-account") for a in deny_account)
        deny = DenyLists(frozenset(deny_ticket), accounts, frozenset(deny_serial))
        content: StationContent | None = None
        if not keys_only:
            content = devices.station_content(station, clock(now))
        code = offline_station(station) if content is None else content.station
        GateConfig(code)  # the telecode must be valid code text
        version = devices.bundle_version_at(out) + 1
        return devices.write_station_bundle(issuer, code, version, clock(now), content, deny, out)

    bundle = run(build)
    deny = bundle.deny
    listed = "" if bundle.manifest is None else f", {len(bundle.manifest.tickets)} manifest tickets"
    typer.echo(
        f"wrote bundle version {bundle.bundle_version} for {bundle.station} to {out}: "
        f"{len(deny.tickets)} revoked tickets, {len(deny.accounts)} blocked accounts, "
        f"{len(deny.serials)} blocked serials{listed}"
    )
    if bundle.keys_only:
        typer.echo(f"warning: --keys-only: {KEYS_ONLY_WARNING}", err=True)


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
    from open12306.bootstrap import devices

    def decide() -> Sequence[GateTap]:
        loaded = devices.load_gate_bundle(bundle)
        if not same_station(station, loaded.station):
            raise InputError(f"station: the bundle is for {loaded.station}, not {station}")
        if face is not None and not face.is_file():
            raise InputError(f"{face}: no such face image")
        if id_number:
            if image is not None:
                raise InputError("id: give either --id or an image, not both")
            return [devices.run_gate_id(bundle, journal, id_number, direction, now, gate_id, face)]
        if image is None:
            raise InputError("image: give a QR image or folder, or --id NUMBER")
        if not image.exists():
            raise InputError(f"{image}: no such file or folder")
        if image.is_dir() and not any(p.suffix.lower() == ".png" for p in image.iterdir()):
            raise InputError(f"{image}: no PNG images in the folder")
        return devices.run_gate(bundle, journal, image, direction, now, gate_id, face)

    if watch:
        if image is None or not image.is_dir():
            fail("watch: give the folder to watch")

        def decide_file(path: Path) -> Sequence[GateTap]:
            if not same_station(station, devices.load_gate_bundle(bundle).station):
                raise InputError(f"station: the bundle is not for {station}")
            return devices.run_gate(bundle, journal, path, direction, now, gate_id, face)

        _watch(image, poll, decide_file, json_out, bundle)
        return
    results = run(decide)
    for result in results:
        _report(result, json_out)
    if any(r.bundle_keys_only for r in results):
        _warn_keys_only(bundle)
    if not all(r.decision.accepted for r in results):
        raise typer.Exit(EXIT_REFUSED)


def _watch(
    folder: Path,
    poll: float,
    decide: Callable[[Path], Sequence[GateTap]],
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
                for result in run(_decision_of(decide, path)):
                    _report(result, json_out)
                    if result.bundle_keys_only and not warned:
                        _warn_keys_only(bundle)
                    warned = result.bundle_keys_only
                sys.stdout.flush()  # a reader of a pipe sees each decision as it is made
            time.sleep(poll)
    except KeyboardInterrupt:
        return


def _decision_of(
    decide: Callable[[Path], Sequence[GateTap]], path: Path
) -> Callable[[], Sequence[GateTap]]:
    return lambda: decide(path)


def _warn_keys_only(source: Path) -> None:
    typer.echo(f"warning: keys-only bundle ({source}): {KEYS_ONLY_WARNING}", err=True)


def _report(result: GateTap, json_out: bool) -> None:
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
    from open12306.bootstrap import devices

    if (collector is None) == (not server):
        fail("server: give either --server URL or --collector FILE")
    if collector is not None and (fetch is None) != (bundle is None):
        fail("fetch: --fetch and --bundle go together")
    if server and fetch is not None:
        fail("fetch: with --server the fresh bundle comes from the server")
    if collector is None and server and not token:
        fail(f"token: --server needs --token (or {GATE_TOKEN_ENV})")

    def upload() -> tuple[int, int]:
        if not journal.is_file():
            if station:  # a new gate: nothing to upload yet
                return 0, 0
            raise InputError(f"{journal}: no such journal")
        if collector is not None:
            return devices.upload_to_collector(journal, collector)
        return devices.upload_taps(journal, server, token)

    sent, new = run(upload)
    if collector is not None:
        typer.echo(f"uploaded {sent} taps: {new} new, {sent - new} already collected")
    else:
        typer.echo(f"uploaded {sent} taps to {server}: {new} tickets marked used")
    if bundle is None:
        return
    if fetch is not None:
        taken = fetch
        fresh = run(lambda: devices.install_bundle(taken, bundle))
    else:
        fresh = run(lambda: _fetch_bundle(server, token, bundle, station))
    typer.echo(f"bundle version {fresh.bundle_version} for {fresh.station} now at {bundle}")
    if fresh.keys_only:
        _warn_keys_only(bundle)


def _fetch_bundle(server: str, token: str, gate_path: Path, station: str = "") -> GateBundleInfo:
    """Fetch a fresh bundle for the held bundle's station (or ``station`` for a gate without
    one) and install it (never another station's, never an older one)."""
    from open12306.bootstrap import devices

    if gate_path.is_file():
        held = devices.load_gate_bundle(gate_path).station
        if station and not same_station(station, held):
            raise InputError(f"station: the gate's bundle is for {held}, not {station}")
        station = held
    elif not station:
        raise InputError(f"{gate_path}: no bundle yet; give --station")
    return devices.fetch_bundle(server, token, station, gate_path)
