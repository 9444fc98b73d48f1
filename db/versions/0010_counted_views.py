"""The tracker's figures in SQL: the counted_lots view (each lot with the chips it counts in
the planned total, programmes counted once) and the summary and timeline views over it; the
programmes' count they read, kept by the tracker, and the triggers that mark it out of date
when anyone writes

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED = ("entry", "chip_lot")  # the tables whose rows a programme's count depends on
VIEWS = (
    "timeline_by_quarter",
    "summary_by_region",
    "summary_by_vendor",
    "summary_by_country",
    "counted_lots",
)

# A programme's lot: its entry has parts, or a region scope, or the tracker counted it as a
# programme's (a snapshot of tracker publish keeps a programme whose parts it leaves out).
PROGRAMME = (
    "(c.lot_id IS NOT NULL OR e.scope IS NOT NULL OR EXISTS (SELECT 1 FROM entry p WHERE p.parent_id = e.id))"
)

# Each lot whose status counts in the planned total (not cancelled or decommissioned) with
# the chips it counts: all of its own, or for a programme's lot what it adds to its parts
# (programme_lot_count). Every count is NULL while that is out of date (count_state).
COUNTED_LOTS = """
CREATE VIEW counted_lots AS
SELECT
    lot_id, entry_id, entry_name, lot, country, scope, operator, operator_country,
    vendor, vendor_country, model,{family} status, sponsor, kind, confidence,
    online_start, online_precision, schedule, programme, quantity,
    counted_chips,
    qualifier,
    NULLIF(counted_chips, 0) * 1.0 * bf16_tflops / (
        SELECT r.bf16_tflops FROM chip_model r WHERE r.vendor = 'NVIDIA' AND r.name = 'H100'
    ) AS h100e,
    CASE
        WHEN entry_power_mw IS NOT NULL THEN entry_power_mw * 1.0 * NULLIF(counted_chips, 0) / entry_chips
        ELSE NULLIF(counted_chips, 0) * 1.0 * tdp_w * {power_factor} / 1000000
    END AS power_mw,
    CASE
        WHEN entry_power_mw IS NOT NULL THEN {false}
        WHEN tdp_w IS NOT NULL THEN {true}
    END AS power_estimated
FROM (
    SELECT
        l.id AS lot_id,
        l.entry_id AS entry_id,
        e.name AS entry_name,
        l.lot AS lot,
        e.country AS country,
        e.scope AS scope,
        e.operator AS operator,
        o.hq_country AS operator_country,
        l.vendor AS vendor,
        v.country AS vendor_country,
        l.model AS model,{model_family}
        COALESCE(l.status, e.status) AS status,
        e.sponsor AS sponsor,
        e.kind AS kind,
        e.confidence AS confidence,
        COALESCE(l.online_start, e.online_start) AS online_start,
        COALESCE(l.online_precision, e.online_precision) AS online_precision,
        {schedule} AS schedule,
        {programme} AS programme,
        l.quantity AS quantity,
        CASE
            WHEN s.id IS NULL OR s.stale THEN NULL
            WHEN {programme} THEN c.chips
            ELSE l.quantity
        END AS counted_chips,
        CASE
            WHEN {programme} THEN c.qualifier
            ELSE l.qualifier
        END AS qualifier,
        m.bf16_tflops AS bf16_tflops,
        m.tdp_w AS tdp_w,
        e.power_mw AS entry_power_mw,
        (SELECT SUM(a.quantity) FROM chip_lot a WHERE a.entry_id = e.id) AS entry_chips
    FROM chip_lot l
    JOIN entry e ON e.id = l.entry_id
    LEFT JOIN operator o ON o.name = e.operator
    LEFT JOIN chip_vendor v ON v.name = l.vendor
    LEFT JOIN chip_model m ON m.vendor = l.vendor AND m.name = l.model
    LEFT JOIN programme_lot_count c ON c.lot_id = l.id
    LEFT JOIN count_state s ON s.id = 1
    WHERE COALESCE(l.status, e.status) NOT IN ('cancelled', 'decommissioned')
) AS lots
"""

# The qualifier of a sum (Qualifier.plus): a lower and an upper bound make it approximate; a
# bound stays a bound when approximate counts are added.
_FLAGS = {
    kind: f"MAX(CASE WHEN qualifier = '{kind}' THEN 1 ELSE 0 END)" for kind in ("at-least", "up-to", "approx")
}


def _qualifier(at_least: str, up_to: str, approx: str) -> str:
    return f"""
    CASE
        WHEN {at_least} = 1 AND {up_to} = 1 THEN 'approx'
        WHEN {at_least} = 1 THEN 'at-least'
        WHEN {up_to} = 1 THEN 'up-to'
        WHEN {approx} = 1 THEN 'approx'
        ELSE 'exact'
    END AS qualifier,"""


_QUALIFIER = _qualifier(_FLAGS["at-least"], _FLAGS["up-to"], _FLAGS["approx"])
# For the timeline's rows, summed from groups: which qualifiers each group holds.
_GROUP_FLAGS = f"""
    {_FLAGS["at-least"]} AS has_at_least, {_FLAGS["up-to"]} AS has_up_to, {_FLAGS["approx"]} AS has_approx,"""

# A group's rows: lots their parts cover in full (a programme's, adding nothing) make no row
# of their own, but count as entries of a row that other lots make. A count is NULL when any
# in it is (out of date).
_FIGURES = f"""
    COUNT(DISTINCT entry_id) AS entries,
    CASE WHEN COUNT(counted_chips) = COUNT(*) THEN CAST(SUM(counted_chips) AS BIGINT) END AS chips,{_QUALIFIER}
    ROUND(SUM(h100e), 6) AS h100e,
    ROUND(SUM(power_mw), 6) AS power_mw"""
_MAKES_ROW = (
    "HAVING SUM(CASE WHEN NOT programme OR counted_chips IS NULL OR counted_chips > 0 THEN 1 ELSE 0 END) > 0"
)

SUMMARY_BY_COUNTRY = f"""
CREATE VIEW summary_by_country AS
SELECT country,{_FIGURES}
FROM counted_lots
GROUP BY country
{_MAKES_ROW}
"""

SUMMARY_BY_VENDOR = f"""
CREATE VIEW summary_by_vendor AS
SELECT vendor,{_FIGURES}
FROM counted_lots
GROUP BY vendor
{_MAKES_ROW}
"""

# A country's lots count in each region it is in; a programme's with a region scope, in each
# region its whole scope is within; lots in no region, under NULL.
SUMMARY_BY_REGION = f"""
CREATE VIEW summary_by_region AS
SELECT region,{_FIGURES}
FROM (
    SELECT r.region_id AS region, c.*
    FROM counted_lots c JOIN region_country r ON r.country = c.country
    UNION ALL
    SELECT g.id AS region, c.*
    FROM counted_lots c JOIN region g ON c.scope IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM region_country s
        WHERE s.region_id = c.scope AND s.country NOT IN (
            SELECT m.country FROM region_country m WHERE m.region_id = g.id
        )
    )
    UNION ALL
    SELECT NULL AS region, c.*
    FROM counted_lots c
    WHERE NOT EXISTS (SELECT 1 FROM region_country r WHERE r.country = c.country)
      AND (c.scope IS NULL OR NOT EXISTS (
        SELECT 1 FROM region g WHERE NOT EXISTS (
            SELECT 1 FROM region_country s
            WHERE s.region_id = c.scope AND s.country NOT IN (
                SELECT m.country FROM region_country m WHERE m.region_id = g.id
            )
        )
      ))
) AS placed
GROUP BY region
{_MAKES_ROW}
"""

# By the quarter each lot comes online in (its own period or its entry's), as `tracker
# timeline` counts: a period coarser than a quarter (a half, a year) is a row of its own, and
# lots without a period one row, period NULL. period_end orders the rows as the timeline does.
TIMELINE = """
CREATE VIEW timeline_by_quarter AS
SELECT period, MAX(period_end) AS period_end, CAST(SUM(entries) AS BIGINT) AS entries,
    CASE WHEN COUNT(chips) = COUNT(*) THEN CAST(SUM(chips) AS BIGINT) END AS chips,{qualifier}
    ROUND(SUM(h100e), 6) AS h100e, ROUND(SUM(power_mw), 6) AS power_mw
FROM (
    SELECT {period} AS period, {period_end} AS period_end,{flags}{figures}
    FROM counted_lots
    GROUP BY online_start, online_precision
    {makes_row}
) AS by_period
GROUP BY period
"""
_YEAR = {"sqlite": "strftime('%Y', online_start)", "postgresql": "to_char(online_start, 'YYYY')"}
_MONTH = {
    "sqlite": "CAST(strftime('%m', online_start) AS INTEGER)",
    "postgresql": "CAST(EXTRACT(MONTH FROM online_start) AS INTEGER)",
}


def _period(dialect: str) -> str:
    year, month = _YEAR[dialect], _MONTH[dialect]
    return (
        f"CASE WHEN online_precision IN ('day', 'month', 'quarter') "
        f"THEN {year} || '-Q' || CAST(({month} - 1) / 3 + 1 AS TEXT) "
        f"WHEN online_precision = 'half' THEN {year} || '-H' || CAST(({month} - 1) / 6 + 1 AS TEXT) "
        f"WHEN online_precision = 'year' THEN {year} END"
    )


def _period_end(dialect: str) -> str:
    """The last day of the row's period: the quarter's, or the coarse period's own."""
    months = "CASE online_precision WHEN 'half' THEN 6 WHEN 'year' THEN 12 ELSE 3 END"
    month = _MONTH[dialect]
    if dialect == "sqlite":
        first = f"date(online_start, 'start of month', '-' || CAST(({month} - 1) % {months} AS TEXT) || ' months')"
        return f"date({first}, '+' || CAST({months} AS TEXT) || ' months', '-1 day')"
    first = f"(date_trunc('month', online_start) - make_interval(months => ({month} - 1) % {months}))"
    return f"CAST({first} + make_interval(months => {months}) - interval '1 day' AS DATE)"


def _schedule(dialect: sa.Dialect) -> str:
    """Whether the entry's online period ends later than its first announced one (moved
    later), ends before that one began (moved earlier), or neither (as announced), as
    `tracker summary --by schedule` tells; undated without one."""
    entry = sa.table(
        "e",
        sa.column("online_start", sa.Date),
        sa.column("online_precision", sa.String),
        sa.column("first_online_start", sa.Date),
        sa.column("first_online_precision", sa.String),
    )

    def day_key(
        start: sa.ColumnElement[object], precision: sa.ColumnElement[object], *, last: bool
    ) -> object:
        # The month the first or last day is in (from year 0) x 100, plus the day for a day,
        # else 1 for the first and 99 for the last.
        more = sa.case(
            (precision == "quarter", 2), (precision == "half", 5), (precision == "year", 11), else_=0
        )
        month = sa.extract("year", start) * 12 + sa.extract("month", start) - 1 + (more if last else 0)
        return month * 100 + sa.case((precision == "day", sa.extract("day", start)), else_=99 if last else 1)

    c = entry.c
    current_end = day_key(c.online_start, c.online_precision, last=True)
    expression = sa.case(
        (c.online_start.is_(None), "undated"),
        (c.first_online_start.is_(None), "as announced"),
        (current_end > day_key(c.first_online_start, c.first_online_precision, last=True), "moved later"),
        (current_end < day_key(c.first_online_start, c.first_online_precision, last=False), "moved earlier"),
        else_="as announced",
    )
    return str(expression.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _triggers(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [
            # The tracker's own writes (tracker.writing set) only note that they changed
            # something, in a setting of the transaction: it counts again before committing.
            "CREATE FUNCTION mark_counts_stale() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF current_setting('tracker.writing', true) = 'on' THEN "
            "PERFORM set_config('tracker.changed', 'on', true); "
            # Anyone else's write locks the row first, so that a tracker writer beginning
            # meanwhile waits for it to commit before it counts, then finds it.
            "ELSE PERFORM 1 FROM count_state WHERE id = 1 FOR UPDATE; "
            "UPDATE count_state SET stale = true WHERE NOT stale; END IF; "
            "RETURN NULL; END $$",
            *(
                f"CREATE TRIGGER {table}_marks_counts_stale AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION mark_counts_stale()"
                for table in WATCHED
            ),
        ]
    return [
        f"CREATE TRIGGER {table}_{event.lower()}_marks_counts_stale AFTER {event} ON {table} "
        f"BEGIN UPDATE count_state SET stale = 1 WHERE stale = 0; END"
        for table in WATCHED
        for event in ("INSERT", "UPDATE", "DELETE")
    ]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "programme_lot_count",
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("chips", sa.BigInteger(), nullable=False),
        sa.Column("qualifier", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("lot_id", name=op.f("pk_programme_lot_count")),
    )
    op.create_table(
        "count_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_count_state_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_count_state")),
    )
    # Out of date until the tracker counts (tracker init does, after the migrations).
    op.execute(sa.text("INSERT INTO count_state (id, stale) VALUES (1, :stale)").bindparams(stale=True))
    for trigger in _triggers(dialect):
        op.execute(trigger)
    create_views(dialect, "1.5")


def create_views(dialect: str, power_factor: str, *, family: bool = False) -> None:
    """The views, power estimated with ``power_factor`` (site watts per watt of chip TDP);
    ``family``: counted_lots gives each lot's model family (revision 0011 added it)."""
    true, false = ("true", "false") if dialect == "postgresql" else ("1", "0")
    op.execute(
        COUNTED_LOTS.format(
            true=true,
            false=false,
            schedule=_schedule(op.get_bind().dialect),
            programme=PROGRAMME,
            power_factor=power_factor,
            family=" family," if family else "",
            model_family="\n        m.family AS family," if family else "",
        )
    )
    op.execute(SUMMARY_BY_COUNTRY)
    op.execute(SUMMARY_BY_VENDOR)
    op.execute(SUMMARY_BY_REGION)
    op.execute(
        TIMELINE.format(
            period=_period(dialect),
            period_end=_period_end(dialect),
            figures=_FIGURES,
            flags=_GROUP_FLAGS,
            qualifier=_qualifier("MAX(has_at_least)", "MAX(has_up_to)", "MAX(has_approx)"),
            makes_row=_MAKES_ROW,
        )
    )


def drop_views() -> None:
    for view in VIEWS:
        op.execute(f"DROP VIEW {view}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    drop_views()
    if dialect == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER {table}_marks_counts_stale ON {table}")
        op.execute("DROP FUNCTION mark_counts_stale()")
    else:
        for table in WATCHED:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_{event}_marks_counts_stale")
    op.drop_table("count_state")
    op.drop_table("programme_lot_count")
