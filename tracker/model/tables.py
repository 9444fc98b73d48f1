"""The database schema as SQLAlchemy typed models: entries, their chip lots, sources, history,
the chip catalogue, regions and token figures.

The schema itself is built only by the Alembic migrations in ``db/``; a test checks
that these models and the migrations agree.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from tracker.model.fields import ENTRY_FIELDS, Stored
from tracker.model.periods import Precision
from tracker.model.vocabulary import (
    Choice,
    Confidence,
    Grade,
    Kind,
    OperatorKind,
    Qualifier,
    Sponsor,
    Status,
    TokenRate,
    Unit,
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class RecordingClock:
    """Moments for records: the clock's reading in UTC, to the microsecond, but always later
    than the moment given before (by a microsecond, when the clock reads the same or steps
    back), so that the records one process makes are in the order it made them by their
    moments alone, however fast it makes them."""

    def __init__(self, read: Callable[[], dt.datetime] | None = None) -> None:
        self._read = read or (lambda: dt.datetime.now(dt.timezone.utc))
        self._last = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
        self._lock = threading.Lock()  # a process may record from several threads

    def __call__(self) -> dt.datetime:
        with self._lock:
            self._last = max(self._read(), self._last + dt.timedelta(microseconds=1))
            return self._last


# The clock of this process (a test may put one that reads a stopped clock in its place).
RECORDING_CLOCK = RecordingClock()


def utc_now() -> dt.datetime:
    """The moment to record now (see :class:`RecordingClock`): each call's is later than the last."""
    return RECORDING_CLOCK()


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A moment in UTC, read back with its time zone on every database (SQLite drops it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        return value.astimezone(dt.timezone.utc) if value is not None else None

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value


def one_of(column: str, choices: type[Choice] | type[Precision], name: str = "") -> CheckConstraint:
    """A CHECK that keeps a text column within a vocabulary (NULL passes, as with IN).

    Written as comparisons joined by OR, not ``IN (...)``: SQLite builds a temporary index
    of an IN list each time it checks a row, which made these CHECKs most of a large
    import's time (migration 0007).
    """
    comparisons = " OR ".join(f"{column} = '{choice.value}'" for choice in choices)
    return CheckConstraint(comparisons, name=name or column)


def both_or_neither(prefix: str) -> CheckConstraint:
    """A period is stored as start and precision: both set, or neither."""
    return CheckConstraint(
        f"({prefix}_start IS NULL) = ({prefix}_precision IS NULL)", name=f"{prefix}_complete"
    )


class Region(Base):
    """A named group of countries, such as ``europe`` or ``gcc``."""

    __tablename__ = "region"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    definition: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)

    countries: Mapped[list[RegionCountry]] = relationship(
        back_populates="region", cascade="all, delete-orphan", order_by="RegionCountry.country"
    )


class RegionCountry(Base):
    """One country's membership of a region; a country may be in several."""

    __tablename__ = "region_country"
    __table_args__ = (Index(None, "country"),)

    region_id: Mapped[str] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)

    region: Mapped[Region] = relationship(back_populates="countries")


class ChipVendor(Base):
    """An accelerator vendor, with the country of its headquarters (the chip designer's
    nationality) and where that is stated; ``unknown`` records a vendor that was not disclosed."""

    __tablename__ = "chip_vendor"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    country: Mapped[str | None] = mapped_column(String(2))
    country_source: Mapped[str | None] = mapped_column(Text)


class ChipVendorAlias(Base):
    """Another spelling of a vendor's name; spellings match whatever their case and punctuation."""

    __tablename__ = "chip_vendor_alias"

    alias: Mapped[str] = mapped_column(String(100), primary_key=True)
    vendor: Mapped[str] = mapped_column(ForeignKey("chip_vendor.name", ondelete="CASCADE"))


class ChipModel(Base):
    """An accelerator model in the catalogue, with its spec-sheet figures and their source."""

    __tablename__ = "chip_model"

    vendor: Mapped[str] = mapped_column(ForeignKey("chip_vendor.name", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    family: Mapped[str | None] = mapped_column(String(60))
    # Spec-sheet figures of one accelerator package, dense (without sparsity): tensor rates in
    # TFLOP/s (INT8 in TOPS), and its TDP or board power in watts.
    bf16_tflops: Mapped[Decimal | None] = mapped_column(Numeric(10, 1))
    fp8_tflops: Mapped[Decimal | None] = mapped_column(Numeric(10, 1))
    tdp_w: Mapped[int | None] = mapped_column(Integer)
    # How many accelerators one superchip, server or rack of this model holds, where it is fixed.
    per_superchip: Mapped[int | None] = mapped_column(Integer)
    per_server: Mapped[int | None] = mapped_column(Integer)
    per_rack: Mapped[int | None] = mapped_column(Integer)
    figures_source: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    # Added later (revision 0011), so last: the dense 16-bit rate of a chip without BF16, and
    # the dense INT8 rate, for H100-equivalents on Epoch AI's basis.
    fp16_tflops: Mapped[Decimal | None] = mapped_column(Numeric(10, 1))
    int8_tops: Mapped[Decimal | None] = mapped_column(Numeric(10, 1))


# A model's spec-sheet figures, in the order the catalogue lists them: rates (per second, dense),
# TDP, then the accelerators one superchip, server or rack holds.
CHIP_RATES = ("bf16_tflops", "fp16_tflops", "fp8_tflops", "int8_tops")
CHIP_FIGURES = (*CHIP_RATES, "tdp_w", "per_superchip", "per_server", "per_rack")


class ChipModelAlias(Base):
    """Another spelling of a model's name within its vendor."""

    __tablename__ = "chip_model_alias"
    __table_args__ = (
        ForeignKeyConstraint(
            ["vendor", "model"], ["chip_model.vendor", "chip_model.name"], ondelete="CASCADE"
        ),
    )

    vendor: Mapped[str] = mapped_column(String(60), primary_key=True)
    alias: Mapped[str] = mapped_column(String(100), primary_key=True)
    model: Mapped[str] = mapped_column(String(60))


class Operator(Base):
    """Who runs an entry's chips: a company, a government body or a research centre, with the
    country of its headquarters (its nationality), what kind of body it is, the group it
    belongs to, and where those are stated. An operator first met in an entry has none of
    them until someone gives them (``tracker operators set``)."""

    __tablename__ = "operator"
    __table_args__ = (one_of("kind", OperatorKind),)

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    hq_country: Mapped[str | None] = mapped_column(String(2))
    kind: Mapped[str | None] = mapped_column(String(10))
    group_name: Mapped[str | None] = mapped_column(String(200))
    hq_source: Mapped[str | None] = mapped_column(Text)


class OperatorAlias(Base):
    """Another name of an operator; names match whatever their case, accents and punctuation."""

    __tablename__ = "operator_alias"
    __table_args__ = (Index(None, "operator"),)

    alias: Mapped[str] = mapped_column(String(200), primary_key=True)
    operator: Mapped[str] = mapped_column(ForeignKey("operator.name", ondelete="CASCADE", onupdate="CASCADE"))


class Source(Base):
    """Where a figure comes from: a URL or a citation, its publisher and date, and how far it
    can be trusted (its grade: primary, press or secondary)."""

    __tablename__ = "source"
    __table_args__ = (one_of("grade", Grade),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(Text, unique=True)
    publisher: Mapped[str | None] = mapped_column(String(200))
    published_on: Mapped[dt.date | None] = mapped_column(Date)
    grade: Mapped[str | None] = mapped_column(String(10))


class EntrySource(Base):
    """The many-to-many link between entries and their sources."""

    __tablename__ = "entry_source"
    __table_args__ = (Index(None, "source_id"),)

    entry_id: Mapped[str] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"), primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"), primary_key=True)


class Entry(Base):
    """An AI factory, data centre, supercomputer or programme."""

    __tablename__ = "entry"
    __table_args__ = (
        one_of("status", Status),
        one_of("kind", Kind),
        one_of("sponsor", Sponsor),
        one_of("confidence", Confidence),
        one_of("online_precision", Precision),
        both_or_neither("online"),
        CheckConstraint("country IS NOT NULL OR scope IS NOT NULL", name="located"),
        CheckConstraint("power_mw > 0", name="power_positive"),
        Index(None, "country"),
        Index(None, "operator"),
        # Programmes and their parts are found by scope and parent on every summary: from
        # these indexes alone.
        Index("ix_entry_parent_id", "parent_id", "id"),
        Index("ix_entry_scope", "scope", "id"),
    )

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # An operator's own name (tracker.service.operators keeps it so; a rename renames it here).
    # Not a foreign key: SQLite adds one only by copying this table, and dropping the table
    # that lots, sources and history refer to would delete them (ON DELETE CASCADE).
    operator: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    # A programme spanning several countries has a region scope instead of a country.
    scope: Mapped[str | None] = mapped_column(ForeignKey("region.id"))
    city: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str | None] = mapped_column(String(20))
    sponsor: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[str | None] = mapped_column(String(20))
    announced_on: Mapped[dt.date | None] = mapped_column(Date)
    online_start: Mapped[dt.date | None] = mapped_column(Date)
    online_precision: Mapped[str | None] = mapped_column(String(10))
    power_mw: Mapped[Decimal | None] = mapped_column(Numeric(12, 3))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("entry.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)

    lots: Mapped[list[ChipLot]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="ChipLot.lot"
    )
    sources: Mapped[list[Source]] = relationship(secondary="entry_source", order_by="Source.reference")
    events: Mapped[list[StatusEvent]] = relationship(
        back_populates="entry",
        cascade="all, delete-orphan",
        order_by="[StatusEvent.effective_on, StatusEvent.id]",
    )
    changes: Mapped[list[EntryChange]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="EntryChange.id"
    )
    verifications: Mapped[list[EntryVerification]] = relationship(
        cascade="all, delete-orphan",
        order_by="[EntryVerification.verified_on, EntryVerification.id]",
        passive_deletes=True,
    )


class ChipLot(Base):
    """A quantity of accelerators of one vendor (and model, where known) within an entry."""

    __tablename__ = "chip_lot"
    __table_args__ = (
        ForeignKeyConstraint(["vendor", "model"], ["chip_model.vendor", "chip_model.name"]),
        UniqueConstraint("entry_id", "lot"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("lot > 0", name="lot_positive"),
        one_of("status", Status),
        one_of("online_precision", Precision),
        one_of("qualifier", Qualifier),
        one_of("announced_unit", Unit),
        both_or_neither("online"),
        CheckConstraint("(announced_quantity IS NULL) = (announced_unit IS NULL)", name="announced_complete"),
        Index(None, "vendor", "model"),
        # Everything a summary reads of a lot, found by its entry without reading the table.
        Index("ix_chip_lot_summary", "entry_id", "status", "vendor", "model", "quantity", "qualifier"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"))
    lot: Mapped[int] = mapped_column(Integer)
    vendor: Mapped[str] = mapped_column(ForeignKey("chip_vendor.name"))
    model: Mapped[str | None] = mapped_column(String(60))
    quantity: Mapped[int] = mapped_column(BigInteger)
    # How exactly the quantity was given: exact, approx, at-least ("more than") or up-to.
    qualifier: Mapped[str] = mapped_column(String(10), default="exact", server_default="exact")
    # The count as announced, where it was of superchips, servers or racks (quantity is
    # always accelerators): 18 racks of GB200 NVL72 are 1,296 accelerators.
    announced_quantity: Mapped[int | None] = mapped_column(BigInteger)
    announced_unit: Mapped[str | None] = mapped_column(String(10))
    # Where a lot's status or online period differs from its entry's.
    status: Mapped[str | None] = mapped_column(String(20))
    online_start: Mapped[dt.date | None] = mapped_column(Date)
    online_precision: Mapped[str | None] = mapped_column(String(10))

    entry: Mapped[Entry] = relationship(back_populates="lots")


class StatusEvent(Base):
    """One change of an entry's status: append-only history."""

    __tablename__ = "status_event"
    __table_args__ = (
        one_of("from_status", Status),
        one_of("to_status", Status),
        Index(None, "entry_id", "effective_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    effective_on: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id"))
    note: Mapped[str | None] = mapped_column(Text)

    entry: Mapped[Entry] = relationship(back_populates="events")
    source: Mapped[Source | None] = relationship()


class EntryChange(Base):
    """One edit of an entry's field (``tracker update``): what it was, what it became, when,
    and on what source. Values are kept as the export writes them."""

    __tablename__ = "entry_change"
    __table_args__ = (Index(None, "entry_id"), Index(None, "changed_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id"))

    entry: Mapped[Entry] = relationship(back_populates="changes")
    source: Mapped[Source | None] = relationship()


class EntryVerification(Base):
    """A day on which someone checked that an entry still stands as recorded (``tracker
    verify``), and on what source."""

    __tablename__ = "entry_verification"
    __table_args__ = (Index(None, "entry_id", "verified_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("entry.id", ondelete="CASCADE"))
    verified_on: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id"))

    source: Mapped[Source | None] = relationship()


class EntryRemoval(Base):
    """An entry removed (``tracker remove``, ``import --prune``): what it was, when, and why,
    kept after the entry and its history are gone."""

    __tablename__ = "entry_removal"
    __table_args__ = (Index(None, "removed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(80))
    summary: Mapped[str] = mapped_column(Text)  # its name, place and chips when removed
    removed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)
    note: Mapped[str | None] = mapped_column(Text)


class SeedLoad(Base):
    """A set of bundled seed data loaded into this database, so that it is loaded only once."""

    __tablename__ = "seed_load"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    loaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utc_now)


class TokenMetric(Base):
    """Demand side: how many tokens a provider serves, per day, over a period."""

    __tablename__ = "token_metric"
    __table_args__ = (
        one_of("period_precision", Precision),
        one_of("reported_per", TokenRate),
        CheckConstraint("tokens_per_day > 0", name="tokens_positive"),
        UniqueConstraint("provider", "period_start", "period_precision"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_precision: Mapped[str] = mapped_column(String(10))
    tokens_per_day: Mapped[int] = mapped_column(BigInteger)
    # The figure as reported, over a day or a month, from which tokens_per_day comes.
    reported_tokens: Mapped[int | None] = mapped_column(BigInteger)
    reported_per: Mapped[str | None] = mapped_column(String(5))
    share_pct: Mapped[Decimal | None] = mapped_column(Numeric(7, 3))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id"))
    note: Mapped[str | None] = mapped_column(Text)


class ProgrammeLotCount(Base):
    """What each lot of a programme adds to its parts' chips (:mod:`tracker.service.programmes`),
    as the planned total counts it with no filter: kept by the tracker on every write, so that
    the ``counted_lots`` view gives the summary's figures (:mod:`tracker.service.counts`)."""

    __tablename__ = "programme_lot_count"

    lot_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # chip_lot.id
    chips: Mapped[int] = mapped_column(BigInteger)
    qualifier: Mapped[str] = mapped_column(String(10))


class CountState(Base):
    """One row: whether ``programme_lot_count`` is out of date. Triggers on ``entry`` and
    ``chip_lot`` set it on any write, the tracker's or anyone else's; the tracker counts again
    and clears it before it commits, so it stays set only after a write made outside it."""

    __tablename__ = "count_state"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stale: Mapped[bool] = mapped_column(Boolean)


def _columns_of_later_fields() -> None:
    """Give the entry table a column for each field declared, with its type, only in the
    registry of fields (a field added since the table's own columns were written)."""
    table = cast(Table, Entry.__table__)
    for entry_field in ENTRY_FIELDS:
        if entry_field.sql is None or entry_field.table_columns[0] in table.c:
            continue
        made = entry_field.sql()
        types = made if isinstance(made, tuple) else (made,) * len(entry_field.table_columns)
        for name, type_ in zip(entry_field.table_columns, types, strict=True):
            setattr(Entry, name, mapped_column(name, type_, nullable=True))
        if entry_field.stored is Stored.PERIOD:
            table.append_constraint(one_of(entry_field.table_columns[1], Precision))


_columns_of_later_fields()
