"""The API's reports: list, summary, timeline, changes, check and charts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from tracker.api.base import Database, FilterOptions
from tracker.api.values import as_text, as_texts, choice_of
from tracker.errors import InvalidValue
from tracker.service.tables import Table

# The modules of each command are loaded when it is called: a command loads only its own.
if TYPE_CHECKING:
    from typing_extensions import Unpack


class Reports(Database):
    """Reports, as tables."""

    def list(self, *, unsourced: bool = False, **filters: Unpack[FilterOptions]) -> Table:
        """Entries by id with their own chip counts (all lots, any status); ``unsourced``:
        only those without a source."""
        from tracker.service.lists import list_table

        with self.session() as session:
            return list_table(session, self._filters(session, filters, unsourced=unsourced))

    def summary(
        self,
        *,
        by: str | Sequence[str] = (),
        as_of: str | dt.date | None = None,
        total: bool = True,
        h100e_basis: str | None = None,
        power_factor: str | float | Decimal | None = None,
        **filters: Unpack[FilterOptions],
    ) -> Table:
        """Planned accelerators grouped by ``by`` (default country and vendor), every chip
        counted once, with h100e and power; ``as_of``: as they stood on that day.
        ``total``: with the total row (False saves its work). ``h100e_basis``: ``bf16`` (dense
        BF16 over the H100's) or ``epoch`` (Epoch AI's: the larger of dense 16-bit and INT8
        over the H100's INT8); ``power_factor``: site watts per watt of chip TDP, for power
        estimated where none is reported (default :data:`~tracker.service.capacity.POWER_FACTOR`)."""
        from tracker.model.values import POWER_FACTOR, parse_power_factor
        from tracker.model.vocabulary import H100eBasis
        from tracker.service.reports import summary_table

        keys = [key.lower() for key in as_texts(by)]
        basis = choice_of(H100eBasis, str(h100e_basis or "bf16"), "h100e_basis")
        factor = POWER_FACTOR if power_factor is None else parse_power_factor(power_factor)
        with self.session() as session:
            return summary_table(
                session,
                self._filters(session, filters, as_of=as_of),
                keys,
                with_total=total,
                basis=basis,
                power_factor=factor,
            )

    def timeline(
        self,
        *,
        by: str | Sequence[str] = "quarter",
        cumulative: bool = False,
        first_announced: bool = False,
        as_of: str | dt.date | None = None,
        h100e_basis: str | None = None,
        **filters: Unpack[FilterOptions],
    ) -> Table:
        """Accelerators coming online per quarter or year (``by``), counted as the summary
        counts them; ``cumulative`` adds running totals; ``first_announced``, the chips each
        period was first announced to bring (first_chips); ``h100e_basis`` as for
        :meth:`summary`. ``by`` may add ``family``: each period's rows by model family."""
        from tracker.model.vocabulary import H100eBasis
        from tracker.service.reports import timeline_table
        from tracker.service.timeline import Bucket, timeline_keys

        bucket_text, split = timeline_keys(as_texts(by))
        bucket = choice_of(Bucket, bucket_text, "by")
        basis = choice_of(H100eBasis, str(h100e_basis or "bf16"), "h100e_basis")
        with self.session() as session:
            resolved = self._filters(session, filters, as_of=as_of)
            return timeline_table(
                session,
                resolved,
                bucket,
                with_cumulative=cumulative,
                with_first=first_announced,
                basis=basis,
                split=split,
            )

    def sovereignty(
        self,
        *,
        bloc: str | Sequence[str] = (),
        as_of: str | dt.date | None = None,
        **filters: Unpack[FilterOptions],
    ) -> Table:
        """Chips by host country, split by the nationality of their operator and of their
        vendor (home, bloc, foreign, unknown), counted as the summary counts them. ``bloc``:
        the region(s) of the bloc; by default the ``region`` filter's."""
        from tracker.service.filters import resolve_region
        from tracker.service.sovereignty import sovereignty_table

        with self.session() as session:
            resolved = self._filters(session, filters, as_of=as_of)
            regions = tuple(resolve_region(session, region, "bloc") for region in as_texts(bloc))
            return sovereignty_table(session, resolved, regions)

    def slips(self, *, today: str | dt.date | None = None, **filters: Unpack[FilterOptions]) -> Table:
        """Entries whose online period moved later than first announced, or ended without them
        being operational (on ``today``, by default today in UTC), the latest first, with the
        source of each date."""
        from tracker.model.periods import parse_day
        from tracker.service.slips import slips_table

        day = parse_day(str(as_text(today)), "today") if today is not None else None
        with self.session() as session:
            return slips_table(session, self._filters(session, filters), day)

    def changes(self, since: str | dt.date) -> Table:
        """What was recorded since a day (UTC), oldest first, each with its source."""
        from tracker.service.lists import changes_table

        with self.session() as session:
            return changes_table(session, str(as_text(since)))

    def check(self, *, stale_after: int | None = None) -> Table:
        """Likely problems in the data, each with its entry and why; ``stale_after``: also
        the entries not verified for more than that many days."""
        from tracker.service.lists import check_table

        if stale_after is not None and (isinstance(stale_after, bool) or stale_after < 1):
            raise InvalidValue("stale_after", f"{stale_after!r} is not a number of days; give 1 or more")
        with self.session() as session:
            return check_table(session, stale_after)

    def chart(
        self,
        kind: str,
        output: str | Path,
        *,
        by: str | None = None,
        stack: str = "vendor",
        cumulative: bool = False,
        as_of: str | dt.date | None = None,
        **filters: Unpack[FilterOptions],
    ) -> Path:
        """Draw the summary or the timeline (``kind``) as stacked bars into ``output`` (.png
        or .svg); returns its path. ``cumulative``: the timeline with a line of its running
        total. Needs matplotlib (the ``plot`` extra)."""
        from tracker.service.charts import draw_chart

        with self.session() as session:
            resolved = self._filters(session, filters, as_of=as_of)
            return draw_chart(
                session, kind, Path(output), resolved, by=by, stack=stack, given=dict(filters),
                cumulative=cumulative,
            )  # fmt: skip
