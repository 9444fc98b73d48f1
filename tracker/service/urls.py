"""Database URLs as people give them: a path or any SQLAlchemy URL, read and checked, and
shown without their passwords."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from tracker.errors import InvalidValue

URL_ENV = "TRACKER_DATABASE_URL"
DATA_DIR_ENV = "TRACKER_DATA_DIR"


def data_dir() -> Path:
    """The user's tracker folder: TRACKER_DATA_DIR, or the platform's user data directory."""
    configured = os.environ.get(DATA_DIR_ENV)
    if configured:
        return Path(configured)
    import platformdirs

    return platformdirs.user_data_path("tracker", appauthor=False)


def default_url() -> str:
    return f"sqlite:///{data_dir() / 'tracker.db'}"


def resolve_url(url: str | None) -> str:
    """The database to use: the one given, else TRACKER_DATABASE_URL, else the default."""
    return url or os.environ.get(URL_ENV) or default_url()


def _is_secret(key: str) -> bool:
    return "password" in key.lower() or "secret" in key.lower()


def secrets(url: URL) -> list[str]:
    """The secret values a URL carries: its password and any password in its query."""
    values = [str(url.password)] if url.password else []
    for key, value in url.query.items():
        if _is_secret(key):
            values.extend([value] if isinstance(value, str) else list(value))
    return [value for value in values if value]


def safe_url(url: str | URL) -> str:
    """The URL as it may be shown to a person: never with a password, in any of its parts."""
    try:
        parsed = parse_database_url(url) if isinstance(url, str) else url
    except InvalidValue:
        return "<unreadable database URL>"
    hidden = "HIDDEN"
    query = {key: (hidden if _is_secret(key) else value) for key, value in parsed.query.items()}
    return parsed.set(query=query).render_as_string(hide_password=True).replace(hidden, "***")


def parse_database_url(text: str) -> URL:
    """A database given as any SQLAlchemy URL, or as a plain path to an SQLite file.

    A bare ``postgresql://`` URL gets psycopg 3, the driver of the ``postgres`` extra.
    Raises :class:`InvalidValue` (field ``db``) without repeating the text, which may
    hold a password.
    """
    if not text.strip():
        raise InvalidValue("db", "is empty; give a database URL or an SQLite file path")
    if "://" not in text:
        if text.startswith("file:"):
            raise InvalidValue("db", _URI_FILENAME)
        path = str(Path(text).expanduser())
        # ./file:x.db names a file; written file:x.db, it would read as a URI filename.
        return URL.create("sqlite", database=os.path.join(".", path) if path.startswith("file:") else path)
    accepted = "use sqlite:///FILE, a file path, or postgresql://USER@HOST/DBNAME"
    try:
        url = make_url(text)
    except (sa.exc.ArgumentError, ValueError, TypeError):
        raise InvalidValue("db", f"is not a database URL; {accepted}") from None
    if url.get_backend_name() == "sqlite":
        _refuse_sqlite_uri(url)
    if url.host and "@" in url.host:
        # The password ends at its first '@': the rest of it would be taken for the host,
        # and shown as such in every message that names the database.
        raise InvalidValue(
            "db",
            "holds more than one '@' before the host: write an '@' in the password as %40 "
            "(percent-encode its special characters)",
        )
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    try:
        url.get_dialect()
    except sa.exc.NoSuchModuleError:
        raise InvalidValue("db", f"unknown kind of database {url.drivername!r}; {accepted}") from None
    return url


_URI_FILENAME = (
    "is an SQLite URI filename, which the tracker does not take; give the database file's path "
    "(./file:NAME for a file whose name starts with file:) or sqlite:///PATH"
)
# The query options of an SQLite URL that Python's driver itself takes (SQLAlchemy ignores others).
_SQLITE_DRIVER_OPTIONS = frozenset(
    {"timeout", "isolation_level", "detect_types", "check_same_thread", "cached_statements"}
)


def _refuse_sqlite_uri(url: URL) -> None:
    """Refuse what would open a database other than the file named, or not as asked: an SQLite
    URI filename (``file:x.db?mode=ro``, which SQLAlchemy takes with ``uri=true`` and otherwise
    creates a file of that name) and URI options, which are ignored without ``uri=true``.

    A database in a read-only folder is read without them (:mod:`tracker.service.database`).
    """
    if (url.database or "").startswith("file:") or "uri" in url.query:
        raise InvalidValue("db", _URI_FILENAME)
    for option in url.query:
        if option not in _SQLITE_DRIVER_OPTIONS:
            raise InvalidValue(
                "db",
                f"SQLite's driver takes no option {option!r} (an SQLite URI filename's options are "
                "not taken); give sqlite:///PATH or a path",
            )


def is_in_memory(url: str) -> bool:
    """Whether ``url`` names an SQLite database held in memory, gone when the command ends."""
    parsed = parse_database_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")
