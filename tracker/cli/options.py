"""Options shared by several commands: filters, output format, and an entry's fields (from
the registry of fields, :mod:`tracker.model.fields`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from tracker.cli.render import FORMATS
from tracker.errors import InvalidValue
from tracker.model.fields import ENTRY_FIELDS, Stored

FILTER_OPTIONS = (
    ("region", "Only countries of this region, and programmes scoped within it (see `tracker regions`)."),
    ("country", "Only this country: a code or an English name."),
    ("vendor", "Only chips of this vendor (`unknown`: not disclosed)."),
    ("model", "Only chips of this model (see `tracker chips`)."),
    ("status", "Only this status (a lot's own where it has one)."),
    ("sponsor", "Only this sponsor: sovereign, public-private or private."),
    ("operator", "Only entries of this operator, by its name or an alias (see `tracker operators`)."),
    ("operator_country", "Only entries whose operator has its headquarters in this country."),
)
_ONE_VALUE_FILTERS = ("announced_since", "announced_until", "min_confidence")


def filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The filters of every read command, handed to it as one dict named ``filters``, keyed as
    the Python API takes them (:class:`tracker.api.FilterOptions`); those not given left out."""
    return _with_filters(command, FILTER_OPTIONS)


def entry_filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """:func:`filter_options` less those that choose lots (vendor, model, status): for a
    command that takes whole entries (``tracker publish``)."""
    lots = ("vendor", "model", "status")
    return _with_filters(command, tuple(option for option in FILTER_OPTIONS if option[0] not in lots))


def _with_filters(command: Callable[..., Any], options: tuple[tuple[str, str], ...]) -> Callable[..., Any]:
    names = [name for name, _ in options] + list(_ONE_VALUE_FILTERS)

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {name: kwargs.pop(name) for name in names}
        filters = {name: value for name, value in given.items() if value}
        return command(*args, filters=filters, **kwargs)

    decorated: Callable[..., Any] = wrapper
    decorated = click.option(
        "--min-confidence",
        metavar="LEVEL",
        help="Only entries at least this sure: confirmed, reported (confirmed or reported) or "
        "rumoured (all three); entries of unknown confidence are left out.",
    )(decorated)
    decorated = click.option(
        "--announced-until", metavar="DATE", help="Only entries announced on or before this day."
    )(decorated)
    decorated = click.option(
        "--announced-since", metavar="DATE", help="Only entries announced on or after this day."
    )(decorated)
    for name, help_text in reversed(options):
        decorated = click.option(
            "--" + name.replace("_", "-"),
            name,
            multiple=True,
            metavar="C" if name.endswith("country") else name.upper(),
            help=help_text + " Repeatable.",
        )(decorated)
    return decorated


def format_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--format table|csv|json|markdown``."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS, case_sensitive=False),
        default="table",
        show_default=True,
        help="table and markdown for people; csv and json (raw values) for programs.",
    )(command)


def days(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int | None:
    """A number of days (``--keep``, ``--stale-after``): a whole number, 1 or more."""
    if value is None:
        return None
    if not (value.isascii() and value.isdecimal()) or int(value) < 1:
        raise click.BadParameter(f"{value!r} is not a whole number of days; give 1 or more")
    return int(value)


def once(_ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> str | None:
    """The value of an option taken once (``multiple=True, callback=once``): given twice, it
    is refused, where click would keep the last one without a word (``--country FR --country
    DE``)."""
    if len(values) > 1:
        raise InvalidValue(str(param.name), f"is given {len(values)} times; give it once")
    return values[0] if values else None


def field_options(*, updating: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An option for each field of an entry that ``add`` (the name aside: its argument)
    or ``update`` sets, in the registry's order, named as the Python API names them; a list
    (the sources) is repeatable."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for field in reversed(ENTRY_FIELDS):
            flag = field.flag
            if flag is None or (updating and not field.updatable and field.stored is not Stored.LIST):
                continue
            if field.name == "name" and not updating:
                continue  # add's NAME argument
            name = flag.lstrip("-").replace("-", "_")  # the API's keyword: note, source, power_mw
            help_text = (
                "A source to add. Repeatable." if updating and field.stored is Stored.LIST else field.help
            )
            listed = field.stored is Stored.LIST
            command = click.option(
                flag,
                name,
                metavar=field.metavar,
                help=help_text,
                multiple=True,
                callback=None if listed else once,
            )(command)
        return command

    return decorate


def grade_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--grade``: how far the sources a command gives can be trusted."""
    return click.option(
        "--grade",
        metavar="GRADE",
        multiple=True,
        callback=once,
        help="How far the --source given can be trusted: primary (the operator, a government, the vendor), "
        "press (a named news outlet) or secondary (an aggregator or blog citing others).",
    )(command)
