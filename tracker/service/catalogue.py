"""The chip catalogue: matching vendor and model names as people write them."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.errors import Conflict, InvalidValue
from tracker.model.names import match_key
from tracker.model.tables import (
    CHIP_FIGURES,
    CHIP_RATES,
    ChipModel,
    ChipModelAlias,
    ChipVendor,
    ChipVendorAlias,
    Region,
)
from tracker.model.values import MAX_CHIPS, MAX_PER_UNIT, MAX_WATTS, parse_count, parse_text, parse_tflops
from tracker.model.vocabulary import Unit

if TYPE_CHECKING:
    from tracker.service.operators import Operators

UNKNOWN_VENDOR = "unknown"


@dataclass
class Catalogue:
    """Every vendor and model spelling, keyed by :func:`match_key`, and the regions a
    programme's scope may name."""

    vendors: dict[str, str] = field(default_factory=dict)
    models: dict[str, dict[str, str]] = field(default_factory=dict)
    regions: tuple[str, ...] = ()
    # (vendor, model) -> unit -> accelerators it holds, where the catalogue gives it
    holds: dict[tuple[str, str], dict[Unit, int]] = field(default_factory=dict)
    # The operators' names, for a file format that reads an operator from a name (an import
    # gives them; None: not read).
    operators: Operators | None = None

    def accelerators(self, vendor: str, model: str | None, unit: Unit, count: int) -> int:
        """How many accelerators ``count`` superchips, servers or racks of a model are:
        18 racks of GB200 (NVL72) are 1,296. A count of GPUs is itself."""
        if unit is Unit.GPU:
            return count
        if model is None:
            raise InvalidValue(
                "announced_unit",
                f"{unit.value} needs a model: the catalogue gives accelerators per {unit.value} by model",
            )
        per = self.holds.get((vendor, model), {})
        if unit not in per:
            accepted = ", ".join([Unit.GPU.value, *(known.value for known in per)])
            raise InvalidValue(
                "announced_unit",
                f"the catalogue gives no accelerators per {unit.value} for {vendor} {model}; "
                f"units accepted for it: {accepted}",
            )
        accelerators = count * per[unit]
        if accelerators > MAX_CHIPS:
            raise InvalidValue(
                "announced_chips",
                f"{count:,} {unit.value}s of {vendor} {model} are {accelerators:,} accelerators, "
                f"more than {MAX_CHIPS:,}",
            )
        return accelerators

    def region(self, text: str, field_name: str = "region") -> str:
        """The id of a known region, given in any case: ``Europe`` is ``europe``."""
        key = text.strip().casefold().replace("_", "-").replace(" ", "-")
        if key in self.regions:
            return key
        raise InvalidValue(field_name, f"unknown region {text!r}; known regions: {', '.join(self.regions)}")

    def vendor(self, text: str, field_name: str = "vendor") -> str:
        """The catalogue's name for a vendor, such as ``NVIDIA`` for ``nvidia``."""
        key = match_key(text)
        if key in self.vendors:
            return self.vendors[key]
        if not key:
            raise InvalidValue(
                field_name, f"is empty; give a vendor, or `{UNKNOWN_VENDOR}` when it was not disclosed"
            )
        names = sorted(set(self.vendors.values()), key=str.casefold)
        raise InvalidValue(
            field_name,
            f"unknown vendor {text!r}; {_closest(key, self.vendors)}known vendors: "
            f"{', '.join(names)} (`{UNKNOWN_VENDOR}` when it was not disclosed)",
        )

    def model(self, vendor: str, text: str, field_name: str = "model") -> str:
        """The catalogue's name for one of a vendor's models, such as ``GB200`` for ``gb 200``.

        A leading vendor name is ignored, so ``NVIDIA H100`` matches ``H100``.
        """
        found = self.find_model(vendor, text)
        if found is not None:
            return found
        owners = sorted({owner for owner in self.models if self.find_model(owner, text)})
        if owners:
            raise InvalidValue(
                field_name,
                f"{text!r} is a model of {owners[0]}, not {vendor}; give --vendor {owners[0]}",
            )
        models = self.models.get(vendor, {})
        known = sorted(set(models.values()), key=str.casefold)
        listing = f"{vendor} models: {', '.join(known)}" if known else f"{vendor} has no models"
        raise InvalidValue(
            field_name,
            f"unknown model {text!r}; {_closest(match_key(text), models)}{listing}; "
            "`tracker chips add` extends the catalogue",
        )

    def models_named(
        self, text: str, vendors: Sequence[str] = (), field_name: str = "model"
    ) -> list[tuple[str, str]]:
        """The (vendor, model) pairs a model name means: among ``vendors`` if given, else any vendor's."""
        candidates = vendors or sorted(self.models)
        found = [(vendor, model) for vendor in candidates if (model := self.find_model(vendor, text))]
        if found:
            return found
        if vendors:
            self.model(vendors[0], text, field_name)  # raises, naming the vendor it belongs to
        every = {key: model for spellings in self.models.values() for key, model in spellings.items()}
        raise InvalidValue(
            field_name,
            f"unknown model {text!r}; {_closest(match_key(text), every)}`tracker chips` lists them",
        )

    def find_model(self, vendor: str, text: str) -> str | None:
        """The catalogue's name for a vendor's model, or None when the text names none."""
        models = self.models.get(vendor, {})
        key = match_key(text)
        if key in models:
            return models[key]
        for vendor_key, name in self.vendors.items():
            if name == vendor and key.startswith(vendor_key) and key[len(vendor_key) :] in models:
                return models[key[len(vendor_key) :]]
        return None


def _closest(key: str, spellings: dict[str, str]) -> str:
    close = difflib.get_close_matches(key, list(spellings), n=1, cutoff=0.6)
    return f"did you mean {spellings[close[0]]!r}? " if close else ""


def load_catalogue(session: Session) -> Catalogue:
    """Read the whole catalogue (it is small) into memory for matching."""
    catalogue = Catalogue(regions=tuple(sorted(session.scalars(sa.select(Region.id)))))
    for (name,) in session.execute(sa.select(ChipVendor.name)):
        catalogue.vendors[match_key(name)] = name
        catalogue.models.setdefault(name, {})
    for alias, vendor in session.execute(sa.select(ChipVendorAlias.alias, ChipVendorAlias.vendor)):
        catalogue.vendors.setdefault(match_key(alias), vendor)
    models = sa.select(
        ChipModel.vendor, ChipModel.name, ChipModel.per_superchip, ChipModel.per_server, ChipModel.per_rack
    )
    for vendor, name, *per in session.execute(models):
        catalogue.models[vendor][match_key(name)] = name
        units = (Unit.SUPERCHIP, Unit.SERVER, Unit.RACK)
        holds = {unit: count for unit, count in zip(units, per, strict=True) if count is not None}
        if holds:
            catalogue.holds[(vendor, name)] = holds
    for vendor, alias, model in session.execute(
        sa.select(ChipModelAlias.vendor, ChipModelAlias.alias, ChipModelAlias.model)
    ):
        catalogue.models[vendor].setdefault(match_key(alias), model)
    return catalogue


def _name(text: str, field: str, max_length: int) -> str:
    """A catalogue name or alias: one line, with a letter or digit, not too long."""
    name = parse_text(text, field, max_length)
    if name is None or not match_key(name):
        raise InvalidValue(field, f"{text!r} has no letters or digits")
    return name


CATALOGUE_LOCK_KEY = 0x7472_6163_6B63_61  # "trackca": commands changing the catalogue take turns


def catalogue_for_update(session: Session) -> Catalogue:
    """The catalogue, read once every other command changing it has ended, which waits for
    this one to end (on PostgreSQL; SQLite's write lock does so already): two additions of
    one name then end as one after the other would, the second refused as a repeat."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(CATALOGUE_LOCK_KEY)))
    return load_catalogue(session)


def add_vendor(session: Session, name: str, aliases: Sequence[str] = ()) -> str:
    """Add a vendor (and its other spellings) to the catalogue."""
    catalogue = catalogue_for_update(session)
    name = _name(name, "vendor", 60)
    spellings = [name, *(_name(alias, "alias", 100) for alias in aliases)]
    for field_name, spelling in zip(["vendor"] + ["alias"] * len(aliases), spellings, strict=True):
        if match_key(spelling) in catalogue.vendors:
            known = catalogue.vendors[match_key(spelling)]
            raise Conflict(f"{spelling!r} already means vendor {known!r}", field_name)
    session.add(ChipVendor(name=name))
    session.flush()
    for alias in dict.fromkeys(spellings[1:]):
        if match_key(alias) != match_key(name):
            session.add(ChipVendorAlias(alias=alias, vendor=name))
    session.flush()
    return name


FIGURE_FIELDS = CHIP_FIGURES


def read_figures(given: Mapping[str, str | None], source: str | None) -> dict[str, object]:
    """A model's spec-sheet figures as given (text, by :data:`FIGURE_FIELDS`), checked, with
    their source, which every figure needs; only the figures given."""
    figures: dict[str, object] = {}
    for name in FIGURE_FIELDS:
        text = given.get(name)
        if text is None:
            continue
        if name in CHIP_RATES:
            figures[name] = parse_tflops(text, name)
        elif name == "tdp_w":
            figures[name] = parse_count(text, name, "a TDP in watts", MAX_WATTS)
        else:
            figures[name] = parse_count(text, name, f"a number of accelerators per {name[4:]}", MAX_PER_UNIT)
    cited = parse_text(source, "figures_source", 2_000) if source is not None else None
    if figures and not cited:
        raise InvalidValue("figures_source", "is needed with figures: say where they come from (a datasheet)")
    if cited and not figures:
        raise InvalidValue(
            "figures_source", "is given without figures; give --bf16-tflops, --tdp-w and the like"
        )
    if figures:
        figures["figures_source"] = cited
    return figures


@dataclass(frozen=True)
class FiguresSet:
    """The model given figures, and, when their source replaced one that other figures of the
    model came from, that source and those figures (a person should know)."""

    vendor: str
    model: str
    replaced_source: str | None = None
    kept: tuple[str, ...] = ()


def set_figures(session: Session, vendor: str, model: str, figures: Mapping[str, object]) -> FiguresSet:
    """Give a catalogue model figures (see :func:`read_figures`); the others it has stay, and
    the source given becomes the model's."""
    catalogue = catalogue_for_update(session)
    vendor_name = catalogue.vendor(vendor)
    model_name = catalogue.model(vendor_name, model)
    if not figures:
        raise InvalidValue(
            "figures", "none given; give --bf16-tflops, --int8-tops, --tdp-w or --per-... with --source"
        )
    row = session.get(ChipModel, (vendor_name, model_name))
    assert row is not None
    previous = row.figures_source
    kept = tuple(name for name in CHIP_FIGURES if getattr(row, name) is not None and name not in figures)
    for name, value in figures.items():
        setattr(row, name, value)
    session.flush()
    if previous and kept and figures.get("figures_source") != previous:
        return FiguresSet(vendor_name, model_name, previous, kept)
    return FiguresSet(vendor_name, model_name)


def add_model(
    session: Session,
    vendor: str,
    model: str,
    *,
    family: str | None = None,
    aliases: Sequence[str] = (),
    notes: str | None = None,
    figures: Mapping[str, object] | None = None,
) -> tuple[str, str]:
    """Add a model to the catalogue under an existing vendor; returns (vendor, model).

    A name or alias that already means one of the vendor's models, as ``add`` would
    read it (``NVIDIA H100`` is ``H100``), is refused.
    """
    catalogue = catalogue_for_update(session)
    try:
        vendor_name = catalogue.vendor(vendor)
    except InvalidValue as error:
        raise InvalidValue(error.field, f"{error.message}; a new vendor is added with --new-vendor") from None
    model = _name(model, "model", 60)
    spellings = [model, *(_name(alias, "alias", 100) for alias in aliases)]
    for field_name, spelling in zip(["model"] + ["alias"] * len(aliases), spellings, strict=True):
        existing = catalogue.find_model(vendor_name, spelling)
        if existing is not None:
            raise Conflict(f"{spelling!r} already means {vendor_name} model {existing!r}", field_name)
    session.add(
        ChipModel(
            vendor=vendor_name,
            name=model,
            family=parse_text(family, "family", 60),
            notes=parse_text(notes, "note", 10_000, one_line=False),
            **(figures or {}),
        )
    )
    session.flush()
    keys = {match_key(model)}
    for alias in spellings[1:]:
        if match_key(alias) not in keys:
            session.add(ChipModelAlias(vendor=vendor_name, alias=alias, model=model))
            keys.add(match_key(alias))
    session.flush()
    return vendor_name, model
