"""The nightly export: the day's CSV and dump in a folder, dated, beside the latest ones, each
written whole or not at all; and the dated files of earlier days removed once old enough."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import stat
from pathlib import Path

from sqlalchemy.orm import Session

from tracker.errors import FileProblem, InvalidValue
from tracker.service.export import refuse_database_file, write_export
from tracker.service.files import atomic_file, remove_abandoned
from tracker.service.filters import Filters

FULL_STEM = "tracker-lots"
CHANGES_STEM = "tracker-changes"  # an incremental export never replaces the full one
DUMP_STEM = "tracker-dump"  # the day's dump (tracker dump), beside the full export
# The files of a folder export that carry their day: what --keep removes once old enough.
DATED_EXPORT = re.compile(
    rf"(?:(?:{FULL_STEM}|{CHANGES_STEM})-(?P<csv>[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}})\.csv"
    rf"|{DUMP_STEM}-(?P<dump>[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}})\.jsonl)"
)


def export_to_folder(session: Session, filters: Filters, folder: Path, day: dt.date) -> tuple[Path, ...]:
    """The nightly export: ``tracker-lots-DAY.csv`` in ``folder``, and ``tracker-lots-latest.csv``
    beside it with the same bytes; then the day's dump, ``tracker-dump-DAY.jsonl`` and
    ``tracker-dump-latest.jsonl``, from the same snapshot when the session reads one
    (:func:`tracker.service.export.consistent_reads`). An incremental export (filters with ``changed_since``)
    writes ``tracker-changes-...`` and no dump, which holds everything. Each file appears
    whole or not at all; returns their paths."""
    from tracker.service.dump import dump_database  # beside the CSV

    if not folder.is_dir():
        problem = "is a file; give a folder" if folder.exists() else "does not exist"
        raise InvalidValue("output_dir", f"{folder} {problem}")
    stem = CHANGES_STEM if filters.changed_since else FULL_STEM
    dated = folder / f"{stem}-{day.isoformat()}.csv"
    latest = folder / f"{stem}-latest.csv"
    dumps = (
        ()
        if filters.changed_since
        else (folder / f"{DUMP_STEM}-{day.isoformat()}.jsonl", folder / f"{DUMP_STEM}-latest.jsonl")
    )
    for path in (dated, latest, *dumps):
        refuse_database_file(session, path, "output_dir")
    remove_abandoned(folder, f".{stem}-")  # left by runs killed on earlier days
    with atomic_file(dated, "output_dir") as handle:
        write_export(session, filters, handle)
    with atomic_file(latest, "output_dir") as handle, dated.open(encoding="utf-8", newline="") as written:
        shutil.copyfileobj(written, handle)
    if not dumps:
        return dated, latest
    dated_dump, latest_dump = dumps
    remove_abandoned(folder, f".{DUMP_STEM}-")
    with atomic_file(dated_dump, "output_dir", binary=True) as binary:
        dump_database(session, binary)
    with atomic_file(latest_dump, "output_dir", binary=True) as binary, dated_dump.open("rb") as dumped:
        shutil.copyfileobj(dumped, binary)
    return dated, latest, dated_dump, latest_dump


def remove_old_exports(folder: Path, today: dt.date, keep_days: int) -> list[Path]:
    """Delete the dated files of folder exports (``tracker-lots-DAY.csv``,
    ``tracker-changes-DAY.csv``, ``tracker-dump-DAY.jsonl``) whose day is more than
    ``keep_days`` before ``today``; returns them. The latest files, files of other names, and
    anything that is not a regular file (a link, a folder) are left alone."""
    if keep_days < 1:
        raise InvalidValue("keep", f"{keep_days} is not a whole number of days; give 1 or more")
    removed = []
    for path in sorted(folder.iterdir()):
        match = DATED_EXPORT.fullmatch(path.name)
        if match is None:
            continue
        try:
            day = dt.date.fromisoformat(match.group("csv") or match.group("dump"))
            if (today - day).days <= keep_days or not stat.S_ISREG(path.lstat().st_mode):
                continue
            path.unlink()
        except (ValueError, FileNotFoundError):
            continue  # not a day (2025-13-45); or removed meanwhile, by another run
        except OSError as error:
            raise FileProblem("keep", f"cannot remove {path}: {error.strerror}") from None
        removed.append(path)
    return removed
