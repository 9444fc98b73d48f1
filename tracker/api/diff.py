"""``tracker.diff``: what changed between two files of the same kind, without a database."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.api.base import TrackerWarning
from tracker.service.tables import Table

if TYPE_CHECKING:
    from tracker.service.diff import Diff


@dataclass(frozen=True)
class DiffReport:
    """What changed from one file to another: ``changes``, the entries added, removed and
    changed (a row per field changed, with its old and new value); ``by_country`` and
    ``by_vendor``, the planned chips (counted as the summary counts them) that differ, old,
    new and net; ``counts``, entries added, removed and changed."""

    changes: Table
    by_country: Table
    by_vendor: Table
    counts: dict[str, int]

    @classmethod
    def of(cls, found: Diff) -> DiffReport:
        """A comparison's differences as tables (an import's dry run gives them:
        ``result.changes``)."""
        from tracker.service.diff import differences_table, net_table

        return cls(
            differences_table(found), net_table(found, "country"), net_table(found, "vendor"), found.counts
        )

    def record(self) -> dict[str, Any]:
        """All of it as plain values, as ``tracker diff --format json`` gives it."""
        return {
            **self.counts,
            "changes": self.changes.rows,
            "net_chips": {"country": self.by_country.rows, "vendor": self.by_vendor.rows},
        }


def diff(old: str | Path, new: str | Path, *, file_format: str = "tracker") -> DiffReport:
    """What changed from the file ``old`` to the file ``new``: two tracker exports, two dumps
    (recognised by their first line), or two Epoch AI releases (``file_format="epoch"``;
    rows with problems are left out of both, as `import --skip-invalid` leaves them out, with
    a :class:`TrackerWarning`). Each file is read as an import or a restore reads it, in a
    scratch database of its own."""
    from tracker.service.diffing import diff_files

    found, before, after = diff_files(old, new, file_format)
    for path, loaded in ((old, before), (new, after)):
        if loaded.detached:
            entries = f"{loaded.detached} entr{'y is a part' if loaded.detached == 1 else 'ies are parts'}"
            warnings.warn(
                f"{path}: {entries} of a programme the file does not hold (an export filtered by place?), "
                "compared as entries of their own",
                TrackerWarning,
                stacklevel=2,
            )
        if loaded.left_out:
            entries = f"{loaded.left_out} entr{'y' if loaded.left_out == 1 else 'ies'}"
            warnings.warn(
                f"{path}: {entries} with problems left out (`tracker import --from {file_format} "
                "--skip-invalid` lists them)",
                TrackerWarning,
                stacklevel=2,
            )
    return DiffReport.of(found)
