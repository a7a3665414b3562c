"""How every command reports bad input: one line ``error: field: reason`` on stderr, exit 2."""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn, TypeVar

import typer

from open12306.shared.errors import DomainError

T = TypeVar("T")


class InputError(Exception):
    """Bad input to a command: reported as one line, exit status 2."""


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def domain_message(error: DomainError) -> str:
    """The error's message, led by the field it is about."""
    if error.message.startswith(f"{error.field}:"):
        return error.message
    return f"{error.field}: {error.message}"


def guarded(work: Callable[[], T], expected: tuple[type[Exception], ...] = ()) -> T:
    """Run a command body; domain errors, InputError, the ``expected`` errors (reported by
    their text) and unreadable files become one line on stderr and exit status 2."""
    try:
        return work()
    except DomainError as error:
        fail(domain_message(error))
    except InputError as error:
        fail(str(error))
    except expected as error:
        fail(str(error))
    except OSError as error:
        fail(f"{error.filename or 'file'}: {error.strerror or error}")
