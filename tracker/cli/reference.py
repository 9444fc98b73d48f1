"""Reference data commands: regions and the chip catalogue."""

from __future__ import annotations

from typing import Any

import click

from tracker.cli.app import App, TrackerGroup, api, pass_app
from tracker.cli.options import format_option
from tracker.cli.render import show_table


@click.command()
@click.argument("region", required=False)
@format_option
@pass_app
def regions(app: App, region: str | None, fmt: str) -> None:
    """List the regions, or the countries of one REGION."""
    with api(app) as tracker:
        show_table(tracker.regions(region), fmt)


@click.group(cls=TrackerGroup, invoke_without_command=True, short_help="List or extend the chip catalogue.")
@click.option("--vendor", "vendors", multiple=True, metavar="VENDOR", help="Only this vendor. Repeatable.")
@format_option
@click.pass_context
def chips(ctx: click.Context, vendors: tuple[str, ...], fmt: str) -> None:
    """List the chip catalogue: vendors, models, the other spellings they accept, and each
    model's spec-sheet figures with their source.

    Figures are of one accelerator package, dense (without sparsity): bf16_tflops,
    fp16_tflops (given for chips without BF16) and fp8_tflops in TFLOP/s, int8_tops in
    TOPS, tdp_w in watts; `holds` gives the accelerators in one superchip, server or rack
    (`tracker add --unit`). One H100-equivalent (h100e) is the NVIDIA H100 SXM's dense
    BF16 TFLOP/s, or with --h100e-basis epoch its dense INT8 TOPS (docs/compute.md). A
    model without a figure has none on its spec sheet, or none recorded yet: its chips
    then have no h100e or estimated power, never zero.
    """
    if ctx.invoked_subcommand is not None:
        return
    app = ctx.find_object(App)
    assert app is not None
    with api(app) as tracker:
        show_table(tracker.chips(vendor=vendors), fmt)


def figure_options(command: Any) -> Any:
    """The spec-sheet figures of a model, each needing --source."""
    for name, help_text in reversed(
        (
            ("--bf16-tflops", "Dense (not sparse) BF16 TFLOP/s of one accelerator package."),
            (
                "--fp16-tflops",
                "Dense FP16 TFLOP/s: the 16-bit rate --h100e-basis epoch counts for a chip without BF16.",
            ),
            ("--fp8-tflops", "Dense (not sparse) FP8 TFLOP/s of one accelerator package."),
            ("--int8-tops", "Dense (not sparse) INT8 TOPS of one accelerator package."),
            ("--tdp-w", "TDP (or board power) in watts of one accelerator package."),
            ("--per-superchip", "Accelerators in one superchip (for --unit superchip)."),
            ("--per-server", "Accelerators in one server (for --unit server)."),
            ("--per-rack", "Accelerators in one rack (for --unit rack)."),
        )
    ):
        command = click.option(name, metavar="N", help=help_text)(command)
    return click.option(
        "--source",
        "figures_source",
        metavar="TEXT",
        help="Where the figures come from (a datasheet, with its URL); needed with any figure.",
    )(command)


@chips.command("vendors")
@format_option
@pass_app
def chips_vendors(app: App, fmt: str) -> None:
    """List the chip vendors: each with its other spellings, its country (where the chip
    designer is headquartered: its nationality in `tracker sovereignty`) and the source of
    that; `unknown` (not disclosed) has none."""
    with api(app) as tracker:
        show_table(tracker.vendors(), fmt)


@chips.command("add")
@click.argument("vendor")
@click.argument("model")
@click.option("--family", help="Architecture or product family, such as Blackwell.")
@click.option("--alias", "aliases", multiple=True, help="Another spelling to accept. Repeatable.")
@click.option("--note", help="Free text.")
@click.option("--new-vendor", is_flag=True, help="VENDOR is new: add it to the catalogue too.")
@figure_options
@pass_app
def chips_add(
    app: App,
    vendor: str,
    model: str,
    family: str | None,
    aliases: tuple[str, ...],
    note: str | None,
    new_vendor: bool,
    figures_source: str | None,
    **figures: str | None,
) -> None:
    """Add a chip MODEL of VENDOR to the catalogue, with its figures where known."""
    with api(app) as tracker:
        vendor, model = tracker.add_chip(
            vendor,
            model,
            family=family,
            alias=aliases,
            note=note,
            new_vendor=new_vendor,
            source=figures_source,
            **figures,
        )
    click.echo(f"{vendor} {model}")


@chips.command("set")
@click.argument("vendor")
@click.argument("model")
@figure_options
@pass_app
def chips_set(app: App, vendor: str, model: str, figures_source: str | None, **figures: str | None) -> None:
    """Give a catalogue MODEL of VENDOR spec-sheet figures, with their --source; figures
    not given stay as they are. The source given replaces the model's source, so give
    one that covers all its figures: a warning gives the text it replaced when other
    figures came from it."""
    if figures_source is None and not any(value is not None for value in figures.values()):
        raise click.UsageError(
            "give a figure to set (--bf16-tflops, --int8-tops, --tdp-w, --per-...) and --source"
        )
    with api(app) as tracker:
        vendor, model = tracker.set_chip(vendor, model, source=figures_source, **figures)
    click.echo(f"{vendor} {model}")
