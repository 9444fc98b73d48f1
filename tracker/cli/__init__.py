"""The ``tracker`` command line: parse, call the service layer, render, report errors.

Command modules import the service layer (and with it SQLAlchemy) only when a
command runs, so ``tracker --help`` stays fast.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from tracker import __version__
from tracker.cli.app import App, fail
from tracker.cli.entries import entry_add, entry_list, entry_remove, entry_show
from tracker.cli.reference import chips, regions
from tracker.cli.reports import export, summary
from tracker.cli.setup import init


class TrackerGroup(click.Group):
    """The command group; every failure under it ends as one line on stderr and an exit code."""

    def main() -> None:
    """The ``tracker`` console script."""
    cli(prog_name="tracker")
