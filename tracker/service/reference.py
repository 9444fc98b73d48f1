"""Reading the reference data: regions and the chip catalogue."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from tracker.model.tables import ChipModel, ChipModelAlias, Region, RegionCountry
from tracker.service.catalogue import load_catalogue
from tracker.service.database import bytewise
from tracker.service.filters import resolve_region


def list_regions(session: Session) -> Sequence[Region]:
    """Every region with its countries, by id."""
    return session.scalars(
        sa.select(Region).options(selectinload(Region.countries)).order_by(Region.id)
    ).all()


def region_countries(session: Session, region: str) -> list[str]:
    """The alpha-2 codes of one region's countries."""
    region_id = resolve_region(session, region)
    query = sa.select(RegionCountry.country).where(RegionCountry.region_id == region_id)
    return sorted(session.scalars(query))


@dataclass(frozen=True)
class CatalogueModel:
    vendor: str
    model: str
    family: str | None
    aliases: tuple[str, ...]
    notes: str | None
    bf16_tflops: Decimal | None = None
    fp16_tflops: Decimal | None = None
    fp8_tflops: Decimal | None = None
    int8_tops: Decimal | None = None
    tdp_w: int | None = None
    holds: tuple[tuple[str, int], ...] = ()  # accelerators per superchip, server or rack
    figures_source: str | None = None

    @property
    def holds_text(self) -> str | None:
        """``superchip 2, rack 72``."""
        return ", ".join(f"{unit} {count}" for unit, count in self.holds) or None


def list_chip_models(session: Session, vendors: Sequence[str] = ()) -> Iterator[CatalogueModel]:
    """Catalogue models by vendor and name, with their aliases (as match keys)."""
    catalogue = load_catalogue(session)
    wanted = [catalogue.vendor(vendor) for vendor in vendors]
    aliases: dict[tuple[str, str], list[str]] = {}
    for vendor, model, alias in session.execute(
        sa.select(ChipModelAlias.vendor, ChipModelAlias.model, ChipModelAlias.alias).order_by(
            ChipModelAlias.alias
        )
    ):
        aliases.setdefault((vendor, model), []).append(alias)
    query = sa.select(ChipModel).order_by(
        bytewise(session, ChipModel.vendor), bytewise(session, ChipModel.name)
    )
    if wanted:
        query = query.where(ChipModel.vendor.in_(wanted))
    for row in session.scalars(query):
        yield CatalogueModel(
            vendor=row.vendor,
            model=row.name,
            family=row.family,
            aliases=tuple(aliases.get((row.vendor, row.name), ())),
            notes=row.notes,
            bf16_tflops=row.bf16_tflops,
            fp16_tflops=row.fp16_tflops,
            fp8_tflops=row.fp8_tflops,
            int8_tops=row.int8_tops,
            tdp_w=row.tdp_w,
            holds=tuple(
                (unit, count)
                for unit, count in (
                    ("superchip", row.per_superchip),
                    ("server", row.per_server),
                    ("rack", row.per_rack),
                )
                if count is not None
            ),
            figures_source=row.figures_source,
        )
