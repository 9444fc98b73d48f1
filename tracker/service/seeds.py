"""The bundled seed data (``seeds/``, installed as ``tracker.seeds``) and its one loader.

Reference data (regions, chip catalogue, seed sources) is loaded whenever a schema
is created or upgraded; the seed entries (the source note's announcements) on
``tracker init`` and on first use of the default database. Loading is idempotent:
rows already present, by their key, are left as they are.
"""

from __future__ import annotations

import csv
import importlib.resources
import io
from collections.abc import Iterator
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.model.names import match_key
from tracker.model.periods import parse_day
from tracker.model.tables import (
    CHIP_FIGURES,
    CHIP_RATES,
    ChipModel,
    ChipModelAlias,
    ChipVendor,
    ChipVendorAlias,
    Entry,
    EntryChange,
    Operator,
    OperatorAlias,
    Region,
    RegionCountry,
    SeedLoad,
    Source,
    utc_now,
)
from tracker.service.catalogue import load_catalogue

ALIAS_SEPARATOR = "|"


def read_seed(name: str) -> Iterator[dict[str, str]]:
    """Rows of one bundled CSV file, as dicts of stripped text."""
    text = importlib.resources.files("tracker.seeds").joinpath(name).read_text(encoding="utf-8")
    for row in csv.DictReader(io.StringIO(text, newline="")):
        yield {key: (value or "").strip() for key, value in row.items()}


def _aliases(text: str) -> list[str]:
    return [alias.strip() for alias in text.split(ALIAS_SEPARATOR) if alias.strip()]


def load_reference(session: Session) -> int:
    """Load regions, the chip catalogue and the seed sources; returns how many rows were added."""
    added = 0
    known_regions = set(session.scalars(sa.select(Region.id)))
    for row in read_seed("regions.csv"):
        if row["id"] not in known_regions:
            session.add(
                Region(id=row["id"], name=row["name"], definition=row["definition"], source=row["source"])
            )
            added += 1
    session.flush()
    memberships = {
        tuple(row) for row in session.execute(sa.select(RegionCountry.region_id, RegionCountry.country))
    }
    for row in read_seed("region_countries.csv"):
        if (row["region"], row["country"]) not in memberships:
            session.add(RegionCountry(region_id=row["region"], country=row["country"]))
            added += 1
    added += _load_catalogue(session)
    added += _load_operators(session)
    known_sources = {source.reference: source for source in session.scalars(sa.select(Source))}
    for row in read_seed("sources.csv"):
        stored = known_sources.get(row["reference"])
        if stored is None:
            published = parse_day(row["published_on"], "published_on") if row["published_on"] else None
            session.add(
                Source(
                    reference=row["reference"],
                    publisher=row["publisher"] or None,
                    published_on=published,
                    grade=row["grade"] or None,
                )
            )
            added += 1
        elif stored.grade is None and row["grade"]:  # a database made before sources had grades
            stored.grade = row["grade"]
    session.flush()
    return added


def _load_catalogue(session: Session) -> int:
    added = 0
    vendors = set(session.scalars(sa.select(ChipVendor.name)))
    vendor_aliases = {match_key(alias) for alias in session.scalars(sa.select(ChipVendorAlias.alias))}
    vendor_rows = list(read_seed("chip_vendors.csv"))
    for row in vendor_rows:
        if row["vendor"] not in vendors:
            session.add(ChipVendor(name=row["vendor"]))
            added += 1
    session.flush()
    for row in vendor_rows:  # a vendor's country, where none was given (a database made before)
        vendor = session.get(ChipVendor, row["vendor"])
        if vendor is not None and vendor.country_source is None and row["country_source"]:
            vendor.country, vendor.country_source = row["country"] or None, row["country_source"]
    session.flush()
    for row in vendor_rows:
        for alias in _aliases(row["aliases"]):
            if match_key(alias) not in vendor_aliases:
                session.add(ChipVendorAlias(alias=alias, vendor=row["vendor"]))
                vendor_aliases.add(match_key(alias))
                added += 1
    models = {tuple(row) for row in session.execute(sa.select(ChipModel.vendor, ChipModel.name))}
    model_aliases = {
        (vendor, match_key(alias))
        for vendor, alias in session.execute(sa.select(ChipModelAlias.vendor, ChipModelAlias.alias))
    }
    model_rows = list(read_seed("chip_models.csv"))
    for row in model_rows:
        if (row["vendor"], row["model"]) not in models:
            session.add(
                ChipModel(
                    vendor=row["vendor"],
                    name=row["model"],
                    family=row["family"] or None,
                    notes=row["notes"] or None,
                    **_figures(row),
                )
            )
            added += 1
    session.flush()
    added += settle_bundled_models(session, model_rows)
    for row in model_rows:
        for alias in _aliases(row["aliases"]):
            key = (row["vendor"], match_key(alias))
            if key not in model_aliases:
                session.add(ChipModelAlias(vendor=row["vendor"], alias=alias, model=row["model"]))
                model_aliases.add(key)
                added += 1
    session.flush()
    return added


def _load_operators(session: Session) -> int:
    """The bundled operators (``seeds/operators.csv``). One that is stored already, by its
    name or an alias, is left as it is. Operators made from entries' operator texts (without
    values or source) that a bundled one names, by its name spelt otherwise or an alias, are
    merged into it (:func:`~tracker.service.operators.settle_names`): their entries take the
    bundled name, each change kept in their history."""
    from tracker.service.operators import is_placeholder, load_operators, settle_names  # only when seeding

    added = 0
    operators = load_operators(session)
    for row in read_seed("operators.csv"):
        names = [row["name"], *_aliases(row["aliases"])]
        values = {
            "hq_country": row["hq"] or None,
            "kind": row["kind"] or None,
            "group_name": row["group"] or None,
            "hq_source": row["source"] or None,
        }
        holders = {holder for name in names if (holder := operators.find(name)) is not None}
        if any(not is_placeholder(session.get(Operator, holder)) for holder in holders):
            continue  # the user's, or loaded before: left as it is
        stored = row["name"]
        exact = session.get(Operator, stored)
        if exact is not None:  # made from an entry's text, spelt as bundled
            for column, value in values.items():
                setattr(exact, column, value)
        else:
            session.add(Operator(name=stored, **values))
            session.flush()
            added += 1
        operators.names[match_key(stored)] = stored
        for name in names:
            found = operators.find(name)
            # A name of its own, or that of an operator made from an entry's text, which
            # settle_names then merges into this one.
            placeholder = (
                found is not None and found != stored and is_placeholder(session.get(Operator, found))
            )
            if (found is None or placeholder) and name != stored and session.get(OperatorAlias, name) is None:
                session.add(OperatorAlias(alias=name, operator=stored))
                added += 1
            operators.names.setdefault(match_key(name), stored)
        session.flush()
    settle_names(session)  # operators made from entries' texts that the bundled ones name
    return added


def _figures(row: dict[str, str]) -> dict[str, object]:
    """A seed model's spec-sheet figures and their source, as column values."""
    values: dict[str, object] = {
        name: (Decimal(text) if name in CHIP_RATES else int(text)) if (text := row.get(name)) else None
        for name in CHIP_FIGURES
    }
    values["figures_source"] = row["figures_source"] or None
    return values


def settle_bundled_models(session: Session, rows: list[dict[str, str]] | None = None) -> int:
    """Bring the stored bundled models (``rows`` of the bundled catalogue, read if not given)
    up to it, as a database made, or a dump written, before it had some figures needs:

    - a model takes its bundled family (no command changes it);
    - a model whose every figure equals the bundled one takes the bundled figures and source,
      which names each;
    - a model with a figure of its own (a user's, with their source) keeps it and its source,
      and gains only the figures it lacks, their bundled source added to its own.

    Returns how many models were given figures."""
    filled = 0
    for row in rows if rows is not None else read_seed("chip_models.csv"):
        model = session.get(ChipModel, (row["vendor"], row["model"]))
        if model is None:
            continue
        if row["family"] and model.family != row["family"]:
            model.family = row["family"]
        if row["figures_source"] and _fill_figures(model, row):
            filled += 1
    session.flush()
    return filled


def _fill_figures(model: ChipModel, row: dict[str, str]) -> bool:
    """Give a model the bundled figures it lacks (see :func:`settle_bundled_models`); returns
    whether it was given any."""
    bundled = _figures(row)
    stored = {name: getattr(model, name) for name in CHIP_FIGURES}
    lacking = [name for name in CHIP_FIGURES if stored[name] is None and bundled[name] is not None]
    if all(value is None or value == bundled[name] for name, value in stored.items()):
        if not lacking and model.figures_source is not None:
            return False
        for name, value in bundled.items():
            setattr(model, name, value)
        return True
    if not lacking:
        return False
    for name in lacking:
        setattr(model, name, bundled[name])
    added = ", ".join(lacking)
    model.figures_source = (
        f"{model.figures_source}; {added} from the bundled catalogue: {row['figures_source']}"
    )
    return True


SEED_ENTRIES = "entries"
# Seed entries that joined the bundled seeds later, under the name their loading is recorded
# by: a database that loaded the earlier seeds gets them from `tracker init`, and the seed
# entries that are their parts are attached to them (unless a user gave those a parent).
LATER_SEEDS = {"entries-europe-plan": ("europe-ai-factories-plan",)}


def load_entries(session: Session) -> int:
    """Add the seed entries, once in a database's life; returns how many were added.

    Loading is recorded, so that ``tracker init`` never brings back a seed entry a user
    removed. An entry whose id is taken already is left as it is.
    """
    loaded = set(session.scalars(sa.select(SeedLoad.name)))
    if SEED_ENTRIES not in loaded:
        added = _import_seeds(session)
        names = [SEED_ENTRIES, *LATER_SEEDS]
    else:
        added, names = 0, []
        for name, ids in LATER_SEEDS.items():
            if name not in loaded:
                added += _import_seeds(session, ids)
                _attach_parts(session, ids)
                names.append(name)
    # What happened since the seed note: new entries, then dated events and updates.
    if SEED_LATER_ENTRIES not in loaded:
        added += _import_seeds(session, file="later_entries.csv")
        names.append(SEED_LATER_ENTRIES)
    if SEED_DEVELOPMENTS not in loaded:
        load_developments(session)
        names.append(SEED_DEVELOPMENTS)
    if SEED_TOKENS not in loaded:
        load_tokens(session)
        names.append(SEED_TOKENS)
    session.add_all(SeedLoad(name=name) for name in names)
    session.flush()
    return added


SEED_TOKENS = "tokens"


def load_tokens(session: Session) -> int:
    """Add the seed token figures (``seeds/tokens.csv``), loaded with the seed entries and
    recorded as SEED_TOKENS; returns how many were added. A provider that has a figure for
    the period already keeps it."""
    from tracker.errors import Conflict
    from tracker.service.tokens import add_tokens, read_tokens  # only when seeding

    added = 0
    for row in read_seed("tokens.csv"):
        figure = read_tokens(
            row["provider"],
            row["as_of"],
            per_day=row["per_day"] or None,
            per_month=row["per_month"] or None,
            share=row["share_pct"] or None,
            source=row["source"],
            note=row["note"] or None,
        )
        try:
            add_tokens(session, figure, new_provider=True)
        except Conflict:
            continue
        added += 1
    return added


def _import_seeds(session: Session, ids: tuple[str, ...] | None = None, file: str = "entries.csv") -> int:
    """Import the seed entries of ``file`` (only those of ``ids``, if given) through the import engine."""
    from tracker.service.formats.tracker import read_export_file
    from tracker.service.imports import OnConflict, import_entries  # only when seeding

    text = importlib.resources.files("tracker.seeds").joinpath(file).read_text(encoding="utf-8")
    entries = read_export_file(io.StringIO(text, newline=""), load_catalogue(session), name=file)
    chosen = (item for item in entries if ids is None or (item.entry and item.entry.id in ids))
    return import_entries(session, chosen, name=f"seeds/{file}", on_conflict=OnConflict.SKIP).added


SEED_LATER_ENTRIES = "entries-2026-12"  # seeds/later_entries.csv
SEED_DEVELOPMENTS = "developments-2026-12"  # seeds/developments.csv


def load_developments(session: Session) -> int:
    """Apply ``seeds/developments.csv``: what happened to the seed entries since the note, each
    row a status change (on its day), an update of a field or a source added, with its graded
    source, through the commands' own services (so that each is kept in the entry's
    history). A row whose entry is gone (a user removed it) is passed over. Returns how
    many rows were applied."""
    from tracker.service.status import change_status  # only when seeding
    from tracker.service.updates import update_entry

    applied = 0
    for row in read_seed("developments.csv"):
        if session.get(Entry, row["entry"]) is None:
            continue
        if row["action"] == "status":
            note, grade = row["note"] or None, row["grade"] or None
            change_status(
                session, row["entry"], row["value"], row["on"], source=row["source"], note=note, grade=grade
            )
        elif row["action"] == "update":
            update_entry(
                session, row["entry"], {row["field"]: row["value"]}, [row["source"]], grade=row["grade"]
            )
        elif row["action"] == "source":
            update_entry(session, row["entry"], {}, [row["source"]], grade=row["grade"])
        else:
            raise ValueError(f"seeds/developments.csv: unknown action {row['action']!r}")
        applied += 1
    return applied


def _attach_parts(session: Session, programmes: tuple[str, ...]) -> None:
    """Make the stored seed entries that the seeds give as parts of ``programmes`` their
    parts, where they have no parent yet; each change is kept, with its seed source."""
    for row in read_seed("entries.csv"):
        parent = row["parent"]
        if parent not in programmes or session.get(Entry, parent) is None:
            continue
        entry = session.get(Entry, row["id"])
        if entry is None or entry.parent_id is not None:
            continue
        entry.parent_id = parent
        source = session.scalar(sa.select(Source).where(Source.reference == row["sources"].split(" | ")[-1]))
        entry.changes.append(EntryChange(field="parent", old_value=None, new_value=parent, source=source))
        entry.updated_at = utc_now()
    session.flush()
