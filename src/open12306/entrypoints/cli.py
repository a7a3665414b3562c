"""The `open12306` command."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="open12306: railway ticketing")


@app.command()
def version() -> None:
    """Print the version."""
    from open12306 import __version__

    typer.echo(__version__)


def main() -> None:
    app()
