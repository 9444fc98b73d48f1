"""Which database a command uses, and what a person sees when it cannot be used."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import Tracker, chip_lines
from tests.test_cli import database_contents
from tests.test_reliability import read_only
from tracker.errors import NotFound, SchemaError
from tracker.service import database, schema, urls


def test_the_default_database_is_created_and_seeded_on_first_use(isolated_user_files: Path) -> None:
    out = Tracker(None).ok("summary", "--region", "europe", "--format", "csv")
    assert chip_lines(out)[1:] == [
        ",NVIDIA,1,472000,at-least",
        f"FR,NVIDIA,2,{18_000 + 13_800},exact",  # Mistral AI: the note's site and its own since
        "DE,NVIDIA,1,10000,exact",
        "GB,NVIDIA,1,4000,exact",
    ]
    assert (isolated_user_files / "tracker.db").is_file()


def test_the_database_can_come_from_the_environment(
    db_url: str, isolated_user_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER_DATABASE_URL", db_url)
    Tracker(None).ok("add", "Env Site", "--country", "FR")
    assert "env-site" in Tracker(db_url).export()
    assert not (isolated_user_files / "tracker.db").exists()


def test_a_bad_url_from_the_environment_is_named_as_such(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_DATABASE_URL", "foo://bar")
    result = Tracker(None)("list")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: TRACKER_DATABASE_URL: unknown kind of database 'foo'; ")


def test_a_plain_path_means_an_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "team.db"
    assert Tracker(str(path)).ok("add", "Site", "--country", "FR") == "site\n"
    assert "site,Site" in Tracker(f"sqlite:///{path}").export()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "Error: --db: is empty; give a database URL or an SQLite file path"),
        ("postgresql://u:s3cret@127.0.0.1:notaport/x",
         "Error: --db: is not a database URL; use sqlite:///FILE, a file path, or postgresql://USER@HOST/DBNAME"),
        ("foo://u:s3cret@host/x",
         "Error: --db: unknown kind of database 'foo'; use sqlite:///FILE, a file path, or postgresql://USER@HOST/DBNAME"),
    ],
)  # fmt: skip
def test_a_bad_database_url_is_a_bad_argument(url: str, message: str) -> None:
    result = Tracker(url)("list")
    assert result.exit_code == 2
    assert result.stderr == message + "\n"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres:s3cret@127.0.0.1:1/tracker",
        "postgresql://postgres@127.0.0.1:1/tracker?password=s3cret",
    ],
)
def test_a_password_is_never_shown(url: str) -> None:
    result = Tracker(url)("list")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: database postgresql+psycopg://postgres")
    assert "s3cret" not in result.stderr + result.stdout
    assert result.stderr.count("\n") == 1


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    result = Tracker(str(tmp_path / "nowhere" / "x.db"))("list")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: cannot open SQLite database {tmp_path / 'nowhere' / 'x.db'}: "
        f"folder {tmp_path / 'nowhere'} does not exist\n"
    )


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database\n" * 100)
    result = Tracker(str(path))("list")
    assert result.exit_code == 1
    assert result.stderr == f"Error: database sqlite:///{path}: file is not a database\n"
    assert path.read_text() == "not a database\n" * 100


def test_an_older_schema_asks_for_init(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    newer = f"{int(schema.SCHEMA_REVISION) + 1:04d}"  # a tracker one migration ahead
    monkeypatch.setattr(schema, "SCHEMA_REVISION", newer)
    known = schema.migration_revisions()
    monkeypatch.setattr(schema, "migration_revisions", lambda: {*known, newer})
    result = Tracker(db_url)("list")
    assert result.exit_code == 1
    assert result.stderr.endswith("has an older schema; run `tracker init` to upgrade it\n")


def test_debug_shows_the_traceback(tracker: Tracker) -> None:
    with pytest.raises(NotFound):
        tracker("--debug", "show", "nothing")


def test_python_dash_m_runs_the_cli(db_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tracker", "--db", db_url, "summary", "--format", "csv"],
        capture_output=True,
        text=True,
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        "country,vendor,entries,chips,qualifier,h100e,h100e_chips,power_mw,power_mw_estimated,power_chips,"
        "h100e_basis,power_factor\n",
        "",
    )


def test_a_read_sees_the_database_as_it_stood_when_it_began(db_url: str) -> None:
    # A report reads in several statements (a summary: programmes, then every other lot);
    # all of them must see the same data, whatever another process commits meanwhile.
    import sqlalchemy as sa

    from tracker.model.tables import Region
    from tracker.service.bootstrap import open_database

    engine = open_database(db_url)
    regions = sa.select(sa.func.count()).select_from(Region)
    try:
        with database.session_scope(engine) as reading:
            before = reading.execute(regions).scalar_one()
            with database.session_scope(engine, writes=True) as writing:
                writing.add(Region(id="test-region", name="Test", definition="-", source="-"))
            assert reading.scalar(regions) == before
        with database.session_scope(engine) as later:
            assert later.scalar(regions) == before + 1
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres:s3cret@PW@127.0.0.1/tracker",
        "postgresql://postgres:s3c@ret@PW@127.0.0.1:5432/tracker?sslmode=disable",
        "postgresql+psycopg://:s3cret@PW@127.0.0.1/tracker",
    ],
)
def test_an_unescaped_at_sign_in_a_password_is_refused_without_showing_it(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hint = (
        "holds more than one '@' before the host: write an '@' in the password as %40 "
        "(percent-encode its special characters)"
    )
    result = Tracker(url)("list")
    assert (result.exit_code, result.stderr) == (2, f"Error: --db: {hint}\n")
    monkeypatch.setenv("TRACKER_DATABASE_URL", url)
    result = Tracker(None)("list")
    assert (result.exit_code, result.stderr) == (2, f"Error: TRACKER_DATABASE_URL: {hint}\n")
    assert urls.safe_url(url) == "<unreadable database URL>"


def test_a_password_with_a_percent_encoded_at_sign_is_read_and_hidden() -> None:
    url = "postgresql://postgres:s3cret%40PW@127.0.0.1:1/tracker"
    assert urls.parse_database_url(url).password == "s3cret@PW"
    result = Tracker(url)("list")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: database postgresql+psycopg://postgres:***@127.0.0.1:1/tracker: ")
    assert "s3cret" not in result.stderr
    assert "PW" not in result.stderr


def schema_snapshot(url: str) -> tuple[object, ...]:
    """What a migration could change: every table's columns, indexes and CHECKs, the recorded
    revision, and how many rows the reference tables hold."""
    import sqlalchemy as sa

    engine = database.create_engine(url)
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            tables = sorted(inspector.get_table_names())
            shape = [
                (
                    table,
                    [(column["name"], str(column["type"])) for column in inspector.get_columns(table)],
                    sorted(
                        (index["name"] or "", tuple(index["column_names"]))
                        for index in inspector.get_indexes(table)
                    ),
                    sorted(
                        (check["name"] or "", check["sqltext"])
                        for check in inspector.get_check_constraints(table)
                    ),
                )
                for table in tables
            ]
            revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
            regions = connection.exec_driver_sql("SELECT count(*) FROM region").scalar_one()
    finally:
        engine.dispose()
    return (shape, revision, regions)


def record_revision(url: str, revision: str) -> None:
    engine = database.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{revision}'")
    engine.dispose()


def test_a_migration_that_fails_is_one_line_naming_the_recorded_revision(db_url: str) -> None:
    # The schema is current, but says it is at 0004: upgrading it adds what is there already.
    record_revision(db_url, "0004")
    before = schema_snapshot(db_url)
    result = Tracker(db_url)("init")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"Error: the schema of the database {urls.safe_url(db_url)} does not match its recorded "
        f"revision 0004: upgrading it to {schema.SCHEMA_REVISION} failed ("
    )
    assert result.stderr.endswith("); the database is unchanged\n")
    assert result.stderr.count("\n") == 1
    assert schema_snapshot(db_url) == before
    with pytest.raises(SchemaError) as raised:
        Tracker(db_url)("--debug", "init")
    assert raised.value.__cause__ is not None  # --debug shows the migration's own traceback


def test_a_failing_migration_of_sqlite_is_one_line_too(tmp_path: Path) -> None:
    # The case of the issue: 0007 rewrites CHECKs that a current schema has rewritten already.
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    Tracker(url).ok("init", "--no-seed")
    record_revision(url, "0006")
    before = schema_snapshot(url)
    result = Tracker(url)("init")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"Error: the schema of the database {url} does not match its recorded revision 0006: "
        f"upgrading it to {schema.SCHEMA_REVISION} failed (the table entry does not have the CHECK "
    )
    assert result.stderr.count("\n") == 1
    assert schema_snapshot(url) == before


READS = [
    ("list", "--format", "csv"),
    ("summary",),
    ("show", "site"),
    ("export",),
    ("check", "--format", "csv"),
]


def read(tracker: Tracker, command: tuple[str, ...]) -> tuple[int, str, str]:
    result = tracker(*command)
    return result.exit_code, result.stdout, result.stderr


def folder_files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_a_database_in_a_read_only_folder_is_read_and_a_write_refused_in_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "tracker.db"
    tracker = Tracker(str(path))
    tracker.ok("init")
    tracker.ok("add", "Site", "--country", "FR", "--chips", "100", "--vendor", "AMD")
    before = database_contents(tracker)
    reports = [read(tracker, command) for command in READS]
    assert folder_files(folder) == ["tracker.db"]  # SQLite's -wal and -shm go with the last connection
    refusal = (
        f"Error: cannot write SQLite database {path}: its folder {folder} is not writable "
        "(commands that only read work)\n"
    )
    with read_only(folder):
        assert [read(tracker, command) for command in READS] == reports
        for command in (("add", "Other", "--country", "DE"), ("init",), ("remove", "site", "--yes")):
            result = tracker(*command)
            assert (result.exit_code, result.stderr) == (1, refusal), command
        assert folder_files(folder) == ["tracker.db"]
    assert database_contents(tracker) == before


def test_a_read_only_folder_with_a_write_ahead_log_reads_what_the_log_holds(tmp_path: Path) -> None:
    # A writer still at work (or killed) leaves its committed changes in the -wal file beside
    # the database: a reader must see them, so it cannot take the database file alone.
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "tracker.db"
    tracker = Tracker(str(path))
    tracker.ok("init", "--no-seed")
    holder = sqlite3.connect(path)  # keeps the log from being folded in and removed
    try:
        holder.execute("PRAGMA journal_mode = WAL").fetchall()
        tracker.ok("add", "In The Log", "--country", "FR")
        assert {"tracker.db-wal", "tracker.db-shm"} <= set(folder_files(folder))
        with read_only(folder):
            assert "in-the-log" in tracker.ok("list", "--format", "csv")
    finally:
        holder.close()


def test_a_new_database_in_a_read_only_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    with read_only(folder):
        result = Tracker(str(folder / "new.db"))("list")
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: cannot use SQLite database {folder / 'new.db'}: folder {folder} is not writable\n",
    )


IN_MEMORY = (
    "is an in-memory SQLite database, where what a command writes is lost when it ends; "
    "give a file (a path, or sqlite:///FILE)"
)


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", ":memory:"])
def test_an_in_memory_database_is_refused_for_a_command_that_writes(url: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("name,country\nSite,FR\n", encoding="utf-8")
    for command in (("add", "Site", "--country", "FR"), ("init",), ("import", str(empty))):
        result = Tracker(url)(*command)
        assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"Error: --db: {IN_MEMORY}\n"), (
            command
        )
    # Reading one is harmless, if of little use: it holds the reference data and nothing else.
    result = Tracker(url)("list", "--format", "csv")
    assert (result.exit_code, result.stdout.count("\n")) == (0, 1)


URI_FILENAME = (
    "is an SQLite URI filename, which the tracker does not take; give the database file's path "
    "(./file:NAME for a file whose name starts with file:) or sqlite:///PATH"
)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:x.db", URI_FILENAME),
        ("file:x.db?mode=ro", URI_FILENAME),
        ("sqlite:///file:x.db?mode=ro&uri=true", URI_FILENAME),
        ("sqlite:///x.db?uri=true", URI_FILENAME),
        ("sqlite:///x.db?mode=ro",
         "SQLite's driver takes no option 'mode' (an SQLite URI filename's options are not taken); "
         "give sqlite:///PATH or a path"),
    ],
)  # fmt: skip
def test_an_sqlite_uri_filename_is_refused_clearly(
    url: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for command in (("add", "Site", "--country", "FR"), ("list",)):
        result = Tracker(url)(*command)
        assert (result.exit_code, result.stderr) == (2, f"Error: --db: {message}\n"), command
    assert list(tmp_path.iterdir()) == []


def test_a_file_whose_name_starts_with_file_colon_is_given_by_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert Tracker("./file:x.db").ok("add", "Site", "--country", "FR") == "site\n"
    assert (tmp_path / "file:x.db").is_file()
    assert "site,Site" in Tracker(str(tmp_path / "file:x.db")).export()


@contextlib.contextmanager
def full_disk(tmp_path: Path, size_kb: int) -> Iterator[Path]:
    """A folder on a file system of ``size_kb`` that the caller fills: a small tmpfs, mounted
    for the test (it needs root, as CI runs; it harms nothing outside the folder)."""
    if os.geteuid() != 0:
        pytest.fail("this test mounts a small tmpfs to fill it: run it as root, as CI does", pytrace=False)
    folder = tmp_path / "small-disk"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def fill(folder: Path) -> None:
    with (folder / "filler").open("wb", buffering=0) as filler, contextlib.suppress(OSError):
        while True:
            filler.write(b"\0" * 4096)


def tracker_process(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``tracker`` in a process of its own, which leaves no file open on the disk when it ends."""
    return subprocess.run(
        [sys.executable, "-m", "tracker", "--db", str(db), *args], capture_output=True, text=True, check=False
    )


def test_a_full_disk_is_named_before_the_write_ahead_log_exists(tmp_path: Path) -> None:
    source = tmp_path / "source.db"
    Tracker(str(source)).ok("init", "--no-seed")
    with full_disk(tmp_path, 2048) as folder:
        path = folder / "tracker.db"
        shutil.copyfile(source, path)
        fill(folder)  # before SQLite could make its -shm and -wal files
        for db, command in (
            (path, ("add", "Site", "--country", "FR")),
            (path, ("list",)),
            (folder / "new.db", ("list",)),
        ):
            result = tracker_process(db, *command)
            assert result.returncode == 1, command
            full = f"the disk is full: no room for the database's files in {folder} ("
            assert result.stderr.startswith(f"Error: database sqlite:///{db}: {full}"), result.stderr
            assert result.stderr.endswith("); free some space\n")
            assert result.stderr.count("\n") == 1
        (folder / "filler").unlink()
        after = tracker_process(path, "export")
    assert (after.returncode, after.stdout) == (0, Tracker(str(source)).export())  # the copy is sound


def sqlite_failure(code: int, message: str) -> sa.exc.OperationalError:
    original = sqlite3.OperationalError(message)
    original.sqlite_errorcode = code  # type: ignore[attr-defined]
    return sa.exc.OperationalError("SELECT 1", {}, original)


def test_sqlite_says_when_the_disk_is_full_and_the_message_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    full = f"database {url}: the disk is full: no room for the database's files in {tmp_path} ("
    assert database.describe_database_error(url, sqlite_failure(4874, "disk I/O error")).startswith(full)
    assert database.describe_database_error(url, sqlite_failure(13, "database or disk is full")).startswith(
        full
    )
    # Another I/O error, with room on the disk, is told as SQLite tells it.
    assert database.describe_database_error(url, sqlite_failure(778, "disk I/O error")) == (
        f"database {url}: disk I/O error"
    )
