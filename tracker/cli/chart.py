"""tracker chart: the summary or the timeline as a PNG or SVG of stacked bars."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from tracker.cli.app import App, TrackerGroup, open_session, pass_app
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


_NAMES = {"regions": "region", "countries": "country", "vendors": "vendor", "models": "model",
          "statuses": "status", "sponsors": "sponsor"}  # fmt: skip


def described(filters: dict[str, Any]) -> str:
    """The filters given, in words, for the chart's subtitle: ``region europe or eu, vendor NVIDIA``."""
    parts = []
    for name, value in filters.items():
        values = [value] if isinstance(value, str) else list(value or ())
        if values:
            parts.append(f"{_NAMES.get(name, name.replace('_', ' '))} {' or '.join(values)}")
    return ", ".join(parts)


def _write(app: App, output: str, build: Any) -> None:
    from tracker.cli.plot import chart_format, draw, require_matplotlib
    from tracker.errors import InvalidValue
    from tracker.service.files import atomic_file

    require_matplotlib()
    path = Path(output)
    fmt = chart_format(path)
    if not fmt:
        raise InvalidValue("output", f"{output!r} does not end in .png or .svg; give a file name that does")
    with open_session(app) as session:
        data = build(session)
    if data.empty:
        click.echo("(no matching rows: no chart written)", err=True)
        raise SystemExit(1)
    with atomic_file(path, "output", binary=True) as stream:
        draw(data, stream, fmt)
    click.echo(str(path))


def _day(as_of: str | None) -> dt.date:
    from tracker.model.periods import parse_day

    return parse_day(as_of, "as_of") if as_of else dt.datetime.now(dt.timezone.utc).date()


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
    from tracker.service.charts import summary_chart
    from tracker.service.filters import resolve_filters

    def build(session: Any) -> Any:
        resolved = resolve_filters(session, as_of=as_of, **filters)
        return summary_chart(session, resolved, by.lower(), stack.lower(), described(filters), _day(as_of))

    _write(app, output, build)


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
@click.option("--as-of", metavar="DATE", help=_AS_OF_HELP)
@click.option("--output", "-o", required=True, metavar="FILE", help=_OUTPUT_HELP)
@pass_app
def chart_timeline(
    app: App, filters: dict[str, Any], bucket: str, stack: str, as_of: str | None, output: str
) -> None:
    """Accelerators coming online per quarter (or year), stacked by vendor (or --stack),
    as `tracker timeline` counts them; undated chips are the last bar. Prints the file's path."""
    from tracker.service.charts import timeline_chart
    from tracker.service.filters import resolve_filters
    from tracker.service.timeline import Bucket

    def build(session: Any) -> Any:
        resolved = resolve_filters(session, as_of=as_of, **filters)
        chosen = Bucket(bucket.lower())
        return timeline_chart(session, resolved, chosen, stack.lower(), described(filters), _day(as_of))

    _write(app, output, build)
