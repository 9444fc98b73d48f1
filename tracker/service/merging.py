"""A file's entry beside the stored one: what it keeps of the stored entry, and how the two
differ, in words."""

from __future__ import annotations

import dataclasses

from tracker.model.cells import restore
from tracker.model.fields import EXPORT_COLUMNS
from tracker.model.vocabulary import Qualifier
from tracker.service.formats.base import ParsedEntry
from tracker.service.formats.tracker import ENTRY_COLUMNS, FIELD_OF_COLUMN, LOT_COLUMNS
from tracker.service.reading import EntryInput, LotInput, lot_numbers, with_lot_numbers


def cell(row: list[str], column: str) -> str:
    """A cell of an export row, as its value (without the mark that keeps spreadsheets from
    running it)."""
    return restore(row[EXPORT_COLUMNS.index(column)])


def lots_text(rows: list[list[str]]) -> str:
    """An entry's lots in a few words: ``1: 10 AMD; 2: at least 500 NVIDIA B200``."""
    return "; ".join(
        f"{cell(row, 'lot')}: {Qualifier(cell(row, 'qualifier')).phrase(cell(row, 'chips'))} "
        + " ".join(filter(None, (cell(row, "vendor"), cell(row, "model"))))
        for row in rows
        if cell(row, "chips")
    )


def differences(stored: list[list[str]], incoming: list[list[str]]) -> str:
    """How a file's entry differs from the stored one, as a person would say it."""
    same_lots = len(stored) == len(incoming)
    differing = [
        f"{column} differs"
        for place, column in enumerate(EXPORT_COLUMNS)
        if (same_lots or column in ENTRY_COLUMNS)
        and [row[place] for row in stored][: len(incoming)] != [row[place] for row in incoming][: len(stored)]
    ]
    if not same_lots:
        chips = EXPORT_COLUMNS.index("chips")
        lots = [sum(1 for row in rows if row[chips]) for rows in (incoming, stored)]
        differing.append(f"{lots[0]} chip lot(s) in the file, {lots[1]} stored")
    return ", ".join(differing)


def merged(entry: EntryInput, stored: EntryInput, item: ParsedEntry) -> EntryInput:
    """The file's entry, with the stored values of the columns the file does not have (and,
    where the file adds sources, the stored sources too; the stored first announced online
    period where the file gives none). A file with chip columns gives the
    entry's whole list of lots."""
    lots = entry.lots
    if item.columns & set(LOT_COLUMNS) and "lot" not in item.columns and len(lots) == len(stored.lots):
        # Lots without numbers are the stored lots in their order, under their stored numbers.
        lots = with_lot_numbers(lots, lot_numbers(stored.lots))
    kept = {
        field: stored.values[field]
        for column, field in FIELD_OF_COLUMN.items()
        if column not in item.columns and column not in ("id", "sources")
    }
    if entry.values["first_online"] is None:
        kept["first_online"] = stored.values["first_online"]  # history: never cleared by a file
    sources = stored.sources if "sources" not in item.columns else entry.sources
    if not item.columns & set(LOT_COLUMNS):
        lots = stored.lots
    elif missing := set(KEPT_LOT_COLUMNS) - item.columns:
        # A lot of the same number and vendor keeps its model, qualifier, count as announced
        # (for the same number of accelerators), and own status and period, when the file
        # lacks them.
        stored_lots = {
            (number, lot.vendor): lot
            for number, lot in zip(lot_numbers(stored.lots), stored.lots, strict=True)
        }
        lots = tuple(
            with_stored(lot, match, missing) if (match := stored_lots.get((number, lot.vendor))) else lot
            for number, lot in zip(lot_numbers(lots), lots, strict=True)
        )
    if item.adds_sources:
        sources = (*stored.sources, *entry.sources)
    return entry.replace(lots=lots, sources=sources, **kept)


# A lot's columns that a file may leave out, the stored lot's value then standing.
KEPT_LOT_COLUMNS = ("model", "qualifier", "announced_unit", "lot_status", "lot_online")


def with_stored(lot: LotInput, stored: LotInput, missing: set[str]) -> LotInput:
    """A file's lot with the stored lot's fields of the columns the file lacks (``missing``):
    its model, qualifier, count as announced where the accelerators are the same, and its
    own status and period."""
    model = stored.model if "model" in missing else lot.model
    same_chips = lot.quantity == stored.quantity and model == stored.model
    return dataclasses.replace(
        lot,
        model=model,
        qualifier=stored.qualifier if "qualifier" in missing else lot.qualifier,
        announced=stored.announced if "announced_unit" in missing and same_chips else lot.announced,
        status=stored.status if "lot_status" in missing else lot.status,
        online=stored.online if "lot_online" in missing else lot.online,
    )
