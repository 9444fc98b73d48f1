"""The dump: everything a user recorded, history included, as UTF-8 JSON Lines; and its
restore into an empty database (the format is documented in docs/dump.md).

A CSV export carries the chip lots as they stand; a dump carries what it takes to answer
every question the database answers: status events, edits, removals, token figures, sources,
the catalogue as extended and edited. Restoring it into an empty database, on SQLite or
PostgreSQL, gives a database whose dump has the same bytes.

The record types and their fields come from the tables themselves (tracker/model/tables.py):
a column added by a later migration joins the dump (and the format's version is raised), and
a test fails until a new table is dumped or said not to be (:data:`NOT_DUMPED`).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tracker.errors import Conflict, DumpRejected, InvalidValue, SchemaError
from tracker.model.countries import parse_country
from tracker.model.tables import Base, UTCDateTime
from tracker.service import database, seeds
from tracker.service.export import _refuse_database_file
from tracker.service.files import atomic_file

FORMAT_NAME = "tracker-dump"
FORMAT_VERSION = 1  # raised whenever a record type or a field is removed or changed, or a type added
# The fields of each record type in version 1. A field that a later version of the tracker adds
# to an entry (tracker/model/fields.py) is written after these, without a new version: a dump
# without it (an older one) restores it empty, and a tracker that does not know it refuses it.
VERSION_FIELDS = {
    "chip_vendor": "name",
    "chip_vendor_alias": "alias vendor",
    "chip_model": "vendor name family bf16_tflops fp8_tflops tdp_w per_superchip per_server per_rack "
    "figures_source notes",
    "chip_model_alias": "vendor alias model",
    "source": "reference publisher published_on",
    "entry": "id name operator country scope city kind sponsor status confidence announced_on "
    "online_start online_precision power_mw parent_id notes created_at updated_at",
    "chip_lot": "id entry_id lot vendor model quantity qualifier announced_quantity announced_unit "
    "status online_start online_precision",
    "entry_source": "entry_id source",
    "status_event": "id entry_id from_status to_status effective_on recorded_at source note",
    "entry_change": "id entry_id field old_value new_value changed_at source",
    "entry_removal": "id entry_id summary removed_at note",
    "token_metric": "id provider period_start period_precision tokens_per_day reported_tokens "
    "reported_per share_pct source note",
    "seed_load": "name loaded_at",
}
# Rows read, or inserted, together; a batch's sources fit in one IN (...) on every database.
ROWS_PER_BATCH = 900
# Far more than any record the tracker writes (a note is at most 10,000 characters): a line
# longer than this is not a record of a dump, and is not read into memory whole.
MAX_LINE_BYTES = 16 * 2**20

SOURCE_FIELD = "source"  # a source is written as its reference, never as its id
_SOURCE_ID = "source_id"
_TABLES = Base.metadata.tables


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
        return _TABLES[self.name]

    @functools.cached_property
    def fields(self) -> tuple[str, ...]:
        """The record's fields: the table's columns, a source id written as ``source`` (its
        reference), and without a source's own id."""
        return tuple(_field_name(self, column) for column in _dumped_columns(self))

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
    RecordType("entry", ("id",), "entry", "entries"),
    RecordType("chip_lot", ("id",), "chip lot", "chip lots"),
    RecordType("entry_source", ("entry_id", SOURCE_FIELD), "source link", "source links"),
    RecordType("status_event", ("id",), "status change", "status changes"),
    RecordType("entry_change", ("id",), "edit", "edits"),
    RecordType("entry_removal", ("id",), "removal", "removals"),
    RecordType("token_metric", ("id",), "token figure", "token figures"),
    RecordType("seed_load", ("name",), "seed marker", "seed markers", merged=True),
)
_BY_NAME = {record_type.name: record_type for record_type in RECORD_TYPES}
_POSITION = {record_type.name: index for index, record_type in enumerate(RECORD_TYPES)}

# Tables left out of the dump, and why.
NOT_DUMPED = {
    "region": "the bundled regions, which users cannot change; every database loads them",
    "region_country": "the countries of the bundled regions, which users cannot change",
}


def _dumped_columns(record_type: RecordType) -> list[sa.Column[Any]]:
    return [
        column
        for column in record_type.table.columns
        if not (record_type.name == "source" and column.name == "id")
    ]


def _field_name(record_type: RecordType, column: sa.Column[Any]) -> str:
    return SOURCE_FIELD if column.name == _SOURCE_ID else column.name


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
    _refuse_database_file(session, path)
    with atomic_file(path, "output", binary=True) as handle:
        return dump_database(session, handle)


def _write_records(session: Session, record_type: RecordType, handle: IO[bytes]) -> int:
    fields = record_type.fields
    encoders = [_encoder(column) for column in _dumped_columns(record_type)]

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
    cited = _TABLES["source"].alias("cited")
    selected = {
        _field_name(record_type, column): (cited.c.reference if column.name == _SOURCE_ID else column)
        for column in _dumped_columns(record_type)
    }
    query = sa.select(*selected.values())
    if _SOURCE_ID in table.c:
        query = query.select_from(table.outerjoin(cited, cited.c.id == table.c[_SOURCE_ID]))
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


# Reading.


class _Invalid(Exception):
    """A field's value that restore does not accept; its message."""


def _shown(value: object) -> str:
    return str(value) if isinstance(value, Decimal) else repr(value)


def _text(length: int | None) -> Callable[[object], object]:
    def read(value: object) -> object:
        if not isinstance(value, str):
            raise _Invalid(f"{_shown(value)} is not text")
        if length is not None and len(value) > length:
            raise _Invalid(f"is {len(value):,} characters long; at most {length:,}")
        return value

    return read


def _whole(bits: int) -> Callable[[object], object]:
    limit = 2 ** (bits - 1)

    def read(value: object) -> object:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _Invalid(f"{_shown(value)} is not a whole number")
        if not -limit <= value < limit:
            raise _Invalid(f"{value} is out of range: at most {limit - 1:,}")
        return value

    return read


_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _decimal(precision: int, scale: int) -> Callable[[object], object]:
    def read(value: object) -> object:
        if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
            raise _Invalid(f'{_shown(value)} is not a decimal number written as text, such as "12.5"')
        whole, _, fraction = value.lstrip("-").partition(".")
        if len(fraction) > scale:
            raise _Invalid(f"{value!r} has more than {scale} digits after the point")
        if len(whole.lstrip("0")) > precision - scale:
            raise _Invalid(f"{value!r} is too large: at most {precision - scale} digits before the point")
        return Decimal(value)

    return read


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _day(value: object) -> object:
    try:
        if isinstance(value, str) and _DAY.fullmatch(value):
            return dt.date.fromisoformat(value)
    except ValueError:
        pass
    raise _Invalid(f"{_shown(value)} is not a day written YYYY-MM-DD")


def _moment(value: object) -> object:
    try:
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise _Invalid(
            f"{_shown(value)} is not a moment written as ISO 8601, such as 2025-06-11T09:30:00+00:00"
        )
    if moment.tzinfo is None:
        raise _Invalid(f"{value!r} has no UTC offset; write it as 2025-06-11T09:30:00+00:00")
    return moment.astimezone(dt.timezone.utc)


def _country(value: object) -> object:
    try:
        if parse_country(str(value)) == value:
            return value
    except InvalidValue:
        pass
    raise _Invalid(f"{_shown(value)} is not an ISO 3166-1 alpha-2 code, such as FR")


_CHOICES = re.compile(r"(\w+) = '[^']*'(?: OR \1 = '[^']*')*")
# Checks the tables do not make, which every command makes on the way in.
_FIELD_CHECKS: dict[tuple[str, str], Callable[[object], object]] = {("entry", "country"): _country}


def _choices(table: sa.Table) -> dict[str, tuple[str, ...]]:
    """The vocabulary of each column that a CHECK keeps within one (see
    :func:`tracker.model.tables.one_of`): read from the CHECK itself, so that restore
    accepts exactly what the database does, and says so in a sentence."""
    found: dict[str, tuple[str, ...]] = {}
    for constraint in table.constraints:
        if isinstance(constraint, sa.CheckConstraint):
            text = str(constraint.sqltext)
            if match := _CHOICES.fullmatch(text):
                found[match.group(1)] = tuple(re.findall(r"= '([^']*)'", text))
    return found


def _reader(
    record_type: RecordType, column: sa.Column[Any], choices: tuple[str, ...] | None
) -> Callable[[object], object]:
    """How a field's JSON value is checked and turned into the column's value (a source's,
    into its reference)."""
    kind = _TABLES["source"].c.reference.type if column.name == _SOURCE_ID else column.type
    read: Callable[[object], object]
    if isinstance(kind, UTCDateTime):
        read = _moment
    elif isinstance(kind, sa.Date):
        read = _day
    elif isinstance(kind, sa.Numeric):
        read = _decimal(kind.precision or 0, kind.scale or 0)
    elif isinstance(kind, sa.Integer):
        read = _whole(64 if isinstance(kind, sa.BigInteger) else 32)
    else:
        read = _text(getattr(kind, "length", None))
    special = _FIELD_CHECKS.get((record_type.name, column.name))
    nullable = bool(column.nullable)

    def checked(value: object) -> object:
        if value is None:
            if nullable:
                return None
            raise _Invalid("is required: null given")
        value = read(value)
        if choices is not None and value not in choices:
            raise _Invalid(f"{_shown(value)} is not one of {', '.join(choices)}")
        return special(value) if special else value

    return checked


@functools.cache
def _readers(record_type: RecordType) -> dict[str, Callable[[object], object]]:
    choices = _choices(record_type.table)
    return {
        _field_name(record_type, column): _reader(record_type, column, choices.get(column.name))
        for column in _dumped_columns(record_type)
    }


def _no_duplicate_fields(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    record = dict(pairs)
    if len(record) != len(pairs):
        twice = next(key for i, (key, _) in enumerate(pairs) if key in dict(pairs[:i]))
        raise _Invalid(f"field {twice} is given twice")
    return record


def _no_constant(name: str) -> object:
    raise _Invalid(f"{name} is not a number a dump holds")


class _DumpFile:
    """The records of a dump file, read and checked a line at a time."""

    def __init__(self, handle: IO[bytes], name: str) -> None:
        self._handle = handle
        self.name = name
        self.counts = {record_type.name: 0 for record_type in RECORD_TYPES}
        self._line = 0
        self._lines = self._read_lines()

    def problem(self, message: str, line: int | None = None) -> DumpRejected:
        return DumpRejected(f"{self.name}:{line or self._line}: {message}")

    def read_header(self) -> None:
        """Check the first line: a header of a format version this tracker reads."""
        first = next(self._lines, None)
        if first is None:
            raise DumpRejected(f"{self.name}: is empty: a dump begins with its header record")
        not_a_dump = "not a tracker dump: a dump begins with its header record"
        try:
            header = self._record(*first)
        except DumpRejected:
            raise self.problem(not_a_dump) from None
        if header.get("type") != "header" or header.get("format") != FORMAT_NAME:
            raise self.problem(not_a_dump)
        version = header.get("version")
        if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
            raise self.problem(
                f"dump format version {version} is newer than this tracker reads ({FORMAT_VERSION}); "
                "upgrade the tracker"
            )
        if version != FORMAT_VERSION or isinstance(version, bool):
            raise self.problem(
                f"dump format version {_shown(version)} is not one this tracker reads ({FORMAT_VERSION})"
            )
        if set(header) != {"type", "format", "version"}:
            unknown = ", ".join(sorted(set(header) - {"type", "format", "version"}))
            raise self.problem(f"header: unknown field {unknown}")

    def records(self) -> Iterator[tuple[int, RecordType, dict[str, object]]]:
        """Each record after the header: its line, its type and its values as the table's
        columns take them (a source still as its reference). Checks the order of the types
        and, at the end record, that no record is missing."""
        position = 0
        ended = False
        for text, complete in self._lines:
            record = self._record(text, complete)
            if ended:
                raise self.problem("a record after the end record")
            kind = record.pop("type", None)
            if kind == "end":
                self._check_end(record)
                ended = True
                continue
            if not isinstance(kind, str) or kind not in _BY_NAME:
                raise self.problem(
                    f"unknown record type {_shown(kind)}" if kind is not None else "a record without its type"
                )
            if _POSITION[kind] < position:
                after = RECORD_TYPES[position].name
                article = "an" if kind[0] in "aeiou" else "a"
                raise self.problem(
                    f"{article} {kind} record after {after} records; records go in the order of docs/dump.md"
                )
            position = _POSITION[kind]
            record_type = _BY_NAME[kind]
            yield self._line, record_type, self._values(record_type, record)
            self.counts[kind] += 1
        if not ended:
            raise DumpRejected(
                f"{self.name}: ends after line {self._line} without its end record: the file is truncated"
            )

    def _read_lines(self) -> Iterator[tuple[str, bool]]:
        """Each line as text, and whether it ends as a line does."""
        while raw := self._handle.readline(MAX_LINE_BYTES + 1):
            self._line += 1
            complete = raw.endswith(b"\n")
            if len(raw) > MAX_LINE_BYTES and not complete:
                raise self.problem(
                    f"the line is longer than {MAX_LINE_BYTES // 2**20} MiB: not a record of a dump"
                )
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise self.problem(f"not UTF-8 text (byte {error.start + 1} of the line)") from None
            yield (text.removeprefix("\ufeff") if self._line == 1 else text), complete

    def _record(self, text: str, complete: bool) -> dict[str, Any]:
        try:
            record = json.loads(
                text, object_pairs_hook=_no_duplicate_fields, parse_float=Decimal, parse_constant=_no_constant
            )
        except json.JSONDecodeError as error:
            if not complete:
                raise self.problem("the line is cut short: the file is truncated") from None
            raise self.problem(f"not a JSON record: {error.msg} at column {error.colno}") from None
        except _Invalid as error:
            raise self.problem(str(error)) from None
        if not isinstance(record, dict):
            raise self.problem("not a JSON record: a record is an object, {...}")
        return record

    def _values(self, record_type: RecordType, record: dict[str, Any]) -> dict[str, object]:
        readers = _readers(record_type)
        required = VERSION_FIELDS[record_type.name].split()
        missing = [name for name in readers if name not in record and name in required]
        if missing:
            raise self.problem(
                f"{record_type.name}: no field{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
            )
        unknown = sorted(set(record) - set(readers))
        if unknown:
            raise self.problem(
                f"{record_type.name}: unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                "(a field of a newer tracker: upgrade the tracker)"
            )
        values: dict[str, object] = {name: None for name in readers if name not in record}  # added since
        for name, read in readers.items():
            if name not in record:
                continue
            try:
                values[name] = read(record[name])
            except _Invalid as error:
                raise self.problem(f"{record_type.name}.{name}: {error}") from None
        return values

    def _check_end(self, record: dict[str, Any]) -> None:
        declared = record.get("records")
        if set(record) != {"records"} or not isinstance(declared, dict) or set(declared) != set(self.counts):
            raise self.problem(
                'the end record is not one this tracker writes: {"records": {TYPE: COUNT, ...}}'
            )
        for name, count in self.counts.items():
            if declared[name] != count:
                raise self.problem(
                    f"the end record counts {_shown(declared[name])} {name} records, the file holds {count}: "
                    "lines are missing or were added"
                )


# Restoring.


def restore_database(engine: Engine, handle: IO[bytes], name: str) -> dict[str, int]:
    """Load the dump read from ``handle`` (``name`` in messages) into the database, which must
    hold no user records; returns how many records of each type it held.

    All or nothing, in one transaction: a database without the schema gets it first (and
    the bundled reference data, not the seed entries), within the same transaction. Ids of
    history rows are kept, so that `tracker changes` lists them in the same order; sources
    are matched by their reference. Raises :class:`DumpRejected` naming the file and line of
    the first problem, and :class:`Conflict` for a database that holds records already.
    """
    dump = _DumpFile(handle, name)
    dump.read_header()  # a file that is no dump of ours is refused before the database is touched
    with database.connect(database.for_writing(engine)) as connection, connection.begin():
        database.lock_schema(connection)
        state = database.schema_state(connection)
        if state == "outdated":
            raise SchemaError(
                f"the database {database.safe_url(engine.url)} has an older schema; "
                "run `tracker init` to upgrade it"
            )
        if state == "empty":
            database.upgrade(connection)
            with Session(bind=connection) as session:
                seeds.load_reference(session)
                session.flush()
        _refuse_unless_empty(connection)
        restorer = _Restorer(connection, name)
        for line, record_type, values in dump.records():
            restorer.add(line, record_type, values)
        restorer.finish()
    return dump.counts


def _refuse_unless_empty(connection: sa.Connection) -> None:
    """Refuse a database that holds records of users; on PostgreSQL, keep others from adding
    any until the restore is committed."""
    recorded = [record_type for record_type in RECORD_TYPES if not record_type.merged]
    if connection.dialect.name == "postgresql":
        tables = ", ".join(record_type.name for record_type in recorded)
        connection.exec_driver_sql(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
    held = []
    for record_type in recorded:
        count = connection.execute(sa.select(sa.func.count()).select_from(record_type.table)).scalar_one()
        if count:
            held.append(record_type.counted(count))
    if held:
        raise Conflict(
            f"the database {database.safe_url(connection.engine.url)} already holds {', '.join(held)}; "
            "restore loads a dump into an empty database only: a new one, or one made by "
            "`tracker init --no-seed`"
        )


class _Restorer:
    """Inserts the records of a dump in batches, each batch under a savepoint: when the
    database refuses one, its rows are tried one at a time to name the line it refuses."""

    def __init__(self, connection: sa.Connection, name: str) -> None:
        self._connection = connection
        self._name = name
        self._type: RecordType | None = None
        self._pending: list[tuple[int, dict[str, object]]] = []
        # Entries go in without their programme, which may come after them (entries are in
        # id order); each part's programme (and the line that gave it) is set afterwards.
        self._parents: dict[str, tuple[int, str]] = {}

    def add(self, line: int, record_type: RecordType, values: dict[str, object]) -> None:
        if record_type is not self._type:
            self._flush()
            self._attach_parts()
            self._type = record_type
        if record_type.name == "entry" and values["parent_id"] is not None:
            self._parents[str(values["id"])] = (line, str(values["parent_id"]))
            values["parent_id"] = None
        self._pending.append((line, values))
        if len(self._pending) >= ROWS_PER_BATCH:
            self._flush()

    def finish(self) -> None:
        self._flush()
        self._attach_parts()
        if self._connection.dialect.name == "postgresql":
            self._move_sequences()

    def _problem(self, line: int, message: str) -> DumpRejected:
        return DumpRejected(f"{self._name}:{line}: {message}")

    def _flush(self) -> None:
        rows, self._pending = self._pending, []
        if not rows or self._type is None:
            return
        if SOURCE_FIELD in self._type.fields:
            self._source_ids(self._type, rows)
        self._insert(self._type, rows)

    def _source_ids(self, record_type: RecordType, rows: list[tuple[int, dict[str, object]]]) -> None:
        """Put each row's source id in place of its reference."""
        source = _TABLES["source"]
        references = sorted(
            {str(values[SOURCE_FIELD]) for _, values in rows if values[SOURCE_FIELD] is not None}
        )
        query = sa.select(source.c.reference, source.c.id).where(source.c.reference.in_(references))
        found = {reference: id_ for reference, id_ in self._connection.execute(query)} if references else {}
        for line, values in rows:
            reference = values.pop(SOURCE_FIELD)
            if reference is not None and reference not in found:
                raise self._problem(
                    line,
                    f"{record_type.name}.{SOURCE_FIELD}: no source record has the reference {reference!r}",
                )
            values[_SOURCE_ID] = found.get(str(reference)) if reference is not None else None

    def _insert(self, record_type: RecordType, rows: list[tuple[int, dict[str, object]]]) -> None:
        statement = self._statement(record_type)
        refused = (sa.exc.IntegrityError, sa.exc.DataError)
        try:
            with self._connection.begin_nested():
                self._connection.execute(statement, [values for _, values in rows])
        except refused:
            for line, values in rows:
                try:
                    with self._connection.begin_nested():
                        self._connection.execute(statement, [values])
                except refused as error:
                    raise self._refused(record_type, line, values, error) from None
            raise

    def _statement(self, record_type: RecordType) -> Any:
        table = record_type.table
        if not record_type.merged:
            return sa.insert(table)
        from sqlalchemy.dialects import postgresql, sqlite  # only here: only restore needs them

        dialect = postgresql if self._connection.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(table)
        # Matched by their reference: a source's id is its database's own.
        keys = (
            ["reference"] if record_type.name == "source" else [column.name for column in table.primary_key]
        )
        others = {
            column.name: insert.excluded[column.name]
            for column in _dumped_columns(record_type)
            if column.name not in keys
        }
        if not others:
            return insert.on_conflict_do_nothing(index_elements=keys)
        return insert.on_conflict_do_update(index_elements=keys, set_=others)

    def _refused(
        self, record_type: RecordType, line: int, values: dict[str, object], error: sa.exc.DBAPIError
    ) -> DumpRejected:
        """What the database refused in a row: a reference to a record that does not exist,
        named; else the database's own words."""
        table = record_type.table
        if isinstance(error, sa.exc.IntegrityError):
            by_size = sorted(
                table.foreign_key_constraints, key=lambda fk: (len(fk.columns), [c.name for c in fk.columns])
            )
            for foreign_key in by_size:
                local = [column.name for column in foreign_key.columns]
                given = [values.get(name) for name in local]
                if any(value is None for value in given):
                    continue  # NULL refers to nothing
                referred = foreign_key.referred_table
                remote = [element.column.name for element in foreign_key.elements]
                match = [referred.c[name] == value for name, value in zip(remote, given, strict=True)]
                if self._connection.execute(sa.select(sa.literal(1)).where(*match).limit(1)).first() is None:
                    wanted = ", ".join(f"{name} {value!r}" for name, value in zip(remote, given, strict=True))
                    fields = ", ".join(local)
                    return self._problem(
                        line, f"{record_type.name}.{fields}: no {referred.name} record has {wanted}"
                    )
        # The first line only: PostgreSQL's DETAIL repeats the whole row, which the line holds.
        detail = " ".join((str(error.orig).strip().splitlines() or [type(error.orig).__name__])[0].split())
        return self._problem(line, f"{record_type.name}: the database refused it: {detail}")

    def _attach_parts(self) -> None:
        """Give the entries their programmes, once every entry is in: each must exist, be a
        programme, and not be (through its own programme) part of its part."""
        parents, self._parents = self._parents, {}
        if not parents:
            return
        entry = _TABLES["entry"]
        wanted = sorted({parent for _, parent in parents.values()})
        kinds: dict[str, str | None] = {}
        for start in range(0, len(wanted), ROWS_PER_BATCH):
            query = sa.select(entry.c.id, entry.c.kind).where(
                entry.c.id.in_(wanted[start : start + ROWS_PER_BATCH])
            )
            kinds.update((part, kind) for part, kind in self._connection.execute(query))
        for part, (line, parent) in sorted(parents.items(), key=lambda item: item[1][0]):
            if parent not in kinds:
                raise self._problem(line, f"entry.parent_id: no entry record has id {parent!r}")
            if kinds[parent] != "programme":
                raise self._problem(
                    line,
                    f"entry.parent_id: {parent!r} is not a programme "
                    f"(its kind is {kinds[parent] or 'not given'})",
                )
            chain = [part, parent]
            while chain[-1] in parents and chain[-1] != part:
                chain.append(parents[chain[-1]][1])
                if len(chain) > len(parents) + 1:
                    break  # a loop further up, which its own part reports
            if chain[-1] == part:
                raise self._problem(line, f"entry.parent_id: {part!r} is part of itself: {', '.join(chain)}")
        attach = (
            sa.update(entry)
            .where(entry.c.id == sa.bindparam("part"))
            .values(parent_id=sa.bindparam("programme"))
        )
        pairs = [{"part": part, "programme": parent} for part, (_, parent) in parents.items()]
        for start in range(0, len(pairs), ROWS_PER_BATCH):
            self._connection.execute(attach, pairs[start : start + ROWS_PER_BATCH])

    def _move_sequences(self) -> None:
        """Set each id sequence past the ids restored, so that the next row added gets a new one."""
        quote = self._connection.dialect.identifier_preparer.quote
        for record_type in RECORD_TYPES:
            table = record_type.table
            if list(table.primary_key.columns.keys()) != ["id"] or not isinstance(
                table.c.id.type, sa.Integer
            ):
                continue
            self._connection.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence(:table, 'id'), COALESCE(MAX(id), 0) + 1, false) "
                    f"FROM {quote(table.name)}"
                ),
                {"table": table.name},
            )


def counted_records(counts: dict[str, int]) -> list[str]:
    """Counts of records as words (``5 entries``): users' records first, then reference data."""
    ordered = sorted(RECORD_TYPES, key=lambda record_type: record_type.merged)
    return [record_type.counted(counts.get(record_type.name, 0)) for record_type in ordered]
