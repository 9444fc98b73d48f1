"""``tracker check``: likely problems in the data, each with its entry and the reason."""

from __future__ import annotations

import collections
import datetime as dt
import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from tracker.model.names import slugify
from tracker.model.periods import period_from_parts
from tracker.model.tables import (
    ChipLot,
    ChipModel,
    Entry,
    EntrySource,
    EntryVerification,
    Operator,
    Source,
    StatusEvent,
)
from tracker.model.values import POWER_FACTOR
from tracker.model.vocabulary import INACTIVE_STATUSES, Confidence, Grade, Qualifier, Status
from tracker.service.database import bytewise
from tracker.service.details import status_moves
from tracker.service.filters import effective_status
from tracker.service.programmes import regions_of

# A project's stages, the way forward: a move to an earlier one is backwards. The other
# statuses (paused, cancelled, decommissioned) are stops, not stages: a move out of one is
# compared with the stage held before it.
PROGRESS = (Status.ANNOUNCED, Status.PLANNED, Status.UNDER_CONSTRUCTION, Status.OPERATIONAL)
SIMILAR_CHIPS = 0.10  # chip counts within 10% of each other are "similar"
MAX_ALIKE = 5  # entries sharing a name or operator, beyond which the match is no evidence
POWER_MISMATCH = 3  # reported power this many times the estimate, or this many times less
CATALOGUE = "(catalogue)"  # the entry column of a finding about a catalogue model


@dataclass(frozen=True, order=True)
class Finding:
    """One likely problem: the entry it concerns, and why."""

    entry_id: str
    problem: str


def find_problems(
    session: Session, stale_after: int | None = None, today: dt.date | None = None
) -> list[Finding]:
    """Every likely problem, by entry id then problem; ``stale_after``: also the entries not
    verified for more than that many days before ``today`` (UTC)."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    findings = [
        *_unsourced(session),
        *_weakly_sourced(session),
        *_past_due(session, today),
        *_operational_before_online(session, today),
        *_operators_without_headquarters(session),
        *(_stale(session, today, stale_after) if stale_after is not None else ()),
        *_online_before_announcement(session),
        *_status_histories(session),
        *_probable_duplicates(session),
        *_children_over_their_programme(session),
        *_parts_outside_their_programme(session),
        *_models_without_figures(session),
        *_power_far_from_estimate(session),
    ]
    return sorted(set(findings))


def _unsourced(session: Session) -> Iterator[Finding]:
    query = sa.select(Entry.id).where(~sa.exists().where(EntrySource.entry_id == Entry.id))
    for entry_id in session.scalars(query):
        yield Finding(entry_id, "has no source; every figure needs one (tracker update --source adds one)")


STRONG_GRADES = (Grade.PRIMARY.value, Grade.PRESS.value)


def _weakly_sourced(session: Session) -> Iterator[Finding]:
    """Entries operational or confirmed whose sources (there are some) include none graded
    primary or press: what they claim rests on aggregators, or on sources not graded yet."""
    strong = (
        sa.select(EntrySource.entry_id)
        .join(Source, Source.id == EntrySource.source_id)
        .where(Source.grade.in_(STRONG_GRADES))
    )
    query = sa.select(Entry.id, Entry.status, Entry.confidence).where(
        sa.or_(Entry.status == Status.OPERATIONAL.value, Entry.confidence == Confidence.CONFIRMED.value),
        sa.exists().where(EntrySource.entry_id == Entry.id),
        Entry.id.not_in(strong),
    )
    for entry_id, status, confidence in session.execute(query):
        claim = status if status == Status.OPERATIONAL.value else f"{confidence}"
        yield Finding(
            entry_id,
            f"is {claim} without a primary or press source (its sources are secondary or not graded); "
            f"`tracker update {entry_id} --source URL --grade press` adds or grades one",
        )


WAITING = (Status.ANNOUNCED.value, Status.PLANNED.value, Status.UNDER_CONSTRUCTION.value)


def _past_due(session: Session, today: dt.date) -> Iterator[Finding]:
    """Entries whose online period has ended while they are still announced, planned or
    under construction: late, or operational without it being recorded."""
    query = sa.select(Entry.id, Entry.status, Entry.online_start, Entry.online_precision).where(
        Entry.status.in_(WAITING), Entry.online_start.is_not(None), Entry.online_start < today
    )
    for entry_id, status, start, precision in session.execute(query):
        online = period_from_parts(start, precision)
        if online is not None and online.end < today:
            yield Finding(
                entry_id,
                f"was due online in {online}, which ended on {online.end}, and is still {status}: "
                "record what happened (`tracker status`), or its new date (`tracker update --online`)",
            )


def _operational_before_online(session: Session, today: dt.date) -> Iterator[Finding]:
    """Entries operational (or decommissioned) now whose online period has not begun: counted
    so today, and as under construction with --as-of today (no status is in force before the
    online period begins)."""
    statuses = [Status.OPERATIONAL.value, Status.DECOMMISSIONED.value]
    query = sa.select(Entry.id, Entry.status, Entry.online_start, Entry.online_precision).where(
        Entry.status.in_(statuses), Entry.online_start > today
    )
    for entry_id, status, start, precision in session.execute(query):
        yield Finding(
            entry_id,
            f"is {status}, but its online period {period_from_parts(start, precision)} has not begun "
            "(--as-of counts it as under construction until then): correct one or the other",
        )


def _operators_without_headquarters(session: Session) -> Iterator[Finding]:
    """Operators running chips without a known headquarters: their chips count as unknown in
    `tracker sovereignty`. One finding each, on its first entry."""
    query = (
        sa.select(Entry.operator, sa.func.min(Entry.id), sa.func.count(sa.distinct(Entry.id)))
        .join(ChipLot, ChipLot.entry_id == Entry.id)
        .outerjoin(Operator, Operator.name == Entry.operator)
        .where(
            Entry.operator.is_not(None),
            Operator.hq_country.is_(None),
            effective_status().not_in([status.value for status in INACTIVE_STATUSES]),
        )
        .group_by(Entry.operator)
    )
    for operator, first, entries in session.execute(query):
        others = f" (and {entries - 1} more of its entries)" if entries > 1 else ""
        yield Finding(
            first,
            f"its operator {operator!r} has no known headquarters{others}; its chips count as unknown in "
            f"`tracker sovereignty`: `tracker operators set {shlex.quote(str(operator))} --hq C "
            "--source URL` "
            "gives one",
        )


def _stale(session: Session, today: dt.date, days: int) -> Iterator[Finding]:
    """Entries not verified for more than ``days`` days (never verified: since recorded)."""
    latest = (
        sa.select(EntryVerification.entry_id, sa.func.max(EntryVerification.verified_on).label("day"))
        .group_by(EntryVerification.entry_id)
        .subquery()
    )
    query = sa.select(Entry.id, latest.c.day, Entry.created_at).outerjoin(
        latest, latest.c.entry_id == Entry.id
    )
    for entry_id, day, created in session.execute(query):
        since = day if day is not None else created.date()
        if (today - since).days > days:
            what = (
                f"last verified on {since}"
                if day is not None
                else f"never verified since recorded on {since}"
            )
            yield Finding(
                entry_id,
                f"is stale: {what}, more than {days} days ago; "
                f"`tracker verify {entry_id} --on DATE` records a check",
            )


def _online_before_announcement(session: Session) -> Iterator[Finding]:
    query = sa.select(Entry.id, Entry.announced_on, Entry.online_start, Entry.online_precision).where(
        Entry.announced_on.is_not(None), Entry.online_start.is_not(None)
    )
    for entry_id, announced, start, precision in session.execute(query):
        online = period_from_parts(start, precision)
        if online is not None and announced is not None and online.end < announced:
            yield Finding(entry_id, f"comes online in {online}, before it was announced on {announced}")


def _status_histories(session: Session) -> Iterator[Finding]:
    events: dict[str, list[StatusEvent]] = collections.defaultdict(list)
    for event in session.scalars(sa.select(StatusEvent)):
        events[event.entry_id].append(event)
    announced = sa.select(Entry.id, Entry.announced_on).where(Entry.id.in_(sa.select(StatusEvent.entry_id)))
    for entry_id, announced_on in session.execute(announced):
        for problem in status_problems(events[entry_id], announced_on):
            yield Finding(entry_id, problem)


def status_problems(events: Iterable[StatusEvent], announced: dt.date | None) -> list[str]:
    """What looks wrong in an entry's status history, in the order of the days:

    - a move back to an earlier stage (:data:`PROGRESS`) without a note saying why; through
      paused, cancelled or decommissioned, the stage compared is the last one held before
      them (under-construction, paused, announced goes back; announced, paused, announced
      does not), and an entry added at one of them has no stage to go back from;
    - cancelled straight to operational without a note: a cancelled project is not running
      unless it was taken up again, which wants saying (decommissioned to operational is
      not listed: the chips ran before, and may run again);
    - a change dated before the entry was announced, noted or not.

    ``tracker status`` warns of each that a change adds, ``tracker check`` lists them all.
    """
    rank = {status.value: place for place, status in enumerate(PROGRESS)}
    problems = []
    stage: str | None = None  # the last stage held, looking through stops
    for move in status_moves(events):
        before, after, day = move.from_status, move.event.to_status, move.event.effective_on
        if before in rank:
            stage = before
        if announced is not None and day < announced:
            problems.append(f"changed to {after} on {day}, before it was announced on {announced}")
        if move.event.note:
            continue
        if before == Status.CANCELLED and after == Status.OPERATIONAL:
            problems.append(f"went from cancelled straight to operational on {day} without a note saying why")
        elif stage is not None and after in rank and rank[after] < rank[stage]:
            through = "" if before == stage else f" (through {before})"
            problems.append(f"moved back from {stage} to {after} on {day}{through} without a note saying why")
    return problems


def _probable_duplicates(session: Session) -> Iterator[Finding]:
    """Entries in one country with the same operator or name, and chip counts within 10%."""
    chips = (
        sa.select(ChipLot.entry_id, sa.func.sum(ChipLot.quantity).label("chips"))
        .group_by(ChipLot.entry_id)
        .subquery()
    )
    query = (
        sa.select(Entry.id, Entry.country, Entry.operator, Entry.name, chips.c.chips)
        .join(chips, chips.c.entry_id == Entry.id)
        .where(Entry.country.is_not(None))
        .order_by(bytewise(session, Entry.id))
    )
    groups: dict[tuple[str, str, str], list[tuple[str, int]]] = collections.defaultdict(list)
    for entry_id, country, operator, name, total in session.execute(query):
        if operator:
            groups[(country, "operator", operator.casefold())].append((entry_id, int(total)))
        groups[(country, "name", slugify(name))].append((entry_id, int(total)))
    for (_, what, _), members in groups.items():
        if len(members) > MAX_ALIKE:
            continue  # a name or operator that many share says little (Epoch's anonymised rows)
        for place, (first, first_chips) in enumerate(members):
            for second, second_chips in members[place + 1 :]:
                if abs(first_chips - second_chips) <= SIMILAR_CHIPS * max(first_chips, second_chips):
                    counts = f"{first_chips:,} and {second_chips:,} chips"
                    yield Finding(first, f"may be the same as {second} (same country and {what}, {counts})")


def _children_over_their_programme(session: Session) -> Iterator[Finding]:
    """A part with more chips than its programme's whole count, unless that count is a lower
    bound ("more than 100,000"), which a part may well exceed."""
    chips = (
        sa.select(
            ChipLot.entry_id,
            sa.func.sum(ChipLot.quantity).label("chips"),
            sa.func.max(sa.case((ChipLot.qualifier == Qualifier.AT_LEAST.value, 1), else_=0)).label(
                "at_least"
            ),
        )
        .group_by(ChipLot.entry_id)
        .subquery()
    )
    parent_chips = chips.alias("parent_chips")
    query = (
        sa.select(Entry.id, Entry.parent_id, chips.c.chips, parent_chips.c.chips)
        .join(chips, chips.c.entry_id == Entry.id)
        .join(parent_chips, parent_chips.c.entry_id == Entry.parent_id)
        .where(chips.c.chips > parent_chips.c.chips, parent_chips.c.at_least == 0)
    )
    for entry_id, parent, own, programme in session.execute(query):
        yield Finding(
            entry_id, f"has {int(own):,} chips, more than the {int(programme):,} of its programme {parent}"
        )


def outside_programme(session: Session, entry_id: str) -> str | None:
    """Why an entry lies outside its programme's country or scope, if it does."""
    return next((finding.problem for finding in _parts_outside_their_programme(session, entry_id)), None)


def _parts_outside_their_programme(session: Session, entry_id: str | None = None) -> Iterator[Finding]:
    """A part whose country (or scope) lies outside its programme's country or scope."""
    programme = aliased(Entry)
    query = sa.select(
        Entry.id,
        sa.func.coalesce(Entry.country, Entry.scope),
        programme.id,
        programme.country,
        programme.scope,
    ).join(programme, programme.id == Entry.parent_id)
    if entry_id is not None:
        query = query.where(Entry.id == entry_id)
    within = regions_of(session)
    for part, place, parent, country, scope in session.execute(query):
        if scope is not None and scope not in within.get(place, []):
            yield Finding(part, f"is in {place}, outside the scope {scope} of its programme {parent}")
        elif country is not None and place != country:
            yield Finding(part, f"is in {place}, outside {country}, the country of its programme {parent}")


def _models_without_figures(session: Session) -> Iterator[Finding]:
    """Models that counted lots use but whose catalogue row has no dense BF16 figure or no
    TDP, with the chips they leave out of h100e and of estimated power (as the summary counts
    chips; an entry's reported power covers its chips without a TDP)."""
    from tracker.service.filters import Filters
    from tracker.service.summary import planned_totals

    figures = {
        (vendor, name): (bf16, tdp, fp16 is not None or int8 is not None)
        for vendor, name, bf16, tdp, fp16, int8 in session.execute(
            sa.select(
                ChipModel.vendor,
                ChipModel.name,
                ChipModel.bf16_tflops,
                ChipModel.tdp_w,
                ChipModel.fp16_tflops,
                ChipModel.int8_tops,
            )
        )
    }
    for row in planned_totals(session, Filters(), ("vendor", "model")):
        vendor, model = row.keys
        if model is None or not row.chips:
            continue
        bf16, tdp, other_rate = figures[(str(vendor), str(model))]
        capacity = row.capacity
        gaps = []
        if bf16 is None:
            epoch = "; --h100e-basis epoch counts them by its FP16 or INT8 rate" if other_rate else ""
            gaps.append(f"no dense BF16 figure: {_chips(row.chips)} left out of h100e{epoch}")
        unpowered = row.chips - capacity.power_chips
        if tdp is None and unpowered > 0:
            gaps.append(f"no TDP: {_chips(unpowered)} without reported power left out of power_mw")
        if gaps:
            yield Finding(
                CATALOGUE,
                f"{vendor} {model} has {'; '.join(gaps)} (tracker chips set {shlex.quote(str(vendor))} "
                f"{shlex.quote(str(model))} --source ... gives figures from a datasheet)",
            )


def _power_far_from_estimate(session: Session) -> Iterator[Finding]:
    """Entries whose reported power is more than :data:`POWER_MISMATCH` times the estimate
    from their chips' TDP (or less than a third of it): a unit error (kW for MW), servers
    or racks counted as chips, or a site's power beyond its chips. Only entries whose every
    lot has a model with a TDP are compared."""
    watts = sa.func.sum(ChipLot.quantity * ChipModel.tdp_w)
    query = (
        sa.select(Entry.id, Entry.power_mw, watts, sa.func.count(ChipModel.tdp_w), sa.func.count())
        .join(ChipLot, ChipLot.entry_id == Entry.id)
        .outerjoin(ChipModel, sa.and_(ChipModel.vendor == ChipLot.vendor, ChipModel.name == ChipLot.model))
        .where(Entry.power_mw.is_not(None))
        .group_by(Entry.id, Entry.power_mw)
    )
    for entry_id, reported, tdp_watts, with_tdp, lots in session.execute(query):
        if with_tdp != lots or not tdp_watts:
            continue
        estimate = Decimal(tdp_watts) * POWER_FACTOR / 1_000_000
        ratio = Decimal(str(reported)) / estimate
        if ratio > POWER_MISMATCH or ratio < Decimal(1) / POWER_MISMATCH:
            times = f"{ratio:.1f}x" if ratio > 1 else f"1/{1 / ratio:.1f}"
            given = format(Decimal(str(reported)).normalize(), "f")
            yield Finding(
                entry_id,
                f"reports {given} MW, {times} the {estimate:.2f} MW its chips' TDP x {POWER_FACTOR} "
                "gives: a unit error (kW for MW?), servers or racks counted as chips, or a site "
                "beyond its chips?",
            )


def _chips(count: int) -> str:
    return f"{count:,} chip{'' if count == 1 else 's'}"
