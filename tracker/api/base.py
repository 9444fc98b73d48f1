"""What every part of the API shares: the database opened, its sessions and filters, and how it
tells a person what they should know."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import warnings
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from tracker.api.values import as_text, as_texts
from tracker.service import database, urls

# The modules of each command are loaded when it is called: a command loads only its own.
if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

    from tracker.service.bootstrap import InitReport
    from tracker.service.filters import Filters

Opened = TypeVar("Opened", bound="Database")


class TrackerWarning(UserWarning):
    """Something a person should know about what a call did: a likely duplicate, a part
    outside its programme's country, a status move that `tracker check` lists."""


class FilterOptions(TypedDict, total=False):
    """The filters of every report, as the CLI's options: one value or a list of them."""

    region: str | Sequence[str]
    country: str | Sequence[str]
    vendor: str | Sequence[str]
    model: str | Sequence[str]
    status: str | Sequence[str]
    sponsor: str | Sequence[str]
    operator: str | Sequence[str]
    operator_country: str | Sequence[str]
    announced_since: str | dt.date
    announced_until: str | dt.date
    min_confidence: str


def warn(message: str) -> None:
    """Tell the caller something a person should know (:class:`TrackerWarning`)."""
    warnings.warn(message, TrackerWarning, stacklevel=3)


class Database:
    """One tracker database, opened; close it (or use it in a ``with`` block) when done."""

    def __init__(self, url: str | os.PathLike[str] | None = None, *, one_command: bool = False) -> None:
        """``url``: any SQLAlchemy URL, or an SQLite file's path (text or a :class:`~pathlib.Path`).
        ``one_command``: it serves one command of a process that then ends (the CLI), so
        that a database held in memory, which would lose what it writes, is refused a write.
        Used from Python, an in-memory database lasts as long as the tracker holding it."""
        self.url = None if url is None else os.fspath(url)
        self.one_command = one_command
        self._engine: Engine | None = None

    def __enter__(self: Opened) -> Opened:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database's connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __repr__(self) -> str:
        return f"<Tracker {urls.safe_url(urls.resolve_url(self.url))}>"

    @contextlib.contextmanager
    def session(self, *, writes: bool = False, alone: bool = False) -> Iterator[Session]:
        """A session of one transaction on the database, committed when the block ends
        without an error (see :func:`tracker.service.database.session_scope`)."""
        from tracker.service.bootstrap import engine_for, open_database

        if self.one_command and (writes or alone):
            engine_for(self.url, writes=True)[0].dispose()  # refuses what a write would lose
        if self._engine is None:
            self._engine = open_database(self.url)
        with database.session_scope(self._engine, writes=writes or alone, alone=alone) as session:
            yield session

    def _filters(self, session: Session, options: FilterOptions, **more: Any) -> Filters:
        from tracker.service.filters import resolve_filters

        unknown = set(options) - set(FilterOptions.__annotations__)
        if unknown:
            raise TypeError(
                f"unknown filter {sorted(unknown)[0]!r}; filters: " + ", ".join(FilterOptions.__annotations__)
            )
        plural = {"region": "regions", "country": "countries", "vendor": "vendors", "model": "models",
                  "status": "statuses", "sponsor": "sponsors", "operator": "operators",
                  "operator_country": "operator_countries"}  # fmt: skip
        given: dict[str, Any] = {}
        for name, value in options.items():
            if name in plural:
                given[plural[name]] = as_texts(value)
            elif value is not None:
                given[name] = as_text(value)
        for key, value in more.items():
            given[key] = bool(value) if key == "unsourced" else as_text(value)
        return resolve_filters(session, **given)

    def init(self, *, seed: bool = True) -> InitReport:
        """Create or upgrade the schema and load the bundled reference data and (``seed``) the
        seed entries; again, it changes nothing."""
        from tracker.service.bootstrap import engine_for, initialise

        if not self.one_command and urls.is_in_memory(urls.resolve_url(self.url)):
            # The database lives as long as this tracker's engine: made ready there.
            if self._engine is None:
                self._engine, _ = engine_for(self.url)
            try:
                return initialise(self._engine, seed_entries=seed)
            except BaseException:
                self.close()  # the next call starts from a new database, not a half-made one
                raise
        engine, _ = engine_for(self.url, writes=True)
        try:
            return initialise(engine, seed_entries=seed)
        finally:
            engine.dispose()
