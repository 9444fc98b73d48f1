"""Operators: who runs an entry's chips, with the country of its headquarters, its kind, its
group, its other names and the source of those.

An entry's operator is always an operator's own name. A name given to ``add``, ``update`` or
``import`` is matched against operators' names and aliases whatever its case, accents, spaces
and punctuation (as vendors are); a name not known yet is not refused but becomes a new
operator, without a headquarters country, and the command tells so (:func:`created`), with the
closest known name as a hint.
"""

from __future__ import annotations

import difflib
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.errors import Conflict, InvalidValue
from tracker.model.countries import parse_country
from tracker.model.names import match_key
from tracker.model.tables import Entry, EntryChange, Operator, OperatorAlias, utc_now
from tracker.model.values import parse_text
from tracker.model.vocabulary import OperatorKind, parse_choice
from tracker.service.database import bytewise

MAX_NAME = 200
MAX_SHOWN = 10  # new operators a warning names
_CREATED = "tracker.operators.created"  # the session's record of operators a command created
OPERATOR_LOCK_KEY = 0x7472_6163_6B6F_70  # "trackop": commands creating operators take turns


@dataclass(frozen=True)
class NewOperator:
    """An operator a command created from a name it did not know, and the closest known name."""

    name: str
    closest: str | None

    def hint(self) -> str:
        return f" (did you mean {self.closest!r}?)" if self.closest else ""


@dataclass
class Operators:
    """Every operator's name and alias, by :func:`match_key`, to the operator's name."""

    names: dict[str, str] = field(default_factory=dict)
    # Each name's and alias's words, by its key, for hints.
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def add(self, spelling: str, name: str) -> None:
        key = match_key(spelling)
        self.names.setdefault(key, name)
        self.words.setdefault(key, _words(spelling))

    def find(self, text: str) -> str | None:
        return self.names.get(match_key(text))

    def closest(self, text: str) -> str | None:
        """The known name nearest ``text``: one whose words it holds, or that holds its words
        (``Nscale`` for ``Nscale and Aker``), else the most alike."""
        key, words = match_key(text), _words(text)
        within = [
            known
            for known, its in self.words.items()
            if len(known) >= 3 and len(key) >= 3 and (_holds(words, its) or _holds(its, words))
        ]
        if within:
            return self.names[max(within, key=len)]
        close = difflib.get_close_matches(key, list(self.names), n=1, cutoff=0.75)
        return self.names[close[0]] if close else None

    def named(self, text: str, field_name: str = "operator") -> str:
        """The operator ``text`` names, or an error naming the closest."""
        found = self.find(text)
        if found is not None:
            return found
        closest = self.closest(text)
        hint = f"did you mean {closest!r}? " if closest else ""
        raise InvalidValue(field_name, f"unknown operator {text!r}; {hint}`tracker operators` lists them")


def _words(text: str) -> tuple[str, ...]:
    return tuple(word for word in (match_key(part) for part in text.split()) if word)


def _holds(words: tuple[str, ...], run: tuple[str, ...]) -> bool:
    """Whether ``run`` is a run of consecutive ``words``."""
    return any(words[start : start + len(run)] == run for start in range(len(words) - len(run) + 1))


def load_operators(session: Session) -> Operators:
    """Every operator name and alias (a few thousand at most: read whole); a name before an
    alias of the same key."""
    operators = Operators()
    for name in sorted(
        session.scalars(sa.select(Operator.name))
    ):  # in byte order: the same on every database
        operators.add(name, name)
    for alias, name in session.execute(sa.select(OperatorAlias.alias, OperatorAlias.operator)):
        operators.add(alias, name)
    return operators


def _lock(session: Session) -> None:
    """On PostgreSQL, commands that may create operators take turns (SQLite's write lock does so)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(OPERATOR_LOCK_KEY)))


def operator_names(session: Session, texts: Iterable[str | None]) -> dict[str, str]:
    """The operator each name means, by the name as given; a name not known yet becomes a new
    operator (recorded for :func:`created`)."""
    return OperatorNames(session)(texts)


class OperatorNames:
    """The operator each name means, for a command that gives names many times over (an
    import, a batch at a time): the operators are read once, when the first name comes (the
    lock taken then is held until the transaction ends, so that no other command changes
    them meanwhile), and each name is looked up once. A name not known yet becomes a new
    operator (recorded for :func:`created`), which the names of later batches then mean."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.operators: Operators | None = None  # as stored before the first name
        self.names: dict[str, str] = {}  # the name each text given means, by the text
        self.new: dict[str, str] = {}  # the operators created, by their key

    def __call__(self, texts: Iterable[str | None]) -> dict[str, str]:
        wanted = [text for text in dict.fromkeys(texts) if text]
        if not wanted:
            return {}
        if self.operators is None:
            _lock(self.session)
            self.operators = load_operators(self.session)
        operators, known, new = self.operators, self.names, self.new
        names: dict[str, str] = {}
        unknown: dict[str, str] = {}  # by key: spellings of one new name are one operator
        for text in wanted:
            found = known.get(text)
            if found is None:
                found = operators.find(text)
                if found is None:
                    key = match_key(text)
                    found = new.get(key) or unknown.setdefault(key, text)
                known[text] = found
            names[text] = found
        # A hint, the closest name known before, for those a warning shows only: a file of
        # thousands of new names would otherwise compare each with every name.
        hints = MAX_SHOWN - len(self.session.info.get(_CREATED, []))
        created = [
            NewOperator(name, operators.closest(name) if place < hints else None)
            for place, name in enumerate(unknown.values())
        ]
        if created:
            self.session.execute(sa.insert(Operator), [{"name": operator.name} for operator in created])
            self.session.info.setdefault(_CREATED, []).extend(created)
            new.update(unknown)
        return names


def created(session: Session) -> list[NewOperator]:
    """The operators this session's commands created from names they did not know (once each,
    though a file read again creates them again)."""
    return list({operator.name: operator for operator in session.info.get(_CREATED, [])}.values())


def new_operators_warning(new: Sequence[NewOperator]) -> str | None:
    """One line telling of the operators created: what they lack, and how to give it."""
    if not new:
        return None
    if len(new) == 1:
        operator = new[0]
        return (
            f"new operator {operator.name!r}{operator.hint()}, without a headquarters country; "
            f"`tracker operators set {_quoted(operator.name)} --hq C --source URL` gives it"
        )
    shown = ", ".join(f"{operator.name!r}{operator.hint()}" for operator in new[:MAX_SHOWN])
    more = f" and {len(new) - MAX_SHOWN} more" if len(new) > MAX_SHOWN else ""
    return (
        f"{len(new)} new operators, without a headquarters country: {shown}{more}; "
        "`tracker operators` lists them, `tracker operators set` gives their headquarters"
    )


def _quoted(name: str) -> str:
    """A name as a shell takes it, quoted where it must be."""
    return shlex.quote(name)


@dataclass(frozen=True)
class OperatorValues:
    """What ``operators add`` and ``operators set`` give an operator (None: not given)."""

    hq_country: str | None = None
    kind: str | None = None
    group_name: str | None = None
    aliases: tuple[str, ...] = ()
    source: str | None = None


def read_operator_values(
    *,
    hq: str | None = None,
    kind: str | None = None,
    group: str | None = None,
    aliases: Sequence[str] = (),
    source: str | None = None,
) -> OperatorValues:
    """Checked values as typed; an empty ``group`` or ``kind`` clears it (``""``)."""
    return OperatorValues(
        hq_country=parse_country(hq, "hq") if hq is not None else None,
        kind=(parse_choice(OperatorKind, kind, "kind").value if kind.strip() else "")
        if kind is not None
        else None,
        group_name=(parse_text(group, "group", MAX_NAME) or "") if group is not None else None,
        aliases=tuple(_name(alias, "alias") for alias in aliases),
        source=parse_text(source, "source", 2_000) if source is not None else None,
    )


def _name(text: str, field_name: str) -> str:
    name = parse_text(text, field_name, MAX_NAME)
    if name is None or not match_key(name):
        raise InvalidValue(field_name, f"{text!r} has no letters or digits")
    return name


def _values_of(row: Operator) -> dict[str, str | None]:
    return {"hq_country": row.hq_country, "kind": row.kind, "group_name": row.group_name}


def add_operator(session: Session, name: str, values: OperatorValues) -> bool:
    """Add an operator; returns False when it exists with these values already (nothing
    changes). One that exists with other values is refused, with a hint to ``set`` them."""
    name = _name(name, "name")
    if not values.source:
        raise InvalidValue("source", "is needed: say where the headquarters (and kind) are stated")
    if values.hq_country is None:
        raise InvalidValue("hq", "is needed: the country of the operator's headquarters, such as NL")
    _lock(session)
    operators = load_operators(session)
    existing = operators.find(name)
    given = {
        "hq_country": values.hq_country,
        "kind": values.kind or None,
        "group_name": values.group_name or None,
    }
    if existing is not None:
        row = session.get(Operator, existing)
        assert row is not None
        same = _values_of(row) == given and all(operators.find(alias) == existing for alias in values.aliases)
        if same:
            return False
        raise Conflict(
            f"operator {existing!r} exists with other values ({_describe(_values_of(row))}); "
            f"`tracker operators set {_quoted(existing)}` changes them",
            "name",
        )
    for alias in values.aliases:
        if (other := operators.find(alias)) is not None:
            raise Conflict(f"{alias!r} already means operator {other!r}", "alias")
    session.add(Operator(name=name, hq_source=values.source, **given))
    session.flush()
    _add_aliases(session, name, values.aliases, {match_key(name)})
    return True


def _describe(values: Mapping[str, str | None]) -> str:
    labels = {"hq_country": "hq", "kind": "kind", "group_name": "group"}
    return ", ".join(f"{labels[key]} {value or '-'}" for key, value in values.items())


def _add_aliases(session: Session, name: str, aliases: Iterable[str], keys: set[str]) -> None:
    for alias in aliases:
        if match_key(alias) not in keys:
            session.add(OperatorAlias(alias=alias, operator=name))
            keys.add(match_key(alias))
    session.flush()


@dataclass(frozen=True)
class OperatorChange:
    """What ``operators set`` did: the fields changed (old, new), the operators merged into it,
    the entries whose operator it renamed or merged, and the aliases it added. Nothing, when
    every value given was so already."""

    name: str
    fields: tuple[tuple[str, str | None, str | None], ...]
    merged: tuple[str, ...]
    entries: int
    aliases: tuple[str, ...] = ()  # the other names given to it


def set_operator(
    session: Session, name: str, values: OperatorValues, *, new_name: str | None = None
) -> OperatorChange:
    """Change an operator's values, with their source. ``new_name`` renames it (the old name
    stays an alias). An alias that is another operator's name merges that operator into this
    one: its entries and aliases move here, and its name becomes an alias. Entries whose
    operator is renamed or merged keep the change in their history, on the source given."""
    if (values.hq_country, values.kind, values.group_name) == (None, None, None) and not (
        values.aliases or new_name is not None
    ):
        raise InvalidValue("argument", "give a value to change: --hq, --kind, --group, --alias or --rename")
    if not values.source:
        raise InvalidValue("source", "is needed: say where the new values are stated")
    _lock(session)
    operators = load_operators(session)
    current = operators.named(name, "name")
    row = session.get(Operator, current)
    assert row is not None
    changed: list[tuple[str, str | None, str | None]] = []
    given = {"hq_country": values.hq_country, "kind": values.kind, "group_name": values.group_name}
    for column, value in given.items():
        if value is None:
            continue
        new = value or None
        if getattr(row, column) != new:
            changed.append((column, getattr(row, column), new))
            setattr(row, column, new)
    merged: list[str] = []
    added: list[str] = []
    moved = 0
    for alias in values.aliases:
        other = operators.find(alias)
        if other == current:
            continue
        if other is not None and match_key(alias) != match_key(other):
            raise Conflict(f"{alias!r} is an alias of operator {other!r}; merge {other!r} itself", "alias")
        if other is not None:
            changed.extend(_take_values(session, other, row, given))
            moved += _merge(session, other, current, values.source)
            merged.append(other)
        else:
            session.add(OperatorAlias(alias=alias, operator=current))
            operators.names[match_key(alias)] = current
            added.append(alias)
        session.flush()
    final = current
    if new_name is not None:
        if not new_name.strip():
            raise InvalidValue("rename", "is empty; give the operator's new name")
        final = _name(new_name, "rename")
        holder = operators.find(final)
        if holder is not None and holder != current:
            raise Conflict(f"{final!r} already means operator {holder!r}", "rename")
        if final != current:
            moved += _rename(session, current, final, values.source)
            changed.append(("name", current, final))
    if changed or merged or added:  # else every value was so already, and its source stays
        row = session.get(Operator, final)
        assert row is not None
        row.hq_source = values.source
        session.flush()
    return OperatorChange(final, tuple(changed), tuple(merged), moved, tuple(added))


def _take_values(
    session: Session, other: str, row: Operator, given: Mapping[str, str | None]
) -> list[tuple[str, str | None, str | None]]:
    """What an operator merged into ``row`` brings: the values ``row`` lacks. A value both
    have, differing, is refused unless this command gives it (the merge must not drop one
    silently)."""
    merged = session.get(Operator, other)
    assert merged is not None
    taken: list[tuple[str, str | None, str | None]] = []
    for column in ("hq_country", "kind", "group_name"):
        mine, theirs = getattr(row, column), getattr(merged, column)
        if theirs is None or mine == theirs or given.get(column) is not None:
            continue
        if mine is None:
            taken.append((column, mine, theirs))
            setattr(row, column, theirs)
            continue
        option = {"hq_country": "--hq", "kind": "--kind", "group_name": "--group"}[column]
        raise Conflict(
            f"{other!r} has {option[2:]} {theirs}, {row.name!r} {mine}: give {option} to say which "
            "the merged operator has",
            "alias",
        )
    return taken


def _entries_move(session: Session, old: str, new: str, source: str) -> int:
    """Entries whose operator is ``old`` take ``new``, each change kept in its history."""
    ids = list(session.scalars(sa.select(Entry.id).where(Entry.operator == old)))
    if not ids:
        return 0
    source_id = _source_id(session, source)
    now = utc_now()
    session.execute(sa.update(Entry).where(Entry.operator == old).values(operator=new, updated_at=now))
    session.execute(
        sa.insert(EntryChange),
        [
            {"entry_id": entry_id, "field": "operator", "old_value": old, "new_value": new, "changed_at": now,
             "source_id": source_id}
            for entry_id in ids
        ],
    )  # fmt: skip
    return len(ids)


def _source_id(session: Session, reference: str) -> int:
    from tracker.service.entries import source_for

    source = source_for(session, reference)
    session.flush()
    return source.id


def _merge(session: Session, other: str, into: str, source: str) -> int:
    moved = _entries_move(session, other, into, source)
    session.execute(sa.update(OperatorAlias).where(OperatorAlias.operator == other).values(operator=into))
    session.execute(sa.delete(Operator).where(Operator.name == other))
    if session.get(OperatorAlias, other) is None:
        session.add(OperatorAlias(alias=other, operator=into))
    session.flush()
    return moved


BUNDLED = "the tracker's bundled operators (seeds/operators.csv)"


def is_placeholder(row: Operator | None) -> bool:
    """An operator made from an entry's operator text: nothing said of it yet."""
    if row is None:
        return False
    return (row.hq_country, row.kind, row.group_name, row.hq_source) == (None, None, None, None)


def settle_names(session: Session) -> list[tuple[str, str]]:
    """One operator for one name: each operator made from an entry's text (without values or
    source) whose name another operator holds, as its own name spelt otherwise or as an alias
    (``nebius`` beside ``Nebius``; ``Nebius AI``, an alias of ``Nebius``), is merged into it;
    such operators alike among themselves become one. Their entries move, each change kept
    with the other operator's source; their names stay as aliases. Returns (merged, into)."""
    rows = {row.name: row for row in session.scalars(sa.select(Operator))}
    holder: dict[str, str] = {}  # by key: the operator with values that holds that name
    for name, row in sorted(rows.items()):
        if not is_placeholder(row):
            holder.setdefault(match_key(name), name)
    for alias, name in session.execute(sa.select(OperatorAlias.alias, OperatorAlias.operator)):
        if name in rows and not is_placeholder(rows[name]):
            holder.setdefault(match_key(alias), name)
    merges: list[tuple[str, str]] = []
    for name, row in sorted(rows.items()):
        if not is_placeholder(row):
            continue
        key = match_key(name)
        into = holder.setdefault(key, name)  # the first of placeholders alike holds the others
        if into != name:
            merges.append((name, into))
    for name, into in merges:
        target = rows[into]
        _merge(session, name, into, target.hq_source or BUNDLED)
    return merges


def _rename(session: Session, old: str, new: str, source: str) -> int:
    row = session.get(Operator, old)
    assert row is not None
    session.add(
        Operator(
            name=new,
            hq_country=row.hq_country,
            kind=row.kind,
            group_name=row.group_name,
            hq_source=row.hq_source,
        )
    )
    session.flush()
    moved = _entries_move(session, old, new, source)
    session.execute(sa.update(OperatorAlias).where(OperatorAlias.operator == old).values(operator=new))
    session.execute(sa.delete(OperatorAlias).where(OperatorAlias.alias == new))
    session.delete(row)
    session.flush()
    if match_key(old) != match_key(new):
        session.add(OperatorAlias(alias=old, operator=new))
        session.flush()
    return moved


@dataclass(frozen=True)
class OperatorRow:
    name: str
    hq_country: str | None
    kind: str | None
    group_name: str | None
    aliases: tuple[str, ...]
    source: str | None


def list_operators(session: Session) -> list[OperatorRow]:
    """Every operator, by name, with its aliases."""
    aliases: dict[str, list[str]] = {}
    for alias, name in session.execute(
        sa.select(OperatorAlias.alias, OperatorAlias.operator).order_by(
            bytewise(session, OperatorAlias.alias)
        )
    ):
        aliases.setdefault(name, []).append(alias)
    rows = session.scalars(sa.select(Operator).order_by(bytewise(session, Operator.name)))
    return [
        OperatorRow(
            row.name,
            row.hq_country,
            row.kind,
            row.group_name,
            tuple(aliases.get(row.name, ())),
            row.hq_source,
        )
        for row in rows
    ]
