"""The dump: everything a user recorded, history included, as UTF-8 JSON Lines (the format is
documented in docs/dump.md), and its record types.

A CSV export carries the chip lots as they stand; a dump carries what it takes to answer
every question the database answers: status events, edits, removals, token figures, sources,
the catalogue as extended and edited. :mod:`tracker.service.restore` loads it into an empty
database, on SQLite or PostgreSQL, whose dump then has the same bytes.

The record types and their fields come from the tables themselves (tracker/model/tables.py):
a column added by a later migration joins the dump, and a test fails until a new table is
dumped or said not to be (:data:`NOT_DUMPED`).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.model.tables import Base, UTCDateTime
from tracker.service.export import refuse_database_file
from tracker.service.files import atomic_file

FORMAT_NAME = "tracker-dump"
FORMAT_VERSION = 2  # raised whenever a record type or a field is removed or changed, or a type added
# Versions this tracker restores: 1 has no operators, grades, vendor countries or verifications
# (its entries' operators become operators, as the migration to version 2's schema makes them).
READ_VERSIONS = (1, 2)
# The fields of each record type in version 2. A field that a later version of the tracker adds
# to an entry (tracker/model/fields.py) is written after these, without a new version: a dump
# without it (an older one) restores it empty, and a tracker that does not know it refuses it.
VERSION_FIELDS = {
    "chip_vendor": "name country country_source",
    "chip_vendor_alias": "alias vendor",
    "chip_model": "vendor name family bf16_tflops fp8_tflops tdp_w per_superchip per_server per_rack "
    "figures_source notes",
    "chip_model_alias": "vendor alias model",
    "source": "reference publisher published_on grade",
    "operator": "name hq_country kind group_name hq_source",
    "operator_alias": "alias operator",
    "entry": "id name operator country scope city kind sponsor status confidence announced_on "
    "online_start online_precision power_mw parent_id notes created_at updated_at",
    "chip_lot": "id entry_id lot vendor model quantity qualifier announced_quantity announced_unit "
    "status online_start online_precision",
    "entry_source": "entry_id source",
    "status_event": "id entry_id from_status to_status effective_on recorded_at source note",
    "entry_change": "id entry_id field old_value new_value changed_at source",
    "entry_removal": "id entry_id summary removed_at note",
    "entry_verification": "id entry_id verified_on recorded_at source",
    "token_metric": "id provider period_start period_precision tokens_per_day reported_tokens "
    "reported_per share_pct source note",
    "seed_load": "name loaded_at",
}
# What version 1 did not have: these types, and these fields (restored empty from it).
VERSION_2_TYPES = {"operator", "operator_alias", "entry_verification"}
VERSION_2_FIELDS = {"chip_vendor": {"country", "country_source"}, "source": {"grade"}}
# Fields added since version 2 to records other than entries, written after the version's
# fields without a new version: a dump without them (an older one) restores them empty, and
# the restore then gives a bundled model the bundled figures it lacks, as `tracker init` does.
LATER_FIELDS = {"chip_model": ("fp16_tflops", "int8_tops")}
# Rows read, or inserted, together; a batch's sources fit in one IN (...) on every database.
ROWS_PER_BATCH = 900
# Far more than any record the tracker writes (a note is at most 10,000 characters): a line
# longer than this is not a record of a dump, and is not read into memory whole.
MAX_LINE_BYTES = 16 * 2**20

SOURCE_FIELD = "source"  # a source is written as its reference, never as its id
SOURCE_ID = "source_id"
TABLES = Base.metadata.tables


@dataclass(frozen=True)
class RecordType:
    """One type of record of the dump: the rows of one table, in the order of ``key``.

    ``merged`` records are reference data (the catalogue, the sources, the markers of the
    seeds loaded) which a new database holds in part already: restore merges them into it,
    the dump's values winning. The others are what users record, and restore refuses a
    database that holds any of them.
    """

    name: str
    key: tuple[str, ...]
    singular: str
    plural: str
    merged: bool = False

    @property
    def table(self) -> sa.Table:
        return TABLES[self.name]

    @functools.cached_property
    def fields(self) -> tuple[str, ...]:
        """The record's fields: the table's columns, a source id written as ``source`` (its
        reference), and without a source's own id."""
        return tuple(field_name(self, column) for column in dumped_columns(self))

    def counted(self, count: int) -> str:
        """``1 entry``, ``2 entries``."""
        return f"{count:,} {self.singular if count == 1 else self.plural}"


# In the order of the dump, which is the order restore inserts them in: what a record
# refers to comes before it.
RECORD_TYPES = (
    RecordType("chip_vendor", ("name",), "chip vendor", "chip vendors", merged=True),
    RecordType("chip_vendor_alias", ("alias",), "vendor alias", "vendor aliases", merged=True),
    RecordType("chip_model", ("vendor", "name"), "chip model", "chip models", merged=True),
    RecordType("chip_model_alias", ("vendor", "alias"), "model alias", "model aliases", merged=True),
    RecordType("source", ("reference",), "source", "sources", merged=True),
    RecordType("operator", ("name",), "operator", "operators", merged=True),
    RecordType("operator_alias", ("alias",), "operator alias", "operator aliases", merged=True),
    RecordType("entry", ("id",), "entry", "entries"),
    RecordType("chip_lot", ("id",), "chip lot", "chip lots"),
    RecordType("entry_source", ("entry_id", SOURCE_FIELD), "source link", "source links"),
    RecordType("status_event", ("id",), "status change", "status changes"),
    RecordType("entry_change", ("id",), "edit", "edits"),
    RecordType("entry_removal", ("id",), "removal", "removals"),
    RecordType("entry_verification", ("id",), "verification", "verifications"),
    RecordType("token_metric", ("id",), "token figure", "token figures"),
    RecordType("seed_load", ("name",), "seed marker", "seed markers", merged=True),
)
BY_NAME = {record_type.name: record_type for record_type in RECORD_TYPES}
POSITION = {record_type.name: index for index, record_type in enumerate(RECORD_TYPES)}

# Tables left out of the dump, and why.
NOT_DUMPED = {
    "region": "the bundled regions, which users cannot change; every database loads them",
    "region_country": "the countries of the bundled regions, which users cannot change",
    "programme_lot_count": "worked out from the entries and lots: a restore counts the programmes again",
    "count_state": "whether programme_lot_count is up to date: a restore counts the programmes again",
}


def dumped_columns(record_type: RecordType) -> list[sa.Column[Any]]:
    return [
        column
        for column in record_type.table.columns
        if not (record_type.name == "source" and column.name == "id")
    ]


def field_name(record_type: RecordType, column: sa.Column[Any]) -> str:
    return SOURCE_FIELD if column.name == SOURCE_ID else column.name


# Writing.


def dump_database(session: Session, handle: IO[bytes]) -> dict[str, int]:
    """Write the dump of the database to ``handle``; returns how many records of each type.

    Rows are streamed a batch at a time. The session should see one snapshot in all its
    queries (:func:`tracker.service.export.consistent_reads`), so that the records agree.
    """
    handle.write(_line({"type": "header", "format": FORMAT_NAME, "version": FORMAT_VERSION}))
    counts = {record_type.name: _write_records(session, record_type, handle) for record_type in RECORD_TYPES}
    handle.write(_line({"type": "end", "records": counts}))
    return counts


def dump_to_path(session: Session, path: Path) -> dict[str, int]:
    """Write the dump to ``path``, whole or not at all; never over the database itself."""
    refuse_database_file(session, path)
    with atomic_file(path, "output", binary=True) as handle:
        return dump_database(session, handle)


def _write_records(session: Session, record_type: RecordType, handle: IO[bytes]) -> int:
    fields = record_type.fields
    encoders = [_encoder(column) for column in dumped_columns(record_type)]

    def record(row: Any) -> dict[str, object]:
        values = {name: encode(value) for name, encode, value in zip(fields, encoders, row, strict=True)}
        values["type"] = record_type.name
        return values

    count = 0
    with session.connection().execute(_records_query(session, record_type)) as result:
        for rows in result.partitions():
            handle.write(b"".join(_line(record(row)) for row in rows))
            count += len(rows)
    return count


def _records_query(session: Session, record_type: RecordType) -> sa.Select[Any]:
    """A type's rows, their sources as references, in the order of its key: bytewise for
    text on every database, whatever the server's collation."""
    table = record_type.table
    cited = TABLES["source"].alias("cited")
    selected = {
        field_name(record_type, column): (cited.c.reference if column.name == SOURCE_ID else column)
        for column in dumped_columns(record_type)
    }
    query = sa.select(*selected.values())
    if SOURCE_ID in table.c:
        query = query.select_from(table.outerjoin(cited, cited.c.id == table.c[SOURCE_ID]))
    postgresql = session.get_bind().dialect.name == "postgresql"
    order = [
        selected[name].collate("C")
        if postgresql and isinstance(selected[name].type, sa.String)
        else selected[name]
        for name in record_type.key
    ]
    return query.order_by(*order).execution_options(yield_per=ROWS_PER_BATCH)


def _encoder(column: sa.Column[Any]) -> Callable[[Any], object]:
    """How a column's values are written: days and moments in ISO 8601 (moments in UTC, with
    the offset), decimals as text with the column's digits after the point (exact), the rest
    as JSON has them."""
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return lambda value: None if value is None else value.astimezone(dt.timezone.utc).isoformat()
    if isinstance(kind, sa.Date):
        return lambda value: None if value is None else value.isoformat()
    if isinstance(kind, sa.Numeric):
        digits = f".{kind.scale or 0}f"
        return lambda value: None if value is None else format(Decimal(value), digits)
    return lambda value: value


# Characters some tools take for the end of a line (Python's str.splitlines does), which JSON
# leaves as they are within text: escaped, so that a line is always one record.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _line(record: dict[str, object]) -> bytes:
    text = json.dumps(record, sort_keys=True, ensure_ascii=False).translate(_LINE_BREAKS)
    return text.encode("utf-8") + b"\n"


def counted_records(counts: dict[str, int]) -> list[str]:
    """Counts of records as words (``5 entries``): users' records first, then reference data."""
    ordered = sorted(RECORD_TYPES, key=lambda record_type: record_type.merged)
    return [record_type.counted(counts.get(record_type.name, 0)) for record_type in ordered]
