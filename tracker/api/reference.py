"""The API's reference data: regions, the chip catalogue and token figures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tracker.api.base import Database, warn
from tracker.api.values import as_text, as_texts, figures_of
from tracker.service.tables import Table

# The modules of each command are loaded when it is called: a command loads only its own.
if TYPE_CHECKING:
    from tracker.service.operators import OperatorChange
    from tracker.service.tokens import AddedTokens


class Reference(Database):
    """Regions, the chip catalogue and token figures."""

    def regions(self, region: str | None = None) -> Table:
        """The regions, or the countries of one."""
        from tracker.service.lists import regions_table

        with self.session() as session:
            return regions_table(session, region)

    def chips(self, *, vendor: str | Sequence[str] = ()) -> Table:
        """The chip catalogue, each model with its figures and their source."""
        from tracker.service.lists import chips_table

        with self.session() as session:
            return chips_table(session, as_texts(vendor))

    def add_chip(
        self,
        vendor: str,
        model: str,
        *,
        family: str | None = None,
        alias: str | Sequence[str] = (),
        note: str | None = None,
        new_vendor: bool = False,
        source: str | None = None,
        **figures: str | int | float | None,
    ) -> tuple[str, str]:
        """Add a model (and, ``new_vendor``, its vendor) to the catalogue, with spec-sheet
        ``figures`` (``bf16_tflops``, ``fp16_tflops``, ``fp8_tflops``, ``int8_tops``, ``tdp_w``,
        ``per_superchip``, ``per_server``, ``per_rack``) and their ``source``; returns (vendor, model)."""
        from tracker.service.catalogue import add_model, add_vendor, read_figures

        checked = read_figures(figures_of(figures), source)
        with self.session(writes=True) as session:
            if new_vendor:
                vendor = add_vendor(session, vendor)
            return add_model(
                session, vendor, model, family=family, aliases=as_texts(alias), notes=note, figures=checked
            )

    def set_chip(
        self, vendor: str, model: str, *, source: str | None = None, **figures: str | int | float | None
    ) -> tuple[str, str]:
        """Give a catalogue model spec-sheet ``figures`` with their ``source``; the others stay,
        and ``source`` becomes the model's: a warning gives the source it replaced when other
        figures of the model came from it."""
        from tracker.service.catalogue import read_figures, set_figures

        checked = read_figures(figures_of(figures), source)
        with self.session(writes=True) as session:
            done = set_figures(session, vendor, model, checked)
        if done.replaced_source is not None:
            warn(
                f"{done.vendor} {done.model}: the source given replaces the one its other figures "
                f"({', '.join(done.kept)}) came from, which was: {done.replaced_source}"
            )
        return done.vendor, done.model

    def vendors(self) -> Table:
        """The chip vendors, each with its other spellings, its country (the designer's
        headquarters) and where that is stated."""
        from tracker.service.lists import vendors_table

        with self.session() as session:
            return vendors_table(session)

    def operators(self) -> Table:
        """Every operator with its headquarters country, kind, group, aliases, source, and the
        entries and planned chips it runs (every chip counted once)."""
        from tracker.service.lists import operators_table

        with self.session() as session:
            return operators_table(session)

    def add_operator(
        self,
        name: str,
        *,
        hq: str,
        source: str,
        kind: str | None = None,
        group: str | None = None,
        alias: str | Sequence[str] = (),
    ) -> bool:
        """Add an operator with the country of its headquarters (``hq``), its ``kind`` (state,
        public or private), ``group`` (a parent company) and other names, and the ``source``
        stating them. Returns False when it exists with these values already (nothing
        changes); one that exists with other values is refused (:meth:`set_operator`)."""
        from tracker.service.operators import add_operator, read_operator_values

        values = read_operator_values(hq=hq, kind=kind, group=group, aliases=as_texts(alias), source=source)
        with self.session(writes=True) as session:
            return add_operator(session, name, values)

    def set_operator(
        self,
        name: str,
        *,
        source: str,
        hq: str | None = None,
        kind: str | None = None,
        group: str | None = None,
        alias: str | Sequence[str] = (),
        rename: str | None = None,
    ) -> OperatorChange:
        """Change an operator's values, with the ``source`` stating them (an empty ``kind`` or
        ``group`` clears it). ``alias``: other names; an alias that is another operator's name
        merges that operator into this one (its entries move here). ``rename``: a new name (the
        old one stays an alias). Entries whose operator changes keep it in their history."""
        from tracker.service.operators import read_operator_values, set_operator

        values = read_operator_values(hq=hq, kind=kind, group=group, aliases=as_texts(alias), source=source)
        with self.session(writes=True) as session:
            return set_operator(session, name, values, new_name=rename)

    def tokens(self, *, provider: str | Sequence[str] = ()) -> Table:
        """Token figures by provider and period, in tokens per day, with their growth."""
        from tracker.service.lists import tokens_table

        with self.session() as session:
            return tokens_table(session, as_texts(provider))

    def add_tokens(
        self,
        provider: str,
        *,
        as_of: str,
        source: str,
        per_day: str | int | None = None,
        per_month: str | int | None = None,
        share: str | float | None = None,
        note: str | None = None,
        new_provider: bool = False,
    ) -> AddedTokens:
        """Record how many tokens a provider served over a period (per day or per month, as
        the source gives it); returns the figure per day."""
        from tracker.service.tokens import add_tokens, read_tokens

        figure = read_tokens(
            provider, as_of, per_day=as_text(per_day), per_month=as_text(per_month), share=as_text(share),
            source=source, note=note,
        )  # fmt: skip
        with self.session(writes=True) as session:
            return add_tokens(session, figure, new_provider=new_provider)
