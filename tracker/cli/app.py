"""What every command shares: the database it works on, and how failures are reported."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

import click

from tracker.errors import InvalidValue, TrackerError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# How a field of the service layer is spelled on the command line.
_FIELD_SPELLINGS = {"name": "NAME", "notes": "--note", "sources": "--source", "power_mw": "--power-mw"}


@dataclass
class App:
    """The group's options, handed to every command."""

    db_url: str | None = None
    debug: bool = False


pass_app = click.make_pass_decorator(App, ensure=True)


@contextlib.contextmanager
def open_session(app: App, *, writes: bool = False) -> Iterator[Session]:
    """A session on the command's database, committed when the command succeeds.

    A command that ``writes`` says so, to wait its turn for the database.
    """
    from tracker.service.bootstrap import open_database
    from tracker.service.database import session_scope

    engine = open_database(app.db_url)
    try:
        with session_scope(engine, writes=writes) as session:
            yield session
    finally:
        engine.dispose()


def field_label(field: str) -> str:
    return _FIELD_SPELLINGS.get(field, "--" + field.replace("_", "-"))


def error_message(error: BaseException, db_url: str | None) -> tuple[str, int]:
    """The one line a person sees for a failure, and the exit code."""
    if isinstance(error, InvalidValue):
        problems = getattr(error, "problems", [error])
        return "Error: " + "; ".join(
            f"{field_label(p.field)}: {p.message}" for p in problems
        ), error.exit_code
    if isinstance(error, TrackerError):
        return f"Error: {error}", error.exit_code
    if isinstance(error, click.UsageError) and error.ctx is not None:
        return f"Error: {error.format_message()} See '{error.ctx.command_path} --help'.", error.exit_code
    if isinstance(error, click.ClickException):
        return f"Error: {error.format_message()}", error.exit_code
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(error, SQLAlchemyError):
        from tracker.service.database import describe_database_error

        return f"Error: {describe_database_error(db_url, error)}", 1
    if isinstance(error, OSError):
        where = f" {error.filename}" if error.filename else ""
        return f"Error:{where}: {error.strerror or error}", 1
    raise error


def fail(error: BaseException, app: App) -> NoReturn:
    if app.debug:
        raise error
    message, code = error_message(error, app.db_url)
    click.echo(message, err=True)
    sys.exit(code)
