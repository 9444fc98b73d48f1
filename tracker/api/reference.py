"""The API's reference data: regions, the chip catalogue and token figures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tracker.api.base import Database
from tracker.api.values import as_text, as_texts, figures_of
from tracker.service.tables import Table

# The modules of each command are loaded when it is called: a command loads only its own.
if TYPE_CHECKING:
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
        ``figures`` (``bf16_tflops``, ``fp8_tflops``, ``tdp_w``, ``per_superchip``,
        ``per_server``, ``per_rack``) and their ``source``; returns (vendor, model)."""
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
        """Give a catalogue model spec-sheet ``figures`` with their ``source``; the others stay."""
        from tracker.service.catalogue import read_figures, set_figures

        checked = read_figures(figures_of(figures), source)
        with self.session(writes=True) as session:
            return set_figures(session, vendor, model, checked)

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
