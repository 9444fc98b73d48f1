"""What every command shares: the database it works on, and how failures are reported."""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import click

from tracker.errors import Conflict, FieldError, FileRejected, InvalidValue, TrackerError

if TYPE_CHECKING:
    from tracker.api import Tracker

URL_VARIABLE = "TRACKER_DATABASE_URL"
# Service-layer field names that a command spells differently.
_FIELD_ALIASES = {
    "notes": "note",
    "sources": "source",
    "announced_chips": "chips",  # --chips, when --unit says what it counts
    "announced_unit": "unit",
}


@dataclass
class App:
    """The group's options, handed to every command, and the command being run."""

    db_url: str | None = None
    db_from_environment: bool = False
    debug: bool = False
    command: click.Command | None = None


pass_app = click.make_pass_decorator(App, ensure=True)


class TrackerGroup(click.Group):
    """A command group that notes which command runs, so that errors can name its options.

    Run as the program, every failure under it ends as one line on stderr and an exit code.
    """

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        app = ctx.find_object(App)
        if app is not None:
            app.command = command
        return name, command, rest

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader went away (tracker export | head): not a failure. Point stdout at
            # /dev/null so that flushing it at exit does not fail again.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(0)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        app = kwargs.setdefault("obj", App())
        kwargs["standalone_mode"] = False
        try:
            _check_encoding(kwargs.get("args", args[0] if args else None) or sys.argv[1:])
            code = super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as error:
            click.echo(error.ctx.get_help() if error.ctx else error.format_message())
            sys.exit(0)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        except Exception as error:  # noqa: BLE001 - mapped to a message, or re-raised with --debug
            fail(error, app)
        sys.exit(code or 0)


def _check_encoding(arguments: Sequence[str]) -> None:
    """Refuse arguments that are not text (bytes that are not UTF-8), before they reach a database."""
    for number, argument in enumerate(arguments, start=1):
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError:
            before = arguments[number - 2] if number > 1 else ""
            where = f"the value of {before}" if before.startswith("-") else f"the {_ordinal(number)} argument"
            raise InvalidValue("argument", f"{where} is not UTF-8 text") from None


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


@contextlib.contextmanager
def api(app: App) -> Iterator[Tracker]:
    """The library on the command's database (:class:`tracker.api.Tracker`), for one command:
    closed at the end, each of its warnings then printed as one line on stderr."""
    from tracker.api import Tracker

    tracker = Tracker(app.db_url, one_command=True)
    with warnings_told():
        try:
            yield tracker
        finally:
            tracker.close()


@contextlib.contextmanager
def warnings_told() -> Iterator[None]:
    """The library's warnings (:class:`tracker.api.TrackerWarning`) given within, each
    printed as one line on stderr at the end."""
    from tracker.api import TrackerWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TrackerWarning)
        yield
    for warning in caught:
        if issubclass(warning.category, TrackerWarning):
            click.echo(f"Warning: {warning.message}", err=True)


def field_label(field: str, app: App) -> str:
    """How a field is spelled on the running command's line: ``--power-mw``, ``NAME``; the
    database is TRACKER_DATABASE_URL when it came from there."""
    if field == "db" and app.db_from_environment:
        return URL_VARIABLE
    wanted = {field.replace("-", "_"), _FIELD_ALIASES.get(field, field)}
    for param in app.command.params if app.command else ():
        names = {param.name} | {opt.lstrip("-").replace("-", "_") for opt in param.opts}
        if wanted & names:
            return param.human_readable_name if isinstance(param, click.Argument) else param.opts[0]
    return "--" + field.replace("_", "-")


def error_message(error: BaseException, app: App) -> tuple[str, int]:
    """The one line a person sees for a failure, and the exit code."""
    if isinstance(error, (FieldError, Conflict)) and error.field is not None:
        problems = getattr(error, "problems", [error])
        labelled = (
            p.message if p.field == "argument" else f"{field_label(p.field, app)}: {p.message}"
            for p in problems
        )
        return "Error: " + "; ".join(labelled), error.exit_code
    if isinstance(error, TrackerError):
        return f"Error: {error}", error.exit_code
    if isinstance(error, click.UsageError) and error.ctx is not None:
        message = error.format_message().rstrip(".")
        stop = "" if message.endswith("?") else "."
        return f"Error: {message}{stop} See '{error.ctx.command_path} --help'.", error.exit_code
    if isinstance(error, click.ClickException):
        return f"Error: {error.format_message()}", error.exit_code
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(error, SQLAlchemyError):
        from tracker.service.database import describe_database_error

        return f"Error: {describe_database_error(app.db_url, error)}", 1
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        return f"Error: {where}{error.strerror or error}", 1
    raise error


def fail(error: BaseException, app: App) -> NoReturn:
    """Report a failure as one line on stderr and exit; with --debug, raise it instead."""
    if app.debug:
        raise error
    if isinstance(error, FileRejected):
        for line in error.lines():
            click.echo(_one_line(line), err=True)
    message, code = error_message(error, app)
    click.echo(_one_line(message), err=True)
    sys.exit(code)


def _one_line(message: str) -> str:
    """One line, whatever a file name or value holds."""
    return message.replace("\r", "\\r").replace("\n", "\\n")
