"""Run every comparison of SPEC section 6 side by side, several times each, and write the
medians and ratios to docs/benchmarks.md.

    make bench                          # or: python benchmarks/run.py
    python benchmarks/run.py --entries 30000 --lots 100000 --runs 3   # a quicker, smaller run

It needs the sqlite3 shell (Debian: apt-get install sqlite3), sqlite-utils (pip install
sqlite-utils, in the bench extra), /usr/bin/time (Debian: apt-get install time) for peak
memory, and psql with a PostgreSQL server for the PostgreSQL comparison (TRACKER_BENCH_POSTGRES_URL,
by default postgresql://postgres@127.0.0.1:5432/postgres; a database tracker_bench_ENTRIES_LOTS is
made there, once for each size).
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import importlib.util
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRACKER = [sys.executable, "-m", "tracker"]
# The reference queries, written by hand for the sqlite3 shell and psql. "The same
# aggregation" computes what `tracker summary --by country --by vendor` prints: entries,
# chips, which qualifiers the counts hold, H100-equivalents and power (an entry's reported
# MW shared by chips, else the TDP estimate), with the chips each figure covers. It counts a
# programme's lots as they are (the tracker counts what its parts do not cover, in Python).
# Power is estimated with the tracker's default power factor, 2.1 (tracker.service.capacity).
SUMMARY_TEMPLATE = """
SELECT e.country, l.vendor, count(DISTINCT e.id) AS entries, sum(l.quantity) AS chips,
  sum(DISTINCT CASE l.qualifier WHEN 'approx' THEN 1 WHEN 'at-least' THEN 2 WHEN 'up-to' THEN 4
    ELSE 0 END) AS qualifiers,
  sum(l.quantity * m.bf16_tflops)
    / (SELECT bf16_tflops FROM chip_model WHERE vendor = 'NVIDIA' AND name = 'H100') AS h100e,
  sum(CASE WHEN m.bf16_tflops IS NOT NULL THEN l.quantity ELSE 0 END) AS h100e_chips,
  sum(CASE WHEN e.power_mw IS NOT NULL
    THEN e.power_mw * l.quantity / (SELECT sum(x.quantity) FROM chip_lot x WHERE x.entry_id = e.id)
    ELSE l.quantity * m.tdp_w * 2.1 / 1000000 END) AS power_mw,
  sum(CASE WHEN e.power_mw IS NULL THEN l.quantity * m.tdp_w * 2.1 / 1000000 END) AS power_mw_estimated,
  sum(CASE WHEN e.power_mw IS NOT NULL OR m.tdp_w IS NOT NULL THEN l.quantity ELSE 0 END) AS power_chips
FROM chip_lot l JOIN entry e ON e.id = l.entry_id
  LEFT JOIN chip_model m ON m.vendor = l.vendor AND m.name = l.model
WHERE coalesce(l.status, e.status) NOT IN ('cancelled', 'decommissioned'){more}
GROUP BY e.country, l.vendor ORDER BY chips DESC, e.country, l.vendor
"""
SUMMARY_SQL = SUMMARY_TEMPLATE.format(more="")
# The same for PostgreSQL, which hashes a join with the entries' chips faster than it reads
# them lot by lot (SQLite is the other way round).
SUMMARY_SQL_POSTGRES = SUMMARY_SQL.replace(
    "(SELECT sum(x.quantity) FROM chip_lot x WHERE x.entry_id = e.id)", "ec.chips"
).replace(
    "  LEFT JOIN chip_model m ON m.vendor = l.vendor AND m.name = l.model\n",
    "  LEFT JOIN chip_model m ON m.vendor = l.vendor AND m.name = l.model\n"
    "  LEFT JOIN (SELECT entry_id, sum(quantity) AS chips FROM chip_lot\n"
    "    WHERE entry_id IN (SELECT id FROM entry WHERE power_mw IS NOT NULL) GROUP BY entry_id) ec\n"
    "    ON ec.entry_id = e.id\n",
)
# The same with `--min-confidence reported`, which the tracker counts on its exact path (what
# the programmes' parts cover is worked out again, from the entries sure enough).
CONFIDENT = "\n  AND e.confidence IN ('confirmed', 'reported')"
# Less than the tracker prints, for comparison: entries and chips only.
CHIPS_ONLY_SQL = (
    "SELECT e.country, l.vendor, count(DISTINCT e.id) AS entries, sum(l.quantity) AS chips "
    "FROM chip_lot l JOIN entry e ON e.id = l.entry_id "
    "WHERE coalesce(l.status, e.status) NOT IN ('cancelled', 'decommissioned') "
    "GROUP BY e.country, l.vendor ORDER BY chips DESC, e.country, l.vendor"
)
# The export's 27 columns (a lot's own status and online period, the entry's users and first
# announced online period last), an entry's sources joined by "; ".
EXPORT_SQL = """
SELECT e.id, e.name, e.operator, e.country, e.city, e.kind, e.sponsor, e.parent_id, e.status,
  e.confidence, e.announced_on, e.online_start, e.online_precision, l.lot, l.vendor, l.model,
  l.quantity, e.power_mw, s.refs, e.notes, e.scope, l.qualifier, l.announced_quantity,
  l.announced_unit, l.status, l.online_start, l.online_precision, e.users, e.first_online_start,
  e.first_online_precision
FROM entry e LEFT JOIN chip_lot l ON l.entry_id = e.id
  LEFT JOIN (SELECT es.entry_id, group_concat(src.reference, '; ') AS refs
    FROM entry_source es JOIN source src ON src.id = es.source_id GROUP BY es.entry_id) s
  ON s.entry_id = e.id
ORDER BY e.id, l.lot
"""
# Less than the export holds, for comparison: the lots and their entries, without sources.
LOTS_ONLY_SQL = (
    "SELECT e.id, e.name, e.operator, e.country, e.city, e.kind, e.sponsor, e.parent_id, e.status, "
    "e.confidence, e.announced_on, e.online_start, l.lot, l.vendor, l.model, l.quantity, e.power_mw, "
    "e.notes, e.scope, l.qualifier FROM entry e LEFT JOIN chip_lot l ON l.entry_id = e.id "
    "ORDER BY e.id, l.lot"
)
# Not the tracker: the database's share of an import. The sqlite3 shell copies the rows one
# import stored into a new database of the tracker's schema (keys, checks, foreign keys and
# indexes as the import has them), with no file to read and no Python.
STORE_SQL = """
PRAGMA foreign_keys = ON;
ATTACH '{imported}' AS imported;
BEGIN IMMEDIATE;
INSERT INTO source SELECT * FROM imported.source WHERE id NOT IN (SELECT id FROM main.source);
INSERT INTO entry SELECT * FROM imported.entry;
INSERT INTO chip_lot SELECT * FROM imported.chip_lot;
INSERT INTO entry_source SELECT * FROM imported.entry_source;
COMMIT;
"""
# Epoch AI's GPU clusters file (CC BY 4.0), beside the project: the start-up rows read a
# database of its size, as an analyst's is.
EPOCH_FILE = ROOT.parent / "shared" / "datasets" / "epoch_sr3k" / "gpu_clusters.csv"
# Every command that only reads, as an analyst runs it; {id} is an entry of the database.
READ_COMMANDS = (
    ("list",),
    ("summary",),
    ("summary", "--by", "country", "--by", "vendor"),
    ("timeline",),
    ("changes", "--since", "2000-01-01"),
    ("check",),
    ("show", "{id}"),
    ("sources", "{id}"),
    ("regions",),
    ("chips",),
    ("tokens", "list"),
    ("export", "--output", "-"),
    ("dump", "--output", "-"),
)
IMPORT_SQLALCHEMY = '`python -c "import sqlalchemy"`'
POSTGRES_URL = os.environ.get("TRACKER_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@dataclass
class Timing:
    seconds: float
    peak_mb: float | None = None


def timed(
    command: Sequence[str],
    *,
    stdout: Path | None = None,
    env: dict[str, str] | None = None,
    exits: Sequence[int] = (0,),
) -> Timing:
    """Run a command to completion; its wall time and, under /usr/bin/time, its peak memory.
    ``exits``: the exit statuses that mean it worked (``check`` exits 1 when it finds problems)."""
    wrapped = ["/usr/bin/time", "-f", "%M", *command] if Path("/usr/bin/time").exists() else [*command]
    sink = stdout.open("w") if stdout else subprocess.DEVNULL
    started = time.perf_counter()
    result = subprocess.run(wrapped, stdout=sink, stderr=subprocess.PIPE, text=True, env=env)
    elapsed = time.perf_counter() - started
    if stdout:
        sink.close()  # type: ignore[union-attr]
    if result.returncode not in exits:
        raise SystemExit(f"{' '.join(command)} failed: {result.stderr[-2000:]}")
    last = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
    peak = int(last) / 1024 if wrapped[0] == "/usr/bin/time" and last.isdigit() else None
    return Timing(elapsed, peak)


def median(runs: Sequence[Timing]) -> Timing:
    peaks = [run.peak_mb for run in runs if run.peak_mb is not None]
    return Timing(statistics.median(run.seconds for run in runs), max(peaks) if peaks else None)


@dataclass
class Row:
    what: str
    ours: Timing
    reference: str
    theirs: Timing | None
    target: str  # the SPEC's: a ratio to the reference, or a bound
    runs: Sequence[float] = ()  # the ratio in each run, ours and the reference's side by side

    @property
    def ratio(self) -> str:
        return f"{self.ours.seconds / self.theirs.seconds:.2f}x" if self.theirs else "-"

    @property
    def each_run(self) -> str:
        return ", ".join(f"{ratio:.2f}x" for ratio in self.runs) or "-"

    @property
    def holds(self) -> str:
        """Whether the SPEC target holds: "yes", "no", or "-" for a row given for comparison."""
        if self.target == "-":
            return "-"
        checks = []
        for part in self.target.split(", "):
            if part.endswith("x") and self.theirs:
                checks.append(self.ours.seconds <= float(part[:-1]) * self.theirs.seconds)
            elif part == "faster" and self.theirs:
                checks.append(self.ours.seconds < self.theirs.seconds)
            elif part.startswith("under ") and part.endswith(" s"):
                checks.append(self.ours.seconds < float(part.split()[1]))
            elif part.startswith("under ") and part.endswith(" MB"):
                checks.append(self.ours.peak_mb is not None and self.ours.peak_mb < float(part.split()[1]))
        return "yes" if checks and all(checks) else "no"


def repeat(runs: int, make: object) -> Timing:
    return median([make() for _ in range(runs)])  # type: ignore[operator]


def paired(
    runs: int, ours: Callable[[], Timing], theirs: Callable[[], Timing]
) -> tuple[Timing, Timing, list[float]]:
    """Ours and the reference, one then the other, ``runs`` times, so that both meet the
    machine as it was: the medians, and the ratio of each run."""
    pairs = [(ours(), theirs()) for _ in range(runs)]
    ratios = [mine.seconds / reference.seconds for mine, reference in pairs]
    return median([mine for mine, _ in pairs]), median([reference for _, reference in pairs]), ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=300_000)
    parser.add_argument("--lots", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", default=None, help="Folder for the databases (default: a temporary one).")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--epoch", default=str(EPOCH_FILE), help="Epoch AI's GPU clusters CSV.")
    parser.add_argument(
        "--startup-only",
        action="store_true",
        help="Measure only the start-up rows; keep the other rows of --output as they are.",
    )
    arguments = parser.parse_args()
    output = Path(arguments.output)
    if arguments.startup_only:
        compile_tracker()
        work = Path(arguments.work or tempfile.mkdtemp(prefix="tracker-bench-"))
        work.mkdir(parents=True, exist_ok=True)
        _write_startup(
            output, startup_rows(work, Path(arguments.epoch), max(arguments.runs, 5)), max(arguments.runs, 5)
        )
        print(output.read_text())
        return
    for tool in ("sqlite3", "sqlite-utils", "psql"):
        if not _tool(tool):
            raise SystemExit(f"{tool} is needed: see this script's docstring for how to install it")
    work = Path(arguments.work or tempfile.mkdtemp(prefix="tracker-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    compile_tracker()
    runs = arguments.runs
    database = work / "bench.db"
    if not database.exists():
        generate(str(database), arguments.entries, arguments.lots)
    env = {**os.environ, "TRACKER_DATA_DIR": str(work / "data")}
    upgrade(str(database), env)  # one kept from an earlier run may have an older schema

    def tracker(*args: str, stdout: Path | None = None) -> Timing:
        return timed([*TRACKER, *args], stdout=stdout, env=env)

    def fresh(name: str) -> Path:
        path = work / name
        path.unlink(missing_ok=True)
        return path

    rows: list[Row] = []
    by = ("summary", "--by", "country", "--by", "vendor", "--format", "csv")
    what = f"`tracker {' '.join(by[:5])}`"
    ours, theirs, ratios = paired(
        runs,
        lambda: tracker("--db", str(database), *by),
        lambda: timed(["sqlite3", "-csv", str(database), SUMMARY_SQL]),
    )
    rows.append(
        Row(f"{what}, kept count", ours, "`sqlite3` shell, the same aggregation", theirs, "1.0x", ratios)
    )
    chips_only = repeat(runs, lambda: timed(["sqlite3", "-csv", str(database), CHIPS_ONLY_SQL]))
    rows.append(Row(f"{what}, kept count", ours, "`sqlite3` shell, entries and chips only", chips_only, "-"))
    confident = (*by, "--min-confidence", "reported")
    mine, reference, ratios = paired(
        runs,
        lambda: tracker("--db", str(database), *confident),
        lambda: timed(["sqlite3", "-csv", str(database), SUMMARY_TEMPLATE.format(more=CONFIDENT)]),
    )
    rows.append(
        Row(
            f"{what} `--min-confidence reported`, exact path",
            mine,
            "`sqlite3` shell, the same aggregation",
            reference,
            "-",
            ratios,
        )
    )

    export_file = work / "export.csv"
    ours, theirs, ratios = paired(
        runs,
        lambda: tracker("--db", str(database), "export", "--output", str(export_file)),
        lambda: timed(["sqlite3", "-csv", str(database), EXPORT_SQL], stdout=work / "shell.csv"),
    )
    rows.append(
        Row("`tracker export`", ours, "`sqlite3 -csv`, the same join", theirs, "1.5x, under 150 MB", ratios)
    )
    lots_only = repeat(
        runs, lambda: timed(["sqlite3", "-csv", str(database), LOTS_ONLY_SQL], stdout=work / "shell.csv")
    )
    rows.append(Row("`tracker export`", ours, "`sqlite3 -csv`, lots without sources", lots_only, "-"))

    def new_schema(name: str) -> str:
        """A new database of the tracker's schema, with its catalogue and no entries."""
        target = str(fresh(name))
        subprocess.run(
            [*TRACKER, "--db", target, "init", "--no-seed"], check=True, env=env, capture_output=True
        )
        return target

    imported = work / "import.db"  # as the last run of the tracker's import left it
    copy_sql = STORE_SQL.format(imported=str(imported).replace("'", "''"))
    ours, theirs, ratios = paired(
        runs,
        lambda: tracker("--db", new_schema("import.db"), "import", str(export_file)),
        lambda: timed(["sqlite3", new_schema("stored.db"), copy_sql]),
    )
    rows.append(Row("`tracker import` of the export", ours, STORED_BY_SHELL, theirs, "3x", ratios))
    shell = repeat(
        runs, lambda: timed(["sqlite3", str(fresh("shell.db")), f".import --csv {export_file} lots"])
    )
    rows.append(Row("`tracker import` of the export", ours, "`sqlite3 .import`, no schema", shell, "-"))
    # Once: it takes minutes, and it is far behind.
    utils = timed(
        [_tool("sqlite-utils"), "insert", str(fresh("utils.db")), "lots", str(export_file), "--csv"]
    )
    rows.append(
        Row("`tracker import` of the export", ours, "`sqlite-utils insert --csv` (1 run)", utils, "faster")
    )
    script = str(ROOT / "benchmarks" / "store_rows.py")
    driven = repeat(
        runs, lambda: _printed_seconds([sys.executable, script, str(imported), new_schema("stored.db")])
    )
    rows.append(Row(STORED_BY_DRIVER, driven, STORED_BY_SHELL, theirs, "-"))

    postgres = _postgres_database(arguments.entries, arguments.lots)
    if postgres:
        ours, theirs, ratios = paired(
            runs,
            lambda: tracker("--db", postgres.replace("postgresql://", "postgresql+psycopg://"), *by),
            lambda: timed(["psql", postgres, "-A", "-F,", "-c", SUMMARY_SQL_POSTGRES]),
        )
        rows.append(
            Row(
                "`tracker summary` on PostgreSQL, kept count",
                ours,
                "`psql`, the same aggregation",
                theirs,
                "1.2x",
                ratios,
            )
        )

    _write(output, rows, arguments, runs)
    _write_startup(output, startup_rows(work, Path(arguments.epoch), max(runs, 5)), max(runs, 5))
    print(output.read_text())


def startup_rows(work: Path, epoch: Path, runs: int) -> tuple[list[Row], int]:
    """Every read command on a database of Epoch's file, each run beside ``import sqlalchemy``
    in turn (one, then the other), so that both see the machine as it was."""
    if not epoch.exists():
        raise SystemExit(f"{epoch} not found: give Epoch AI's GPU clusters CSV with --epoch")
    database = work / "epoch.db"
    database.unlink(missing_ok=True)
    env = {**os.environ, "TRACKER_DATA_DIR": str(work / "data")}
    subprocess.run(
        [*TRACKER, "--db", str(database), "init", "--no-seed"], check=True, env=env, capture_output=True
    )
    subprocess.run(
        [*TRACKER, "--db", str(database), "import", "--from", "epoch", "--skip-invalid", str(epoch)],
        check=True,
        env=env,
        capture_output=True,
    )
    listed = subprocess.run(
        [*TRACKER, "--db", str(database), "list", "--format", "csv"],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )
    entry_id = listed.stdout.splitlines()[1].split(",")[0]
    entries = len(listed.stdout.splitlines()) - 1
    commands = [[part.format(id=entry_id) for part in command] for command in READ_COMMANDS]
    reference = [sys.executable, "-c", "import sqlalchemy"]
    ours: list[list[Timing]] = [[] for _ in commands]
    theirs: list[Timing] = []
    for _ in range(runs):
        for command, timings in zip(commands, ours, strict=True):
            theirs.append(timed(reference, env=env))
            exits = (0, 1) if command[0] == "check" else (0,)
            timings.append(timed([*TRACKER, "--db", str(database), *command], env=env, exits=exits))
    baseline = median(theirs)
    rows = [
        Row(f"`tracker {' '.join(command)}`", median(timings), IMPORT_SQLALCHEMY, baseline, "1.5x")
        for command, timings in zip(commands, ours, strict=True)
    ]
    help_runs = [timed([*TRACKER, "--help"], env=env) for _ in range(runs)]
    rows.append(Row("`tracker --help`", median(help_runs), "-", None, "under 0.15 s"))
    return rows, entries


STORED_BY_SHELL = "`sqlite3` shell copying the rows it stored into a database of its schema"
STORED_BY_DRIVER = (
    "*not the tracker:* the rows it stored, inserted through Python's `sqlite3` (`store_rows.py`)"
)


def _printed_seconds(command: Sequence[str]) -> Timing:
    """The time a command measures itself and prints (store_rows.py: without reading its rows)."""
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {result.stderr[-2000:]}")
    return Timing(float(result.stdout.strip().splitlines()[-1]))


def _tool(name: str) -> str:
    """A command on the PATH, or beside this Python (sqlite-utils in the bench extra)."""
    beside = Path(sys.executable).with_name(name)
    return shutil.which(name) or (str(beside) if beside.exists() else "")


def compile_tracker() -> None:
    """Write the bytecode of the tracker's modules, as an installed tracker has it: pip writes it
    when it installs a package, Python when it first imports a module. An editable install under
    PYTHONDONTWRITEBYTECODE (set on some machines) would otherwise compile every module from
    source on every run."""
    spec = importlib.util.find_spec("tracker")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the tracker is not installed: pip install -e '.[bench]'")
    for folder in spec.submodule_search_locations:
        compileall.compile_dir(folder, quiet=1)


def upgrade(url: str, env: Mapping[str, str]) -> None:
    """Bring a benchmark database to the tracker's schema, adding no entries."""
    subprocess.run([*TRACKER, "--db", url, "init", "--no-seed"], check=True, env=env, capture_output=True)


def generate(url: str, entries: int, lots: int) -> None:
    script = str(ROOT / "benchmarks" / "generate.py")
    subprocess.run(
        [sys.executable, script, "--db", url, "--entries", str(entries), "--lots", str(lots)], check=True
    )


def _postgres_database(entries: int, lots: int) -> str | None:
    """The benchmark database on PostgreSQL, made and filled once."""
    admin = POSTGRES_URL
    name = f"tracker_bench_{entries}_{lots}"  # one for each size, made once
    query = f"SELECT 1 FROM pg_database WHERE datname = '{name}'"
    check = subprocess.run(["psql", admin, "-tAc", query], capture_output=True, text=True)
    if check.returncode != 0:
        print(f"PostgreSQL at {admin} not reachable: its comparison is left out", file=sys.stderr)
        return None
    url = admin.rsplit("/", 1)[0] + f"/{name}"
    if check.stdout.strip() == "1":
        held = subprocess.run(
            ["psql", url, "-tAc", "SELECT count(*) FROM entry"], capture_output=True, text=True
        )
        if held.stdout.strip() == str(entries):
            upgrade(url.replace("postgresql://", "postgresql+psycopg://", 1), os.environ)
            return url
        subprocess.run(["psql", admin, "-c", f"DROP DATABASE {name}"], check=True, capture_output=True)
    subprocess.run(["psql", admin, "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    generate(url.replace("postgresql://", "postgresql+psycopg://", 1), entries, lots)
    subprocess.run(["psql", url, "-c", "ANALYZE"], check=True, capture_output=True)
    return url


def _line(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def _target(target: str) -> str:
    if target == "-":
        return "for comparison"
    return f"within {target}" if target[0].isdigit() else target


def _write(path: Path, rows: Sequence[Row], arguments: argparse.Namespace, runs: int) -> None:
    def cell(timing: Timing | None) -> str:
        if timing is None:
            return "-"
        memory = f", {timing.peak_mb:.0f} MB" if timing.peak_mb is not None else ""
        return f"{timing.seconds:.2f} s{memory}"

    machine = (
        f"{platform.node()}: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    lines = [
        "# Benchmarks",
        "",
        f"Measured on {dt.date.today().isoformat()} on {machine}, with a synthetic database of "
        f"{arguments.entries:,} entries and {arguments.lots:,} chip lots (`benchmarks/generate.py`). "
        f"Each figure is the median of {runs} runs (5 for the short commands, 1 for sqlite-utils), "
        "wall time of the whole command; memory is the peak resident size. A row's tracker and reference "
        "run one after the other in each run, so that both meet the machine as it was; *each run* gives "
        "the ratio of each pair. Command: "
        f"`python benchmarks/run.py --entries {arguments.entries} --lots {arguments.lots} --runs {runs}` "
        "(`make bench`).",
        "",
        "The references are queries written by hand in `benchmarks/run.py`. *The same aggregation* "
        "computes what the tracker's summary prints (entries, chips, the qualifiers of the counts, "
        "H100-equivalents and power, with the chips each covers; each database's reference in the form "
        "it runs faster), from the base tables, counting a programme's lots as they are. *Kept count*: "
        "the tracker reads what each programme's lots add beyond its parts from the count it keeps "
        "(`programme_lot_count`); *exact path*: a filter that changes what counts as evidence "
        "(`--min-confidence`, `--as-of`, the announced window) makes it work that out again. *The same "
        "join* gives the export's 27 columns, sources included. The import's reference is the `sqlite3` "
        "shell copying the rows the tracker's import stored into a new database of the tracker's schema "
        "(keys, CHECKs, foreign keys, indexes), with no file to read and no Python. Rows marked *for "
        "comparison* set the tracker beside a reference that does less (entries and chips only, lots "
        "without sources, `.import` into a table without a schema) or more; the row marked *not the "
        "tracker* times the same rows inserted through Python's `sqlite3` driver as the import inserts "
        "them (`benchmarks/store_rows.py`, its own clock, the rows already read).",
        "",
        "| what | tracker | reference | reference time | ratio | each run | SPEC target | holds |",
        "|---|---|---|---|---|---|---|---|",
        *(
            _line(
                r.what,
                cell(r.ours),
                r.reference,
                cell(r.theirs),
                r.ratio,
                r.each_run,
                _target(r.target),
                r.holds,
            )
            for r in rows
        ),
        "",
    ]
    # The start-up rows and a section written by hand after a run (from "## Notes" on) are kept.
    text = path.read_text() if path.exists() else ""
    kept = text[text.index(STARTUP_HEADING) :] if STARTUP_HEADING in text else ""
    if not kept:
        kept = "".join(text.partition("\n## Notes")[1:])
    path.write_text("\n".join(lines) + kept)


STARTUP_HEADING = "\n## Start-up\n"


def _write_startup(path: Path, measured: tuple[list[Row], int], runs: int) -> None:
    """The start-up table, in place of the one in ``path``; the rest of ``path`` is kept."""
    rows, entries = measured
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    before, _, rest = text.partition(STARTUP_HEADING)
    notes = "".join((rest or before).partition("\n## Notes")[1:])
    before = before.partition("\n## Notes")[0]
    lines = [
        "",
        "## Start-up",
        "",
        f"Measured on {dt.date.today().isoformat()}: every command that only reads, on a database of "
        f"Epoch AI's GPU clusters file imported with `--skip-invalid` ({entries:,} entries), each run in "
        "turn with the reference, one then the other, so that both meet the machine as it was; medians of "
        f"{runs} runs. Command: `python benchmarks/run.py --startup-only`.",
        "",
        "| what | tracker | reference | reference time | ratio | SPEC target | holds |",
        "|---|---|---|---|---|---|---|",
        *(
            _line(
                r.what,
                f"{r.ours.seconds:.2f} s",
                r.reference,
                f"{r.theirs.seconds:.2f} s" if r.theirs else "-",
                r.ratio,
                _target(r.target),
                r.holds,
            )
            for r in rows
        ),
        "",
    ]
    path.write_text(before.rstrip("\n") + "\n" + "\n".join(lines) + notes)


if __name__ == "__main__":
    main()
