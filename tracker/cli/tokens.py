"""Token commands: the demand side, ``tokens add`` and ``tokens list``."""

from __future__ import annotations

import click

from tracker.cli.app import App, TrackerGroup, api, pass_app
from tracker.cli.options import format_option
from tracker.cli.render import show_table


@click.group(cls=TrackerGroup, short_help="Record and list tokens served per day, by provider.")
def tokens() -> None:
    """Demand side: how many tokens providers serve, per day, with the growth between a
    provider's figures and the source of each."""


ADD_HELP = """Record how many tokens PROVIDER served over a period, and print the
figure in tokens per day.

\b
Example (the source note's figures):
  tracker tokens add "ByteDance Doubao" --as-of 2025-05 --per-day 16.4T \\
    --share 46.4 --source https://example.org/doubao
  tracker tokens add Google --as-of "May 2025" --per-month "480 trillion" \\
    --source https://example.org/google-io

Give the figure as the source does, per day or per month: 16400000000000,
16,400,000,000,000, 1.64e13, 16.4T, 16.4 tn or 16.4 trillion (also B, bn or
billion; M, mn or million; K or thousand), in any case.

A monthly figure is divided by the average length of a month within its period:
for a month (or a day), the days of that calendar month, so that 480 trillion in
May 2025 is 480 trillion / 31 = 15,483,870,967,742 a day (rounded half to even,
to a whole token); for a quarter, a half or a year, the days of the period over
its months (Q2 2025: 91 / 3). The figure as reported is kept beside it.

PROVIDER is matched against the providers stored, whatever its case, spacing and
punctuation (`google` is Google). A new name close to a stored one (`Gogle`), or
part of one (`Doubao` for ByteDance Doubao), is refused as a likely slip; give the
flag below for a provider that is another one. A provider has one figure per period.
"""


@tokens.command("add", help=ADD_HELP, short_help="Record a provider's token figure; print it per day.")
@click.argument("provider")
@click.option(
    "--as-of",
    "as_of",
    required=True,
    metavar="PERIOD",
    help="The period the figure is of: 2025-05, May 2025, 2025年5月, Q2 2025, 2025.",
)
@click.option("--per-day", metavar="N", help="Tokens per day, as reported: 16.4T, 16.4 trillion, 1.64e13.")
@click.option("--per-month", metavar="N", help="Tokens per month, as reported: 480T, 480 trillion.")
@click.option("--share", metavar="PCT", help="The provider's share of its market, in percent: 46.4 or 46.4%.")
@click.option(
    "--source", required=True, metavar="URL", help="Where the figure comes from: a URL or a citation."
)
@click.option("--note", help="Free text, such as what the share is of.")
@click.option(
    "--new-provider",
    is_flag=True,
    help="PROVIDER is another provider, though its name is close to a stored one's.",
)
@pass_app
def tokens_add(
    app: App,
    provider: str,
    as_of: str,
    per_day: str | None,
    per_month: str | None,
    share: str | None,
    source: str,
    note: str | None,
    new_provider: bool,
) -> None:
    from tracker.model.tokens import count_in_words, days_and_months

    with api(app) as tracker:
        added = tracker.add_tokens(
            provider,
            as_of=as_of,
            per_day=per_day,
            per_month=per_month,
            share=share,
            source=source,
            note=note,
            new_provider=new_provider,
        )
    click.echo(added.tokens_per_day)
    if added.known_as:
        click.echo(f"Recorded under {added.known_as!r}, the provider's name as stored.", err=True)
    if per_month is not None:
        days, months = days_and_months(added.period)
        spread = f"a month of {days} days" if months == 1 else f"{days} days in {months} months"
        click.echo(
            f"{count_in_words(added.reported_tokens)} per month in {added.period}, {spread}: "
            f"{added.tokens_per_day:,} per day.",
            err=True,
        )


@tokens.command("list", short_help="List token figures per day, with growth.")
@click.option(
    "--provider", "providers", multiple=True, metavar="P", help="Only this provider (any case). Repeatable."
)
@format_option
@pass_app
def tokens_list(app: App, providers: tuple[str, ...], fmt: str) -> None:
    """List token figures, by provider and period, in tokens per day.

    growth_pct is the growth since the provider's latest figure for a period that ended
    before this one began (tokens per day over that figure's, less 1, in percent, to one
    decimal); since is that figure's period. A period is never compared with one that
    holds it (2025-05 with 2025). Tables show the figure as reported (`480 trillion per month`); CSV and JSON
    give it as reported_tokens and reported_per, with raw numbers throughout.
    """
    with api(app) as tracker:
        show_table(tracker.tokens(provider=providers), fmt)
