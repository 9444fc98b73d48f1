"""``tracker publish``: a folder for people who will never install the tracker.

It holds the database's tables and views as CSV with a Frictionless ``datapackage.json``, a
read-only SQLite snapshot (``tracker.sqlite``) whose views give the tracker's own totals, with
Datasette's ``metadata.json``, and ``index.html``, one self-contained page. The folder is
written beside its destination and renamed into place: never half published.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import errno
import glob
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.errors import FileProblem, InvalidValue
from tracker.model.tables import ChipLot, Entry, EntrySource, Source
from tracker.service import database
from tracker.service.dump import dump_database
from tracker.service.filters import Filters
from tracker.service.formats.epoch import ATTRIBUTION
from tracker.service.page import Page, PageEntry, PageSource, render_page
from tracker.service.programmes import coverage
from tracker.service.published import (
    EPOCH_SOURCE,
    INTERNAL,
    TABLES,
    TRACKER_LICENCE,
    VIEWS,
    column_descriptions,
    columns_of,
    description_of,
    table_schema,
)
from tracker.service.restore import restore_database

SNAPSHOT = "tracker.sqlite"
# The qualifier of a sum of counted_lots, as the summary's total row says it (Qualifier.plus).
TOTAL_QUALIFIER = (
    "CASE WHEN MAX(qualifier = 'at-least') = 1 AND MAX(qualifier = 'up-to') = 1 THEN 'approx' "
    "WHEN MAX(qualifier = 'at-least') = 1 THEN 'at-least' WHEN MAX(qualifier = 'up-to') = 1 THEN 'up-to' "
    "WHEN MAX(qualifier = 'approx') = 1 THEN 'approx' ELSE 'exact' END"
)
LATEST = "latest"
# The filters that choose entries; the others choose lots or a day, which a snapshot of
# entries cannot hold.
_LOT_FILTERS = {
    "vendors": "--vendor", "models": "--model", "statuses": "--status", "as_of": "--as-of",
    "changed_since": "--changed-since", "unsourced": "--unsourced",
}  # fmt: skip
_CHILDREN = ("chip_lot", "entry_source", "status_event", "entry_change", "entry_verification")
_FTS_COLUMNS = ("name", "operator", "city", "notes")
# Tables of the working database a snapshot leaves out: history and bookkeeping, which the data
# package does not describe (edits may hold what was withdrawn; removals any country's).
_LEFT_OUT = (
    "entry_change", "entry_verification", "entry_removal", "seed_load", "alembic_version",
    "chip_vendor_alias", "chip_model_alias",
)  # fmt: skip


@dataclass(frozen=True)
class Published:
    folder: Path
    entries: int
    files: tuple[str, ...]


def check_filters(filters: Filters) -> None:
    """Refuse the filters a publication cannot hold: it publishes whole entries."""
    for name, option in _LOT_FILTERS.items():
        if getattr(filters, name):
            raise InvalidValue(
                option.removeprefix("--"),
                "cannot be published: a publication holds whole entries as they stand now; "
                "filter by place, operator, sponsor, confidence or announcement day",
            )


def publish(
    session: Session,
    filters: Filters,
    folder: Path,
    *,
    title: str,
    described: str,
    day: dt.date,
) -> Published:
    """Write the publication into ``folder``, new or a publication it replaces whole:
    ``described`` is the filters in words (empty: none), ``day`` the day it is published."""
    check_filters(filters)
    folder = _destination(folder)
    _remove_abandoned(folder)
    staging = Path(tempfile.mkdtemp(prefix=_staging_prefix(folder, os.getpid()), dir=folder.parent))
    try:
        snapshot = staging / SNAPSHOT
        kept = _snapshot(session, filters, snapshot)
        names = [*TABLES, *VIEWS]
        with _engine(snapshot) as engine, engine.connect() as connection:
            for name in names:
                _write_csv(connection, name, staging / f"{name}.csv")
            cites_epoch = (
                sa.select(sa.func.count()).select_from(Source).where(Source.reference == ATTRIBUTION)
            )
            epoch = bool(connection.scalar(cites_epoch))
        chosen = described or "every entry"
        _write_json(staging / "datapackage.json", _datapackage(names, title, chosen, day, epoch))
        _write_json(staging / "metadata.json", _metadata(title, chosen, day, epoch))
        page = render_page(page_of(session, filters, title, described, day))
        (staging / "index.html").write_text(page, encoding="utf-8")
        snapshot.chmod(0o444)
        _move_into_place(staging, folder)
    except BaseException as error:
        shutil.rmtree(staging, ignore_errors=True)
        if _disk_full(error):
            raise FileProblem("folder", f"the disk is full: no room to publish in {folder.parent}") from None
        raise
    files = tuple(sorted(path.name for path in folder.iterdir()))
    return Published(folder, kept, files)


def publish_dated(
    session: Session, filters: Filters, parent: Path, *, title: str, described: str, day: dt.date
) -> Published:
    """:func:`publish` into ``parent/DAY``, then point ``parent/latest`` at it, the link
    replaced in one step (a reader finds the old publication or the new one, never none)."""
    check_filters(filters)  # before the folder is made
    parent = parent.expanduser().absolute()
    if parent.exists() and not parent.is_dir():
        raise InvalidValue("folder", f"{parent} is not a folder; give the folder of the dated publications")
    if (parent / "datapackage.json").exists():
        raise InvalidValue(
            "folder", f"{parent} is a publication; give the folder that is to hold the dated ones"
        )
    if not parent.parent.is_dir():
        raise InvalidValue("folder", f"{parent.parent} does not exist")
    parent.mkdir(exist_ok=True)
    latest = parent / LATEST
    if latest.exists() and not latest.is_symlink():
        raise InvalidValue("folder", f"{latest} is not a link; remove it, or give another folder")
    result = publish(session, filters, parent / day.isoformat(), title=title, described=described, day=day)
    link = parent / f".{LATEST}.{os.getpid()}"
    try:
        link.unlink(missing_ok=True)
        link.symlink_to(day.isoformat())
        os.replace(link, latest)
    finally:
        link.unlink(missing_ok=True)
    return result


def _destination(folder: Path) -> Path:
    folder = folder.expanduser().absolute()
    if folder.is_symlink():
        raise InvalidValue("folder", f"{folder} is a link; give a folder of its own")
    if folder.exists() and not folder.is_dir():
        raise InvalidValue("folder", f"{folder} is a file; give a folder")
    if folder.is_dir():
        # Replaced whole only when it holds nothing but what a publication writes.
        ours = published_files()
        others = sorted(path.name for path in folder.iterdir() if path.name not in ours)
        if others or (any(folder.iterdir()) and not (folder / "datapackage.json").is_file()):
            shown = ", ".join(others[:3]) + (" and more" if len(others) > 3 else "")
            raise InvalidValue(
                "folder",
                f"{folder} holds other files ({shown or 'and no datapackage.json'}); "
                "give a new folder or an earlier publication",
            )
    if not folder.parent.is_dir():
        raise InvalidValue("folder", f"{folder.parent} does not exist")
    return folder


def published_files() -> frozenset[str]:
    """The names of the files a publication writes."""
    tables = (f"{name}.csv" for name in (*TABLES, *VIEWS))
    return frozenset((*tables, "datapackage.json", "metadata.json", "index.html", SNAPSHOT))


def _staging_prefix(folder: Path, pid: int) -> str:
    return f".{folder.name}.publishing.{pid}."


def _remove_abandoned(folder: Path) -> None:
    """Remove what a publication into ``folder`` that was killed left beside it: its staging
    folder, or the earlier publication it had renamed aside, once its process is gone."""
    for path in folder.parent.glob(f".{glob.escape(folder.name)}.*.*.*"):
        kind, _, rest = path.name.removeprefix(f".{folder.name}.").partition(".")
        pid = rest.partition(".")[0]
        ours = kind in ("publishing", "old") and pid.isdigit() and path.is_dir() and not path.is_symlink()
        if ours and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _disk_full(error: BaseException | None) -> bool:
    """Whether ``error`` (or what caused it) is a full disk, as a file or a database says it."""
    while error is not None:
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            return True
        if "disk is full" in str(error) or "No space left" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def _move_into_place(staging: Path, folder: Path) -> None:
    """The new folder in place of the old one, if any: renamed aside, then removed."""
    staging.chmod(0o755)
    if not folder.exists():
        os.rename(staging, folder)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old.{os.getpid()}.", dir=folder.parent))
    old.rmdir()  # a name of its own, for the old folder to be renamed to
    os.rename(folder, old)
    os.rename(staging, folder)
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def _engine(path: Path) -> Iterator[sa.Engine]:
    """A plain engine for the SQLite file at ``path`` (none of the working database's settings:
    no WAL, no foreign keys while it is cut down), disposed of after."""
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        yield engine
    finally:
        engine.dispose()


def _snapshot(session: Session, filters: Filters, path: Path) -> int:
    """The database as the filters choose it, restored from its dump into a new SQLite file,
    with the programmes' count as the filters make it; returns the entries kept."""
    with tempfile.TemporaryFile() as dump:
        dump_database(session, dump)
        dump.seek(0)
        engine = database.create_engine(f"sqlite:///{path}")  # as the tracker makes its databases
        try:
            restore_database(engine, dump, "the database")
        finally:
            engine.dispose()
    kept = set(session.scalars(sa.select(Entry.id).where(*filters.entry_conditions())))
    # What a programme adds, as the filters that say which announcements count make it
    # (a part left out by place still covers its programme: programmes.evidence).
    added = coverage(session, filters).added
    with _engine(path) as engine, engine.begin() as connection:
        connection.execute(sa.text("PRAGMA foreign_keys = OFF"))
        stored = set(connection.scalars(sa.select(Entry.id)))
        dropped = sorted(stored - kept)
        for start in range(0, len(dropped), 500):
            chunk = dropped[start : start + 500]
            for table in _CHILDREN:
                connection.execute(sa.text(f"DELETE FROM {table} WHERE entry_id IN :ids").bindparams(
                    sa.bindparam("ids", chunk, expanding=True)))  # fmt: skip
            connection.execute(sa.delete(Entry).where(Entry.id.in_(chunk)))
        connection.execute(
            sa.update(Entry).where(Entry.parent_id.not_in(sa.select(Entry.id))).values(parent_id=None)
        )
        # Sources cited by nothing published are left out.
        connection.execute(sa.text(
            "DELETE FROM source WHERE id NOT IN (SELECT source_id FROM entry_source) "
            "AND id NOT IN (SELECT source_id FROM status_event WHERE source_id IS NOT NULL) "
            "AND id NOT IN (SELECT source_id FROM token_metric WHERE source_id IS NOT NULL)"
        ))  # fmt: skip
        lots = set(connection.scalars(sa.select(ChipLot.id)))
        connection.execute(sa.text("DELETE FROM programme_lot_count"))
        rows = [
            {"lot_id": lot_id, "chips": amount.chips, "qualifier": amount.qualifier.value}
            for lot_id, amount in sorted(added.items())
            if lot_id in lots
        ]
        if rows:
            connection.execute(
                sa.text("INSERT INTO programme_lot_count VALUES (:lot_id, :chips, :qualifier)"), rows
            )
        connection.execute(sa.text("UPDATE count_state SET stale = 0"))
        for table in _LEFT_OUT:
            connection.execute(sa.text(f"DROP TABLE {table}"))
        # Read-only: no trigger to keep (a copy someone writes to has no tracker to recount).
        triggers = connection.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).all()
        for (trigger,) in triggers:
            connection.execute(sa.text(f'DROP TRIGGER "{trigger}"'))
        _full_text_search(connection)
    with _engine(path) as engine, engine.connect() as connection:
        connection.execute(sa.text("VACUUM"))
        # One file, readable where its reader cannot write (WAL would want a -shm file beside it).
        connection.execute(sa.text("PRAGMA journal_mode = DELETE"))
    return len(kept & stored)


def _full_text_search(connection: sa.Connection) -> None:
    """An FTS5 index of entries' names, operators, cities and notes, as Datasette finds it."""
    columns = ", ".join(_FTS_COLUMNS)
    connection.execute(sa.text(f"CREATE VIRTUAL TABLE entry_fts USING fts5({columns}, content='entry')"))
    connection.execute(sa.text("INSERT INTO entry_fts (entry_fts) VALUES ('rebuild')"))


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(round(value, 6)).removesuffix(".0")
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


def _write_csv(connection: sa.Connection, name: str, path: Path) -> None:
    columns = columns_of(name)
    types = {field["name"]: field["type"] for field in table_schema(name)["fields"]}
    order = ", ".join(_key_order(name))
    result = connection.execute(sa.text(f"SELECT {', '.join(columns)} FROM {name} ORDER BY {order}"))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in result:
            writer.writerow(_typed(value, types[column]) for value, column in zip(row, columns, strict=True))


def _typed(value: object, kind: str) -> str:
    """A cell as its Table Schema type reads it: booleans true/false, datetimes ISO 8601."""
    if value is None:
        return ""
    if kind == "boolean":
        return "true" if value in (1, True, "1") else "false"
    if kind == "integer":
        return str(int(value))  # type: ignore[call-overload]
    if kind == "datetime":
        text = str(value).replace(" ", "T")
        return text if text.endswith(("Z", "+00:00")) else text + "Z"
    return _cell(value)


def _key_order(name: str) -> Sequence[str]:
    if name in VIEWS:
        return ["1"] if name != "counted_lots" else ["entry_id", "lot"]
    primary_key: list[str] = table_schema(name)["primaryKey"]
    return primary_key


def _datapackage(
    names: Sequence[str], title: str, described: str, day: dt.date, epoch: bool
) -> dict[str, Any]:
    sources = [{"title": "The tracker's entries, each with its own sources (source, entry_source)"}]
    if epoch:
        sources.append(EPOCH_SOURCE)
    return {
        "name": "sovereign-ai-tracker",
        "title": title,
        "description": f"AI accelerators planned, under construction and online ({described}), as of {day}.",
        "created": f"{day.isoformat()}T00:00:00Z",
        "licenses": [TRACKER_LICENCE],
        "sources": sources,
        "resources": [
            {
                "name": name.replace("_", "-"),
                "path": f"{name}.csv",
                "title": name,
                "description": description_of(name),
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": _resource_schema(name),
            }
            for name in names
        ],
    }


def _resource_schema(name: str) -> dict[str, Any]:
    """The Table Schema, with foreign keys naming resources as the package names them."""
    schema = table_schema(name)
    for key in schema.get("foreignKeys", []):
        resource = key["reference"]["resource"]
        key["reference"]["resource"] = resource.replace("_", "-")
    return schema


def _metadata(title: str, described: str, day: dt.date, epoch: bool) -> dict[str, Any]:
    """Datasette's metadata.json (the 0.65 line): title, licence, source, every table, view and
    column described, canned queries and full-text search."""
    tables: dict[str, Any] = {
        name: {"description": description_of(name), "columns": column_descriptions(name)}
        for name in [*TABLES, *VIEWS]
    }
    for name, (what, columns) in INTERNAL.items():
        tables[name] = {"description": what, "columns": columns, "hidden": True}
    tables["entry"]["fts_table"] = "entry_fts"
    tables["entry"]["searchmode"] = "raw"
    source = "The tracker's own entries, each with its sources"
    if epoch:
        source += "; Epoch AI's GPU Clusters dataset (CC BY 4.0)"
    return {
        "title": title,
        "description": f"{described}, as of {day}. Totals count every chip once: use the summary views "
        "or counted_lots, never a plain SUM over chip_lot (a programme and its parts would count twice).",
        "license": TRACKER_LICENCE["title"],
        "license_url": TRACKER_LICENCE["path"],
        "source": source,
        "databases": {
            "tracker": {
                "tables": tables,
                "queries": {
                    "summary": {
                        "title": "Planned chips by country",
                        "description": "As `tracker summary --by country` gives them.",
                        "sql": "SELECT country, entries, chips, qualifier, ROUND(h100e, 1) AS h100e, "
                        "ROUND(power_mw, 1) AS power_mw FROM summary_by_country ORDER BY chips DESC, country",
                    },
                    "summary_by_vendor": {
                        "title": "Planned chips by vendor",
                        "sql": "SELECT vendor, entries, chips, qualifier, ROUND(h100e, 1) AS h100e, "
                        "ROUND(power_mw, 1) AS power_mw FROM summary_by_vendor ORDER BY chips DESC, vendor",
                    },
                    "total": {
                        "title": "Every chip planned, counted once",
                        "description": "As the total row of `tracker summary`, with how exactly it is known.",
                        "sql": "SELECT SUM(counted_chips) AS chips, " + TOTAL_QUALIFIER + " AS qualifier "
                        "FROM counted_lots",
                    },
                    "timeline": {
                        "title": "Chips coming online by quarter",
                        "sql": "SELECT period, entries, chips, qualifier, ROUND(h100e, 1) AS h100e "
                        "FROM timeline_by_quarter "
                        "ORDER BY period IS NULL, period_end, LENGTH(period) DESC",
                    },
                },
            }
        },
    }


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def source_links(session: Session, entry_ids: Sequence[str]) -> dict[str, list[tuple[str, str | None]]]:
    """Each entry's sources: reference and grade."""
    links: dict[str, list[tuple[str, str | None]]] = {}
    query = (
        sa.select(EntrySource.entry_id, Source.reference, Source.grade)
        .join(Source, Source.id == EntrySource.source_id)
        .order_by(EntrySource.entry_id, Source.reference)
    )
    wanted = set(entry_ids)
    for entry_id, reference, grade in session.execute(query):
        if entry_id in wanted:
            links.setdefault(entry_id, []).append((reference, grade))
    return links


def page_of(session: Session, filters: Filters, title: str, described: str, day: dt.date) -> Page:
    """What the web page shows, from the tracker's own reports on ``filters``."""
    from tracker.service.charts import timeline_chart
    from tracker.service.lists import list_table
    from tracker.service.reports import summary_table, timeline_table
    from tracker.service.sovereignty import sovereignty_table
    from tracker.service.timeline import Bucket

    summary = summary_table(session, filters, ["country", "vendor"], with_total=True)
    timeline = timeline_table(session, filters, Bucket.QUARTER, with_cumulative=False)
    chart = timeline_chart(session, filters, Bucket.QUARTER, "vendor", described, day)
    sovereignty = sovereignty_table(session, filters)
    listed = list_table(session, filters).rows
    links = source_links(session, [row["id"] for row in listed])
    lots = lot_texts(session, [row["id"] for row in listed])
    entries = tuple(
        PageEntry(
            id=row["id"],
            name=row["name"],
            place=row["country"] or row["scope"] or "",
            operator=row["operator"],
            status=row["status"],
            chips=lots.get(row["id"], ""),
            announced=row["announced"],
            online=row["online"],
            parent=row["parent"],
            sources=tuple(
                PageSource(reference, None, grade) for reference, grade in links.get(row["id"], [])
            ),
        )
        for row in listed
    )
    return Page(
        title=title,
        generated=day.isoformat(),
        filters=described or "every entry",
        summary=summary,
        by_country=summary_table(session, filters, ["country"], with_total=True),
        by_vendor=summary_table(session, filters, ["vendor"], with_total=True),
        timeline=timeline,
        chart=None if chart.empty else chart,
        sovereignty=sovereignty if len(sovereignty) else None,
        entries=entries,
        licence=_licence(any(reference == ATTRIBUTION for cited in links.values() for reference, _ in cited)),
        notes=tuple(
            dict.fromkeys(
                (
                    "Every chip is counted once: a programme's count (an entry with parts) holds its "
                    "parts' chips, and adds to the totals only what they do not cover.",
                    *summary.notes,
                    *sovereignty.notes,
                    *sovereignty.for_people().notes,
                )
            )
        ),
    )


def _licence(epoch: bool) -> str:
    """The page's licence line; Epoch AI attributed where its rows are published."""
    licence = "Data: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/), each figure with its sources."
    if epoch:
        licence += " Rows from Epoch AI's GPU Clusters dataset: Epoch AI, CC BY 4.0."
    return licence


def lot_texts(session: Session, entry_ids: Sequence[str]) -> dict[str, str]:
    """Each entry's lots as people read them: ``≥ 4,000 NVIDIA B300; 1,000 AMD``."""
    from tracker.service.tables import Count

    wanted = set(entry_ids)
    texts: dict[str, list[str]] = {}
    query = sa.select(ChipLot.entry_id, ChipLot.quantity, ChipLot.qualifier, ChipLot.vendor, ChipLot.model)
    for entry_id, chips, qualifier, vendor, model in session.execute(
        query.order_by(ChipLot.entry_id, ChipLot.lot)
    ):
        if entry_id in wanted:
            texts.setdefault(entry_id, []).append(
                " ".join(filter(None, (str(Count(chips, qualifier)), vendor, model)))
            )
    return {entry_id: "; ".join(parts) for entry_id, parts in texts.items()}
