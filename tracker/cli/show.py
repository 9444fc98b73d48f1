"""How ``tracker show`` lays out one entry."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from tracker.cli.render import render
from tracker.model.fields import ENTRY_FIELDS, Stored
from tracker.service.tables import QUALIFIER_MARKS, Count, raw_value

if TYPE_CHECKING:
    from tracker.service.details import EntryDetail
    from tracker.service.programmes import Amount

LOT_COLUMNS = ("lot", "vendor", "model", "chips", "status", "online")
# Tables show a lot's count as announced after its accelerators, where it was of superchips,
# servers or racks.
_LOT_TABLE = ("lot", "vendor", "model", "chips", "announced as", "status", "online")
PART_COLUMNS = ("id", "name", "country", "status", "counted")


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


def print_entry(detail: EntryDetail, fmt: str) -> None:
    record = detail.record()
    if fmt == "json":
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    from tabulate import tabulate

    headquarters = (
        f"headquarters {record['operator_hq']}" if record["operator_hq"] else "headquarters not known"
    )
    placed = {
        "operator": f"{record['operator']} ({headquarters})" if record["operator"] else None,
        "country": f"{record['country']} ({record['country_name']})" if record["country"] else None,
        "scope": f"{record['scope']} (multi-country)" if record["scope"] else None,
        **_online(record["online"], record["first_online"]),
    }
    fields = [
        (field.shown_as, placed.get(field.name, record[field.name]))
        for field in ENTRY_FIELDS
        if field.name != "name" and field.stored is not Stored.LIST
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
        details = ", ".join(
            str(raw_value(v)) for v in (source.get("grade"), source["publisher"], source["published_on"]) if v
        )
        click.echo(f"- {source['reference']}" + (f" ({details})" if details else ""))
    if record["edits"]:
        click.echo("\nEdits (what each source changed)")
        edits = [[e["changed_at"][:10], e["field"], e["old"], e["new"], e["source"]] for e in record["edits"]]
        render(
            ("recorded", "field", "old", "new", "source"), edits, "table", blank={"source": "(none given)"}
        )
    if record["history"]:
        click.echo("\nStatus history")
        history = [[h["effective_on"], h["from"], h["to"], h["source"], h["note"]] for h in record["history"]]
        render(
            ("effective", "from", "to", "source", "note"), history, "table", blank={"source": "(unsourced)"}
        )
    if record["verifications"]:
        click.echo("\nVerified")
        for check in record["verifications"]:
            click.echo(
                f"- {check['verified_on']}" + (f" against {check['source']}" if check["source"] else "")
            )


def _online(online: object, first: object) -> dict[str, object]:
    """The online period, with the first one announced where it has moved (shown on its own
    only for an entry that has lost its date)."""
    if online is not None and first is not None and online != first:
        return {"online": f"{online} (first due {first})", "first_online": None}
    return {"online": online, "first_online": None if first == online else first}
