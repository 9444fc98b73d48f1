"""What chips amount to: compute in H100-equivalents, and power in megawatts.

Both come from the chip catalogue's spec-sheet figures, each with its source (``tracker
chips``). A chip whose model has no figure (or a lot with no model) adds nothing to a sum of
them, and the sum says how many of its chips it covers: a figure is never guessed, and a sum
that leaves chips out is a lower bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from tracker.model.tables import ChipLot, ChipModel, Entry

REFERENCE_CHIP = ("NVIDIA", "H100")  # the H100 SXM, whose dense BF16 TFLOP/s is one H100-equivalent
# Power of a site per watt of its accelerators' TDP: the servers around them (CPUs, memory,
# networking) and the building (cooling, power conversion). A round figure, for an order of
# magnitude where a site's own power is not reported.
POWER_OVERHEAD = Decimal("1.5")
POWER_BASIS = (
    f"power_mw: the entry's reported MW, shared among its lots by chips; where none is reported, "
    f"estimated (est.) as chips x the model's TDP x {POWER_OVERHEAD} (servers and cooling)"
)


def h100e_basis(reference: Decimal | None) -> str:
    """What an H100-equivalent is, for every output that gives them."""
    of = f" ({reference.normalize():f})" if reference else " (not in the catalogue: no h100e)"
    return f"h100e: H100-equivalents = chips x the model's dense BF16 TFLOP/s / the NVIDIA H100 SXM's{of}"


_ZERO = Decimal(0)


def _decimal(value: Any) -> Decimal:
    """A sum from the database as a Decimal (SQLite sums numbers as floats)."""
    return _ZERO if value is None else Decimal(str(value))


@dataclass(frozen=True)
class Capacity:
    """Sums over some chips of the catalogue figures behind H100-equivalents and power, with
    how many chips each sum covers."""

    bf16_tflops: Decimal = _ZERO  # chips x dense BF16 TFLOP/s
    bf16_chips: int = 0
    reported_mw: Decimal = _ZERO  # the entries' reported power, their lots' share of it
    reported_chips: int = 0
    tdp_w: Decimal = _ZERO  # chips x TDP, for chips of entries without reported power
    tdp_chips: int = 0

    def __add__(self, other: Capacity) -> Capacity:
        return Capacity(
            self.bf16_tflops + other.bf16_tflops,
            self.bf16_chips + other.bf16_chips,
            self.reported_mw + other.reported_mw,
            self.reported_chips + other.reported_chips,
            self.tdp_w + other.tdp_w,
            self.tdp_chips + other.tdp_chips,
        )

    @classmethod
    def of_lot(
        cls,
        chips: int,
        bf16_tflops: Decimal | None,
        tdp_w: int | None,
        reported_mw: Decimal | None,
    ) -> Capacity:
        """The figures of ``chips`` of one model; ``reported_mw`` is their share of their
        entry's reported power, if it has one."""
        bf16 = (chips * bf16_tflops, chips) if bf16_tflops is not None and chips else (_ZERO, 0)
        if reported_mw is not None:
            return cls(*bf16, reported_mw=reported_mw, reported_chips=chips)
        if tdp_w is not None:
            return cls(*bf16, tdp_w=Decimal(chips * tdp_w), tdp_chips=chips)
        return cls(*bf16)

    def h100e(self, reference: Decimal | None) -> Decimal | None:
        """H100-equivalents of the chips with a BF16 figure, unrounded; None when none has one."""
        if not self.bf16_chips or not reference:
            return None
        return self.bf16_tflops / reference

    @property
    def power_mw(self) -> Decimal | None:
        """Reported power plus the estimate from TDP, unrounded; None when no chip has either."""
        if not self.reported_chips and not self.tdp_chips:
            return None
        return self.reported_mw + self.estimated_mw

    @property
    def estimated_mw(self) -> Decimal:
        """The part of :attr:`power_mw` estimated from TDP."""
        return self.tdp_w * POWER_OVERHEAD / 1_000_000

    @property
    def power_chips(self) -> int:
        return self.reported_chips + self.tdp_chips


def rounded(value: Decimal | None, places: int = 1) -> Decimal | None:
    """A figure rounded once, for output, halves up (2,526.5 is 2,527; 1.05 MW is 1.1)."""
    return None if value is None else value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def reference_tflops(session: Session) -> Decimal | None:
    """The dense BF16 TFLOP/s of one H100-equivalent, from the catalogue."""
    vendor, model = REFERENCE_CHIP
    return session.scalar(
        sa.select(ChipModel.bf16_tflops).where(ChipModel.vendor == vendor, ChipModel.name == model)
    )


def _entry_chips_by_lot() -> sa.ScalarSelect[Any]:
    """The chips of a lot's entry, over all its lots, read from an index lot by lot."""
    lots = aliased(ChipLot)
    return sa.select(sa.func.sum(lots.quantity)).where(lots.entry_id == Entry.id).scalar_subquery()


def _entry_chips_joined() -> sa.Subquery:
    """The chips of every entry that reports its power, over all its lots, to join."""
    with_power = sa.select(Entry.id).where(Entry.power_mw.is_not(None))
    return (
        sa.select(ChipLot.entry_id.label("entry_id"), sa.func.sum(ChipLot.quantity).label("chips"))
        .where(ChipLot.entry_id.in_(with_power))
        .group_by(ChipLot.entry_id)
        .subquery("entry_chips")
    )


def with_figures(query: sa.Select[Any], session: Session, *, few: bool = False) -> sa.Select[Any]:
    """``query`` (of chip lots joined to their entries) with the columns :func:`capacity_sums`
    reads added: the model's BF16 TFLOP/s and TDP, the entry's reported power, and the lot's
    share of it (by chips, over all the entry's lots). ``few``: the query reads few lots."""
    query = query.outerjoin(
        ChipModel, sa.and_(ChipModel.vendor == ChipLot.vendor, ChipModel.name == ChipLot.model)
    )
    # What an entry's power is shared among: SQLite reads it from an index for each lot of an
    # entry with power faster than it joins; PostgreSQL hashes the join faster, unless the
    # lots are few (the join would still sum every entry's).
    if session.get_bind().dialect.name == "postgresql" and not few:
        joined = _entry_chips_joined()
        query = query.outerjoin(joined, joined.c.entry_id == Entry.id)
        chips: Any = sa.func.nullif(joined.c.chips, 0)
    else:
        chips = _entry_chips_by_lot()
    # As a float: SQLite would otherwise round each share to power_mw's 3 decimals.
    share = sa.type_coerce(Entry.power_mw, sa.Float) * ChipLot.quantity / chips
    return query.add_columns(
        ChipModel.bf16_tflops.label("bf16_tflops"),
        ChipModel.tdp_w.label("tdp_w"),
        Entry.power_mw.label("power_mw"),
        sa.type_coerce(sa.case((Entry.power_mw.is_not(None), share), else_=None), sa.Float).label(
            "reported_mw"
        ),
    )


def capacity_sums(lots: Any) -> tuple[sa.ColumnElement[Any], ...]:
    """Aggregates over a subquery of :func:`with_figures` (with ``quantity``), in the order
    :meth:`Capacity` takes them: read them back with :func:`capacity_of`."""
    quantity = lots.c.quantity
    # Asked of the entry's power rather than of the share, so that the share (a subquery)
    # is worked out once a lot.
    unreported = lots.c.power_mw.is_(None)
    return (
        sa.func.sum(quantity * lots.c.bf16_tflops),
        sa.func.sum(sa.case((lots.c.bf16_tflops.is_not(None), quantity), else_=0)),
        sa.func.sum(lots.c.reported_mw, type_=sa.Float),
        sa.func.sum(sa.case((unreported, 0), else_=quantity)),
        sa.func.sum(sa.case((unreported, quantity * lots.c.tdp_w), else_=None)),
        sa.func.sum(sa.case((sa.and_(unreported, lots.c.tdp_w.is_not(None)), quantity), else_=0)),
    )


def capacity_of(sums: tuple[Any, ...]) -> Capacity:
    """A :class:`Capacity` from the values of :func:`capacity_sums`."""
    bf16, bf16_chips, reported, reported_chips, tdp, tdp_chips = sums
    return Capacity(
        _decimal(bf16),
        int(bf16_chips or 0),
        _decimal(reported),
        int(reported_chips or 0),
        _decimal(tdp),
        int(tdp_chips or 0),
    )
