"""tracker import: the export format, checked whole, stored in bulk, round trips byte for byte."""

from __future__ import annotations

import csv
import io
import random
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import Tracker, export_cells, export_line
from tests.test_cli import database_contents
from tracker.service.catalogue import load_catalogue
from tracker.service.database import create_engine, session_scope
from tracker.service.export import EXPORT_COLUMNS
from tracker.service.formats.tracker import read_export_file
from tracker.service.imports import import_file

HEADER = ",".join(EXPORT_COLUMNS)

# Several lots, every period precision, a parent listed after its child, formula-like
# cells, quotes, commas, a line break in a note, accents and CJK, decimals of power.
RICH_FILE = (Path(__file__).parent / "data" / "rich_import.csv").read_text(encoding="utf-8")


# The rich file's one operator, new to a database: recorded, with a warning.
RICH_OPERATOR = "=cmd|' /C calc'!A0"
NEW_RICH_OPERATOR = (
    f"Warning: new operator {RICH_OPERATOR!r}, without a headquarters country; "
    f"`tracker operators set {shlex.quote(RICH_OPERATOR)} --hq C --source URL` gives it\n"
)


def write(tmp_path: Path, text: str, name: str = "import.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def test_a_file_with_several_lots_and_tricky_cells_round_trips_byte_for_byte(
    tracker: Tracker, empty_db_url: str, tmp_path: Path
) -> None:
    result = tracker("import", str(write(tmp_path, RICH_FILE)))
    assert (result.exit_code, result.stdout, result.stderr) == (
        0, "6 added, 0 updated, 0 unchanged\n", NEW_RICH_OPERATOR,
    )  # fmt: skip
    first = tracker.export()
    rows = first.splitlines()
    assert rows[0] == HEADER
    assert rows[1].startswith(
        "a-child,\"Child, phase 1\",'=cmd|' /C calc'!A0,FR,Paris,factory,private,eu-plan,"
    )
    assert "c-quarter,'@Quarter,,DE" in first
    other = Tracker(empty_db_url)
    export_file = write(tmp_path, first, "export.csv")
    assert other.ok("import", str(export_file)) == "6 added, 0 updated, 0 unchanged\n"
    assert other.export() == first


def test_the_seeded_database_round_trips_and_a_second_import_changes_nothing(
    seeded_tracker: Tracker, tracker: Tracker, tmp_path: Path
) -> None:
    exported = seeded_tracker.export()
    path = write(tmp_path, exported)
    assert tracker.ok("import", str(path)) == "5 added, 0 updated, 0 unchanged\n"
    assert tracker.export() == exported
    before = database_contents(tracker)
    assert tracker.ok("import", str(path)) == "0 added, 0 updated, 5 unchanged\n"
    assert database_contents(tracker) == before


def test_every_bad_row_is_reported_with_file_line_and_column_and_nothing_is_written(
    seeded_tracker: Tracker, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "name,country,chips,vendor,model,online\n"
        "Good,FR,10,NVIDIA,H100,2026\n"
        "Bad country,Frnace,10,NVIDIA,,\n"
        "Negative,DE,-5,NVIDIA,,\n"
        "Bad period,IT,10,AMD,,Q5 2026\n"
        "Bad vendor,ES,10,Nvidiaa,,\n"
        ",PT,10,NVIDIA,,\n",
    )
    before = database_contents(seeded_tracker)
    result = seeded_tracker("import", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert [line.split(": ")[0:2] for line in lines[:-1]] == [
        [f"{path}:3", "country"],
        [f"{path}:4", "chips"],
        [f"{path}:5", "online"],
        [f"{path}:6", "vendor"],
        [f"{path}:7", "name"],
    ]
    assert (
        lines[1]
        == f"{path}:4: chips: '-5' is not a chip count; give a whole number from 1 to 1,000,000,000,000"
    )
    assert (
        lines[-1] == f"Error: {path}: 5 problems; nothing was imported; --skip-invalid imports the other rows"
    )
    assert database_contents(seeded_tracker) == before


def test_a_changed_entry_is_a_conflict_unless_told_to_update_or_skip(
    seeded_tracker: Tracker, tmp_path: Path
) -> None:
    exported = seeded_tracker.export()
    changed = exported.replace("nebius-uk,Nebius deployment in the UK", "nebius-uk,Nebius UK").replace(
        ",B300,4000,", ",B300,4500,"
    )
    path = write(tmp_path, changed)
    before = database_contents(seeded_tracker)
    refused = seeded_tracker("import", str(path))
    assert refused.exit_code == 2
    line = 1 + [row.split(",")[0] for row in changed.splitlines()].index("nebius-uk")
    assert refused.stderr.splitlines()[0] == (
        f"{path}:{line}: id: 'nebius-uk' is stored with other values (name differs, chips differs); "
        "--on-conflict update replaces the stored entry, --on-conflict skip keeps it"
    )
    assert database_contents(seeded_tracker) == before
    assert seeded_tracker.ok("import", str(path), "--on-conflict", "skip") == (
        "0 added, 0 updated, 4 unchanged, 1 skipped\n"
    )
    assert database_contents(seeded_tracker) == before
    assert (
        seeded_tracker.ok("import", str(path), "--on-conflict", "update")
        == "0 added, 1 updated, 4 unchanged\n"
    )
    assert seeded_tracker.export() == changed


def test_an_update_keeps_the_entry_created_date_and_moves_its_updated_date(
    db_url: str, tmp_path: Path
) -> None:
    tracker = Tracker(db_url)
    tracker.ok("add", "Site", "--country", "FR", "--chips", "10", "--vendor", "AMD")
    engine = create_engine(db_url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE entry SET created_at = '2025-01-01', updated_at = '2025-01-01'"))
    tracker.ok(
        "import", str(write(tmp_path, tracker.export().replace(",10,", ",20,"))), "--on-conflict", "update"
    )
    with engine.connect() as connection:
        created, updated = connection.execute(sa.text("SELECT created_at, updated_at FROM entry")).one()
    engine.dispose()
    assert str(created).startswith("2025-01-01")
    assert not str(updated).startswith("2025-01-01")
    assert tracker.ok("export", "--changed-since", "2025-06-01").count("\nsite,") == 1


def test_a_dry_run_counts_and_writes_nothing(seeded_tracker: Tracker, tmp_path: Path) -> None:
    new_row = export_line(id="new-one", name="New One", country="FR", status="announced")
    path = write(tmp_path, f"{seeded_tracker.export()}{new_row}\n")
    before = database_contents(seeded_tracker)
    result = seeded_tracker("import", str(path), "--dry-run")
    # What it would change, as `tracker diff` lists it (tests/test_time.py), then the counts.
    assert result.exit_code == 0
    added = ["new-one", "New", "One", "added", "New", "One,", "FR,", "no", "chip", "count"]
    assert result.stdout.splitlines()[2].split() == added
    assert result.stdout.endswith("\n1 added, 0 updated, 5 unchanged\n")
    assert result.stderr == "1 added, 0 removed, 0 changed (entries).\nDry run: nothing was written.\n"
    assert database_contents(seeded_tracker) == before


def test_standard_input_is_read_with_dash(tracker: Tracker) -> None:
    result = tracker("import", "-", input="name,country\nFrom stdin,fr\n")
    assert (result.exit_code, result.stdout) == (0, "1 added, 0 updated, 0 unchanged\n")
    assert "from-stdin,From stdin,,FR," in tracker.export()
    bad = tracker("import", "-", input="name,country\nX,Atlantis\n")
    assert bad.stderr.startswith("<stdin>:2: country: unknown country 'Atlantis'")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "{path}:1: header: is missing: the file is empty; it starts with id,name,"),
        ("name,country,sorces\n", "{path}:1: sorces: is not a column of the export format; the columns are "),
        ("name,chips\nX,3\n", "{path}:1: country: is missing; every entry needs it"),
        ("name,country,name\n", "{path}:1: name: is given twice"),
        ("name,country\nX,FR,extra\n", "{path}:2: row: has 3 cells; the header has 2"),
        (
            "name,country,chips,vendor\nSite One,FR,1,AMD\nOther,FR,1,AMD\nsite one,DE,2,AMD\n",
            "{path}:4: id: 'site-one' (made from the name 'site one') is also the id of line 2; a row "
            "without an id is an entry of its own: give each its own id",
        ),
        (
            "id,name,country,chips,vendor\nx,X,FR,1,AMD\nx,X,DE,2,AMD\n",
            "{path}:3: country: 'DE' differs from line 2 ('FR'); the rows of one entry share its fields",
        ),
        (
            "id,name,country,lot,chips,vendor\nx,X,FR,1,1,AMD\nx,X,FR,1,2,AMD\n",
            "{path}:3: lot: 1 is also the lot of line 2",
        ),
        (
            "id,name,country,parent\nx,X,FR,nowhere\n",
            "{path}:2: parent: no entry has the id 'nowhere', stored or in a valid row of the file",
        ),
        (
            "id,name,country,kind,parent\nx,X,FR,programme,y\ny,Y,FR,programme,x\n",
            "{path}:2: parent: 'y' makes 'x' a part of itself",
        ),
        (
            "id,name,country,kind,parent\nx,X,FR,factory,\ny,Y,FR,factory,x\n",
            "{path}:3: parent: 'x' is not a programme (its kind is factory); a parent has kind programme",
        ),
        ("name,country,announced\nX,FR,2099-01-01\n", "{path}:2: announced: 2099-01-01 is in the future;"),
        ("id,name,country\nnul,A\x00B,NO\n", "{path}:2: name: holds the control character U+0000; remove it"),
        (
            "name,country,sources\nA,NO,http://x\x1b[31m\n",
            "{path}:2: sources: holds the control character U+001B",
        ),
        (
            "id;name;country\nx;X;FR\n",
            "{path}:1: header: is one cell, 'id;name;country': the file seems separated by",
        ),
        (
            "Name,Status,Certainty,Chip type (primary)\n",
            "{path}:1: header: is that of Epoch AI's GPU clusters CSV;",
        ),
        (
            "name,country,foo,bar\n",
            "{path}:1: foo: is not a column of the export format; the columns are id, name,",
        ),
        (
            "id,name,country\n" + "a" * 81 + ",A,FR\n",
            "{path}:2: id: is 81 characters long; an id has at most 80",
        ),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(
    tracker: Tracker, tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    before = database_contents(tracker)
    result = tracker("import", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith(expected.format(path=path))
    assert result.stderr.splitlines()[-1].startswith(f"Error: {path}: ")
    assert database_contents(tracker) == before


def test_unreadable_files_are_one_line_errors(tracker: Tracker, tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    result = tracker("import", str(missing))
    assert (result.exit_code, result.stderr) == (2, f"Error: FILE: {missing} does not exist\n")
    assert tracker.export() == HEADER + "\n"


def test_bytes_that_are_not_utf8_are_told_with_their_line_and_column(
    tracker: Tracker, tmp_path: Path
) -> None:
    # A file saved as Latin-1: each row holding such a byte is told, with its line and column.
    binary = tmp_path / "latin1.csv"
    binary.write_bytes('name,country,notes\nMünchen,DE,\nParis,FR,\nX,FR,"a\nCafé"\n'.encode("latin-1"))
    result = tracker("import", str(binary))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"{binary}:2: name: holds the byte 0xFC, which is not UTF-8 text; save the file as UTF-8 CSV",
        f"{binary}:5: notes: holds the byte 0xE9, which is not UTF-8 text; save the file as UTF-8 CSV",
        f"Error: {binary}: 2 problems; nothing was imported; --skip-invalid imports the other rows",
    ]
    assert tracker.export() == HEADER + "\n"
    header = tmp_path / "header.csv"
    header.write_bytes("name,country,n\xf6tes\nX,FR,\n".encode("latin-1"))
    result = tracker("import", str(header))
    assert result.stderr == (
        f"{header}:1: header: holds the byte 0xF6, which is not UTF-8 text; save the file as UTF-8 CSV\n"
        f"Error: {header}: 1 problem; nothing was imported\n"
    )
    # From standard input too, as the same file.
    piped = tracker("import", "-", input=binary.read_bytes())  # type: ignore[arg-type]
    assert piped.stderr.splitlines()[0] == (
        "<stdin>:2: name: holds the byte 0xFC, which is not UTF-8 text; save the file as UTF-8 CSV"
    )


def test_a_cell_too_long_is_refused_whatever_limit_another_library_set(
    tracker: Tracker, tmp_path: Path
) -> None:
    # frictionless (tracker publish's tests) raises the csv module's limit for the whole process.
    long_cell = write(tmp_path, 'name,country,notes\nX,FR,"' + "word\n" * 30_000 + '"\n', "cell.csv")
    raised = csv.field_size_limit(sys.maxsize)
    try:
        result = tracker("import", str(long_cell))
        assert result.exit_code == 2
        assert "holds a cell longer than 131,072 characters" in result.stderr
        assert csv.field_size_limit() == sys.maxsize  # given back as it was
    finally:
        csv.field_size_limit(raised)


def test_a_line_or_a_cell_too_long_is_refused_before_it_is_read_whole(
    tracker: Tracker, tmp_path: Path
) -> None:
    # The bounds keep an import's memory flat: a 100 MB line was read whole before it was refused.
    long_line = write(tmp_path, "name,country,notes\nX,FR," + "n" * 1_000_000 + "\n", "line.csv")
    result = tracker("import", str(long_line))
    assert (result.exit_code, result.stderr) == (
        2,
        f"{long_line}:2: row: is longer than 1,000,000 characters, the most a line may hold\n"
        f"Error: {long_line}: 1 problem; nothing was imported\n",
    )
    # A quoted cell over many lines, none of them long.
    long_cell = write(tmp_path, 'name,country,notes\nX,FR,"' + "word\n" * 30_000 + '"\n', "cell.csv")
    result = tracker("import", str(long_cell))
    assert (result.exit_code, result.stderr) == (
        2,
        f"{long_cell}:2: row: holds a cell longer than 131,072 characters, the most a cell may hold\n"
        f"Error: {long_cell}: 1 problem; nothing was imported\n",
    )
    assert tracker.export() == HEADER + "\n"


def test_rows_without_ids_get_ids_from_their_names_and_a_byte_order_mark_is_ignored(
    tracker: Tracker, tmp_path: Path
) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(
        "\ufeffName,Country,Chips,Vendor\nSite One,France,1\u00a0000,nvidia\n".replace("\u00a0", "").encode()
    )
    assert tracker.ok("import", str(path)) == "1 added, 0 updated, 0 unchanged\n"
    site = {"id": "site-one", "name": "Site One", "country": "FR", "status": "announced", "lot": "1"}
    assert export_cells(tracker.export()) == [
        site | {"vendor": "NVIDIA", "chips": "1000", "qualifier": "exact"}
    ]
    assert tracker.ok("import", str(path)) == "0 added, 0 updated, 1 unchanged\n"


def test_skip_invalid_imports_the_good_rows_and_lists_the_others(tracker: Tracker, tmp_path: Path) -> None:
    path = write(tmp_path, "name,country\nGood,FR\nBad,Atlantis\n")
    result = tracker("import", str(path), "--skip-invalid")
    assert result.exit_code == 0
    assert result.stdout == "1 added, 0 updated, 0 unchanged\n"
    assert result.stderr.splitlines()[0].startswith(f"{path}:3: country: unknown country 'Atlantis'")
    assert (
        result.stderr.splitlines()[-1]
        == "Left out 1 entry (--skip-invalid); their problems by column: 1 country."
    )


def test_entries_go_in_through_bulk_statements(db_url: str, tmp_path: Path) -> None:
    rows = "".join(f"e{n},Entry {n},FR,{n % 7 + 1},AMD,https://example.org/{n % 50}\n" for n in range(3000))
    path = write(tmp_path, "id,name,country,chips,vendor,sources\n" + rows)
    engine = create_engine(db_url)
    statements: list[str] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def count(*args: object) -> None:
        statements.append(str(args[2]).split()[0].upper())

    from tracker.service.imports import import_entries

    with session_scope(engine, writes=True) as session, path.open(encoding="utf-8", newline="") as handle:
        catalogue = load_catalogue(session)
        result = import_entries(
            session, read_export_file(handle, catalogue, name="bulk.csv"), name="bulk.csv"
        )
    engine.dispose()
    assert result.added == 3000
    # 3,000 entries, 3,000 lots, 50 sources, 3,000 links: a few statements per batch, not one per
    # row (on SQLite, a statement of up to 200 rows, as many as its limit of parameters allows).
    assert statements.count("INSERT") < (120 if db_url.startswith("sqlite") else 20)


def test_progress_is_told_how_much_of_the_file_was_read(db_url: str) -> None:
    text = "name,country\n" + "".join(f"Entry {n},FR\n" for n in range(100))
    engine = create_engine(db_url)
    read: list[int] = []
    with session_scope(engine) as session:
        catalogue = load_catalogue(session)
        entries = list(
            read_export_file(io.StringIO(text, newline=""), catalogue, name="x", progress=read.append)
        )
    engine.dispose()
    assert len(entries) == 100
    assert sum(read) == len(text)


def test_progress_is_told_once_when_a_file_is_read_again_with_its_rows_gathered(db_url: str) -> None:
    text = "id,name,country,chips,vendor\n" + "".join(
        f"e{n % 50},E {n % 50},FR,{n + 1},AMD\n" for n in range(100)
    )
    engine = create_engine(db_url)
    read: list[int] = []
    with session_scope(engine, writes=True) as session:
        result = import_file(
            session, io.StringIO(text, newline=""), read_export_file, name="x", progress=read.append
        )
    engine.dispose()
    assert (result.added, sum(read)) == (50, len(text))  # read twice, told once


def test_a_conflict_with_another_number_of_lots_says_so(tracker: Tracker, tmp_path: Path) -> None:
    tracker.ok("import", str(write(tmp_path, "id,name,country,chips,vendor\nm1,M,FR,1,AMD\nm1,M,FR,2,AMD\n")))
    full = tracker.export().splitlines()
    result = tracker(
        "import", str(write(tmp_path, "\n".join(full[:2]).replace("FR,,", "DE,,", 1) + "\n", "b.csv"))
    )
    assert result.stderr.splitlines()[0].endswith(
        "b.csv:2: id: 'm1' is stored with other values (country differs, 1 chip lot(s) in the file, "
        "2 stored); --on-conflict update replaces the stored entry, --on-conflict skip keeps it"
    )


def test_a_file_without_every_column_changes_only_the_columns_it_has(
    tracker: Tracker, tmp_path: Path
) -> None:
    tracker.ok("add", "Site", "--country", "FR", "--kind", "factory", "--chips", "10", "--vendor", "AMD",
               "--model", "MI300X", "--source", "https://example.org/site", "--online", "2026")  # fmt: skip
    before = tracker.export()
    same = write(tmp_path, "id,name,country\nsite,Site,FR\n", "same.csv")
    assert tracker.ok("import", str(same)) == "0 added, 0 updated, 1 unchanged\n"
    path = write(tmp_path, "id,name,country,chips,vendor\nsite,Site,FR,20,AMD\n")
    result = tracker("import", str(path))
    assert result.stderr.splitlines()[0] == (
        f"{path}:2: id: 'site' is stored with other values (chips differs); "
        "--on-conflict update replaces the stored entry, --on-conflict skip keeps it"
    )
    assert tracker.ok("import", str(path), "--on-conflict", "update") == "0 added, 1 updated, 0 unchanged\n"
    assert tracker.export() == before.replace(",AMD,MI300X,10,", ",AMD,MI300X,20,")


def test_a_file_without_lot_numbers_keeps_the_stored_ones(tracker: Tracker, tmp_path: Path) -> None:
    tracker.ok("add", "Site", "--country", "FR", "--chips", "30", "--vendor", "NVIDIA", "--model", "H100")
    tracker.ok("update", "site", "--lot", "3", "--chips", "5", "--vendor", "AMD")
    rows = list(csv.DictReader(io.StringIO(tracker.export())))
    for row in rows:
        del row["lot"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    before = database_contents(tracker)
    assert tracker.ok("import", str(write(tmp_path, out.getvalue()))) == "0 added, 0 updated, 1 unchanged\n"
    assert database_contents(tracker) == before


def test_skip_invalid_takes_back_the_sources_of_what_it_leaves_out(db_url: str, tmp_path: Path) -> None:
    tracker = Tracker(db_url)
    tracker.ok("add", "Kept", "--country", "FR", "--source", "https://kept.example")
    path = write(
        tmp_path,
        "id,name,country,parent,chips,vendor,lot,sources\n"
        "orphan,Orphan,FR,nowhere,1,AMD,1,https://orphan.example\n"
        "orphan,Orphan,FR,nowhere,2,AMD,2,https://orphan.example\n"
        "fine,Fine,DE,,3,AMD,1,https://kept.example\n",
    )
    result = tracker("import", str(path), "--skip-invalid")
    assert (result.exit_code, result.stdout) == (0, "1 added, 0 updated, 0 unchanged\n")
    assert (
        result.stderr.splitlines()[-1]
        == "Left out 1 entry (--skip-invalid); their problems by column: 1 parent."
    )
    engine = create_engine(db_url)
    with engine.connect() as connection:
        references = list(
            connection.execute(sa.text("SELECT reference FROM source ORDER BY reference")).scalars()
        )
    engine.dispose()
    assert "https://orphan.example" not in references
    assert "https://kept.example" in references


def test_a_skipped_conflict_leaves_the_stored_entry_whole(tracker: Tracker, tmp_path: Path) -> None:
    tracker.ok(
        "import", str(write(tmp_path, "id,name,country,kind\nprog-a,A,FR,programme\nprog-b,B,FR,programme\n"))
    )
    tracker.ok(
        "import",
        str(write(tmp_path, "id,name,country,parent,chips,vendor\nchild,C,FR,prog-a,10,AMD\n", "c.csv")),
    )
    before = database_contents(tracker)
    path = write(tmp_path, "id,name,country,parent,chips,vendor\nchild,C,FR,prog-b,99,AMD\n", "d.csv")
    assert (
        tracker.ok("import", str(path), "--on-conflict", "skip")
        == "0 added, 0 updated, 0 unchanged, 1 skipped\n"
    )
    assert database_contents(tracker) == before


def test_a_cycle_through_stored_entries_is_refused(tracker: Tracker, tmp_path: Path) -> None:
    tracker.ok(
        "import",
        str(
            write(
                tmp_path,
                "id,name,country,kind,parent\na,A,FR,programme,\nb,B,FR,programme,a\nc,C,FR,programme,b\n",
            )
        ),
    )
    before = database_contents(tracker)
    path = write(tmp_path, "id,name,country,parent\na,A,FR,c\n", "cycle.csv")
    result = tracker("import", str(path), "--on-conflict", "update")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"{path}:2: parent: 'c' makes 'a' a part of itself"
    assert database_contents(tracker) == before


def test_imports_running_at_once_share_new_sources(db_url: str, tmp_path: Path) -> None:
    files = []
    for name in ("one", "two", "three"):
        rows = "".join(f"{name}-{n},Entry {n},FR,https://example.org/shared/{n % 400}\n" for n in range(3000))
        files.append(write(tmp_path, "id,name,country,sources\n" + rows, f"{name}.csv"))
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tracker", "--db", db_url, "import", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for path in files
    ]
    outcomes = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], outcomes
    exported = Tracker(db_url).export()
    assert len(exported.splitlines()) == 9001
    assert exported.count(",https://example.org/shared/7,") == 3 * len(range(7, 3000, 400))


def test_line_breaks_in_notes_are_stored_alike_however_the_file_was_saved(
    tracker: Tracker, tmp_path: Path
) -> None:
    unix = write(tmp_path, 'id,name,country,notes\nx,X,FR,"one\ntwo"\n', "unix.csv")
    windows = tmp_path / "windows.csv"
    windows.write_bytes(b'id,name,country,notes\r\nx,X,FR,"one\r\ntwo"\r\n')
    assert tracker.ok("import", str(unix)) == "1 added, 0 updated, 0 unchanged\n"
    assert tracker.ok("import", str(windows)) == "0 added, 0 updated, 1 unchanged\n"


def test_the_same_entries_imported_twice_at_once_go_in_once(db_url: str, tmp_path: Path) -> None:
    rows = "".join(f"same-{n},Entry {n},FR,{n % 9 + 1},AMD\n" for n in range(3000))
    path = write(tmp_path, "id,name,country,chips,vendor\n" + rows)
    command = [sys.executable, "-m", "tracker", "--db", db_url, "import", str(path)]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outcomes = sorted(process.communicate(timeout=120) for process in processes)
    assert outcomes == [
        (b"0 added, 0 updated, 3000 unchanged\n", b""),
        (b"3000 added, 0 updated, 0 unchanged\n", b""),
    ]


def test_a_lot_repeated_in_many_rows_is_read_alike_in_each(seeded_tracker: Tracker, tmp_path: Path) -> None:
    # A reader keeps what each distinct lot's cells gave: the same cells give the same lot
    # to every entry, and the same problem, at its own line, to every row that has it.
    path = write(
        tmp_path,
        "id,name,country,lot,chips,vendor,model\n"
        "a,A,FR,1,10,nvidia,h100\n"
        "a,A,FR,2,10,Nvidiaa,\n"
        "b,B,DE,1,10,nvidia,h100\n"
        "b,B,DE,2,10,Nvidiaa,\n",
    )
    result = seeded_tracker("import", str(path))
    assert [line.split(": ")[0:2] for line in result.stderr.splitlines()[:-1]] == [
        [f"{path}:3", "vendor"],
        [f"{path}:5", "vendor"],
    ]
    good = "".join(line for line in path.read_text().splitlines(keepends=True) if "Nvidiaa" not in line)
    assert (
        seeded_tracker.ok("import", str(write(tmp_path, good, "good.csv")))
        == "2 added, 0 updated, 0 unchanged\n"
    )
    exported = seeded_tracker.export()
    assert ",1,NVIDIA,H100,10," in exported.split("\na,")[1]
    assert ",1,NVIDIA,H100,10," in exported.split("\nb,")[1]


def test_the_database_checks_its_constraints_again_once_an_import_is_done(
    db_url: str, tmp_path: Path
) -> None:
    from tracker.service.imports import import_entries

    path = write(tmp_path, "id,name,country,chips,vendor\ne1,E,FR,10,AMD\n")
    engine = create_engine(db_url)
    try:
        with session_scope(engine, writes=True) as session, path.open(encoding="utf-8", newline="") as handle:
            import_entries(session, read_export_file(handle, load_catalogue(session), name="x"), name="x")
            with pytest.raises(sa.exc.IntegrityError, match=r"(?i)check"), session.begin_nested():
                session.execute(sa.text("UPDATE chip_lot SET qualifier = 'roughly'"))
    finally:
        engine.dispose()


def test_entry_fields_repeated_in_many_entries_are_read_alike_in_each(
    seeded_tracker: Tracker, tmp_path: Path
) -> None:
    # A reader keeps what each distinct text of an entry column gave: the same text gives the
    # same value to every entry, and an entry with any problem is read again whole, so that
    # its problems are the ones read_entry finds, in its order, with its messages.
    from tracker.errors import InvalidInput
    from tracker.service.reading import read_entry

    header = "id,name,country,status,online,power_mw,sources,chips,vendor"
    good = "France,under construction,2026 q3,1.5,https://example.org/x | https://example.org/y,10,nvidia"
    rows = [
        f"a,A,{good}",
        f"b,B,{good.replace('France', ' france ')}",
        "c,,Frnace,built,2026 Q5,-1,,10,nvidia",
        "d,D,Frnace,built,2026 Q3,1.5,https://example.org/x,10,nvidia",
        f"e,E,{good}",
        "f,F,France,,,,https://example.org/x | ,10,nvidia",
    ]
    path = write(tmp_path, "\n".join([header, *rows]) + "\n")
    engine = create_engine(str(seeded_tracker.url))
    expected = []
    with session_scope(engine) as session:
        catalogue = load_catalogue(session)
        for line, row in enumerate(rows, start=2):
            raw = dict(zip(header.split(","), next(csv.reader([row])), strict=True))
            try:
                read_entry({**raw, "chips": "", "vendor": ""}, catalogue)
            except InvalidInput as error:
                expected += [
                    f"{path}:{line}: {problem.field}: {problem.message}" for problem in error.problems
                ]
    engine.dispose()
    result = seeded_tracker("import", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:-1] == expected
    assert [line.split(": ")[1] for line in expected] == [
        "name", "country", "status", "online", "power_mw", "country", "status", "sources"
    ]  # fmt: skip
    kept = "\n".join([header, rows[0], rows[1], rows[4]]) + "\n"
    assert (
        seeded_tracker.ok("import", str(write(tmp_path, kept, "good.csv")))
        == "3 added, 0 updated, 0 unchanged\n"
    )
    exported = {row["id"]: row for row in csv.DictReader(io.StringIO(seeded_tracker.export()))}
    columns = ("country", "status", "online", "power_mw", "sources")
    for entry_id in "abe":
        assert [exported[entry_id][column] for column in columns] == [
            "FR", "under-construction", "2026-Q3", "1.5", "https://example.org/x | https://example.org/y"
        ]  # fmt: skip


def _indexes(url: str) -> list[tuple[str, ...]]:
    """Every index of the database, with the statement that makes it."""
    engine = create_engine(url)
    query = (
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
        if url.startswith("sqlite")
        else "SELECT indexname, tablename, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
    )
    with engine.connect() as connection:
        found = [tuple(row) for row in connection.exec_driver_sql(query)]
    engine.dispose()
    return found


def test_an_import_into_empty_tables_leaves_their_indexes_as_they_were(db_url: str, tmp_path: Path) -> None:
    # On SQLite an import into empty tables makes their indexes once it has filled them.
    tracker = Tracker(db_url)
    before = _indexes(db_url)
    assert any(name == "ix_chip_lot_summary" for name, _, _ in before)
    rejected = RICH_FILE.replace(",FR,", ",Frnace,", 1)
    assert tracker("import", str(write(tmp_path, rejected, "bad.csv"))).exit_code == 2
    assert _indexes(db_url) == before
    assert tracker.ok("import", "--dry-run", str(write(tmp_path, RICH_FILE))).endswith(
        "\n6 added, 0 updated, 0 unchanged\n"
    )
    assert _indexes(db_url) == before
    assert tracker.ok("import", str(write(tmp_path, RICH_FILE))) == "6 added, 0 updated, 0 unchanged\n"
    assert _indexes(db_url) == before
    exported = tracker.export()
    # Into tables that hold entries already, nothing is dropped (the indexes find what is stored).
    assert (
        tracker.ok("import", str(write(tmp_path, exported, "again.csv")))
        == "0 added, 0 updated, 6 unchanged\n"
    )
    assert _indexes(db_url) == before


# An entry's rows wherever they stand -----------------------------------------------------


def test_an_entry_whose_rows_are_apart_is_updated_with_all_its_lots(tracker: Tracker, tmp_path: Path) -> None:
    # The small case: stored ml has lot 1 = 100 and lot 2 = 300; the file gives lot 1 =
    # 150 and lot 2 = 300 with another entry's row between them. Before the fix, ml kept only
    # lot 1 (150), lot 2 was deleted, and stderr said that ml was "left out".
    stored = "id,name,country,lot,chips,vendor\nml,ML,FR,1,100,AMD\nml,ML,FR,2,300,AMD\n"
    tracker.ok("import", str(write(tmp_path, stored, "stored.csv")))
    apart = (
        "id,name,country,lot,chips,vendor\nml,ML,FR,1,150,AMD\nother,Other,DE,1,7,AMD\nml,ML,FR,2,300,AMD\n"
    )
    result = tracker("import", str(write(tmp_path, apart)), "--on-conflict", "update", "--skip-invalid")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "1 added, 1 updated, 0 unchanged\n", "")
    lots = [(row["id"], row["lot"], row["chips"]) for row in csv.DictReader(io.StringIO(tracker.export()))]
    assert lots == [("ml", "1", "150"), ("ml", "2", "300"), ("other", "1", "7")]


def _reordered(exported: str, order: str) -> str:
    """An export with its data rows in another order: as a spreadsheet sorts them, or shuffled."""
    header, *rows = list(csv.reader(io.StringIO(exported)))
    if order == "shuffled":
        random.Random(15).shuffle(rows)
    elif order == "by-model":
        rows.sort(key=lambda row: (row[EXPORT_COLUMNS.index("model")], row[EXPORT_COLUMNS.index("chips")]))
    else:
        rows.reverse()  # parts before their programmes, every entry's lots last first
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    return buffer.getvalue()


@pytest.mark.parametrize("order", ["shuffled", "by-model", "reversed"])
def test_a_shuffled_or_sorted_export_imports_exactly_like_the_original(
    tracker: Tracker, empty_db_url: str, tmp_path: Path, order: str
) -> None:
    tracker.ok("import", str(write(tmp_path, RICH_FILE, "rich.csv")))
    exported = tracker.export()
    reordered = _reordered(exported, order)
    assert reordered != exported
    path = write(tmp_path, reordered, f"{order}.csv")
    other = Tracker(empty_db_url)
    result = other("import", str(path))
    assert (result.exit_code, result.stdout, result.stderr) == (
        0, "6 added, 0 updated, 0 unchanged\n", NEW_RICH_OPERATOR,
    )  # fmt: skip
    assert other.export() == exported
    # Again, into the database that holds them, and from standard input: nothing changes.
    again = other("import", "-", input=reordered)
    assert (again.exit_code, again.stdout, again.stderr) == (0, "0 added, 0 updated, 6 unchanged\n", "")
    assert other.export() == exported


def test_an_entry_left_out_is_never_partly_written(tracker: Tracker, tmp_path: Path) -> None:
    stored = "id,name,country,lot,chips,vendor\nml,ML,FR,1,100,AMD\nml,ML,FR,2,300,AMD\n"
    tracker.ok("import", str(write(tmp_path, stored, "stored.csv")))
    before = tracker.export()
    # ml's second row, apart from its first, has a bad chip count: the whole of ml is left out.
    apart = (
        "id,name,country,lot,chips,vendor\nml,ML,FR,1,150,AMD\nother,Other,DE,1,7,AMD\nml,ML,FR,2,-3,AMD\n"
    )
    path = write(tmp_path, apart)
    result = tracker("import", str(path), "--on-conflict", "update", "--skip-invalid")
    assert result.exit_code == 0
    assert result.stdout == "1 added, 0 updated, 0 unchanged\n"
    assert result.stderr.splitlines() == [
        f"{path}:4: chips: '-3' is not a chip count; give a whole number from 1 to 1,000,000,000,000",
        "Left out 1 entry (--skip-invalid); their problems by column: 1 chips.",
    ]
    assert [line for line in tracker.export().splitlines() if line.startswith("ml,")] == [
        line for line in before.splitlines() if line.startswith("ml,")
    ]


def test_an_id_made_from_a_name_that_a_row_gives_too_is_refused_in_any_order(
    tracker: Tracker, tmp_path: Path
) -> None:
    # a's rows are apart, so the file is read with its rows gathered by id.
    text = "id,name,country,chips,vendor\na,A,FR,1,AMD\n,Site One,FR,,\na,A,FR,2,AMD\nsite-one,Other,DE,,\n"
    path = write(tmp_path, text)
    result = tracker("import", str(path))
    assert (result.exit_code, result.stderr.splitlines()[0]) == (
        2,
        f"{path}:5: id: 'site-one' is also the id of line 3, made from that row's name; a row without an "
        "id is an entry of its own: give each its own id",
    )
    assert tracker.export() == HEADER + "\n"
