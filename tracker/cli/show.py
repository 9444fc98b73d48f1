"""How ``tracker show`` lays out one entry."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from tracker.cli.render import QUALIFIER_MARKS, Count, raw_value, render

if TYPE_CHECKING:
    from tracker.service.details import EntryDetail
    from tracker.service.programmes import Amount

LOT_COLUMNS = ("lot", "vendor", "model", "chips", "status", "online")
# Tables show a lot's count as announced after its accelerators, where it was of superchips,
# servers or racks.
_LOT_TABLE = ("lot", "vendor", "model", "chips", "announced as", "status", "online")
PART_COLUMNS = ("id", "name", "country", "status", "counted")


def entry_record(detail: EntryDetail) -> dict[str, Any]:
    """An entry with its lots, sources and history as plain values."""
    from tracker.model.countries import country_name

    entry = detail.entry
    return {
        "id": entry.id,
        "name": entry.name,
        "operator": entry.operator,
        "country": entry.country,
        "country_name": country_name(entry.country) if entry.country else None,
        "scope": entry.scope,
        "city": entry.city,
        "kind": entry.kind,
        "sponsor": entry.sponsor,
        "status": entry.status,
        "confidence": entry.confidence,
        "announced": entry.announced_on,
        "online": detail.online,
        "power_mw": entry.power_mw,
        "parent": entry.parent_id,
        "notes": entry.notes,
        "created_at": entry.created_at,
        "updated_at": entry.updated_at,
        "chips": detail.chips,
        "lots": [
            {
                **{column: getattr(lot, column) for column in LOT_COLUMNS},
                "qualifier": lot.qualifier.value,
                "announced_chips": lot.announced[0] if lot.announced else None,
                "announced_unit": lot.announced[1].value if lot.announced else None,
            }
            for lot in detail.lots
        ],
        "parts": [
            {
                "id": part.id,
                "name": part.name,
                "country": part.country,
                "status": part.status,
                "counted": part.counted.chips,
                "qualifier": part.counted.qualifier.value,
            }
            for part in detail.parts
        ],
        "counted": (
            None
            if detail.counted is None
            else {
                "chips": detail.counted.total.chips,
                "qualifier": detail.counted.total.qualifier.value,
                "parts": detail.counted.parts.chips,
                "adds": detail.counted.adds.chips,
            }
        ),
        "sources": [
            {"reference": s.reference, "publisher": s.publisher, "published_on": s.published_on}
            for s in detail.sources
        ],
        "history": [
            {
                "effective_on": move.event.effective_on,
                "from": move.from_status,
                "to": move.event.to_status,
                "source": move.event.source.reference if move.event.source else None,
                "note": move.event.note,
            }
            for move in detail.history
        ],
    }


def _print_programme(detail: EntryDetail) -> None:
    """A programme's parts, and how it counts in totals: every chip once."""
    counted = detail.counted
    assert counted is not None
    if detail.parts:
        click.echo("\nParts (each counted once, within the programme)")
        rows = [
            (
                part.id,
                part.name,
                part.country,
                part.status,
                Count(part.counted.chips, part.counted.qualifier.value),
            )
            for part in detail.parts
        ]
        render(PART_COLUMNS, rows, "table", blank={"country": "(multi-country)"})
    how = (
        f"its parts {_count(counted.parts)}, the rest of the plan {_count(counted.adds)}"
        if detail.parts
        else "no parts recorded yet"
    )
    click.echo(f"\nCounted in totals: {_count(counted.total)} ({how})")


def _count(amount: Amount) -> str:
    return f"{QUALIFIER_MARKS[amount.qualifier.value]}{amount.chips:,}"


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return raw_value(value)


def print_entry(detail: EntryDetail, fmt: str) -> None:
    record = entry_record(detail)
    if fmt == "json":
        click.echo(json.dumps(_plain(record), ensure_ascii=False, indent=2))
        return
    from tabulate import tabulate

    country = f"{record['country']} ({record['country_name']})" if record["country"] else None
    scope = f"{record['scope']} (multi-country)" if record["scope"] else None
    fields = [
        ("id", record["id"]),
        ("operator", record["operator"]),
        ("country", country),
        ("scope", scope),
        ("city", record["city"]),
        ("kind", record["kind"]),
        ("sponsor", record["sponsor"]),
        ("status", record["status"]),
        ("confidence", record["confidence"]),
        ("announced", record["announced"]),
        ("online", record["online"]),
        ("power (MW)", record["power_mw"]),
        ("programme", record["parent"]),
        ("notes", record["notes"]),
    ]
    click.echo(record["name"])
    shown = [(label, raw_value(value)) for label, value in fields if value is not None]
    click.echo(tabulate(shown, tablefmt="plain", disable_numparse=True))
    click.echo("\nChip lots")
    if record["lots"]:
        lots = [
            [
                lot.lot,
                lot.vendor,
                lot.model,
                Count(lot.chips, lot.qualifier.value),
                lot.as_announced,
                lot.status,
                lot.online,
            ]
            for lot in detail.lots
        ]
        amount = detail.amount
        total = ["total", None, None, Count(amount.chips, amount.qualifier.value), None, None, None]
        columns = _LOT_TABLE if any(lot.announced for lot in detail.lots) else LOT_COLUMNS
        if columns == LOT_COLUMNS:
            lots, total = [row[:4] + row[5:] for row in lots], total[:4] + total[5:]
        render(columns, lots, "table", total=total, blank={"model": "(not given)", "online": "(not given)"})
    else:
        click.echo("(no chip count recorded)")
    if detail.counted is not None:
        _print_programme(detail)
    click.echo("\nSources")
    for source in record["sources"] or [
        {"reference": "(none recorded)", "publisher": None, "published_on": None}
    ]:
        details = ", ".join(str(raw_value(v)) for v in (source["publisher"], source["published_on"]) if v)
        click.echo(f"- {source['reference']}" + (f" ({details})" if details else ""))
    if record["history"]:
        click.echo("\nStatus history")
        history = [[h["effective_on"], h["from"], h["to"], h["source"], h["note"]] for h in record["history"]]
        render(
            ("effective", "from", "to", "source", "note"), history, "table", blank={"source": "(unsourced)"}
        )
