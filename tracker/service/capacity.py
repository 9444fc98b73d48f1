"""What chips amount to: compute in H100-equivalents, and power in megawatts.

Both come from the chip catalogue's spec-sheet figures, each with its source (``tracker
chips``). A chip whose model has no figure (or a lot with no model) adds nothing to a sum of
them, and the sum says how many of its chips it covers: a figure is never guessed, and a sum
that leaves chips out is a lower bound.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased

from tracker.model.tables import ChipLot, ChipModel, Entry
from tracker.model.values import POWER_FACTOR
from tracker.model.vocabulary import H100eBasis

REFERENCE_CHIP = ("NVIDIA", "H100")  # the H100 SXM: one H100-equivalent is its rate
_ZERO = Decimal(0)


def _decimal(value: Any) -> Decimal:
    """A sum from the database as a Decimal (SQLite sums numbers as floats)."""
    return _ZERO if value is None else Decimal(str(value))


@dataclass(frozen=True)
class Capacity:
    """Sums over some chips of the catalogue figures behind H100-equivalents and power, with
    how many chips each sum covers. Both bases of H100-equivalents are summed: each is linear
    in chips, so either is read from the same sums."""

    bf16_tflops: Decimal = _ZERO  # chips x dense BF16 TFLOP/s
    bf16_chips: int = 0
    reported_mw: Decimal = _ZERO  # the entries' reported power, their lots' share of it
    reported_chips: int = 0
    tdp_w: Decimal = _ZERO  # chips x TDP, for chips of entries without reported power
    tdp_chips: int = 0
    epoch_tops: Decimal = _ZERO  # chips x the larger of the dense 16-bit and INT8 rates
    epoch_chips: int = 0

    def __add__(self, other: Capacity) -> Capacity:
        return Capacity(*(mine + theirs for mine, theirs in zip(self.sums, other.sums, strict=True)))

    @property
    def sums(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name.name) for name in fields(self))

    @classmethod
    def of_lot(
        cls,
        chips: int,
        bf16_tflops: Decimal | None,
        tdp_w: int | None,
        reported_mw: Decimal | None,
        epoch_tops: Decimal | None = None,
    ) -> Capacity:
        """The figures of ``chips`` of one model; ``reported_mw`` is their share of their
        entry's reported power, if it has one."""
        sums: dict[str, Any] = {}
        if chips and bf16_tflops is not None:
            sums.update(bf16_tflops=chips * bf16_tflops, bf16_chips=chips)
        if chips and epoch_tops is not None:
            sums.update(epoch_tops=chips * epoch_tops, epoch_chips=chips)
        if reported_mw is not None:
            sums.update(reported_mw=reported_mw, reported_chips=chips)
        elif tdp_w is not None:
            sums.update(tdp_w=Decimal(chips * tdp_w), tdp_chips=chips)
        return cls(**sums)

    def rate(self, basis: H100eBasis) -> tuple[Decimal, int]:
        """The sum of chips x rate on a basis, and the chips it covers."""
        if basis is H100eBasis.EPOCH:
            return self.epoch_tops, self.epoch_chips
        return self.bf16_tflops, self.bf16_chips

    @property
    def power_chips(self) -> int:
        return self.reported_chips + self.tdp_chips


@dataclass(frozen=True)
class Measure:
    """How chips become H100-equivalents and megawatts: the basis, the H100's rate on it
    (from the catalogue; None when the catalogue has none), and the power factor."""

    basis: H100eBasis = H100eBasis.BF16
    reference: Decimal | None = None
    power_factor: Decimal = POWER_FACTOR

    def h100e(self, capacity: Capacity) -> Decimal | None:
        """H100-equivalents of the chips with a rate, unrounded; None when none has one."""
        total, chips = capacity.rate(self.basis)
        if not chips or not self.reference:
            return None
        return total / self.reference

    def h100e_chips(self, capacity: Capacity) -> int:
        return capacity.rate(self.basis)[1]

    def power_mw(self, capacity: Capacity) -> Decimal | None:
        """Reported power plus the estimate from TDP, unrounded; None when no chip has either."""
        if not capacity.reported_chips and not capacity.tdp_chips:
            return None
        return capacity.reported_mw + self.estimated_mw(capacity)

    def estimated_mw(self, capacity: Capacity) -> Decimal:
        """The part of :meth:`power_mw` estimated from TDP."""
        return capacity.tdp_w * self.power_factor / 1_000_000

    @property
    def h100e_note(self) -> str:
        """What an H100-equivalent is, for every output that gives them."""
        of = f" ({self.reference.normalize():f})" if self.reference else " (not in the catalogue: no h100e)"
        if self.basis is H100eBasis.EPOCH:
            return (
                "h100e (basis epoch): H100-equivalents = chips x the larger of the model's dense 16-bit "
                f"and INT8 rates / the NVIDIA H100 SXM's dense INT8 TOPS{of}, as Epoch AI counts them"
            )
        return (
            "h100e (basis bf16): H100-equivalents = chips x the model's dense BF16 TFLOP/s "
            f"/ the NVIDIA H100 SXM's{of}"
        )

    @property
    def power_note(self) -> str:
        default = "the default " if self.power_factor == POWER_FACTOR else ""
        return (
            f"power_mw: the entry's reported MW, shared among its lots by chips; where none is reported, "
            f"estimated (est.) as chips x the model's TDP x {self.power_factor.normalize():f} "
            f"({default}--power-factor: servers and cooling)"
        )


def measure(
    session: Session, basis: H100eBasis = H100eBasis.BF16, power_factor: Decimal = POWER_FACTOR
) -> Measure:
    """The :class:`Measure` of a basis and power factor, with the H100's rate from the catalogue:
    its dense BF16, or for Epoch's basis its dense INT8 (none when the catalogue has none, so
    that no figure is ever counted against another rate)."""
    vendor, model = REFERENCE_CHIP
    rate = ChipModel.int8_tops if basis is H100eBasis.EPOCH else ChipModel.bf16_tflops
    h100 = session.execute(
        sa.select(rate).where(ChipModel.vendor == vendor, ChipModel.name == model)
    ).scalar()
    return Measure(basis, None if h100 is None else _decimal(h100), power_factor)


class _greatest(sa.sql.functions.GenericFunction[Any]):
    """The largest of its arguments that is not NULL (NULL when all are)."""

    name = "greatest"
    inherit_cache = True


@compiles(_greatest, "sqlite")
def _greatest_sqlite(element: _greatest, compiler: Any, **kw: Any) -> str:
    # SQLite's max() of several values is NULL when any is: each argument is coalesced with
    # the others, so that a NULL takes the value of one that is not.
    arguments = list(element.clauses)
    rotations = [arguments[i:] + arguments[:i] for i in range(len(arguments))]
    coalesced = (compiler.process(sa.func.coalesce(*rotation), **kw) for rotation in rotations)
    return f"max({', '.join(coalesced)})"


def rate_of(basis: H100eBasis) -> sa.ColumnElement[Any]:
    """A model's rate on a basis, of ChipModel: its dense BF16 TFLOP/s, or for Epoch's the
    larger of its dense 16-bit (BF16 or FP16) and INT8 rates."""
    if basis is H100eBasis.EPOCH:
        return _greatest(ChipModel.bf16_tflops, ChipModel.fp16_tflops, ChipModel.int8_tops)
    return ChipModel.bf16_tflops.expression


def rounded(value: Decimal | None, places: int = 1) -> Decimal | None:
    """A figure rounded once, for output, halves up (2,526.5 is 2,527; 1.05 MW is 1.1)."""
    return None if value is None else value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


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
    reads added: the model's BF16 TFLOP/s and TDP, the entry's reported power, the lot's
    share of it (by chips, over all the entry's lots), and the model's rate on Epoch's basis.
    ``few``: the query reads few lots."""
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
        rate_of(H100eBasis.EPOCH).label("epoch_tops"),
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
        sa.func.sum(quantity * lots.c.epoch_tops),
        sa.func.sum(sa.case((lots.c.epoch_tops.is_not(None), quantity), else_=0)),
    )


def capacity_of(sums: tuple[Any, ...]) -> Capacity:
    """A :class:`Capacity` from the values of :func:`capacity_sums`."""
    bf16, bf16_chips, reported, reported_chips, tdp, tdp_chips, epoch, epoch_chips = sums
    return Capacity(
        _decimal(bf16),
        int(bf16_chips or 0),
        _decimal(reported),
        int(reported_chips or 0),
        _decimal(tdp),
        int(tdp_chips or 0),
        _decimal(epoch),
        int(epoch_chips or 0),
    )
