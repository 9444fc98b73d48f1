"""The Python API: the library the CLI is a client of, giving the CLI's own answers."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

import tracker
from tests.conftest import Tracker as Cli
from tests.conftest import export_cells
from tracker.errors import InvalidInput, InvalidValue, NotFound
from tracker.model.vocabulary import SUMMARY_KEYS

ROOT = Path(__file__).resolve().parent.parent


def build(cli: Cli) -> None:
    """A database with programmes (nested, scoped, with parts in and out of scope), several
    countries, vendors, models, statuses, operators, sponsors, kinds, qualifiers and dates."""
    adds = [
        ["EU plan", "--kind", "programme", "--scope", "eu", "--chips", "100000", "--qualifier", "at-least",
         "--vendor", "NVIDIA", "--confidence", "confirmed", "--sponsor", "public-private"],
        ["French plan", "--kind", "programme", "--country", "FR", "--parent", "eu-plan", "--chips", "30000",
         "--vendor", "NVIDIA", "--confidence", "reported", "--online", "2026"],
        ["Paris site", "--country", "FR", "--parent", "french-plan", "--chips", "8000", "--vendor", "nvidia",
         "--model", "B300", "--operator", "Mistral AI", "--online", "Q3 2026", "--kind", "factory"],
        ["Berlin site", "--country", "DE", "--parent", "eu-plan", "--chips", "5000", "--vendor", "AMD",
         "--model", "MI300X", "--status", "under-construction", "--online", "2025-11", "--power-mw", "12"],
        ["Oslo site", "--country", "NO", "--chips", "2000", "--vendor", "NVIDIA", "--model", "H100",
         "--status", "operational", "--announced", "2024-03-01", "--online", "2024-09",
         "--sponsor", "private"],
        ["Tokyo campus", "--country", "JP", "--chips", "18", "--unit", "rack", "--vendor", "NVIDIA",
         "--model", "GB200", "--operator", "Sakura", "--online", "H2 2026", "--confidence", "rumoured"],
        ["Cancelled pilot", "--country", "IT", "--chips", "500", "--vendor", "AMD", "--status", "cancelled"],
    ]  # fmt: skip
    for args in adds:
        cli.ok("add", *args, "--source", "https://example.org/x")
    cli.ok("update", "berlin-site", "--lot", "2", "--chips", "700", "--vendor", "unknown",
           "--status", "planned", "--online", "2027")  # fmt: skip


@pytest.fixture
def filled(seeded_tracker: Cli) -> Iterator[tuple[Cli, tracker.Tracker]]:
    build(seeded_tracker)
    assert seeded_tracker.url is not None
    with tracker.open(seeded_tracker.url) as api:
        yield seeded_tracker, api


def cli_json(cli: Cli, *args: str) -> list[dict[str, object]]:
    return json.loads(cli.ok(*args, "--format", "json"))


GROUPINGS = [[key] for key in SUMMARY_KEYS] + [["country", "vendor"], ["region", "model"], ["status", "kind"]]


def test_every_summary_grouping_gives_the_clis_rows_and_total(filled: tuple[Cli, tracker.Tracker]) -> None:
    cli, api = filled
    for keys in GROUPINGS:
        by = [arg for key in keys for arg in ("--by", key)]
        table = api.summary(by=keys)
        assert table.rows == cli_json(cli, "summary", *by), keys
        assert table.columns == (*keys, "entries", "chips", "qualifier", "h100e", "h100e_chips", "power_mw",
                                 "power_mw_estimated", "power_chips", "h100e_basis",
                                 "power_factor")  # fmt: skip
        # The total row counts every chip once, as the table's last line shows it.
        last = cli.ok("summary", *by).splitlines()[-1].split()
        assert table.total is not None
        assert last[0] == "Total"
        assert last[1 : 1 + 1] == [f"{table.total['entries']:,}"]
        shown = " ".join(last[2:4]) if last[2] in ("≥", "~", "≤") else last[2]
        mark = {"exact": "", "at-least": "≥ ", "approx": "~ ", "up-to": "≤ "}[str(table.total["qualifier"])]
        assert shown == f"{mark}{table.total['chips']:,}"


def test_filters_and_dates_are_read_as_people_write_them(filled: tuple[Cli, tracker.Tracker]) -> None:
    cli, api = filled
    # Before, the service's Filters(countries=("France",)) silently counted nothing.
    assert api.summary(country="France").rows == cli_json(cli, "summary", "--country", "FR")
    both = cli_json(cli, "summary", "--country", "FR", "--country", "DE")
    assert api.summary(country=["fra", "Germany"]).rows == both
    assert api.summary(region="Europe").rows == cli_json(cli, "summary", "--region", "europe")
    assert api.summary(vendor="nvidia", by="model").rows == cli_json(cli, "summary", "--vendor", "NVIDIA",
                                                                      "--by", "model")  # fmt: skip
    assert api.summary(as_of="2025-01-01", status="Operational").rows == cli_json(
        cli, "summary", "--as-of", "2025-01-01", "--status", "operational"
    )
    europe = api.summary(region="europe", by="country").rows
    assert sum(row["chips"] for row in europe) > 0
    assert api.list(country="NO").rows == cli_json(cli, "list", "--country", "NO")


@pytest.mark.parametrize(
    "args",
    [["--by", "quarter"], ["--by", "year"], ["--by", "quarter", "--cumulative"], ["--region", "europe"]],
)
def test_every_timeline_gives_the_clis_rows(filled: tuple[Cli, tracker.Tracker], args: list[str]) -> None:
    cli, api = filled
    by = args[args.index("--by") + 1] if "--by" in args else "quarter"
    region = args[args.index("--region") + 1] if "--region" in args else ()
    table = api.timeline(by=by, cumulative="--cumulative" in args, region=region)
    assert table.rows == cli_json(cli, "timeline", *args)
    assert table.total is not None
    # The periods add up to the summary's total.
    assert table.total["chips"] == api.summary(region=region).total["chips"]  # type: ignore[index]


def test_the_other_reports_are_the_clis(filled: tuple[Cli, tracker.Tracker]) -> None:
    cli, api = filled
    assert api.list().rows == cli_json(cli, "list")
    assert api.changes("2000-01-01").rows == cli_json(cli, "changes", "--since", "2000-01-01")
    assert api.regions().rows == cli_json(cli, "regions")
    assert api.regions("gcc").rows == cli_json(cli, "regions", "gcc")
    assert api.chips(vendor="amd").rows == cli_json(cli, "chips", "--vendor", "AMD")
    assert api.tokens().rows == cli_json(cli, "tokens", "list")
    assert api.sources("paris-site").rows == cli_json(cli, "sources", "paris-site")
    assert api.check().rows == json.loads(cli("check", "--format", "json").stdout)
    # An entry's record is what `show --format json` gives, ready for json.dumps as it is.
    record = api.show("paris-site").record()
    assert json.loads(json.dumps(record)) == json.loads(cli.ok("show", "paris-site", "--format", "json"))
    assert record["online"] == "2026-Q3"


def test_a_program_can_sum_the_rows_and_get_the_total(filled: tuple[Cli, tracker.Tracker]) -> None:
    # The trap of summing lots (a programme's parts counted twice) does not exist in the rows:
    # by country, the rows add up to the total, every chip once.
    _, api = filled
    table = api.summary(by="country")
    assert table.total is not None
    assert sum(row["chips"] for row in table.rows) == table.total["chips"]
    lots = sum(row["chips"] or 0 for row in api.list().rows)  # each entry's own count
    assert lots > table.total["chips"]


def test_writing_through_the_api_is_what_the_cli_writes(db_url: str, tmp_path: Path) -> None:
    cli = Cli(db_url)
    with tracker.open(db_url) as api:
        new_id = api.add("Nebius UK", country="united kingdom", chips=4000, vendor="nvidia", model="b 300",
                         online="Q4 2025", source=["https://b.example", "https://a.example"],
                         note="x")  # fmt: skip
        assert new_id == "nebius-uk"
        changes = api.update("nebius-uk", power_mw=12.5, lot=1, status="operational", online="2026-01")
        assert [change.field for change in changes] == ["lot 1 status", "lot 1 online", "power_mw"]
        # Its one lot keeps the status of its own given above: the change says so.
        with pytest.warns(tracker.TrackerWarning, match="its lot 1 keeps a status of its own, operational"):
            change = api.status("nebius-uk", "under-construction", on="2025-07-01", unsourced=True)
        assert (change.from_status, change.to_status) == ("announced", "under-construction")
        assert api.add_tokens(
            "Example", as_of="2025-05", per_day="1T", source="https://t.example"
        ).tokens_per_day
    assert export_cells(cli.export()) == [
        {
            "id": "nebius-uk",
            "name": "Nebius UK",
            "country": "GB",
            "status": "under-construction",
            "online": "2025-Q4",
            "lot": "1",
            "vendor": "NVIDIA",
            "model": "B300",
            "chips": "4000",
            "power_mw": "12.5",
            "sources": "https://a.example | https://b.example",
            "notes": "x",
            "qualifier": "exact",
            "lot_status": "operational",
            "lot_online": "2026-01",
            "first_online": "2025-Q4",  # its first online period
        }
    ]
    assert "under-construction" in cli.ok("show", "nebius-uk")


def test_warnings_are_tracker_warnings_and_errors_name_the_field(db_url: str) -> None:
    with tracker.open(db_url) as api:
        api.add("Paris One", country="FR", chips=100, vendor="AMD")
        with pytest.warns(tracker.TrackerWarning, match=r"may be the same announcement as paris-one"):
            api.add("Paris Two", country="FR", chips=100, vendor="AMD")
        with pytest.raises(InvalidValue) as refused:
            api.add("X", country="Frnace")
        assert refused.value.field == "country"
        assert "did you mean France (FR)?" in refused.value.message
        with pytest.raises(InvalidInput) as several:
            api.add("Y", country="Atlantis", chips=-5, vendor="AMD")
        assert [problem.field for problem in several.value.problems] == ["country", "chips"]
        with pytest.raises(InvalidInput, match=r"^country: is given 2 times; give it once$"):
            api.add("Two places", country=["FR", "DE"])
        with pytest.raises(NotFound):
            api.show("nowhere")
        with pytest.raises(TypeError, match="unknown option 'colour'"):
            api.add("Z", country="FR", colour="red")
        with pytest.raises(TypeError, match="unknown filter 'continent'"):
            api.summary(continent="europe")  # type: ignore[call-arg]
        with pytest.raises(InvalidValue, match="changes with `tracker status`"):
            api.update("paris-one", status="operational")
        # Errors name the keyword a program gave, not the CLI's option.
        for keyword, value in [("as_of", "yesterday"), ("min_confidence", "certain"),
                               ("announced_since", "soon"), ("announced_until", "later")]:  # fmt: skip
            with pytest.raises(InvalidValue) as bad_filter:
                api.summary(**{keyword: value})  # type: ignore[arg-type]
            assert bad_filter.value.field == keyword
        with pytest.raises(InvalidValue) as bad_since:
            api.export(changed_since="soon")
        assert bad_since.value.field == "changed_since"
    # The CLI maps the same error to its option.
    assert Cli(db_url)("add", "X", "--country", "Frnace").stderr.startswith(
        "Error: --country: unknown country"
    )


def test_a_table_becomes_a_dataframe(filled: tuple[Cli, tracker.Tracker]) -> None:
    _, api = filled
    table = api.summary(by=["country", "vendor"])
    frame = table.to_dataframe()
    assert list(frame.columns) == list(table.columns)
    assert frame["chips"].sum() == sum(row["chips"] for row in table.rows)
    assert len(frame) == len(table)


def test_files_in_and_out_through_the_api(
    filled: tuple[Cli, tracker.Tracker], empty_db_url: str, tmp_path: Path
) -> None:
    cli, api = filled
    text = api.export()
    assert text == cli.export()
    path = tmp_path / "lots.csv"
    assert api.export(path, country="FR") == len([line for line in text.splitlines() if ",FR," in line])
    with tracker.open(empty_db_url) as other:
        (tmp_path / "all.csv").write_text(text, encoding="utf-8")
        # The file's operator Sakura is new to this database: the import says it would add it,
        # with the closest known name, then adds it.
        with pytest.warns(tracker.TrackerWarning, match=r"^would add new operator 'Sakura' \(did you mean"):
            result = other.import_file(tmp_path / "all.csv", dry_run=True)
        assert (result.added, other.list().rows) == (len(api.list()), [])
        with pytest.warns(tracker.TrackerWarning, match=r"^new operator 'Sakura'"):
            other.import_file(tmp_path / "all.csv")
        assert other.export() == text
    dump = api.dump()
    assert isinstance(dump, bytes)
    assert dump == cli.ok("dump").encode("utf-8")


@pytest.mark.parametrize("page", ["docs/api.md", "README.md"])
def test_the_documented_example_runs(tmp_path: Path, page: str) -> None:
    """A page's Python example, run as a notebook would run it, prints what the page shows."""
    text = (ROOT / page).read_text(encoding="utf-8")
    example = re.search(r"```python\n(.*?)```\n\nIt prints:\n\n```\n(.*?)```", text, flags=re.DOTALL)
    assert example is not None
    code, shown = example.groups()
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"TRACKER_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=300,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == shown


def test_importing_tracker_does_not_load_the_database_layer() -> None:
    code = "import sys, tracker; assert 'sqlalchemy' not in sys.modules; print(tracker.__version__)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert (result.returncode, result.stderr) == (0, "")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tracker.open is not None


def test_a_notebook_opens_a_path_a_database_in_memory_and_gives_days_as_datetimes(tmp_path: Path) -> None:
    # A Path is a database's file, as its text is.
    with tracker.open(tmp_path / "mine.db") as api:
        added = api.add("Paris", country="FR", chips=100, vendor="AMD", announced="2025-06-11")
    with tracker.open(str(tmp_path / "mine.db")) as api:
        assert [row["id"] for row in api.list().rows] == [added]
        # A datetime is its day, as the tracker records days.
        midnight = api.summary(as_of=dt.datetime(2025, 6, 11, 23, 59)).total
        assert midnight == api.summary(as_of=dt.date(2025, 6, 11)).total
        noon = dt.datetime(2025, 6, 11, 12, 30)
        assert api.list(announced_since=noon, announced_until=noon).rows == api.list().rows
        assert api.changes(noon).rows == api.changes("2025-06-11").rows
    # An in-memory database lasts as long as its tracker: init fills it, and what is added stays.
    with tracker.open("sqlite://") as api:
        report = api.init(seed=True)
        seeds = report.seed_entries
        assert seeds > 0
        api.add("Oslo", country="NO", chips=10, vendor="NVIDIA", source="https://example.org/oslo")
        assert len(api.list().rows) == seeds + 1


def test_a_notebook_finds_the_api_by_completion() -> None:
    names = dir(tracker)
    assert {"open", "Tracker", "Table", "TrackerWarning", "errors"} <= set(names)
    assert tracker.errors.InvalidValue is InvalidValue
