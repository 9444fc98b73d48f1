"""What an import can only check once its entries are stored: that each part's parent is a
programme, of the file or of the database, that no entry becomes its own ancestor, and that a
programme with parts stays one."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.errors import RowProblem
from tracker.model.tables import Entry
from tracker.service.bulk import chunks
from tracker.service.reading import parent_problem


def kind_problems(
    session: Session, kinds: Mapping[str, str | None], replaced: set[str], lines: Mapping[str, int]
) -> dict[str, RowProblem]:
    """A stored programme that the file makes another kind while it still has parts."""
    demoted = [entry_id for entry_id, kind in kinds.items() if kind != "programme"]
    problems: dict[str, RowProblem] = {}
    for chunk in chunks(sorted(set(demoted) & replaced)):
        query = sa.select(Entry.parent_id, Entry.id).where(Entry.parent_id.in_(chunk)).order_by(Entry.id)
        parts: dict[str, list[str]] = {}
        for parent, part in session.execute(query):
            parts.setdefault(str(parent), []).append(part)
        for entry_id, found in parts.items():
            message = f"{entry_id} has parts ({', '.join(found)}); only a programme has parts"
            problems[entry_id] = RowProblem(lines[entry_id], "kind", message)
    return problems


def parent_problems(
    session: Session,
    parents: Mapping[str, str],
    kinds: Mapping[str, str | None],
    lines: Mapping[str, int],
    left_out: set[str],
) -> dict[str, RowProblem]:
    """Each new parent is a programme of the file or of the database, and no entry becomes
    its own ancestor, through the file's entries or the stored ones.

    These problems are found once entries are stored: an entry with one is taken back
    (by the importer), or the file is rejected.
    """
    problems: dict[str, RowProblem] = {}
    if not parents:
        return problems
    ancestors: dict[str, str | None] = dict(parents)
    stored: set[str] = set()
    known_kinds = dict(kinds)
    wanted = sorted(set(parents.values()) - set(parents))
    while wanted:  # walk up the stored ancestors until none is left
        found: dict[str, str | None] = {}
        for chunk in chunks(wanted):
            query = sa.select(Entry.id, Entry.parent_id, Entry.kind).where(Entry.id.in_(chunk))
            for entry_id, parent, kind in session.execute(query):
                found[entry_id] = parent
                known_kinds.setdefault(entry_id, kind)
        stored |= set(found)
        for entry_id, parent in found.items():
            ancestors.setdefault(entry_id, parent)
        wanted = sorted({parent for parent in found.values() if parent and parent not in ancestors})
    for entry_id, parent in parents.items():
        line = lines[entry_id]
        if parent in left_out and parent not in stored:
            message = f"{parent!r} has a problem of its own (line {lines[parent]})"
            problems[entry_id] = RowProblem(line, "parent", message)
        elif parent not in stored and parent not in lines:
            message = f"no entry has the id {parent!r}, stored or in a valid row of the file"
            problems[entry_id] = RowProblem(line, "parent", message)
        elif (problem := parent_problem(parent, known_kinds.get(parent))) is not None:
            problems[entry_id] = RowProblem(line, "parent", problem.message)
        elif _is_own_ancestor(entry_id, ancestors):
            problems[entry_id] = RowProblem(line, "parent", f"{parent!r} makes {entry_id!r} a part of itself")
    return problems


def _is_own_ancestor(entry_id: str, ancestors: dict[str, str | None]) -> bool:
    seen = {entry_id}
    current = ancestors.get(entry_id)
    while current is not None and current not in seen:
        seen.add(current)
        current = ancestors.get(current)
    return current == entry_id
