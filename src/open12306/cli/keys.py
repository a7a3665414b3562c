"""``open12306 keys``: the issuer's signing keys for ticket and ride codes."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import typer

from open12306.cli.travel_options import KEY_DIR_OPTION, run
from open12306.travel.ports import IssuerKey

keys_app = typer.Typer(no_args_is_help=True, help="Issuer signing keys for ticket and ride codes.")


def _describe(entries: Iterable[IssuerKey]) -> None:
    for entry in entries:
        typer.echo(f"key {entry.key_id} {entry.state} {entry.public_key.hex()}")


@keys_app.command("init")
def keys_init(directory: Path = KEY_DIR_OPTION) -> None:
    """Create an issuer key store (a current and a next key) in a new directory."""
    from open12306.bootstrap import devices

    store = run(lambda: devices.create_issuer_keys(directory))
    typer.echo(f"created issuer key store at {directory}")
    _describe(store.entries())


@keys_app.command("rotate")
def keys_rotate(directory: Path = KEY_DIR_OPTION) -> None:
    """next → current → previous → retired, and a new next key. Rebuild gate bundles after."""
    from open12306.bootstrap import devices

    store = run(lambda: devices.open_issuer_keys(directory))
    current = run(store.rotate)
    typer.echo(f"rotated: key {current.key_id} is current")
    _describe(store.entries())


@keys_app.command("export")
def keys_export(
    directory: Path = KEY_DIR_OPTION,
    out: Path | None = typer.Option(None, "--out", help="write here (default: stdout)"),
) -> None:
    """Write the public key bundle (trusted keys only) as JSON: what gates hold."""
    from open12306.bootstrap import devices

    store = run(lambda: devices.open_issuer_keys(directory))
    bundle = store.public_bundle()
    if out is None:
        sys.stdout.write(bundle.decode("utf-8"))
        return
    run(lambda: out.write_bytes(bundle))
    typer.echo(f"wrote public key bundle to {out}")
