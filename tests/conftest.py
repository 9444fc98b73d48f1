"""Test databases: every test gets a fresh one, on SQLite and on PostgreSQL.

PostgreSQL is required: if it cannot be reached the PostgreSQL tests fail (they are
never skipped). ``--backends sqlite`` runs the SQLite half alone, for a machine
without PostgreSQL. The server is TRACKER_TEST_POSTGRES_URL, by default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres. Each test's PostgreSQL
database is copied from a template migrated once per run, and dropped afterwards.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from hypothesis import settings

from tests.counting import check_database
from tracker.cli import cli
from tracker.service.bootstrap import initialise
from tracker.service.database import create_engine

# Generated examples: as many as Hypothesis's default in the full suite (the README's command,
# which CI runs), a few in the developers' loop (`make test-fast` sets HYPOTHESIS_PROFILE=dev).
# A test that asks for its own number keeps it.
settings.register_profile("full", deadline=None)
settings.register_profile("dev", max_examples=10, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "full"))

BACKENDS = ("sqlite", "postgresql")
POSTGRES_URL = os.environ.get(
    "TRACKER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backends",
        default=",".join(BACKENDS),
        help="Comma-separated databases to test on (default: sqlite,postgresql).",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--backends").split(",")
        unknown = set(chosen) - set(BACKENDS)
        if unknown:
            raise pytest.UsageError(f"--backends: unknown {', '.join(sorted(unknown))}")
        metafunc.parametrize("backend", chosen, scope="session")


@pytest.fixture(autouse=True)
def isolated_user_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the user's real tracker files or settings."""
    data = tmp_path / "user-data"
    monkeypatch.setenv("TRACKER_DATA_DIR", str(data))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    return data


class PostgresServer:
    """Creates and drops per-test databases on one PostgreSQL server."""

    def __init__(self, url: str) -> None:
        self.admin_url = sa.make_url(url)
        self.engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        self.prefix = f"tracker_test_{os.getpid()}"
        self.templates: dict[str, str] = {}

    def url_for(self, name: str) -> str:
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def create(self, template: str | None = None) -> str:
        """A new database, copied from ``template``; without one, a new database that sorts
        text as English does on most servers (ignoring punctuation, as glibc's en_US), not
        bytewise as the C locale: so tests catch output whose order depends on the server."""
        name = f"{self.prefix}_{uuid.uuid4().hex[:10]}"
        with self.engine.connect() as connection:
            if template:
                clause = f" TEMPLATE {template}"
            elif (connection.dialect.server_version_info or (0,)) >= (15,):
                clause = (
                    " TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US-u-ka-shifted' LOCALE 'C.UTF-8'"
                )
            else:
                clause = ""
            connection.exec_driver_sql(f"CREATE DATABASE {name}{clause}")
        return name

    def drop(self, name: str) -> None:
        with self.engine.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer(POSTGRES_URL)
    try:
        with server.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is not reachable at {server.admin_url.render_as_string(hide_password=True)} "
            f"({type(error.orig).__name__}). Start it, set TRACKER_TEST_POSTGRES_URL, "
            "or run only the SQLite half with --backends sqlite.",
            pytrace=False,
        )
    yield server
    for template in server.templates.values():
        server.drop(template)
    server.engine.dispose()


def _initialised(url: str, seed_entries: bool) -> None:
    engine = create_engine(url)
    initialise(engine, seed_entries=seed_entries)
    engine.dispose()


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("templates")


def _fresh_database(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, kind: str, template_dir: Path
) -> Iterator[str]:
    """A new database: "empty" (no schema), "reference" (schema and reference data) or "seeded"."""
    if backend == "sqlite":
        path = tmp_path / f"{kind}.db"
        if kind != "empty":
            template_file = template_dir / f"{kind}.db"
            if not template_file.exists():
                _initialised(f"sqlite:///{template_file}", seed_entries=kind == "seeded")
            shutil.copyfile(template_file, path)
        yield f"sqlite:///{path}"
        _counts_hold(f"sqlite:///{path}")
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    template: str | None = None
    if kind != "empty":
        if kind not in server.templates:
            name = server.create()
            _initialised(server.url_for(name), seed_entries=kind == "seeded")
            server.templates[kind] = name
        template = server.templates[kind]
    name = server.create(template)
    yield server.url_for(name)
    _counts_hold(server.url_for(name))
    server.drop(name)


def _counts_hold(url: str) -> None:
    """The count of the programmes that the tracker keeps gives what the exact path gives, on
    every test's database as the test left it (tests/counting.py)."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return  # removed, or never made, by the test
    # The kept rows, and the totals by country and vendor and overall: every grouping and
    # filter is checked after each write of random sequences (tests/test_counts.py).
    check_database(url, thorough=False)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path, template_dir: Path) -> Iterator[str]:
    """A fresh database with the schema and reference data, and no entries."""
    yield from _fresh_database(request, backend, tmp_path, "reference", template_dir)


@pytest.fixture
def seeded_db_url(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, template_dir: Path
) -> Iterator[str]:
    """A fresh database as ``tracker init`` leaves it: reference data and seed entries."""
    yield from _fresh_database(request, backend, tmp_path, "seeded", template_dir)


@pytest.fixture
def empty_db_url(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path, template_dir: Path
) -> Iterator[str]:
    """A fresh database with nothing in it, not even the schema."""
    yield from _fresh_database(request, backend, tmp_path, "empty", template_dir)


FIGURE_COLUMNS = (
    "h100e", "h100e_chips", "power_mw", "power_mw_estimated", "power_chips", "h100e_basis", "power_factor",
)  # fmt: skip


def chip_lines(text: str) -> list[str]:
    """CSV lines without a summary's figure columns (H100-equivalents and power, and what they
    are measured on, which tests/test_capacity.py and test_compute.py check), for tests of
    how chips are counted."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return []
    kept = [i for i, column in enumerate(rows[0]) if column not in FIGURE_COLUMNS]
    return [",".join(row[i] for i in kept) for row in rows]


def export_line(**cells: object) -> str:
    """A row of the export file (or a file to import) as CSV text, its cells given by column;
    the columns not given empty. Tests say which cells they mean, so that a column added to the
    export later (a field of an entry, say) changes none of them."""
    from tracker.model.fields import EXPORT_COLUMNS

    unknown = set(cells) - set(EXPORT_COLUMNS)
    assert not unknown, f"not columns of the export: {unknown}"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(
        ["" if cells.get(c) is None else cells[c] for c in EXPORT_COLUMNS]
    )
    return buffer.getvalue()


def export_file(*rows: Mapping[str, object]) -> str:
    """A whole file in the export format: the header, then these rows (see :func:`export_line`)."""
    from tracker.model.fields import EXPORT_COLUMNS

    return "".join(line + "\n" for line in [",".join(EXPORT_COLUMNS), *(export_line(**row) for row in rows)])


def export_cells(text: str) -> list[dict[str, str]]:
    """The rows of an export, each as its cells that are not empty, by column."""
    return [
        {column: cell for column, cell in row.items() if cell} for row in csv.DictReader(io.StringIO(text))
    ]


class Tracker:
    """Runs ``tracker`` commands in-process against one database."""

    def __init__(self, url: str | None) -> None:
        self.url = url

    def __call__(self, *args: str, input: str | None = None) -> Result:
        runner = CliRunner()
        db = ["--db", self.url] if self.url is not None else []
        return runner.invoke(cli, [*db, *args], input=input, catch_exceptions=False, prog_name="tracker")

    def ok(self, *args: str, input: str | None = None) -> str:
        """Run a command that must succeed; returns its stdout."""
        result = self(*args, input=input)
        assert result.exit_code == 0, f"tracker {' '.join(args)} failed: {result.stderr}"
        return result.stdout

    def export(self) -> str:
        return self.ok("export", "--output", "-")


@pytest.fixture
def tracker(db_url: str) -> Tracker:
    """The CLI on a fresh database with reference data and no entries."""
    return Tracker(db_url)


@pytest.fixture
def seeded_tracker(seeded_db_url: str) -> Tracker:
    """The CLI on a fresh database with the seed entries."""
    return Tracker(seeded_db_url)
