"""Options shared by several commands: filters and output format."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from tracker.cli.render import FORMATS

FILTER_OPTIONS = (
    (
        "region",
        "regions",
        "Only countries of this region, and programmes scoped within it (see `tracker regions`).",
    ),
    ("country", "countries", "Only this country: a code or an English name."),
    ("vendor", "vendors", "Only chips of this vendor (`unknown`: not disclosed)."),
    ("model", "models", "Only chips of this model (see `tracker chips`)."),
    ("status", "statuses", "Only this status (a lot's own where it has one)."),
    ("sponsor", "sponsors", "Only this sponsor: sovereign, public-private or private."),
)


def filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The filters of every read command, handed to it as one dict named ``filters``,
    ready for :func:`tracker.service.filters.resolve_filters`."""
    names = [name for name, _, _ in FILTER_OPTIONS] + ["announced_since", "announced_until", "min_confidence"]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {name: kwargs.pop(name) for name in names}
        filters = {plural: given[name] for name, plural, _ in FILTER_OPTIONS}
        filters["announced_since"] = given["announced_since"]
        filters["announced_until"] = given["announced_until"]
        filters["min_confidence"] = given["min_confidence"]
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
    for name, _, help_text in reversed(FILTER_OPTIONS):
        decorated = click.option(
            f"--{name}", multiple=True, metavar=name.upper(), help=help_text + " Repeatable."
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
