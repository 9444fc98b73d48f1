"""A dump restored into an empty database, all or nothing, in one transaction, with the ids of its
history kept."""

from __future__ import annotations

from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tracker.errors import Conflict, DumpRejected
from tracker.service import counts, database, schema, seeds, urls
from tracker.service.dump import (
    RECORD_TYPES,
    ROWS_PER_BATCH,
    SOURCE_FIELD,
    SOURCE_ID,
    TABLES,
    RecordType,
    dumped_columns,
)
from tracker.service.dumpfile import DumpFile


def restore_database(engine: Engine, handle: IO[bytes], name: str) -> dict[str, int]:
    """Load the dump read from ``handle`` (``name`` in messages) into the database, which must
    hold no user records; returns how many records of each type it held.

    All or nothing, in one transaction: a database without the schema gets it first (and
    the bundled reference data, not the seed entries), within the same transaction. Ids of
    history rows are kept, so that `tracker changes` lists them in the same order; sources
    are matched by their reference. Raises :class:`DumpRejected` naming the file and line of
    the first problem, and :class:`Conflict` for a database that holds records already.
    """
    dump = DumpFile(handle, name)
    dump.read_header()  # a file that is no dump of ours is refused before the database is touched
    with database.connect(database.for_writing(engine)) as connection, connection.begin():
        schema.lock_schema(connection)
        if schema.usable_state(connection) == "empty":
            schema.upgrade(connection)
            with Session(bind=connection) as session:
                seeds.load_reference(session)
                session.flush()
        _refuse_unless_empty(connection)
        with Session(bind=connection) as session:
            counts.hold(session)
        restorer = _Restorer(connection, name)
        for line, record_type, values in dump.records():
            restorer.add(line, record_type, values)
        restorer.finish(dump.version)
        with Session(bind=connection) as session:
            counts.recount(session)
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
            f"the database {urls.safe_url(connection.engine.url)} already holds {', '.join(held)}; "
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
        # The operators' names and aliases the dump gives (the operators as the dump has them).
        self._operators: set[str] = set()
        self._aliases: set[str] = set()

    def add(self, line: int, record_type: RecordType, values: dict[str, object]) -> None:
        if record_type is not self._type:
            self._flush()
            self._attach_parts()
            self._type = record_type
        if record_type.name == "operator":
            self._operators.add(str(values["name"]))
        elif record_type.name == "operator_alias":
            self._aliases.add(str(values["alias"]))
        if record_type.name == "entry" and values["parent_id"] is not None:
            self._parents[str(values["id"])] = (line, str(values["parent_id"]))
            values["parent_id"] = None
        self._pending.append((line, values))
        if len(self._pending) >= ROWS_PER_BATCH:
            self._flush()

    def finish(self, version: int) -> None:
        self._flush()
        self._attach_parts()
        self._settle_operators(version)
        self._settle_first_online()
        self._settle_catalogue()
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
        source = TABLES["source"]
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
            values[SOURCE_ID] = found.get(str(reference)) if reference is not None else None

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
            for column in dumped_columns(record_type)
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

    def _settle_operators(self, version: int) -> None:
        """Operators as the dump has them. The database held the bundled ones before: one the
        dump does not give, whose name or alias means one of the dump's names (one the dumped
        database renamed, or merged into another), goes, and so does such an alias, unless an
        entry names it. From a version 1 dump, without operators, each entry's operator becomes
        one, as the upgrade of a database makes them, and one that a bundled operator names is
        merged into it (:func:`~tracker.service.operators.settle_names`)."""
        from tracker.model.names import match_key
        from tracker.service.bulk import chunks
        from tracker.service.operators import settle_names

        operator, alias, entry = TABLES["operator"], TABLES["operator_alias"], TABLES["entry"]
        if version >= 2:
            taken = {match_key(name) for name in self._operators | self._aliases}
            stale_aliases = [
                text
                for text in self._connection.scalars(sa.select(alias.c.alias))
                if text not in self._aliases and match_key(text) in taken
            ]
            stale = [
                name
                for name in self._connection.scalars(sa.select(operator.c.name))
                if name not in self._operators and match_key(name) in taken
            ]
            for chunk in chunks(stale_aliases):
                self._connection.execute(sa.delete(alias).where(alias.c.alias.in_(chunk)))
            for chunk in chunks(stale):
                self._connection.execute(
                    sa.delete(operator).where(
                        operator.c.name.in_(chunk), ~sa.exists().where(entry.c.operator == operator.c.name)
                    )
                )
            return
        named = sa.select(entry.c.operator).where(
            entry.c.operator.is_not(None), ~sa.exists().where(operator.c.name == entry.c.operator)
        )
        self._connection.execute(sa.insert(operator).from_select(["name"], named.distinct()))
        with Session(bind=self._connection) as session:
            settle_names(session)
            session.flush()

    def _settle_first_online(self) -> None:
        """A dump made before the tracker kept entries' first announced online periods gives
        none: each entry's is then worked out from its history, as the upgrade of a database
        does (:func:`~tracker.service.slips.settle_first_online`)."""
        from tracker.service.slips import settle_first_online

        with Session(bind=self._connection) as session:
            settle_first_online(session)
            session.flush()

    def _settle_catalogue(self) -> None:
        """The dump's catalogue, merged over the bundled one, brought up to it as ``tracker
        init`` brings a database's: a model the dump gives without figures the bundled catalogue
        has (a dump written before it had them) gains them, and a bundled model its family
        (:func:`~tracker.service.seeds.settle_bundled_models`)."""
        from tracker.service.seeds import settle_bundled_models

        with Session(bind=self._connection) as session:
            settle_bundled_models(session)
            session.flush()

    def _attach_parts(self) -> None:
        """Give the entries their programmes, once every entry is in: each must exist, be a
        programme, and not be (through its own programme) part of its part."""
        parents, self._parents = self._parents, {}
        if not parents:
            return
        entry = TABLES["entry"]
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
