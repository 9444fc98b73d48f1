"""tracker chart: the summary or the timeline as a PNG or SVG of stacked bars."""

from __future__ import annotations

from typing import Any

import click

from tracker.cli.app import App, TrackerGroup, api, pass_app
from tracker.cli.options import filter_options
from tracker.model.vocabulary import SUMMARY_KEYS

_OUTPUT_HELP = "The chart file: .png or .svg. It appears whole or not at all."
_KEYS = click.Choice(SUMMARY_KEYS, case_sensitive=False)
_STACK = click.option(
    "--stack",
    default="vendor",
    show_default=True,
    type=_KEYS,
    help="Each bar split by the values of this key.",
)
_AS_OF_HELP = "The pipeline as it stood on this day (as for `tracker summary`); the chart is dated by it."


@click.group(cls=TrackerGroup, short_help="Draw the summary or the timeline as a chart.")
def chart() -> None:
    """Draw the summary or the timeline as stacked bars in a PNG or SVG file (1200 x 675
    pixels), titled with what is counted, the filters and the date.

    Needs matplotlib: pip install 'sovereign-ai-tracker[plot]'.
    """


def _draw(app: App, kind: str, output: str, **options: Any) -> None:
    """Draw a chart and print its path; a chart of nothing is not written."""
    from tracker.service.charts import NothingToDraw

    with api(app) as tracker:
        try:
            path = tracker.chart(kind, output, **options)
        except NothingToDraw:
            click.echo("(no matching rows: no chart written)", err=True)
            raise SystemExit(1) from None
    click.echo(str(path))


@chart.command("summary")
@filter_options
@click.option(
    "--by",
    default="country",
    show_default=True,
    type=_KEYS,
    help="One bar per value of this key, most chips first (the 15th and beyond as one).",
)
@_STACK
@click.option("--as-of", metavar="DATE", help=_AS_OF_HELP)
@click.option("--output", "-o", required=True, metavar="FILE", help=_OUTPUT_HELP)
@pass_app
def chart_summary(
    app: App, filters: dict[str, Any], by: str, stack: str, as_of: str | None, output: str
) -> None:
    """Planned accelerators as bars by country (or --by), stacked by vendor (or --stack),
    counted as `tracker summary` counts them. Prints the file's path."""
    _draw(app, "summary", output, by=by, stack=stack, as_of=as_of, **filters)


@chart.command("timeline")
@filter_options
@click.option(
    "--by",
    "bucket",
    default="quarter",
    show_default=True,
    type=click.Choice(("quarter", "year"), case_sensitive=False),
    help="The periods to count by.",
)
@_STACK
@click.option(
    "--cumulative",
    is_flag=True,
    help="Draw the running total too, a line on its own scale at the right: all chips online "
    "by the end of each bar.",
)
@click.option("--as-of", metavar="DATE", help=_AS_OF_HELP)
@click.option("--output", "-o", required=True, metavar="FILE", help=_OUTPUT_HELP)
@pass_app
def chart_timeline(
    app: App,
    filters: dict[str, Any],
    bucket: str,
    stack: str,
    cumulative: bool,
    as_of: str | None,
    output: str,
) -> None:
    """Accelerators coming online per quarter (or year), stacked by vendor (or --stack),
    as `tracker timeline` counts them; a period without any between the first and the last
    is an empty bar, and undated chips are the last bar. Prints the file's path."""
    _draw(app, "timeline", output, by=bucket, stack=stack, cumulative=cumulative, as_of=as_of, **filters)
