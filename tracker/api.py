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

import contextlib
import datetime as dt
import io
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TextIO, TypedDict

from tracker.errors import InvalidValue, TrackerError
from tracker.model.fields import ENTRY_FIELDS, FIELDS, Stored
from tracker.service import database, urls
from tracker.service.tables import Table

# The modules of each command are loaded when it is called: a command loads only its own.
if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session
    from typing_extensions import Unpack

    from tracker.service.bootstrap import InitReport
    from tracker.service.details import EntryDetail
    from tracker.service.filters import Filters
    from tracker.service.imports import ImportResult
    from tracker.service.status import StatusChange
    from tracker.service.tokens import AddedTokens
    from tracker.service.updates import FieldChange

# What `add` reads of a chip lot beside the entry's fields; `unit` says what `chips` counts.
LOT_OPTIONS = ("chips", "vendor", "model", "qualifier", "unit")
FIGURES = ("bf16_tflops", "fp8_tflops", "tdp_w", "per_superchip", "per_server", "per_rack")
Given = str | int | float | dt.date | Sequence[str] | None


class TrackerWarning(UserWarning):
    """Something a person should know about what a call did: a likely duplicate, a part
    outside its programme's country, a status move that `tracker check` lists."""


class FilterOptions(TypedDict, total=False):
    """The filters of every report, as the CLI's options: one value or a list of them."""

    region: str | Sequence[str]
    country: str | Sequence[str]
    vendor: str | Sequence[str]
    model: str | Sequence[str]
    status: str | Sequence[str]
    sponsor: str | Sequence[str]
    announced_since: str | dt.date
    announced_until: str | dt.date
    min_confidence: str


def open(url: str | None = None) -> Tracker:
    """The tracker's database: ``url`` is any SQLAlchemy URL or an SQLite file's path; None
    is the default database (TRACKER_DATABASE_URL, or the user's own, created and seeded on
    first use, as the CLI's is)."""
    return Tracker(url)


def warn(message: str) -> None:
    """Tell the caller something a person should know (:class:`TrackerWarning`)."""
    warnings.warn(message, TrackerWarning, stacklevel=3)


class Tracker:
    """One tracker database, opened; close it (or use it in a ``with`` block) when done."""

    def __init__(self, url: str | None = None, *, one_command: bool = False) -> None:
        """``one_command``: it serves one command of a process that then ends (the CLI), so
        that a database held in memory, which would lose what it writes, is refused a write.
        Used from Python, an in-memory database lasts as long as the tracker holding it."""
        self.url = url
        self.one_command = one_command
        self._engine: Engine | None = None

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database's connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __repr__(self) -> str:
        return f"<Tracker {urls.safe_url(urls.resolve_url(self.url))}>"

    @contextlib.contextmanager
    def session(self, *, writes: bool = False, alone: bool = False) -> Iterator[Session]:
        """A session of one transaction on the database, committed when the block ends
        without an error (see :func:`tracker.service.database.session_scope`)."""
        from tracker.service.bootstrap import engine_for, open_database

        if self.one_command and (writes or alone):
            engine_for(self.url, writes=True)[0].dispose()  # refuses what a write would lose
        if self._engine is None:
            self._engine = open_database(self.url)
        with database.session_scope(self._engine, writes=writes or alone, alone=alone) as session:
            yield session

    def _filters(self, session: Session, options: FilterOptions, **more: Any) -> Filters:
        from tracker.service.filters import resolve_filters

        unknown = set(options) - set(FilterOptions.__annotations__)
        if unknown:
            raise TypeError(
                f"unknown filter {sorted(unknown)[0]!r}; filters: " + ", ".join(FilterOptions.__annotations__)
            )
        plural = {"region": "regions", "country": "countries", "vendor": "vendors", "model": "models",
                  "status": "statuses", "sponsor": "sponsors"}  # fmt: skip
        given: dict[str, Any] = {}
        for name, value in options.items():
            if name in plural:
                given[plural[name]] = _texts(value)
            elif value is not None:
                given[name] = str(value)
        for key, value in more.items():
            given[key] = bool(value) if key == "unsourced" else _text(value)
        return resolve_filters(session, **given)

    # The database --------------------------------------------------------------------------

    def init(self, *, seed: bool = True) -> InitReport:
        """Create or upgrade the schema and load the bundled reference data and (``seed``) the
        seed entries; again, it changes nothing."""
        from tracker.service.bootstrap import engine_for, initialise

        engine, _ = engine_for(self.url, writes=True)
        try:
            return initialise(engine, seed_entries=seed)
        finally:
            engine.dispose()

    # Entries -------------------------------------------------------------------------------

    def add(self, name: str, **options: Given) -> str:
        """Add an entry; returns its id. ``options``: the entry's fields (``country``,
        ``scope``, ``id``, ``operator``, ``city``, ``kind``, ``sponsor``, ``status``,
        ``confidence``, ``announced``, ``online``, ``power_mw``, ``parent``, ``source`` (one
        or a list), ``note``, and any field declared since), and its chip lot: ``chips``,
        ``vendor``, ``model``, ``qualifier``, ``unit`` (what ``chips`` counts: gpu,
        superchip, server or rack). Warns (:class:`TrackerWarning`) when it looks like an
        entry already stored, or lies outside its programme's country or scope."""
        from tracker.service.checks import outside_programme
        from tracker.service.entries import add_entry_from_text

        raw = _entry_fields(options, lot_options=LOT_OPTIONS)
        raw["name"] = name
        unit = raw.pop("unit", None)
        units = unit if isinstance(unit, list) else [] if unit is None else [unit]
        if any(not text.strip() for text in units):
            raise InvalidValue("unit", "is empty; give gpu, superchip, server or rack")
        if units:  # chips counts the units: the service reads it as the count announced
            raw["announced_chips"], raw["announced_unit"] = raw.pop("chips", None), unit
        with self.session(writes=True) as session:
            new_id, similar = add_entry_from_text(session, raw)
            outside = outside_programme(session, new_id)
        if outside:
            warn(f"{new_id} {outside}; its chips count there, and its programme adds less")
        if similar:
            place = "country" if raw.get("country") else "scope"
            warn(
                f"{new_id} may be the same announcement as {', '.join(similar)} (same {place}, and the same "
                "operator or chip count); if so, remove one, or the chips count twice"
            )
        return new_id

    def update(self, entry_id: str, **options: Given) -> list[FieldChange]:
        """Edit an entry; returns what changed, each field with its old and new value (none
        when every value was so already). ``options``: its fields as for :meth:`add` (an
        empty string clears one; ``source`` adds sources), and a chip lot's: ``lot`` (which
        one: needed when it has several; a new number adds one), ``chips``, ``unit``,
        ``vendor``, ``model``, ``qualifier``, and, with ``lot``, ``status`` and ``online``,
        the lot's own (its entry's status changes through :meth:`status`)."""
        from tracker.service.checks import outside_programme
        from tracker.service.updates import update_entry

        lot_keys: tuple[str, ...] = ("lot", "chips", "unit", "vendor", "model", "qualifier")
        if options.get("lot") is not None:
            lot_keys += ("status", "online")
        elif options.get("status") is not None:
            raise InvalidValue("status", "changes with `tracker status`, on a day; with --lot, a lot's own")
        raw = _entry_fields(options, lot_options=lot_keys, updating=True)
        lot = {
            ("lot_" + key if key in ("status", "online") else key): raw.pop(key)
            for key in lot_keys
            if key in raw
        }
        sources = raw.pop("sources", [])
        with self.session(writes=True) as session:
            changes = update_entry(session, entry_id, raw, _texts(sources), lot)
            outside = outside_programme(session, entry_id)
        if outside and {"parent", "country", "scope"} & {change.field for change in changes}:
            warn(f"{entry_id} {outside}; its chips count there, and its programme adds less")
        return changes

    def status(
        self,
        entry_id: str,
        new_status: str,
        *,
        on: str | dt.date,
        source: str | None = None,
        unsourced: bool = False,
        note: str | None = None,
    ) -> StatusChange:
        """Record a status change on the day it took effect, with its source (or
        ``unsourced``); warns of what it makes `tracker check` list."""
        from tracker.service.status import change_status

        with self.session(writes=True) as session:
            change = change_status(
                session, entry_id, new_status, str(on), source=source, unsourced=unsourced, note=note
            )
        for problem in change.problems:
            warn(f"{entry_id} {problem}; `tracker check` lists it")
        return change

    def remove(self, entry_id: str, *, note: str | None = None) -> EntryDetail:
        """Remove an entry with its lots and history, keeping what it was (and ``note``, why)
        for :meth:`changes`; returns the entry as it was."""
        from tracker.service.details import entry_detail
        from tracker.service.entries import remove_entry

        with self.session(writes=True) as session:
            detail = entry_detail(session, entry_id)
            remove_entry(session, entry_id, note)
        return detail

    def show(self, entry_id: str) -> EntryDetail:
        """One entry in full: fields, chip lots, sources, status history, and for a programme
        its parts and what it counts in totals (``.record()``: as ``--format json``)."""
        from tracker.service.details import entry_detail

        with self.session() as session:
            return entry_detail(session, entry_id)

    def sources(self, entry_id: str) -> Table:
        """The sources of an entry."""
        from tracker.service.lists import sources_table

        with self.session() as session:
            return sources_table(session, entry_id)

    # Reports -------------------------------------------------------------------------------

    def list(self, *, unsourced: bool = False, **filters: Unpack[FilterOptions]) -> Table:
        """Entries by id with their own chip counts (all lots, any status); ``unsourced``:
        only those without a source."""
        from tracker.service.lists import list_table

        with self.session() as session:
            return list_table(session, self._filters(session, filters, unsourced=unsourced))

    def summary(
        self,
        *,
        by: str | Sequence[str] = (),
        as_of: str | dt.date | None = None,
        total: bool = True,
        **filters: Unpack[FilterOptions],
    ) -> Table:
        """Planned accelerators grouped by ``by`` (default country and vendor), every chip
        counted once, with h100e and power; ``as_of``: as they stood on that day.
        ``total``: with the total row (False saves its work)."""
        from tracker.service.reports import summary_table

        keys = [key.lower() for key in _texts(by)]
        with self.session() as session:
            return summary_table(
                session, self._filters(session, filters, as_of=as_of), keys, with_total=total
            )

    def timeline(
        self,
        *,
        by: str = "quarter",
        cumulative: bool = False,
        as_of: str | dt.date | None = None,
        **filters: Unpack[FilterOptions],
    ) -> Table:
        """Accelerators coming online per quarter or year (``by``), counted as the summary
        counts them; ``cumulative`` adds running totals."""
        from tracker.service.reports import timeline_table
        from tracker.service.timeline import Bucket

        bucket = _choice(Bucket, by, "by")
        with self.session() as session:
            resolved = self._filters(session, filters, as_of=as_of)
            return timeline_table(session, resolved, bucket, with_cumulative=cumulative)

    def changes(self, since: str | dt.date) -> Table:
        """What was recorded since a day (UTC), oldest first, each with its source."""
        from tracker.service.lists import changes_table

        with self.session() as session:
            return changes_table(session, str(since))

    def check(self) -> Table:
        """Likely problems in the data, each with its entry and why."""
        from tracker.service.lists import check_table

        with self.session() as session:
            return check_table(session)

    def chart(
        self,
        kind: str,
        output: str | Path,
        *,
        by: str | None = None,
        stack: str = "vendor",
        as_of: str | dt.date | None = None,
        **filters: Unpack[FilterOptions],
    ) -> Path:
        """Draw the summary or the timeline (``kind``) as stacked bars into ``output`` (.png
        or .svg); returns its path. Needs matplotlib (the ``plot`` extra)."""
        from tracker.service.charts import draw_chart

        with self.session() as session:
            resolved = self._filters(session, filters, as_of=as_of)
            return draw_chart(session, kind, Path(output), resolved, by=by, stack=stack, given=dict(filters))

    # Files ---------------------------------------------------------------------------------

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
        values; ``dry_run``: check and count, write nothing; ``skip_invalid``: leave out the
        rows with problems (listed in the result); ``prune`` (Epoch): remove the entries of
        an earlier import that the file no longer gives. Warns of such entries without it."""
        from tracker.service.formats import FORMATS
        from tracker.service.formats.epoch import earlier_imports
        from tracker.service.imports import OnConflict, import_file

        read = FORMATS.get(file_format.lower())
        if read is None:
            raise InvalidValue("from", f"unknown format {file_format!r}; use one of: {', '.join(FORMATS)}")
        if prune and file_format.lower() != "epoch":
            raise InvalidValue("prune", "goes with the epoch format")
        conflict = _choice(OnConflict, on_conflict, "on_conflict") if on_conflict else None
        with _opened(file) as handle, self.session(alone=True) as session:
            label = name or str(file if isinstance(file, (str, Path)) else getattr(file, "name", "<file>"))
            result = import_file(
                session,
                handle,
                read,
                name=label,
                on_conflict=conflict,
                skip_invalid=skip_invalid,
                progress=progress,
            )
            if file_format.lower() == "epoch":
                result.stale = earlier_imports(session, result.ids, prune=prune)
            if dry_run:
                session.rollback()
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

    # Reference data ------------------------------------------------------------------------

    def regions(self, region: str | None = None) -> Table:
        """The regions, or the countries of one."""
        from tracker.service.lists import regions_table

        with self.session() as session:
            return regions_table(session, region)

    def chips(self, *, vendor: str | Sequence[str] = ()) -> Table:
        """The chip catalogue, each model with its figures and their source."""
        from tracker.service.lists import chips_table

        with self.session() as session:
            return chips_table(session, _texts(vendor))

    def add_chip(
        self,
        vendor: str,
        model: str,
        *,
        family: str | None = None,
        alias: str | Sequence[str] = (),
        note: str | None = None,
        new_vendor: bool = False,
        source: str | None = None,
        **figures: str | int | float | None,
    ) -> tuple[str, str]:
        """Add a model (and, ``new_vendor``, its vendor) to the catalogue, with spec-sheet
        ``figures`` (``bf16_tflops``, ``fp8_tflops``, ``tdp_w``, ``per_superchip``,
        ``per_server``, ``per_rack``) and their ``source``; returns (vendor, model)."""
        from tracker.service.catalogue import add_model, add_vendor, read_figures

        checked = read_figures(_figures(figures), source)
        with self.session(writes=True) as session:
            if new_vendor:
                vendor = add_vendor(session, vendor)
            return add_model(
                session, vendor, model, family=family, aliases=_texts(alias), notes=note, figures=checked
            )

    def set_chip(
        self, vendor: str, model: str, *, source: str | None = None, **figures: str | int | float | None
    ) -> tuple[str, str]:
        """Give a catalogue model spec-sheet ``figures`` with their ``source``; the others stay."""
        from tracker.service.catalogue import read_figures, set_figures

        checked = read_figures(_figures(figures), source)
        with self.session(writes=True) as session:
            return set_figures(session, vendor, model, checked)

    def tokens(self, *, provider: str | Sequence[str] = ()) -> Table:
        """Token figures by provider and period, in tokens per day, with their growth."""
        from tracker.service.lists import tokens_table

        with self.session() as session:
            return tokens_table(session, _texts(provider))

    def add_tokens(
        self,
        provider: str,
        *,
        as_of: str,
        source: str,
        per_day: str | int | None = None,
        per_month: str | int | None = None,
        share: str | float | None = None,
        note: str | None = None,
        new_provider: bool = False,
    ) -> AddedTokens:
        """Record how many tokens a provider served over a period (per day or per month, as
        the source gives it); returns the figure per day."""
        from tracker.service.tokens import add_tokens, read_tokens

        figure = read_tokens(
            provider, as_of, per_day=_text(per_day), per_month=_text(per_month), share=_text(share),
            source=source, note=note,
        )  # fmt: skip
        with self.session(writes=True) as session:
            return add_tokens(session, figure, new_provider=new_provider)


def stale_entries(stale: Sequence[str]) -> str:
    """Entries of an earlier Epoch import, in words: ``3 entries of an earlier Epoch import: a, b, c``."""
    shown = ", ".join(stale[:10]) + (f" and {len(stale) - 10} more" if len(stale) > 10 else "")
    return f"{len(stale)} entr{'ies' if len(stale) != 1 else 'y'} of an earlier Epoch import: {shown}"


def _text(value: object) -> str | None:
    """A value as the text a person would write: ``2025-06-11`` for a day, ``4000`` for 4000."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _texts(value: object) -> list[str]:
    """One value or several, as a list of texts (as a repeatable option gives them)."""
    if value is None:
        return []
    if isinstance(value, (str, int, float, dt.date)):
        return [str(_text(value))]
    return [str(_text(item)) for item in value]  # type: ignore[attr-defined]


def _choice(choices: Any, value: str, field: str) -> Any:
    try:
        return choices(value.lower())
    except ValueError:
        accepted = ", ".join(choice.value for choice in choices)
        raise InvalidValue(field, f"unknown value {value!r}; use one of: {accepted}") from None


_OPTION_OF_FIELD = {field.flag.lstrip("-").replace("-", "_"): field for field in ENTRY_FIELDS if field.flag}


def _entry_fields(
    options: dict[str, Given], *, lot_options: Sequence[str], updating: bool = False
) -> dict[str, Any]:
    """An entry's options (named as the CLI's, snake_case) as the service reads them: by field
    name, as text (``sources`` a list); a keyword that is none is a TypeError, as Python's own."""
    raw: dict[str, Any] = {}
    for option, value in options.items():
        if value is None:
            continue
        field = None if option in lot_options else _OPTION_OF_FIELD.get(option)  # a lot's own first
        if field is None and option not in lot_options:
            accepted = sorted({*_OPTION_OF_FIELD, *lot_options} - ({"name"} if not updating else set()))
            raise TypeError(f"unknown option {option!r}; options: {', '.join(accepted)}")
        if field is not None and updating and not field.updatable and field.stored is not Stored.LIST:
            raise InvalidValue(field.name, "cannot be changed with update")
        key = field.name if field else option
        # A list, or a repeated option (whose repeats the service refuses): its texts.
        if (field is not None and field.stored is Stored.LIST) or isinstance(value, (list, tuple)):
            raw[key] = _texts(value)
        else:
            raw[key] = _text(value)
    return raw


def _figures(figures: dict[str, str | int | float | None]) -> dict[str, str | None]:
    unknown = set(figures) - set(FIGURES)
    if unknown:
        raise TypeError(f"unknown figure {sorted(unknown)[0]!r}; figures: {', '.join(FIGURES)}")
    return {name: _text(value) for name, value in figures.items()}


@contextlib.contextmanager
def _opened(file: str | Path | TextIO) -> Iterator[TextIO]:
    """A file to import, as text that can be read again (see the CLI's own, for standard input)."""
    if not isinstance(file, (str, Path)):
        yield file
        return
    if not str(file).strip():
        raise InvalidValue("file", "is empty; give a CSV file")
    try:
        binary = Path(file).open("rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise InvalidValue("file", f"{file} does not exist") from None
    except IsADirectoryError:
        raise InvalidValue("file", f"{file} is a folder; give a CSV file") from None
    except OSError as error:
        raise InvalidValue("file", f"cannot read {file}: {error.strerror}") from None
    with binary:
        wrapper = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
        try:
            yield wrapper
        finally:
            wrapper.detach()


__all__ = ["FIELDS", "FilterOptions", "Table", "Tracker", "TrackerError", "TrackerWarning", "open"]
