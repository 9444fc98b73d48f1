"""The API's files: export, import, dump and restore."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TextIO

from tracker.api.base import Database, FilterOptions, warn
from tracker.api.values import choice_of, opened, stale_entries
from tracker.errors import InvalidValue

# The modules of each command are loaded when it is called: a command loads only its own.
if TYPE_CHECKING:
    from typing_extensions import Unpack

    from tracker.service.imports import ImportResult
    from tracker.service.publish import Published


class Files(Database):
    """Writing and reading files."""

    def export(
        self,
        output: str | Path | TextIO | None = None,
        *,
        changed_since: str | dt.date | None = None,
        **filters: Unpack[FilterOptions],
    ) -> str | int:
        """Every chip lot as CSV: into ``output`` (a file's path, written whole or not at all,
        or an open text file), returning the rows written; or, without one, as text."""
        from tracker.service.export import consistent_reads, export_to_path, write_export

        with self.session() as session:
            consistent_reads(session)
            resolved = self._filters(session, filters, changed_since=changed_since)
            if output is None:
                buffer = io.StringIO()
                write_export(session, resolved, buffer)
                return buffer.getvalue()
            if isinstance(output, (str, Path)):
                return export_to_path(session, resolved, Path(output))
            return write_export(session, resolved, output)

    def export_folder(
        self, folder: str | Path, *, changed_since: str | dt.date | None = None, keep: int | None = None
    ) -> tuple[Sequence[Path], Sequence[Path]]:
        """The nightly export into ``folder``: the day's CSV and dump, and the latest ones
        (``changed_since``: the changes only); ``keep``: remove the dated files more than
        that many days old. Returns the files written and those removed."""
        from tracker.service.export import consistent_reads
        from tracker.service.nightly import export_to_folder, remove_old_exports

        today = dt.datetime.now(dt.timezone.utc).date()
        with self.session() as session:
            consistent_reads(session)
            resolved = self._filters(session, {}, changed_since=changed_since)
            written = list(export_to_folder(session, resolved, Path(folder), today))
        removed = remove_old_exports(Path(folder), today, keep) if keep is not None else []
        return written, removed

    def publish(
        self,
        folder: str | Path,
        *,
        title: str | None = None,
        dated: bool = False,
        **filters: Unpack[FilterOptions],
    ) -> Published:
        """Publish into ``folder`` (docs in the README: "Publish and share"): CSV tables with a
        Frictionless datapackage.json, a read-only SQLite snapshot whose views give the
        tracker's totals with Datasette's metadata.json, and one self-contained index.html.
        ``dated``: into ``folder/YYYY-MM-DD``, with ``folder/latest`` pointed at it. Filters
        choose whole entries (place, operator, sponsor, confidence, announcement day)."""
        from tracker.service.charts import described
        from tracker.service.export import consistent_reads
        from tracker.service.publish import publish, publish_dated

        today = dt.datetime.now(dt.timezone.utc).date()
        given = {name: value for name, value in filters.items() if value}
        words = described(given)
        if title is not None and not title.strip():
            raise InvalidValue("title", "is empty; give some text, or leave --title out for the default")
        heading = title.strip() if title else "AI accelerators planned" + (f": {words}" if words else "")
        with self.session() as session:
            consistent_reads(session)
            resolved = self._filters(session, filters)
            into = publish_dated if dated else publish
            return into(session, resolved, Path(folder), title=heading, described=words, day=today)

    def import_file(
        self,
        file: str | Path | TextIO,
        *,
        file_format: str = "tracker",
        on_conflict: str | None = None,
        dry_run: bool = False,
        skip_invalid: bool = False,
        prune: bool = False,
        name: str | None = None,
        progress: Any = None,
    ) -> ImportResult:
        """Add or update entries from a file (a path, or an open text file that can be read
        again: ``seek(0)``), in the export's format or Epoch AI's (``file_format="epoch"``),
        in one transaction. ``on_conflict``: ``update`` or ``skip`` an entry stored with other
        values; ``dry_run``: check and count, write nothing, and give what would change
        (``result.changes``; ``tracker.api.DiffReport.of(result.changes)`` gives it as
        :func:`tracker.diff` does); ``skip_invalid``: leave out the
        rows with problems (listed in the result); ``prune`` (Epoch): remove the entries of
        an earlier import that the file no longer gives. Warns of such entries without it."""
        from tracker.service.diff import changes_made
        from tracker.service.formats import FORMATS
        from tracker.service.formats.epoch import earlier_imports
        from tracker.service.imports import OnConflict, import_file
        from tracker.service.operators import created, new_operators_warning

        read = FORMATS.get(file_format.lower())
        if read is None:
            raise InvalidValue("from", f"unknown format {file_format!r}; use one of: {', '.join(FORMATS)}")
        if prune and file_format.lower() != "epoch":
            raise InvalidValue("prune", "goes with the epoch format")
        conflict = choice_of(OnConflict, on_conflict, "on_conflict") if on_conflict else None
        with opened(file) as handle, self.session(alone=True) as session:
            label = name or str(file if isinstance(file, (str, Path)) else getattr(file, "name", "<file>"))
            results: list[ImportResult] = []

            def write() -> list[str]:
                """Import the file; the ids of the entries it may change."""
                done = import_file(
                    session,
                    handle,
                    read,
                    name=label,
                    on_conflict=conflict,
                    skip_invalid=skip_invalid,
                    progress=progress,
                )
                if file_format.lower() == "epoch":
                    done.stale = earlier_imports(session, done.ids, prune=prune)
                results.append(done)
                return [*done.ids, *done.stale]

            if dry_run:
                changes = changes_made(session, write)
                results[0].changes = changes
            else:
                write()
            result = results[0]
            new_operators = created(session)
            if dry_run:
                session.rollback()
        if (told := new_operators_warning(new_operators)) is not None:
            warn(("would add " if dry_run else "") + told)
        if result.stale and not prune:
            warn(
                f"{stale_entries(result.stale)}: not in this file, or now left out; beside the new ones they "
                "may count chips twice: --prune removes them"
            )
        return result

    def dump(self, output: str | Path | IO[bytes] | None = None) -> bytes | dict[str, int]:
        """Everything recorded, history included, as JSON Lines (docs/dump.md): into
        ``output`` (a path, written whole or not at all, or a binary file), returning the
        records of each type; or, without one, as bytes."""
        from tracker.service.dump import dump_database, dump_to_path
        from tracker.service.export import consistent_reads

        with self.session() as session:
            consistent_reads(session)
            if output is None:
                buffer = io.BytesIO()
                dump_database(session, buffer)
                return buffer.getvalue()
            if isinstance(output, (str, Path)):
                return dump_to_path(session, Path(output))
            return dump_database(session, output)

    def restore(self, file: str | Path | IO[bytes], *, name: str | None = None) -> dict[str, int]:
        """Load a dump into this database, which must hold no entries, history or token
        figures, in one transaction; returns the records of each type."""
        from tracker.service.bootstrap import engine_for
        from tracker.service.restore import restore_database

        engine, _ = engine_for(self.url, writes=True)
        try:
            if isinstance(file, (str, Path)):
                try:
                    with Path(file).open("rb") as handle:
                        return restore_database(engine, handle, name or str(file))
                except FileNotFoundError:
                    raise InvalidValue("file", f"{file} does not exist") from None
            return restore_database(engine, file, name or str(getattr(file, "name", "<file>")))
        finally:
            engine.dispose()
