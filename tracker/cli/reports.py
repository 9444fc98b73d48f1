"""Report commands: summary, timeline and export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from tracker.cli.app import App, api, pass_app
from tracker.cli.options import days, filter_options, format_option
from tracker.cli.render import show_table
from tracker.model.values import POWER_FACTOR
from tracker.model.vocabulary import SUMMARY_KEYS

h100e_basis_option = click.option(
    "--h100e-basis",
    type=click.Choice(("bf16", "epoch"), case_sensitive=False),
    default="bf16",
    show_default=True,
    help="What an H100-equivalent counts: dense BF16 over the H100's, or Epoch AI's basis (the "
    "larger of dense 16-bit and INT8 over the H100's INT8). The column stays `h100e`.",
)


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
@h100e_basis_option
@click.option(
    "--power-factor",
    metavar="N",
    help=f"Site watts per watt of chip TDP, from 1 to 10, for power estimated where none is "
    f"reported (default {POWER_FACTOR}: see docs/compute.md).",
)
@format_option
@pass_app
def summary(
    app: App,
    filters: dict[str, Any],
    keys: tuple[str, ...],
    as_of: str | None,
    h100e_basis: str,
    power_factor: str | None,
    fmt: str,
) -> None:
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
    the model's dense BF16 TFLOP/s / the NVIDIA H100 SXM's (--h100e-basis epoch: Epoch
    AI's, the larger of the dense 16-bit and INT8 rates / the H100's dense INT8); and
    `power_mw`, the entries' reported MW (shared among an entry's lots by chips), or,
    where none is reported, an estimate: chips x the model's TDP x the power factor
    (--power-factor) for servers and cooling, marked `est.`. Chips of a model without
    the figure (or of no model) add nothing: the figure is then a lower bound (≥), and
    empty when no chip has it, never zero.
    Power is that of the chips counted: an entry without a chip count adds none.
    CSV and JSON give h100e_chips and power_chips (the chips each figure covers),
    power_mw_estimated (the part of power_mw estimated from TDP), and last
    h100e_basis and power_factor.

    --by schedule: whether the entry's online period is as first announced (or told
    more precisely within it), moved later, moved earlier (now due before the first
    period began), or undated; `tracker slips` lists the late entries. --as-of:
    each entry with the status in force that day, and never operational (or
    decommissioned) before its online period begins: on such a day it counts as
    under-construction. Chip counts, online periods and the other fields are as
    recorded now (`tracker changes` lists their edits).
    """
    with api(app) as tracker:
        table = tracker.summary(
            by=keys,
            as_of=as_of,
            total=fmt in ("table", "markdown"),
            h100e_basis=h100e_basis,
            power_factor=power_factor,
            **filters,
        )
    show_table(table, fmt)


@click.command()
@filter_options
@click.option(
    "--by",
    "keys",
    multiple=True,
    type=click.Choice(("quarter", "year", "family"), case_sensitive=False),
    help="The periods to count by (default quarter); `family` adds each period's rows by model "
    "family: --by year --by family.",
)
@click.option(
    "--cumulative", is_flag=True, help="Add running totals: all chips online by the end of each row."
)
@click.option(
    "--first-announced",
    is_flag=True,
    help="Add first_chips: the chips each period was first announced to bring, beside those it "
    "brings now (see `tracker slips`).",
)
@click.option(
    "--as-of",
    metavar="DATE",
    help="The pipeline as it stood on this day (as for `tracker summary`).",
)
@h100e_basis_option
@format_option
@pass_app
def timeline(
    app: App,
    filters: dict[str, Any],
    keys: tuple[str, ...],
    cumulative: bool,
    first_announced: bool,
    as_of: str | None,
    h100e_basis: str,
    fmt: str,
) -> None:
    """Accelerators coming online per quarter or year, counted as the summary counts them.

    With --by family, each period's row is split by model family (not with
    --cumulative or --first-announced).

    A lot comes online in its own period or its entry's. A period as precise as the
    bucket or more falls in it (2026-02 in 2026-Q1); a coarser one is a row of its own
    (a lot due "2026" stays 2026, and is not spread over quarters), after the buckets it
    spans. Lots without a period are the `undated` row, last. The rows add up to the
    summary's total.

    Columns: period, entries, chips, h100e (H100-equivalents: chips x the model's dense
    BF16 TFLOP/s / the NVIDIA H100 SXM's, or on --h100e-basis epoch; a figure that
    leaves out chips whose model has none is a lower bound, ≥); with --cumulative, cumulative_chips and
    cumulative_h100e; with --first-announced, first_chips: the chips whose entry was
    first announced for that period (a period only first announced shows 0 chips now).
    CSV and JSON add qualifier and h100e_chips (the chips h100e covers),
    first_qualifier, and last h100e_basis.

    With --as-of, no chips are operational before their online period begins.
    """
    with api(app) as tracker:
        table = tracker.timeline(
            by=keys or "quarter",
            cumulative=cumulative,
            first_announced=first_announced,
            as_of=as_of,
            h100e_basis=h100e_basis,
            **filters,
        )
    show_table(table, fmt)


@click.command(short_help="Chips by host country, by their operator's and their vendor's nationality.")
@filter_options
@click.option(
    "--bloc",
    metavar="REGION",
    multiple=True,
    help="The bloc the *_bloc columns count (see `tracker regions`); default: the --region given. "
    "Repeatable.",
)
@click.option(
    "--as-of", metavar="DATE", help="The pipeline as it stood on this day (as for `tracker summary`)."
)
@format_option
@pass_app
def sovereignty(
    app: App, filters: dict[str, Any], bloc: tuple[str, ...], as_of: str | None, fmt: str
) -> None:
    """Whose the chips are: one row per host country, counted as the summary counts them
    (every chip once; a programme with a region scope is the (multi-country) row).

    \b
    Columns: country, chips, then by the headquarters of the chips' operator
    (operator_*) and of their vendor, the chip designer (vendor_*):
    - home: in the host country (for a (multi-country) programme: in its scope);
    - bloc: in the bloc (--bloc, else --region) but not the host country;
      without a bloc these are 0;
    - foreign: elsewhere;
    - unknown: an operator without a known headquarters (`tracker operators
      set` gives one), an entry without an operator, a vendor not disclosed.
    Each group of four adds up to chips. Tables show each count with its share
    of the row's chips and end with a total row; CSV and JSON give raw
    numbers and a qualifier column (exact, approx, at-least or up-to).

    Example: `tracker sovereignty --region europe` counts Nebius's chips in the
    UK as operator_bloc (Nebius is headquartered in the Netherlands) and
    vendor_foreign (NVIDIA, in the United States).
    """
    with api(app) as tracker:
        table = tracker.sovereignty(bloc=bloc, as_of=as_of, **filters)
    show_table(table, fmt)


@click.command(short_help="Entries whose online period moved later, or passed; by how long.")
@filter_options
@click.option(
    "--today",
    metavar="DATE",
    help="Count overdue days to this day instead of today (UTC), for a report that reads the same tomorrow.",
)
@format_option
@pass_app
def slips(app: App, filters: dict[str, Any], today: str | None, fmt: str) -> None:
    """Entries that are late: their online period moved later than first announced
    (moved_days), or it ended and they are not operational (overdue_days), the latest first,
    with the source of each date.

    A period is a promise to be online by its last day: a move is counted between
    the last days of the first announced period (first_online) and the current one
    (online), so 2025-Q4 to 2026-H1 is 181 days, and 2025 to 2025-Q4 (told more
    precisely) none. overdue_days counts from the current period's last day to
    today (UTC); a cancelled or decommissioned entry is not overdue. An entry keeps
    its first announced period when `tracker update --online` or an import moves
    it; `--first-online` sets it. Entries are late by their own online period (a
    lot's own period is not followed); chips are the entry's, cancelled and
    decommissioned lots left out.
    """
    with api(app) as tracker:
        table = tracker.slips(today=today, **filters)
    show_table(table, fmt)


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
    callback=days,
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
    from tracker.service.files import names_a_stream

    if output is not None and output_dir is not None:
        raise click.UsageError("give --output or --output-dir, not both")
    if keep is not None and output_dir is None:
        raise click.UsageError("--keep goes with --output-dir")
    if output_dir is not None and filters:
        raise click.UsageError(
            "--output-dir writes the whole nightly export (only the changes with --changed-since), "
            "so that a selection never replaces it; write a selection with --output FILE"
        )
    for option, value in (("--output", output), ("--output-dir", output_dir)):
        if value is not None and not value.strip():
            hint = "give a file name, or - for standard output" if option == "--output" else "give a folder"
            raise click.BadParameter(hint, param_hint=f"'{option}'")
    with api(app) as tracker:
        if output_dir is not None:
            written, removed = tracker.export_folder(output_dir, changed_since=changed_since, keep=keep)
            for path in written:
                click.echo(str(path))
            for path in removed:
                click.echo(f"Removed {path} (older than {keep} days).", err=True)
        elif output is not None and output != "-":
            tracker.export(output, changed_since=changed_since, **filters)
            if not names_a_stream(Path(output)):
                click.echo(output)
        else:
            tracker.export(sys.stdout, changed_since=changed_since, **filters)
