"""The chip catalogue: matching vendor and model names as people write them."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.errors import Conflict, InvalidValue
from tracker.model.names import match_key
from tracker.model.tables import ChipModel, ChipModelAlias, ChipVendor, ChipVendorAlias

UNKNOWN_VENDOR = "unknown"


@dataclass
class Catalogue:
    """Every vendor and model spelling, keyed by :func:`match_key`."""

    vendors: dict[str, str] = field(default_factory=dict)
    models: dict[str, dict[str, str]] = field(default_factory=dict)

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
        found = self._find_model(vendor, text)
        if found is not None:
            return found
        owners = sorted({owner for owner in self.models if self._find_model(owner, text)})
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
        found = [(vendor, model) for vendor in candidates if (model := self._find_model(vendor, text))]
        if found:
            return found
        if vendors:
            self.model(vendors[0], text, field_name)  # raises, naming the vendor it belongs to
        every = {key: model for spellings in self.models.values() for key, model in spellings.items()}
        raise InvalidValue(
            field_name,
            f"unknown model {text!r}; {_closest(match_key(text), every)}`tracker chips` lists them",
        )

    def _find_model(self, vendor: str, text: str) -> str | None:
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
    catalogue = Catalogue()
    for (name,) in session.execute(sa.select(ChipVendor.name)):
        catalogue.vendors[match_key(name)] = name
        catalogue.models.setdefault(name, {})
    for alias, vendor in session.execute(sa.select(ChipVendorAlias.alias, ChipVendorAlias.vendor)):
        catalogue.vendors.setdefault(match_key(alias), vendor)
    for vendor, name in session.execute(sa.select(ChipModel.vendor, ChipModel.name)):
        catalogue.models[vendor][match_key(name)] = name
    for vendor, alias, model in session.execute(
        sa.select(ChipModelAlias.vendor, ChipModelAlias.alias, ChipModelAlias.model)
    ):
        catalogue.models[vendor].setdefault(match_key(alias), model)
    return catalogue


def add_vendor(session: Session, name: str, aliases: Sequence[str] = ()) -> str:
    """Add a vendor (and its other spellings) to the catalogue."""
    catalogue = load_catalogue(session)
    name = " ".join(name.split())
    if not match_key(name):
        raise InvalidValue("vendor", f"{name!r} has no letters or digits")
    if match_key(name) in catalogue.vendors:
        raise Conflict(
            f"vendor {name!r} is already in the catalogue as {catalogue.vendors[match_key(name)]!r}"
        )
    session.add(ChipVendor(name=name))
    session.flush()
    for alias in aliases:
        _add_vendor_alias(session, catalogue, name, alias)
    return name


def _add_vendor_alias(session: Session, catalogue: Catalogue, vendor: str, alias: str) -> None:
    key = match_key(alias)
    if not key or key == match_key(vendor):
        return
    if key in catalogue.vendors and catalogue.vendors[key] != vendor:
        raise Conflict(f"alias {alias!r} already means vendor {catalogue.vendors[key]!r}")
    if key not in catalogue.vendors:
        session.add(ChipVendorAlias(alias=" ".join(alias.split()), vendor=vendor))
        catalogue.vendors[key] = vendor


def add_model(
    session: Session,
    vendor: str,
    model: str,
    *,
    family: str | None = None,
    aliases: Sequence[str] = (),
    notes: str | None = None,
) -> tuple[str, str]:
    """Add a model to the catalogue under an existing vendor; returns (vendor, model)."""
    catalogue = load_catalogue(session)
    try:
        vendor_name = catalogue.vendor(vendor)
    except InvalidValue as error:
        raise InvalidValue(error.field, f"{error.message}; a new vendor is added with --new-vendor") from None
    model = " ".join(model.split())
    key = match_key(model)
    if not key:
        raise InvalidValue("model", f"{model!r} has no letters or digits")
    existing = catalogue.models[vendor_name]
    if key in existing:
        raise Conflict(f"{vendor_name} model {model!r} is already in the catalogue as {existing[key]!r}")
    session.add(ChipModel(vendor=vendor_name, name=model, family=family or None, notes=notes or None))
    session.flush()
    existing[key] = model
    for alias in aliases:
        alias_key = match_key(alias)
        if not alias_key or alias_key == key:
            continue
        if alias_key in existing:
            raise Conflict(f"alias {alias!r} already means {vendor_name} {existing[alias_key]!r}")
        session.add(ChipModelAlias(vendor=vendor_name, alias=" ".join(alias.split()), model=model))
        existing[alias_key] = model
    return vendor_name, model
