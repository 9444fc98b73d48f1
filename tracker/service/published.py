"""What ``tracker publish`` publishes: the database's tables and views, each described, column
by column, for the Frictionless data package (``datapackage.json``) and Datasette
(``metadata.json``).

The tables are the working database's own, under the same names, so that SQL written for the
snapshot runs on a live database too (docs/sql.md). Types, primary and foreign keys come from
the schema (:mod:`tracker.model.tables`); the views' types are declared here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tracker.model.tables import Base, UTCDateTime
from tracker.model.values import POWER_FACTOR

TRACKER_LICENCE = {
    "name": "CC-BY-4.0",
    "title": "Creative Commons Attribution 4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
}
EPOCH_SOURCE = {
    "title": "Epoch AI, GPU Clusters dataset (CC BY 4.0)",
    "path": "https://epoch.ai/data/gpu-clusters",
}

_ENTRY_COLUMNS = {
    "id": "The entry's stable id (a slug).",
    "name": "The AI factory, data centre, supercomputer or programme, as announced.",
    "operator": "Who runs it: an operator's own name (see operator).",
    "country": "Host country, ISO 3166-1 alpha-2; empty for a programme with a region scope.",
    "scope": "A programme's region (see region) instead of a country.",
    "city": "City or site.",
    "kind": "factory, data-centre, supercomputer, cloud-region or programme.",
    "sponsor": "sovereign, public-private or private; empty where unknown.",
    "status": "announced, planned, under-construction, operational, cancelled or decommissioned.",
    "confidence": "confirmed, reported or rumoured: how sure the announcement is.",
    "announced_on": "The day it was announced.",
    "online_start": "First day of the period it is due online (see online_precision).",
    "online_precision": "How precisely the online date was given: day, month, quarter, half or year.",
    "power_mw": "Reported power, in megawatts.",
    "parent_id": "The programme it is part of (an entry id): its chips count once, in the programme.",
    "notes": "Notes.",
    "created_at": "When it was recorded (UTC).",
    "updated_at": "When it was last changed (UTC).",
    "users": "Who uses it, where they are not its operator.",
    "first_online_start": "First day of the online period first announced (kept when the date moves).",
    "first_online_precision": "Precision of the first announced online period.",
}

TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "entry": ("Announcements: AI factories, data centres, supercomputers and programmes.", _ENTRY_COLUMNS),
    "chip_lot": (
        "Accelerators of one vendor and model within an entry, as announced (every status).",
        {
            "id": "The lot's id.",
            "entry_id": "Its entry.",
            "lot": "Its number within the entry (1, 2...).",
            "vendor": "Chip vendor (see chip_vendor); unknown where not disclosed.",
            "model": "Chip model (see chip_model); empty where not given.",
            "quantity": "Accelerators (chips), whatever unit they were announced in.",
            "qualifier": "How exactly the quantity was given: exact, approx, at-least or up-to.",
            "announced_quantity": "The count as announced, where it was of superchips, servers or racks.",
            "announced_unit": "The unit of announced_quantity: superchip, server or rack.",
            "status": "The lot's own status, where it differs from its entry's.",
            "online_start": "First day of the lot's own online period, where it differs from its entry's.",
            "online_precision": "Precision of the lot's own online period.",
        },
    ),
    "source": (
        "Sources: where each figure comes from.",
        {
            "id": "The source's id.",
            "reference": "A URL or a citation.",
            "publisher": "Who published it.",
            "published_on": "The day it was published.",
            "grade": "How strong a source it is: primary, press, analyst or rumour.",
        },
    ),
    "entry_source": (
        "Which sources back which entries.",
        {"entry_id": "The entry.", "source_id": "The source."},
    ),
    "status_event": (
        "Status history: every change of an entry's status, with its day and source.",
        {
            "id": "The change's id.",
            "entry_id": "The entry.",
            "from_status": "Its status before.",
            "to_status": "Its status from that day.",
            "effective_on": "The day the change took effect.",
            "recorded_at": "When it was recorded (UTC).",
            "source_id": "The source of the change.",
            "note": "A note.",
        },
    ),
    "operator": (
        "Operators and their nationality (headquarters).",
        {
            "name": "The operator's own name.",
            "hq_country": "Headquarters country, ISO 3166-1 alpha-2.",
            "kind": "company, public, academic or consortium.",
            "group_name": "The group it belongs to.",
            "hq_source": "Source of the headquarters.",
        },
    ),
    "operator_alias": (
        "Other names of operators.",
        {"alias": "Another name.", "operator": "The operator's own name."},
    ),
    "chip_vendor": (
        "Chip vendors and their nationality.",
        {
            "name": "The vendor.",
            "country": "Headquarters country, ISO 3166-1 alpha-2.",
            "country_source": "Source of the country.",
        },
    ),
    "chip_model": (
        "The chip catalogue: spec-sheet figures of each model, with their source.",
        {
            "vendor": "The vendor.",
            "name": "The model.",
            "family": "Its family (Hopper, Blackwell...).",
            "bf16_tflops": "Dense BF16 TFLOP/s per chip.",
            "fp8_tflops": "Dense FP8 TFLOP/s per chip.",
            "fp16_tflops": "Dense FP16 tensor TFLOP/s per chip (given for chips without BF16).",
            "int8_tops": "Dense INT8 TOPS per chip.",
            "tdp_w": "Thermal design power per chip, in watts.",
            "per_superchip": "Accelerators per superchip.",
            "per_server": "Accelerators per server.",
            "per_rack": "Accelerators per rack.",
            "figures_source": "Source of the figures.",
            "notes": "Notes.",
        },
    ),
    "region": (
        "Regions: europe, eu, asia, middle-east, gcc...",
        {"id": "The region's id.", "name": "Its name.", "definition": "What it holds.", "source": "Source."},
    ),
    "region_country": (
        "The countries of each region.",
        {"region_id": "The region.", "country": "A country in it, ISO 3166-1 alpha-2."},
    ),
    "token_metric": (
        "Demand: tokens a provider serves per day, over a period.",
        {
            "id": "The figure's id.",
            "provider": "The provider.",
            "period_start": "First day of the period.",
            "period_precision": "The period's precision: day, month, quarter, half or year.",
            "tokens_per_day": "Tokens served per day.",
            "reported_tokens": "The figure as reported.",
            "reported_per": "What the reported figure is per: day or month.",
            "share_pct": "Share, in percent, where reported.",
            "source_id": "The source.",
            "note": "A note.",
        },
    ),
}

# Tables a snapshot keeps for its views, which the data package leaves out.
INTERNAL: dict[str, tuple[str, dict[str, str]]] = {
    "programme_lot_count": (
        "What each programme's lot adds to its parts' chips, as the tracker counted it.",
        {"lot_id": "The lot.", "chips": "The chips it adds.", "qualifier": "How exactly they are known."},
    ),
    "count_state": (
        "Whether programme_lot_count is out of date (then every count of the views is empty).",
        {"id": "Always 1.", "stale": "1 (true) when out of date."},
    ),
}

_FIGURES = {
    "entries": ("integer", "Distinct entries counted (a programme whose parts cover it is one of them)."),
    "chips": ("integer", "Accelerators planned, every chip once (a programme: what its parts do not cover)."),
    "qualifier": ("string", "How exactly the chips are known: exact, approx, at-least or up-to."),
    "h100e": ("number", "H100-equivalents: chips x the model's dense BF16 TFLOP/s / the H100 SXM's."),
    "power_mw": ("number", f"Megawatts: reported, shared by chips; else chips x TDP x {POWER_FACTOR}."),
}  # fmt: skip


@dataclass(frozen=True)
class View:
    description: str
    columns: dict[str, tuple[str, str]]  # name -> (Table Schema type, description)


def _summary(key: str, described: str) -> View:
    return View(
        f"The planned total by {key}, as `tracker summary --by {key}` gives it.",
        {key: ("string", described), **_FIGURES},
    )


VIEWS: dict[str, View] = {
    "counted_lots": View(
        "Each lot that counts in the planned total (not cancelled or decommissioned) with the chips "
        "it counts: SUM(counted_chips) grouped by any column gives `tracker summary`'s chips.",
        {
            "lot_id": ("integer", "The lot (chip_lot.id)."),
            "entry_id": ("string", "Its entry."),
            "entry_name": ("string", "Its entry's name."),
            "lot": ("integer", "Its number within the entry."),
            "country": ("string", "Host country; empty for a programme with a region scope."),
            "scope": ("string", "A programme's region scope."),
            "operator": ("string", "The operator."),
            "operator_country": ("string", "The operator's headquarters country."),
            "vendor": ("string", "Chip vendor."),
            "vendor_country": ("string", "The vendor's headquarters country."),
            "model": ("string", "Chip model."),
            "family": ("string", "The model's family (architecture), such as Blackwell."),
            "status": ("string", "The lot's status (its own, or its entry's)."),
            "sponsor": ("string", "The entry's sponsor."),
            "kind": ("string", "The entry's kind."),
            "confidence": ("string", "The entry's confidence."),
            "online_start": ("date", "First day of the lot's online period (its own, or its entry's)."),
            "online_precision": ("string", "Precision of that period."),
            "schedule": (
                "string",
                "The entry's online period against its first announced one: as announced, "
                "moved later, moved earlier or undated.",
            ),
            "programme": ("boolean", "Whether the entry is a programme (it has parts, or a region scope)."),
            "quantity": ("integer", "The lot's chips as announced."),
            "counted_chips": (
                "integer",
                "The chips it counts: all of a plain lot's; what a programme's lot adds to its parts. "
                "Empty (NULL) while the count is out of date.",
            ),
            "qualifier": ("string", "How exactly counted_chips is known."),
            "h100e": ("number", _FIGURES["h100e"][1]),
            "power_mw": ("number", _FIGURES["power_mw"][1]),
            "power_estimated": ("boolean", "Whether power_mw is estimated from TDP (true), not reported."),
        },
    ),
    "summary_by_country": _summary("country", "Host country; empty for programmes with a region scope."),
    "summary_by_vendor": _summary("vendor", "Chip vendor."),
    "summary_by_region": _summary("region", "Region: a country counts in each region it is in."),
    "timeline_by_quarter": View(
        "Chips coming online per quarter, as `tracker timeline` counts them: a half or a year given "
        "without a quarter is a row of its own; lots without a date, period empty.",
        {
            "period": ("string", "2026-Q3, or a coarser 2026-H2 or 2026; empty: undated."),
            "period_end": ("date", "The period's last day (ORDER BY period_end, LENGTH(period) DESC)."),
            **_FIGURES,
        },
    ),
}

_TYPES = [
    (UTCDateTime, "datetime"),
    (sa.Boolean, "boolean"),
    (sa.Integer, "integer"),
    (sa.Numeric, "number"),
    (sa.DateTime, "datetime"),
    (sa.Date, "date"),
]


def table_schema_type(column: sa.Column[object]) -> str:
    """The Frictionless Table Schema type of a column of the schema."""
    for kind, name in _TYPES:
        if isinstance(column.type, kind):
            return name
    return "string"


def table_schema(name: str) -> dict[str, Any]:
    """A table's Frictionless Table Schema: fields, primary key and foreign keys."""
    if name in VIEWS:
        view = VIEWS[name]
        fields = [
            {"name": column, "type": kind, "description": described}
            for column, (kind, described) in view.columns.items()
        ]
        return {"fields": fields, "missingValues": [""]}
    table = Base.metadata.tables[name]
    described = TABLES[name][1]
    schema: dict[str, Any] = {
        "fields": [
            {"name": column.name, "type": table_schema_type(column), "description": described[column.name]}
            for column in table.columns
        ],
        "missingValues": [""],
        "primaryKey": [column.name for column in table.primary_key.columns],
    }
    keys = [
        {
            "fields": [element.parent.name for element in constraint.elements],
            "reference": {
                "resource": "" if constraint.referred_table.name == name else constraint.referred_table.name,
                "fields": [element.column.name for element in constraint.elements],
            },
        }
        for constraint in sorted(table.foreign_key_constraints, key=lambda key: str(key.name or ""))
        # A key of several columns, one of which may be empty (a lot's model), holds only
        # where all are given: SQL checks no such row, a data package would check it.
        if constraint.referred_table.name in TABLES
        and not (
            len(constraint.elements) > 1 and any(element.parent.nullable for element in constraint.elements)
        )
    ]
    if keys:
        schema["foreignKeys"] = keys
    return schema


def columns_of(name: str) -> list[str]:
    if name in VIEWS:
        return list(VIEWS[name].columns)
    return [column.name for column in Base.metadata.tables[name].columns]


def description_of(name: str) -> str:
    return VIEWS[name].description if name in VIEWS else TABLES[name][0]


def column_descriptions(name: str) -> dict[str, str]:
    if name in VIEWS:
        return {column: described for column, (_, described) in VIEWS[name].columns.items()}
    return dict(TABLES[name][1])
