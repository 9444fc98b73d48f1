"""A dump read back, line by line: every record checked against its type (its fields, and each
value against its column) before anything is written, each problem told with its line."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import IO, Any

import sqlalchemy as sa

from tracker.errors import DumpRejected, InvalidValue
from tracker.model.countries import parse_country
from tracker.model.tables import UTCDateTime
from tracker.service.dump import (
    BY_NAME,
    FORMAT_NAME,
    FORMAT_VERSION,
    MAX_LINE_BYTES,
    POSITION,
    READ_VERSIONS,
    RECORD_TYPES,
    SOURCE_ID,
    TABLES,
    VERSION_2_FIELDS,
    VERSION_2_TYPES,
    VERSION_FIELDS,
    RecordType,
    dumped_columns,
    field_name,
)


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
_FIELD_CHECKS: dict[tuple[str, str], Callable[[object], object]] = {
    ("entry", "country"): _country,
    ("operator", "hq_country"): _country,
    ("chip_vendor", "country"): _country,
}


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
    kind = TABLES["source"].c.reference.type if column.name == SOURCE_ID else column.type
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
        field_name(record_type, column): _reader(record_type, column, choices.get(column.name))
        for column in dumped_columns(record_type)
    }


def _no_duplicate_fields(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    record = dict(pairs)
    if len(record) != len(pairs):
        twice = next(key for i, (key, _) in enumerate(pairs) if key in dict(pairs[:i]))
        raise _Invalid(f"field {twice} is given twice")
    return record


def _no_constant(name: str) -> object:
    raise _Invalid(f"{name} is not a number a dump holds")


class DumpFile:
    """The records of a dump file, read and checked a line at a time."""

    def __init__(self, handle: IO[bytes], name: str) -> None:
        self._handle = handle
        self.name = name
        self.counts = {record_type.name: 0 for record_type in RECORD_TYPES}
        self.version = FORMAT_VERSION
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
        if version not in READ_VERSIONS or isinstance(version, bool):
            readable = " or ".join(str(known) for known in READ_VERSIONS)
            raise self.problem(
                f"dump format version {_shown(version)} is not one this tracker reads ({readable})"
            )
        self.version = version
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
            if not isinstance(kind, str) or kind not in BY_NAME:
                raise self.problem(
                    f"unknown record type {_shown(kind)}" if kind is not None else "a record without its type"
                )
            if POSITION[kind] < position:
                after = RECORD_TYPES[position].name
                article = "an" if kind[0] in "aeiou" else "a"
                raise self.problem(
                    f"{article} {kind} record after {after} records; records go in the order of docs/dump.md"
                )
            position = POSITION[kind]
            record_type = BY_NAME[kind]
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
        required = set(VERSION_FIELDS[record_type.name].split())
        if self.version == 1:
            required -= VERSION_2_FIELDS.get(record_type.name, set())
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
        expected = set(self.counts) - (VERSION_2_TYPES if self.version == 1 else set())
        if set(record) != {"records"} or not isinstance(declared, dict) or set(declared) != expected:
            raise self.problem(
                'the end record is not one this tracker writes: {"records": {TYPE: COUNT, ...}}'
            )
        for name, count in self.counts.items():
            if declared.get(name, 0) != count:
                raise self.problem(
                    f"the end record counts {_shown(declared[name])} {name} records, the file holds {count}: "
                    "lines are missing or were added"
                )
