"""``open12306 wallet``: a phone-side wallet with its device key, ride credential and codes."""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
from pathlib import Path

import typer

from open12306.cli.errors import InputError, fail
from open12306.cli.travel_options import KEY_DIR_ENV, NOW_HELP, clock, hex_bytes, run
from open12306.travel.domain.codes import (
    CredentialFlags,
    RideCredential,
    ScanHint,
    ScanPart,
    open_credential,
    seal_credential,
    seal_scan,
)
from open12306.travel.ports import DeviceKey

wallet_app = typer.Typer(no_args_is_help=True, help="A phone-side wallet: device key, ride codes.")

WALLET_DIR_ENV = "OPEN12306_WALLET_DIR"
CODE_PNG = "code.png"
ACCOUNT_TOKEN_SIZE = 16
U32_MAX = 0xFFFF_FFFF
FLAG_NAMES = {
    "pay-later": CredentialFlags.PAY_LATER,
    "concession": CredentialFlags.CONCESSION,
    "face": CredentialFlags.FACE_REQUIRED,
}
WALLET_DIR_OPTION = typer.Option(
    Path("var/wallet"), "--dir", envvar=WALLET_DIR_ENV, help="wallet directory"
)


@wallet_app.command("init")
def wallet_init(directory: Path = WALLET_DIR_OPTION) -> None:
    """Create a wallet: a new device key (mode 0600) in a directory of mode 0700."""
    from open12306.bootstrap import devices

    key = run(lambda: devices.wallet(directory).create())
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
    from open12306.bootstrap import devices

    def login() -> str:
        wallet = devices.wallet(directory)
        wallet.device_key()
        token, expires = devices.travel_server(server).login(username, password)
        wallet.save_login(server, token)
        return expires

    expires = run(login)
    typer.echo(f"logged in to {server} as {username}; session until {expires}")


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
    from open12306.bootstrap import devices

    source = _credential_source(server, token, keys, directory)

    def issue() -> RideCredential:
        wallet = devices.wallet(directory)
        device = wallet.device_key()
        if isinstance(source, tuple):
            data = devices.travel_server(*source).ride_credential(device.public_key, hours)
            wallet.save_credential(data)
            return open_credential(data).value
        token = hex_bytes(account, "account") if account else _derived_account(device)
        signer = devices.open_issuer_keys(source).signer()
        start = clock(now)
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
        wallet.save_credential(seal_credential(credential, signer))
        return credential

    credential = run(issue)
    typer.echo(
        f"credential serial {credential.serial} for account {credential.account_token.hex()}"
        f" signed by key {credential.key_id}, valid until {credential.valid_until}"
    )


def _credential_source(
    server: str, token: str, keys: Path | None, directory: Path
) -> tuple[str, str] | Path:
    """(server, token) to fetch from, or the issuer key store to sign with."""
    from open12306.bootstrap import devices

    wallet = devices.wallet(directory)
    if server:
        if not token:
            login = run(wallet.login)
            if login is None or login[0].rstrip("/") != server.rstrip("/"):
                fail("token: --server needs --token (or `open12306 wallet login` first)")
            token = login[1]
        return server, token
    if token:
        fail("server: --token goes with --server")
    if keys is not None:
        return keys
    login = run(wallet.login)
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
    from open12306.bootstrap import devices

    hint = ScanHint.UNSPECIFIED if entry is None else ScanHint.ENTRY if entry else ScanHint.EXIT
    target = png if png is not None else directory / CODE_PNG

    def make() -> tuple[bytes, int]:
        wallet = devices.wallet(directory)
        device = wallet.device_key()
        credential = wallet.credential()
        moment = clock(now)
        valid_until = open_credential(credential).value.valid_until
        if moment > valid_until:
            raise InputError(
                f"credential: expired at {valid_until}; run `open12306 wallet credential`"
            )
        counter = wallet.next_counter()
        data = seal_scan(credential, ScanPart(moment, counter, hint), device)
        devices.save_qr(data, target)
        return data, counter

    data, counter = run(make)
    sys.stdout.write(devices.qr_text(data))
    typer.echo(f"scan code counter {counter} ({len(data)} bytes) saved to {target}")
