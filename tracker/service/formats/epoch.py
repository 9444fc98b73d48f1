"""Reading Epoch AI's GPU clusters dataset (CC BY 4.0) as tracker entries.

Each row of Epoch's CSV is one cluster at a point in time; it becomes one entry whose
primary and secondary chips are its lots. Rows that cannot be counted honestly are
not imported, each with its reason: no country, no chip quantity, a chip the catalogue
does not know, a row Epoch flags as a possible duplicate, and an earlier state of a
cluster whose later state is imported (Epoch records an upgraded or expanded cluster
as a new row that includes the earlier chips, so importing both would count them twice).
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TextIO, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.errors import FileRejected, InvalidValue, RowProblem
from tracker.model.countries import parse_country
from tracker.model.names import match_key, slugify
from tracker.model.periods import Period, Precision, parse_period
from tracker.model.tables import EntrySource, Source
from tracker.model.values import parse_id, parse_power, parse_quantity, parse_text
from tracker.model.vocabulary import Confidence, Sponsor, Status
from tracker.service.catalogue import UNKNOWN_VENDOR, Catalogue
from tracker.service.database import bytewise
from tracker.service.entries import remove_entry
from tracker.service.formats.base import ParsedEntry, Progress
from tracker.service.formats.csvfile import cell_count_problem, csv_records
from tracker.service.reading import EntryInput, LotInput, read_sources

ATTRIBUTION = "Epoch AI, GPU Clusters dataset, CC BY 4.0"
STATUSES = {
    "existing": Status.OPERATIONAL,
    "planned": Status.PLANNED,
    "decommissioned": Status.DECOMMISSIONED,
}
CONFIDENCES = {
    "confirmed": Confidence.CONFIRMED,
    "likely": Confidence.REPORTED,
    "unlikely": Confidence.RUMOURED,
}
SPONSORS = {"public": Sponsor.SOVEREIGN, "public/private": Sponsor.PUBLIC_PRIVATE, "private": Sponsor.PRIVATE}
# Suppliers that mean the vendor was not disclosed.
UNDISCLOSED = {"", "anonymized", "unknown"}
LOT_COLUMNS = (
    ("Chip type (primary)", "Chip quantity (primary)", "GPU Supplier (primary)"),
    ("Chip type (secondary)", "Chip quantity (secondary)", "GPU supplier (secondary)"),
)
SOURCE_COLUMNS = tuple(f"Source {number}" for number in range(1, 6))
# The columns of the export format an Epoch row speaks for: an entry stored already keeps
# its other values (city, kind, parent, announced, and its notes, which a new entry takes
# from Epoch's Note), and its sources are added to.
MAPPED_COLUMNS = frozenset({
    "id", "name", "operator", "country", "sponsor", "status", "confidence", "online", "lot",
    "vendor", "model", "chips", "power_mw", "sources", "users",
})  # fmt: skip
COLUMNS = (
    "Name", "Owner", "Users", "Country", "Status", "Certainty", "Sector", "First Operational Date",
    "First Operational Date Note", "Reported Power Capacity (MW)", "Note", "Possible Duplicate",
    "Possible Duplicate Of", "Superseded by", "Builds Upon", "Total number of AI chips",
    *(column for lot in LOT_COLUMNS for column in lot), *SOURCE_COLUMNS,
)  # fmt: skip
_US_DAY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_PLANNED = re.compile(r"^planned\s+(?:for\s+)?", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
T = TypeVar("T")


def read_epoch_file(
    handle: TextIO,
    catalogue: Catalogue,
    *,
    name: str,
    progress: Progress | None = None,
    gather: bool = False,
) -> Iterator[ParsedEntry]:
    """Entries from Epoch AI's GPU clusters CSV, one per row, with the reasons a row is left out.

    Every row is an entry of its own, in any order: ``gather`` (for the export format's rows
    of one entry) changes nothing.
    """
    records = csv_records(handle, name, progress)
    first = next(records, None)
    if isinstance(first, RowProblem):
        raise FileRejected(name, [first])
    if first is None:
        raise FileRejected(name, [RowProblem(1, "header", "is missing: the file is empty")])
    header = [cell.strip().lstrip("\ufeff") for cell in first[1]]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise FileRejected(
            name,
            [
                RowProblem(1, column, "is missing; is this Epoch AI's GPU clusters CSV (gpu_clusters.csv)?")
                for column in missing
            ],
        )
    rows: list[tuple[int, dict[str, str]]] = []
    misaligned: dict[int, RowProblem] = {}
    for record in records:
        cells: list[str] = []
        if isinstance(record, RowProblem):
            line = record.line
            misaligned[line] = record
        else:
            line, cells = record
        if len(cells) != len(header) and line not in misaligned:
            misaligned[line] = cell_count_problem(line, cells, header)
        rows.append((line, {column: cell.strip() for column, cell in zip(header, cells, strict=False)}))
    rows = [(line, {column: row.get(column, "") for column in header}) for line, row in rows]
    ids = _ids(rows)
    parsed = [
        ParsedEntry(line, None, (misaligned[line],))
        if line in misaligned
        else _read_row(line, row, entry_id, catalogue)
        for (line, row), entry_id in zip(rows, ids, strict=True)
    ]
    later = _later_states(rows, parsed)
    for (line, row), item in zip(rows, parsed, strict=True):
        successor = later.get(row["Name"])
        if successor is None:
            yield item
            continue
        seen = {row["Name"]}
        while successor in later and successor not in seen:  # the latest state, the one imported
            seen.add(successor)
            successor = later[successor]
        column = "Superseded by" if row["Superseded by"] else "Name"
        problem = RowProblem(
            line,
            column,
            f"an earlier state of {successor!r}: Epoch records a cluster upgraded, expanded or replaced "
            "as a row of its own (linked by Superseded by and Builds Upon); left out so that the "
            "cluster is counted once",
        )
        yield ParsedEntry(line, None, (*item.problems, problem))


def _later_states(rows: list[tuple[int, dict[str, str]]], parsed: list[ParsedEntry]) -> dict[str, str]:
    """The rows that are an earlier state of a cluster whose later state is imported.

    Epoch records an upgraded or expanded cluster as a new row that includes the earlier
    chips, linked by "Superseded by" (on the earlier row) and "Builds Upon" (on the later).
    A row is left out when a later state of it, directly or through other rows, can be
    imported; returns, for each such row's name, the name of that later row.
    """
    names = {row["Name"] for _, row in rows}
    successors: dict[str, list[str]] = collections.defaultdict(list)
    for _, row in rows:
        if row["Superseded by"] in names:
            successors[row["Name"]].append(row["Superseded by"])
        for earlier in _names_in(row["Builds Upon"], names):
            successors[earlier].append(row["Name"])
    importable = {row["Name"] for (_, row), item in zip(rows, parsed, strict=True) if item.entry is not None}
    later: dict[str, str] = {}
    for name in successors:
        seen = {name}
        pending = list(successors[name])
        while pending:
            successor = pending.pop(0)
            if successor in importable:
                later[name] = successor
                break
            if successor not in seen:
                seen.add(successor)
                pending.extend(successors.get(successor, []))
    return later


def _names_in(text: str, names: set[str]) -> list[str]:
    """The row names in a "Builds Upon" cell: one name (which may hold a comma) or several."""
    if not text:
        return []
    if text in names:
        return [text]
    return [part.strip() for part in text.split(",") if part.strip() in names]


ID_COLUMNS = (
    "Country", "Owner", "Status", "First Operational Date", "Total number of AI chips",
    *(column for lot in LOT_COLUMNS for column in lot),
)  # fmt: skip


def _ids(rows: list[tuple[int, dict[str, str]]]) -> list[str]:
    """An id for each row from its name, the same whatever the rows around it.

    A name that several rows share (Epoch's "Anonymized Chinese System") gets a suffix
    made from the row's own figures (country, owner, status, date, chips), so that a row
    keeps its id in the next release of the file, and in an excerpt of it; rows alike in
    all of those are numbered in file order.
    """
    counts = collections.Counter(row["Name"] for _, row in rows)
    seen: collections.Counter[str] = collections.Counter()
    ids = []
    for _, row in rows:
        slug = slugify(row["Name"])
        if counts[row["Name"]] > 1 or not slug:
            figures = "\x1f".join(row[column] for column in ID_COLUMNS)
            digest = hashlib.sha256(figures.encode("utf-8")).hexdigest()[:8]
            slug = f"{slug[:68].rstrip('-') or 'epoch-cluster'}-{digest}"
            seen[slug] += 1  # rows alike in every figure (Epoch rounds China's) are numbered
            slug = slug if seen[slug] == 1 else f"{slug}-{seen[slug]}"
        ids.append(slug)
    return ids


class _Row:
    """One Epoch row being read; problems are kept against Epoch's column names."""

    def __init__(self, line: int, row: Mapping[str, str]) -> None:
        self.line = line
        self.row = row
        self.problems: list[RowProblem] = []

    def problem(self, column: str, message: str) -> None:
        self.problems.append(RowProblem(self.line, column, message))

    def read(self, column: str, parse: Callable[[str], T]) -> T | None:
        text = self.row[column]
        if not text:
            return None
        try:
            return parse(text)
        except InvalidValue as error:
            self.problem(column, error.message)
            return None

    def choice(self, column: str, choices: Mapping[str, T]) -> T | None:
        text = self.row[column]
        if not text:
            return None
        if text.casefold() not in choices:
            self.problem(column, f"unknown value {text!r}; Epoch's values are {', '.join(choices)}")
        return choices.get(text.casefold())


def _read_row(line: int, row: Mapping[str, str], entry_id: str, catalogue: Catalogue) -> ParsedEntry:
    read = _Row(line, row)
    if row["Possible Duplicate"].casefold() == "true":
        of = f" of {row['Possible Duplicate Of']}" if row["Possible Duplicate Of"] else ""
        read.problem("Possible Duplicate", f"Epoch flags the row as a possible duplicate{of}; left out")
    if not row["Country"]:
        read.problem("Country", "is empty; an entry needs a country")
    country = read.read("Country", parse_country)
    name = read.read("Name", lambda text: parse_text(text, "name", 200))
    if name is None:
        read.problem("Name", "is empty; every entry needs a name")
    lots = [lot for columns in LOT_COLUMNS if (lot := _read_lot(read, catalogue, *columns))]
    if not read.problems:
        lots.extend(_rest_of_total(read, catalogue, sum(lot.quantity for lot in lots)))
    if not lots and not any(row[quantity] for _, quantity, _ in LOT_COLUMNS):
        read.problem(
            "Chip quantity (primary)",
            "is empty, and so is the total; a row without a chip count is left out, not counted as zero",
        )
    sources: list[str] = []
    for column in SOURCE_COLUMNS:
        problems: list[InvalidValue] = []
        sources.extend(read_sources([row[column]] if row[column] else [], problems))
        for problem in problems:
            read.problem(column, problem.message)
    checked_id = read.read("Name", lambda _: parse_id(entry_id))
    entry = EntryInput(
        name=name or "",
        country=country or "",
        id=checked_id,
        operator=read.read("Owner", lambda text: parse_text(owners(text, catalogue)[0], "operator", 200))
        or named_operator(row["Name"], catalogue),
        users=_users(read, catalogue),
        sponsor=read.choice("Sector", SPONSORS),
        status=read.choice("Status", STATUSES) or Status.ANNOUNCED,
        confidence=read.choice("Certainty", CONFIDENCES),
        online=_online(read),
        power_mw=read.read("Reported Power Capacity (MW)", _power),
        lots=tuple(lots),
        sources=(*dict.fromkeys(sources), ATTRIBUTION),
        notes=_notes(read, catalogue),
    )
    if not row["Status"]:
        read.problem("Status", "is empty; Epoch's values are Existing, Planned, Decommissioned")
    if read.problems:
        return ParsedEntry(line, None, tuple(read.problems))
    return ParsedEntry(line, entry, columns=MAPPED_COLUMNS, adds_sources=True)


def named_operator(name: str, catalogue: Catalogue) -> str | None:
    """The operator a cluster's name begins with, for a row whose Owner is empty: Epoch names
    many clusters after their operator (``Fluidstack France Gigawatt Campus``, ``Nscale
    Loughton``). The longest run of leading words that is a known operator's name or alias;
    none for a name that begins with no operator's (``Anonymized Chinese System``)."""
    if catalogue.operators is None:
        return None
    words = name.split()
    for count in range(len(words), 0, -1):
        leading = " ".join(words[:count])
        found = catalogue.operators.find(leading) if len(match_key(leading)) >= 3 else None
        if found is not None:
            return found
    return None


def _notes(read: _Row, catalogue: Catalogue) -> str | None:
    """Epoch's note, and where an operator was read from the row's name, that it was."""
    note = read.read("Note", lambda text: parse_text(text, "notes", 10_000, one_line=False))
    if read.row["Owner"] or named_operator(read.row["Name"], catalogue) is None:
        return note
    said = "Operator read from Epoch's Name, its Owner being empty."
    return parse_text(f"{said} {note}" if note else said, "notes", 10_000, one_line=False)


def owners(text: str, catalogue: Catalogue) -> list[str]:
    """The owners an Epoch "Owner" cell names: one, or several joined by commas
    (``OpenAI,Microsoft``), in Epoch's order. A known operator's name with a comma in it
    (``Department for Science, Innovation and Technology``) is one owner: the longest run of
    parts that is a known name is taken as one."""
    parts = [part.strip() for part in text.split(",") if part.strip()] or [text]
    found: list[str] = []
    start = 0
    while start < len(parts):
        end = len(parts)
        while end > start + 1 and (
            catalogue.operators is None or catalogue.operators.find(", ".join(parts[start:end])) is None
        ):
            end -= 1
        found.append(", ".join(parts[start:end]))
        start = end
    return found


def _users(read: _Row, catalogue: Catalogue) -> str | None:
    """An entry's other owners and users: the owners after the first (who is its operator),
    then Epoch's "Users" cell, each once."""
    row = read.row
    others = owners(row["Owner"], catalogue)[1:] if row["Owner"] else []
    named = [*others, *(part.strip() for part in row["Users"].split(",") if part.strip())]
    if not named:
        return None
    try:
        return parse_text(", ".join(dict.fromkeys(named)), "users", 1_000)
    except InvalidValue as error:
        read.problem("Users", error.message)
        return None


def _rest_of_total(read: _Row, catalogue: Catalogue, counted: int) -> list[LotInput]:
    """A lot for the chips of Epoch's "Total number of AI chips" that its chip columns do not
    name (a third chip type, or a total without types): the vendor is the supplier where Epoch
    names one, else ``unknown``; the model is not given."""
    total = read.read("Total number of AI chips", lambda text: parse_quantity(text, "chips"))
    if total is None or total <= counted:
        return []
    suppliers = {read.row[supplier] for _, _, supplier in LOT_COLUMNS if read.row[supplier]}
    disclosed = {supplier for supplier in suppliers if supplier.casefold() not in UNDISCLOSED}
    vendor = UNKNOWN_VENDOR
    if len(disclosed) == 1:
        try:
            vendor = catalogue.vendor(disclosed.pop())
        except InvalidValue:
            vendor = UNKNOWN_VENDOR
    return [LotInput(vendor=vendor, model=None, quantity=total - counted)]


def _read_lot(
    read: _Row, catalogue: Catalogue, type_column: str, quantity_column: str, supplier_column: str
) -> LotInput | None:
    """One lot: its quantity, and the model Epoch names matched in the catalogue; a lot with
    no chip type, or an anonymised or unknown supplier, has the vendor ``unknown``."""
    quantity = read.read(quantity_column, lambda text: parse_quantity(text, "chips"))
    if quantity is None:
        return None
    chip, supplier = read.row[type_column], read.row[supplier_column]
    if chip:
        found = _chip(catalogue, chip, supplier)
        if found is None:
            read.problem(
                type_column, f"{chip!r} is not in the chip catalogue; `tracker chips add` extends it"
            )
            return None
        vendor, model = found
        return LotInput(vendor=vendor, model=model, quantity=quantity)
    if supplier.casefold() in UNDISCLOSED:
        return LotInput(vendor=UNKNOWN_VENDOR, model=None, quantity=quantity)
    named = read.read(supplier_column, catalogue.vendor)
    return LotInput(vendor=named, model=None, quantity=quantity) if named else None


def _chip(catalogue: Catalogue, chip: str, supplier: str) -> tuple[str, str] | None:
    """The catalogue's (vendor, model) for an Epoch chip name, such as ``NVIDIA H100 SXM5 80GB``.

    The supplier column decides between vendors when a name is theirs both; Epoch's
    "Unknown" supplier with a known chip (GroqChip) takes the chip's vendor.
    """
    matches = [
        (vendor, model)
        for vendor in sorted(catalogue.models)
        if (model := catalogue.find_model(vendor, chip))
    ]
    if len(matches) > 1 and supplier.casefold() not in UNDISCLOSED:
        try:
            named = catalogue.vendor(supplier)
        except InvalidValue:
            return None
        matches = [match for match in matches if match[0] == named]
    return matches[0] if len(matches) == 1 else None


def _us_day(text: str) -> dt.date | None:
    match = _US_DAY.fullmatch(text)
    if match is None:
        return None
    month, day, year = (int(part) for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _online(read: _Row) -> Period | None:
    """When the cluster came (or comes) online, never more precisely than Epoch knows it.

    Epoch writes a day (M/D/YYYY) even for a month or a year, and says in its note how
    precise it is ("2024-04", "Q4 2024", "Planned 2030"). A day is kept only where the note
    repeats it; a day with no note is read as its month (Epoch puts the 15th for a month).
    """
    text, note = read.row["First Operational Date"], read.row["First Operational Date Note"]
    day = _us_day(text)
    if text and day is None:
        read.problem("First Operational Date", f"{text!r} is not a date as Epoch writes them (M/D/YYYY)")
        return None
    if (noted_day := _us_day(note)) is not None:
        return Period(noted_day, Precision.DAY)
    if note:
        try:
            return parse_period(_PLANNED.sub("", note))
        except InvalidValue:
            years = set(_YEAR.findall(note))
            if len(years) == 1:
                return parse_period(years.pop())
    if day is not None:
        return Period(day.replace(day=1), Precision.MONTH)
    return None


def _power(text: str) -> Decimal:
    """Reported power in MW, kept to the kilowatt (Epoch gives some to a tenth of one)."""
    try:
        value = Decimal(text).quantize(Decimal("0.001"), rounding=ROUND_HALF_EVEN)
    except ArithmeticError:
        raise InvalidValue("power_mw", f"{text!r} is not a power in MW") from None
    return parse_power(format(value, "f"))


def earlier_imports(session: Session, imported: set[str], *, prune: bool = False) -> list[str]:
    """Entries imported from Epoch before (they carry its attribution) that this file no
    longer gives, or now leaves out: kept beside the new ones, they may count chips twice.
    With ``prune`` they are removed."""
    query = (
        sa.select(EntrySource.entry_id)
        .join(Source, Source.id == EntrySource.source_id)
        .where(Source.reference == ATTRIBUTION)
        .order_by(bytewise(session, EntrySource.entry_id))
    )
    earlier = [entry_id for entry_id in session.scalars(query) if entry_id not in imported]
    for entry_id in earlier if prune else ():
        remove_entry(session, entry_id)
    return earlier
