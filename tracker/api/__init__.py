"""The tracker as a Python library: every command of the CLI is a method of :class:`Tracker`.

    import tracker
    with tracker.open("sqlite:///my.db") as t:
        t.add("Nebius UK", country="GB", chips=4000, vendor="nvidia", model="B300", online="Q4 2025")
        table = t.summary(region="europe", by=["country", "vendor"])

Methods take values as a person writes them, as the CLI's options do (``"Europe"``,
``"france"``, ``"nvidia"``, ``"Q4 2025"``), under the options' names in snake_case; a
repeatable option takes one value or a list. Each call is one transaction, committed when it
returns. Failures are the exceptions of :mod:`tracker.errors`, naming the field; what a
person should know of a call that succeeded (a likely duplicate, a part outside its
programme) is a :class:`TrackerWarning`. Reports return a
:class:`~tracker.service.tables.Table`.
"""

from __future__ import annotations

import os

from tracker.api.base import FilterOptions, TrackerWarning
from tracker.api.diff import DiffReport, diff
from tracker.api.entries import Entries
from tracker.api.files import Files
from tracker.api.reference import Reference
from tracker.api.reports import Reports
from tracker.api.values import stale_entries
from tracker.errors import TrackerError
from tracker.model.fields import FIELDS
from tracker.service.tables import Table


class Tracker(Entries, Reports, Files, Reference):
    """One tracker database, opened; close it (or use it in a ``with`` block) when done.

    Its methods are the CLI's commands, by kind: :class:`~tracker.api.entries.Entries`,
    :class:`~tracker.api.reports.Reports`, :class:`~tracker.api.files.Files` and
    :class:`~tracker.api.reference.Reference`.
    """


def open(url: str | os.PathLike[str] | None = None) -> Tracker:
    """The tracker's database: ``url`` is any SQLAlchemy URL or an SQLite file's path; None
    is the default database (TRACKER_DATABASE_URL, or the user's own, created and seeded on
    first use, as the CLI's is)."""
    return Tracker(url)


__all__ = [
    "FIELDS", "DiffReport", "FilterOptions", "Table", "Tracker", "TrackerError", "TrackerWarning", "diff",
    "open", "stale_entries",
]  # fmt: skip
