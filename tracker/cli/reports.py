"""Report commands: summary and export."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tracker.cli.app import App, open_session, pass_app
from tracker.cli.options import filter_options, format_option
from tracker.cli.render import render
from tracker.model.vocabulary import SUMMARY_KEYS, Qualifier

if TYPE_CHECKING:
    from tracker.service.summary import Totals


@click.command()
@filter_options
@click.option(
    "--by",
    "keys",
    multiple=True,
    type=click.Choice(SUMMARY_KEYS, case_sensitive=False),
    help="Group by this key; repeatable, in order. Default: --by country --by vendor.",
)
@click.option(
    "--as-of",
    metavar="DATE",
    help="The pipeline as it stood on this day: entries announced by then (without an announced "
    "day: online or recorded by then), each with the status then in force.",
)
@format_option
@pass_app
def summary(app: App, filters: dict[str, Any], keys: tuple[str, ...], as_of: str | None, fmt: str) -> None:
    """Planned accelerators, grouped, most chips first.

    Counts every chip lot whose status is neither cancelled nor decommissioned,
    unless --status says otherwise, and every chip once: a programme adds only what
    its parts (--parent) do not cover. A part left out by --min-confidence,
    --announced-since, --announced-until or --as-of covers nothing, so the programme
    then stands on its own figure. A programme with a region scope is a
    (multi-country) row, counted under a --region that holds its whole scope.

    Columns: the keys, then `entries` (distinct entries), `chips` and, in CSV and
    JSON, `qualifier`: exact, approx, at-least or up-to (a sum with a lower bound
    in it is a lower bound); tables show it as ~, ≥ or ≤ before the count.
    Tables end with a total row that counts each chip once, even when a country is
    in two of the regions shown.

    Then the catalogue's figures (`tracker chips`): `h100e`, H100-equivalents = chips x
    the model's dense BF16 TFLOP/s / the NVIDIA H100 SXM's; and `power_mw`, the
    entries' reported MW (shared among an entry's lots by chips), or, where none is
    reported, an estimate: chips x the model's TDP x 1.5 for servers and cooling,
    marked `est.`. Chips of a model without the figure (or of no model) add nothing:
    the figure is then a lower bound (≥), and empty when no chip has it, never zero.
    Power is that of the chips counted: an entry without a chip count adds none.
    CSV and JSON give h100e_chips and power_chips (the chips each figure covers) and
    power_mw_estimated (the part of power_mw estimated from TDP).
    """
    from tracker.service.capacity import POWER_BASIS, h100e_basis, reference_tflops
    from tracker.service.filters import resolve_filters
    from tracker.service.summary import check_keys, summarise

    keys = check_keys(keys)
    for_people = fmt in ("table", "markdown")
    with open_session(app) as session:
        resolved = resolve_filters(session, as_of=as_of, **filters)
        found, overall = summarise(session, resolved, keys, with_total=for_people)
        reference = reference_tflops(session)
    columns: tuple[str, ...] = (*keys, "entries", "chips")
    total = None
    if overall is not None:
        columns = (*columns, "h100e", "power_mw")
        rows = [(*row.keys, row.entries, *figures_for_people(row, reference)) for row in found]
        total = (
            "Total",
            *([None] * (len(keys) - 1)),
            overall.entries,
            *figures_for_people(overall, reference),
        )
    else:
        columns = (*columns, "qualifier", *FIGURE_COLUMNS)
        rows = [
            (*row.keys, row.entries, row.chips, row.qualifier.value, *raw_figures(row, reference))
            for row in found
        ]
    blanks = {
        key: {"region": "(no region)", "country": "(multi-country)"}.get(key, "(not given)") for key in keys
    }
    render(columns, rows, fmt, total=total, blank=blanks)
    if found:
        click.echo(f"{h100e_basis(reference)}; {POWER_BASIS}.", err=True)


# What CSV and JSON give of a row's figures, after its chips and qualifier.
FIGURE_COLUMNS = ("h100e", "h100e_chips", "power_mw", "power_mw_estimated", "power_chips")


def number(value: Decimal | None) -> float | None:
    """A figure for programs: rounded to 0.1, always a float (JSON keeps one type)."""
    from tracker.service.capacity import rounded

    return None if value is None else float(rounded(value) or 0)


def raw_figures(row: Totals, reference: Decimal | None) -> tuple[object, ...]:
    """A row's figures for programs, rounded to 0.1 (numbers, or None): each with the chips it
    covers (h100e_chips of the row's chips have a BF16 figure), and the part of the power
    estimated from TDP."""
    capacity = row.capacity
    power = capacity.power_mw
    return (
        number(capacity.h100e(reference)),
        capacity.bf16_chips,
        number(power),
        number(capacity.estimated_mw) if power is not None else None,
        capacity.power_chips,
    )


def figures_for_people(row: Totals, reference: Decimal | None) -> tuple[object, ...]:
    """A row's chips, H100-equivalents and power as tables show them: a figure that leaves
    some of the row's chips out is a lower bound (≥), and power partly estimated says so."""
    from tracker.cli.render import Count, Figure

    capacity = row.capacity
    h100e, power = capacity.h100e(reference), capacity.power_mw

    def mark(covered: int) -> str:
        return row.qualifier.plus(Qualifier.EXACT if covered >= row.chips else Qualifier.AT_LEAST).value

    return (
        Count(row.chips, row.qualifier.value),
        None if h100e is None else Figure(h100e, mark(capacity.bf16_chips)),
        None if power is None else Figure(power, mark(capacity.power_chips), 1, bool(capacity.tdp_chips)),
    )


@click.command()
@filter_options
@click.option(
    "--by",
    "bucket",
    type=click.Choice(("quarter", "year"), case_sensitive=False),
    default="quarter",
    show_default=True,
    help="The periods to count by.",
)
@click.option(
    "--cumulative", is_flag=True, help="Add running totals: all chips online by the end of each row."
)
@click.option(
    "--as-of",
    metavar="DATE",
    help="The pipeline as it stood on this day (as for `tracker summary`).",
)
@format_option
@pass_app
def timeline(
    app: App, filters: dict[str, Any], bucket: str, cumulative: bool, as_of: str | None, fmt: str
) -> None:
    """Accelerators coming online per quarter or year, counted as the summary counts them.

    A lot comes online in its own period or its entry's. A period as precise as the
    bucket or more falls in it (2026-02 in 2026-Q1); a coarser one is a row of its own
    (a lot due "2026" stays 2026, and is not spread over quarters), after the buckets it
    spans. Lots without a period are the `undated` row, last. The rows add up to the
    summary's total.

    Columns: period, entries, chips, h100e (H100-equivalents: chips x the model's dense
    BF16 TFLOP/s / the NVIDIA H100 SXM's; a figure that leaves out chips whose model has
    none is a lower bound, ≥) and, with --cumulative, cumulative_chips and
    cumulative_h100e. CSV and JSON add qualifier and h100e_chips (the chips h100e covers).
    """
    from tracker.service.capacity import h100e_basis, reference_tflops
    from tracker.service.filters import resolve_filters
    from tracker.service.summary import Totals
    from tracker.service.timeline import Bucket
    from tracker.service.timeline import cumulative as running
    from tracker.service.timeline import timeline as count_timeline

    with open_session(app) as session:
        resolved = resolve_filters(session, as_of=as_of, **filters)
        rows, overall = count_timeline(session, resolved, Bucket(bucket.lower()))
        reference = reference_tflops(session)
    totals = [row.totals() for row in rows]
    sums = [Totals((), 0, a.chips, a.qualifier, capacity, a.bits) for a, capacity in running(rows)]
    if fmt in ("table", "markdown"):
        columns: tuple[str, ...] = ("period", "entries", "chips", "h100e")
        body = [(row.keys[0], row.entries, *figures_for_people(row, reference)[:2]) for row in totals]
        if cumulative:
            columns += ("cumulative_chips", "cumulative_h100e")
            body = [
                (*row, *figures_for_people(total, reference)[:2])
                for row, total in zip(body, sums, strict=True)
            ]
        total_row = (
            "Total",
            overall.entries,
            *figures_for_people(overall, reference)[:2],
            *((None, None) if cumulative else ()),
        )
        render(columns, body, fmt, total=total_row)
    else:
        columns = ("period", "entries", "chips", "qualifier", "h100e", "h100e_chips")
        data = [
            (row.keys[0], row.entries, row.chips, row.qualifier.value, *raw_figures(row, reference)[:2])
            for row in totals
        ]
        if cumulative:
            columns += ("cumulative_chips", "cumulative_qualifier", "cumulative_h100e")
            data = [
                (*row, total.chips, total.qualifier.value, number(total.capacity.h100e(reference)))
                for row, total in zip(data, sums, strict=True)
            ]
        render(columns, data, fmt)
    if rows:
        click.echo(f"{h100e_basis(reference)}.", err=True)


def _days(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int | None:
    """--keep's number of days: a whole number, 1 or more."""
    if value is None:
        return None
    if not (value.isascii() and value.isdecimal()) or int(value) < 1:
        raise click.BadParameter(f"{value!r} is not a whole number of days; give 1 or more")
    return int(value)


@click.command(short_help="Write every chip lot as CSV.")
@filter_options
@click.option(
    "--changed-since",
    metavar="DATE",
    help="Only entries added or changed on or after this day (UTC). With --output-dir the files "
    "are named tracker-changes-..., so that they never replace the full export.",
)
@click.option(
    "--output",
    "-o",
    metavar="FILE|-",
    help="Write the CSV here (- for standard output, the default). A file appears whole or not at all.",
)
@click.option(
    "--output-dir",
    metavar="DIR",
    help="Write tracker-lots-YYYY-MM-DD.csv (today, UTC) in this folder and refresh "
    "tracker-lots-latest.csv beside it, then the day's dump (tracker dump) as "
    "tracker-dump-YYYY-MM-DD.jsonl and tracker-dump-latest.jsonl: the nightly export, of "
    "every entry (filters go with --output).",
)
@click.option(
    "--keep",
    metavar="N",
    callback=_days,
    help="With --output-dir: then remove the dated files there (tracker-lots-, "
    "tracker-changes-, tracker-dump-) whose day is more than N days before today (UTC); "
    "the latest files and any other file stay.",
)
@pass_app
def export(
    app: App,
    filters: dict[str, Any],
    changed_since: str | None,
    output: str | None,
    output_dir: str | None,
    keep: int | None,
) -> None:
    """Write every chip lot as CSV: one row a lot, sorted by id then lot.

    An entry without lots gets one row with empty lot fields. Columns: id, name,
    operator, country, city, kind, sponsor, parent, status, confidence, announced,
    online, lot, vendor, model, chips, power_mw, sources, notes, scope (a
    programme's region, with an empty country), qualifier (how exact the
    chips are), and announced_chips and announced_unit (the count as announced,
    where it was of superchips, servers or racks; chips is always accelerators).
    The same data gives the same bytes. Files are written under a temporary name
    and renamed when complete; their paths are printed on standard output.
    """
    from tracker.service.export import (
        consistent_reads,
        export_to_folder,
        export_to_path,
        remove_old_exports,
        write_export,
    )
    from tracker.service.files import names_a_stream
    from tracker.service.filters import resolve_filters

    if output is not None and output_dir is not None:
        raise click.UsageError("give --output or --output-dir, not both")
    if keep is not None and output_dir is None:
        raise click.UsageError("--keep goes with --output-dir")
    if output_dir is not None and any(filters.values()):
        raise click.UsageError(
            "--output-dir writes the whole nightly export (only the changes with --changed-since), "
            "so that a selection never replaces it; write a selection with --output FILE"
        )
    for option, value in (("--output", output), ("--output-dir", output_dir)):
        if value is not None and not value.strip():
            hint = "give a file name, or - for standard output" if option == "--output" else "give a folder"
            raise click.BadParameter(hint, param_hint=f"'{option}'")
    today = dt.datetime.now(dt.timezone.utc).date()
    with open_session(app) as session:
        consistent_reads(session)
        resolved = resolve_filters(session, changed_since=changed_since, **filters)
        written: tuple[Path, ...]
        if output_dir is not None:
            written = export_to_folder(session, resolved, Path(output_dir), today)
        elif output is not None and output != "-":
            export_to_path(session, resolved, Path(output))
            written = () if names_a_stream(Path(output)) else (Path(output),)
        else:
            write_export(session, resolved, sys.stdout)
            return
    for path in written:
        click.echo(str(path))
    if output_dir is not None and keep is not None:
        for path in remove_old_exports(Path(output_dir), today, keep):
            click.echo(f"Removed {path} (older than {keep} days).", err=True)
