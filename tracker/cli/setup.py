"""``tracker init``."""

from __future__ import annotations

import click

from tracker.cli.app import App, api, pass_app


@click.command()
@click.option(
    "--no-seed", is_flag=True, help="Do not add the seed entries (reference data is always loaded)."
)
@pass_app
def init(app: App, no_seed: bool) -> None:
    """Create or upgrade the database schema and load the bundled seeds.

    Reference data (regions, chip catalogue) is always loaded; the seed entries are
    the announcements of the source note. Running it again changes nothing.
    """
    with api(app) as tracker:
        report = tracker.init(seed=not no_seed)
    entries = "entry" if report.seed_entries == 1 else "entries"
    click.echo(
        f"{report.database}: schema {report.schema} (revision {report.revision}); "
        f"{report.reference_rows} reference rows and {report.seed_entries} seed {entries} added",
        err=True,
    )
