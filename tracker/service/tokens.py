"""Demand side: how many tokens providers serve, per day, observation by observation.

A figure is stored as tokens per day, with the figure as reported (per day or per month)
beside it; see :func:`tracker.model.tokens.tokens_per_day` for how a monthly one is divided.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker.errors import Conflict, InvalidInput, InvalidValue, Problems
from tracker.model.names import match_key
from tracker.model.periods import Period, Precision, parse_period, period_from_parts
from tracker.model.tables import Source, TokenMetric
from tracker.model.tokens import growth_pct, parse_share, parse_token_count, tokens_per_day
from tracker.model.values import parse_text
from tracker.model.vocabulary import TokenRate
from tracker.service.database import bytewise
from tracker.service.entries import source_for, unique_violation
from tracker.service.reading import read_sources

T = TypeVar("T")

AS_OF_FORMS = (
    "a month (2025-05, May 2025, 2025年5月), day (2025-05-20), quarter (Q2 2025, 2025-Q2), "
    "half (H1 2025) or year (2025)"
)


@dataclass(frozen=True)
class TokenInput:
    """A token figure whose every field has been read and checked."""

    provider: str
    period: Period
    reported_tokens: int
    reported_per: TokenRate
    source: str
    share_pct: Decimal | None = None
    note: str | None = None

    @property
    def tokens_per_day(self) -> int:
        return tokens_per_day(self.reported_tokens, self.reported_per, self.period)


@dataclass(frozen=True)
class AddedTokens:
    """A token figure as stored: under which provider name, and how many tokens per day."""

    provider: str
    period: Period
    tokens_per_day: int
    known_as: str | None  # the stored spelling that the given name was matched to, if it differs
    reported_tokens: int = 0  # the figure as the source gave it, per day or per month
    reported_per: TokenRate = TokenRate.DAY


@dataclass(frozen=True)
class TokenRow:
    """One observation of ``tracker tokens list``, with its growth since the provider's previous one."""

    provider: str
    period: Period
    tokens_per_day: int
    reported_tokens: int | None
    reported_per: str | None
    share_pct: Decimal | None
    growth_pct: Decimal | None
    since: Period | None
    source: str | None
    note: str | None


def read_tokens(
    provider: str,
    as_of: str,
    *,
    per_day: str | None = None,
    per_month: str | None = None,
    share: str | None = None,
    source: str | None = None,
    note: str | None = None,
) -> TokenInput:
    """Read a token figure from text, as typed on the command line or read from a seed file.

    Exactly one of ``per_day`` and ``per_month`` is given, as the source reports it; every
    problem is raised together as :class:`InvalidInput`.
    """
    problems = Problems()
    name = problems.read(lambda: _provider_name(provider))
    period = problems.read(lambda: _observed_period(as_of))
    rate, count = _checked_count(problems, per_day, per_month)
    share_pct = problems.read(lambda: parse_share(share, "share")) if share is not None else None
    references = list(read_sources([source] if source is not None else [], problems.found))
    if source is None:
        problems.add(InvalidValue("source", "is missing; give the URL or citation the figure comes from"))
    text = problems.read(lambda: parse_text(note, "note", 10_000, one_line=False))
    if count is not None and period is not None and tokens_per_day(count, rate, period) < 1:
        problems.add(
            InvalidValue(
                "per_month", f"{count:,} a month is less than one token a day; give the figure in tokens"
            )
        )
    problems.check()
    if name is None or period is None or count is None or not references:
        raise InvalidInput(problems.found)  # not reached: each of them is missing with a problem
    return TokenInput(
        provider=name,
        period=period,
        reported_tokens=count,
        reported_per=rate,
        source=references[0],
        share_pct=share_pct,
        note=text,
    )


def _checked_count(
    problems: Problems, per_day: str | None, per_month: str | None
) -> tuple[TokenRate, int | None]:
    """The rate a figure is given at, and its count, from exactly one of the two."""
    if per_day is not None and per_month is not None:
        problems.add(InvalidValue("per_month", "goes without --per-day; give the figure as the source does"))
        return TokenRate.DAY, None
    if per_month is not None:
        return TokenRate.MONTH, problems.read(lambda: parse_token_count(per_month, "per_month"))
    if per_day is None:
        problems.add(
            InvalidValue(
                "per_day", "is missing; give the tokens per day, or --per-month for a monthly figure"
            )
        )
        return TokenRate.DAY, None
    return TokenRate.DAY, problems.read(lambda: parse_token_count(per_day, "per_day"))


def _provider_name(text: str) -> str:
    name = parse_text(text, "provider", 200)
    if name is None or not match_key(name):
        raise InvalidValue("provider", f"{text!r} has no letters or digits; give a name, such as Google")
    return name


def _observed_period(text: str) -> Period:
    """The period a figure was observed over: one that has begun (UTC, a day's grace)."""
    period = parse_period(text, "as_of", AS_OF_FORMS)
    latest = dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=1)
    if period.start > latest:
        raise InvalidValue("as_of", f"{period} has not begun; a token figure is of a period that has")
    return period


def add_tokens(session: Session, figure: TokenInput, *, new_provider: bool = False) -> AddedTokens:
    """Store a token figure under the provider's stored spelling (matched whatever its case,
    spacing and punctuation); a second figure for a provider and period is refused.

    A provider not stored yet whose name is close to a stored one's is refused as a likely
    typo, unless ``new_provider`` says it is another provider.
    """
    providers = stored_providers(session)
    key = match_key(figure.provider)
    known = providers.get(key)
    if known is None and not new_provider and (close := _close_provider(key, providers)):
        raise InvalidValue(
            "provider",
            f"{figure.provider!r} is not stored, and close to {close!r}; give that name, or "
            f"--new-provider if {figure.provider!r} is another provider",
        )
    provider = known or figure.provider
    period = figure.period
    if (taken := _figure_taken(session, provider, period)) is not None:
        raise taken
    per_day = figure.tokens_per_day
    source = source_for(session, figure.source)
    session.flush()  # a new source gets its id
    try:
        with session.begin_nested():  # so that the winner of a race can be read after losing it
            session.add(
                TokenMetric(
                    provider=provider,
                    period_start=period.start,
                    period_precision=period.precision.value,
                    tokens_per_day=per_day,
                    reported_tokens=figure.reported_tokens,
                    reported_per=figure.reported_per.value,
                    share_pct=figure.share_pct,
                    source_id=source.id,
                    note=figure.note,
                )
            )
            session.flush()
    except sa.exc.IntegrityError as error:
        # Another command stored the figure after the look above (PostgreSQL; SQLite's write
        # transaction keeps others out): the same refusal as one after the other.
        taken = _figure_taken(session, provider, period) if unique_violation(error, FIGURE_KEY) else None
        if taken is None:
            raise
        raise taken from None
    return AddedTokens(
        provider=provider,
        period=period,
        tokens_per_day=per_day,
        known_as=known if known is not None and known != figure.provider else None,
        reported_tokens=figure.reported_tokens,
        reported_per=figure.reported_per,
    )


FIGURE_KEY = next(
    constraint
    for constraint in cast(sa.Table, TokenMetric.__table__).constraints
    if isinstance(constraint, sa.UniqueConstraint)
)  # a provider has one figure per period


def _figure_taken(session: Session, provider: str, period: Period) -> Conflict | None:
    """The refusal of a second figure for a provider and period, if one is stored."""
    existing = session.scalar(
        sa.select(TokenMetric.tokens_per_day).where(
            TokenMetric.provider == provider,
            TokenMetric.period_start == period.start,
            TokenMetric.period_precision == period.precision.value,
        )
    )
    if existing is None:
        return None
    return Conflict(
        f"{provider} has a token figure for {period} already ({existing:,} per day); "
        "a provider has one figure per period"
    )


def _close_provider(key: str, providers: dict[str, str]) -> str | None:
    """A stored provider whose name is one typo away from ``key``, or holds it, or is held by
    it (Doubao and ByteDance Doubao): more likely the same provider than a new one."""
    close = difflib.get_close_matches(key, list(providers), n=1, cutoff=0.8)
    if close:
        return providers[close[0]]
    within = sorted(
        stored for stored in providers if min(len(stored), len(key)) >= 3 and (key in stored or stored in key)
    )
    return providers[within[0]] if within else None


def stored_providers(session: Session) -> dict[str, str]:
    """Every stored provider name, by its :func:`~tracker.model.names.match_key`."""
    names = session.scalars(sa.select(TokenMetric.provider).distinct())
    return {match_key(name): name for name in sorted(names)}


def resolve_providers(session: Session, names: Sequence[str]) -> list[str]:
    """The stored spellings of the providers ``names`` mean; an unknown one is refused."""
    providers = stored_providers(session)
    found = []
    for name in names:
        key = match_key(name)
        if key not in providers:
            close = difflib.get_close_matches(key, list(providers), n=1, cutoff=0.6)
            hint = f"did you mean {providers[close[0]]!r}? " if close else ""
            known = ", ".join(sorted(providers.values(), key=str.casefold)) or "none yet"
            raise InvalidValue("provider", f"no token figures for {name!r}; {hint}providers: {known}")
        found.append(providers[key])
    return found


_PRECISION_ORDER = sa.case(
    {precision.value: place for place, precision in enumerate(Precision)}, value=TokenMetric.period_precision
)


def list_tokens(session: Session, providers: Sequence[str] = ()) -> Iterator[TokenRow]:
    """Token figures by provider, then period (a shorter period first where two start on the
    same day), each with its growth since the provider's latest figure for a period that
    ended before its own began. Unknown providers
    are refused at once, before any row is read."""
    return _token_rows(session, resolve_providers(session, providers))


def _token_rows(session: Session, wanted: Sequence[str]) -> Iterator[TokenRow]:
    query = (
        sa.select(TokenMetric, Source.reference)
        .outerjoin(Source, Source.id == TokenMetric.source_id)
        .order_by(bytewise(session, TokenMetric.provider), TokenMetric.period_start, _PRECISION_ORDER)
    )
    if wanted:
        query = query.where(TokenMetric.provider.in_(wanted))
    earlier: list[TokenRow] = []  # the provider's rows so far
    for metric, reference in session.execute(query):
        period = period_from_parts(metric.period_start, metric.period_precision)
        assert period is not None  # both columns are required
        if earlier and earlier[0].provider != metric.provider:
            earlier = []
        # Growth is since the latest figure of a period that ended before this one began:
        # never against a period that holds this one (2025 and 2025-05) or overlaps it.
        ended = [row for row in earlier if row.period.end < period.start]
        before = max(ended, key=lambda row: (row.period.end, row.period.start), default=None)
        row = TokenRow(
            provider=metric.provider,
            period=period,
            tokens_per_day=metric.tokens_per_day,
            reported_tokens=metric.reported_tokens,
            reported_per=metric.reported_per,
            share_pct=metric.share_pct,
            growth_pct=growth_pct(metric.tokens_per_day, before.tokens_per_day) if before else None,
            since=before.period if before else None,
            source=reference,
            note=metric.note,
        )
        earlier.append(row)
        yield row
