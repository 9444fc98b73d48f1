"""Operators: who runs the chips, and where they are headquartered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from tracker.cli.app import App, TrackerGroup, api, pass_app
from tracker.cli.options import format_option, once
from tracker.cli.render import show_table
from tracker.model.vocabulary import OperatorKind

KINDS = ", ".join(kind.value for kind in OperatorKind)


@click.group(cls=TrackerGroup, invoke_without_command=True, short_help="List, add or change operators.")
@format_option
@click.pass_context
def operators(ctx: click.Context, fmt: str) -> None:
    """List the operators: each with the country of its headquarters (its nationality), its
    kind (state: a government, its agency or a company it controls; public: a public
    research or academic body; private: a company, listed or not), its group (a parent
    company), its other names, and the entries and planned chips it runs, every chip
    counted once as `tracker summary --by operator` counts them. CSV and JSON add the
    source of its values.

    `tracker add --operator NAME` matches names and aliases whatever their case, accents,
    spaces and punctuation; a name not known yet becomes a new operator without a
    headquarters country (with a warning): `tracker operators set` gives it one.
    """
    if ctx.invoked_subcommand is not None:
        return
    app = ctx.find_object(App)
    assert app is not None
    with api(app) as tracker:
        show_table(tracker.operators(), fmt)


def _values(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that give an operator's values, for ``add`` and ``set``."""
    for option in reversed(
        (
            click.option(
                "--hq",
                metavar="C",
                multiple=True,
                callback=once,
                help="Country of its headquarters: a code or a name.",
            ),
            click.option("--kind", metavar="KIND", multiple=True, callback=once, help=f"One of: {KINDS}."),
            click.option("--group", metavar="NAME", multiple=True, callback=once, help="Its parent company."),
            click.option(
                "--alias",
                "aliases",
                metavar="NAME",
                multiple=True,
                help="Another name it goes by. Repeatable.",
            ),
            click.option(
                "--source",
                metavar="URL",
                multiple=True,
                callback=once,
                help="Where its headquarters (and kind, group) are stated. Needed.",
            ),
        )
    ):
        command = option(command)
    return command


@operators.command("add")
@click.argument("name")
@_values
@pass_app
def operators_add(
    app: App,
    name: str,
    hq: str | None,
    kind: str | None,
    group: str | None,
    aliases: tuple[str, ...],
    source: str | None,
) -> None:
    """Add the operator NAME, with --hq and --source. An operator that exists with the same
    values is left as it is (exit 0); one with other values is refused: `tracker operators
    set` changes them."""
    if hq is None or source is None:
        missing = " and ".join(
            option for option, value in (("--hq", hq), ("--source", source)) if value is None
        )
        raise click.UsageError(f"give {missing}: every operator's headquarters comes with its source")
    with api(app) as tracker:
        added = tracker.add_operator(name, hq=hq, kind=kind, group=group, alias=aliases, source=source)
    click.echo(
        name if added else f"{name}: already recorded with these values; nothing changed.", err=not added
    )


@operators.command("set")
@click.argument("name")
@_values
@click.option(
    "--rename", metavar="NAME", multiple=True, callback=once, help="A new name; the old one stays an alias."
)
@pass_app
def operators_set(
    app: App,
    name: str,
    hq: str | None,
    kind: str | None,
    group: str | None,
    aliases: tuple[str, ...],
    source: str | None,
    rename: str | None,
) -> None:
    """Change the operator NAME's values, with the --source that states them; an empty
    --kind "" or --group "" clears one. An --alias that is another operator's name merges
    that operator into this one: its entries move here, and its name becomes an alias.
    Entries whose operator is renamed or merged keep the change in their history."""
    if source is None:
        raise click.UsageError("give --source: where the new values are stated")
    with api(app) as tracker:
        change = tracker.set_operator(
            name, hq=hq, kind=kind, group=group, alias=aliases, rename=rename, source=source
        )
    shown = {"hq_country": "hq", "group_name": "group"}
    for field, old, new in change.fields:
        click.echo(
            f"{change.name}: {shown.get(field, field)}: {old or '(none)'} -> {new or '(none)'}", err=True
        )
    for merged in change.merged:
        click.echo(f"{change.name}: merged {merged!r} into it", err=True)
    if change.entries:
        click.echo(f"{change.name}: operator of {change.entries} entries changed", err=True)
    for alias in change.aliases:
        click.echo(f"{change.name}: alias added: {alias}", err=True)
    if not change.fields and not change.merged and not change.aliases:
        click.echo(f"{change.name}: nothing to change.", err=True)
    click.echo(change.name)
