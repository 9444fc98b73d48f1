"""tracker publish: CSVs with a data package that validates, a snapshot whose SQL gives the
tracker's totals (in Datasette too), a page with the CLI's figures, written whole or not at all."""

from __future__ import annotations

import contextlib
import html
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import frictionless
import pytest

import tracker
from tests.conftest import Tracker as Cli
from tests.test_api import build
from tests.test_sql_views import EPOCH_FILE, assert_views_give_the_summary
from tracker.errors import InvalidValue

DATASETTE = [sys.executable, "-m", "datasette"]


def _datasette_get(folder: Path, path: str) -> Any:
    result = subprocess.run(
        [*DATASETTE, "-i", str(folder / "tracker.sqlite"), "--metadata", str(folder / "metadata.json"),
         "--get", path],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(result.stdout)


def _sql(folder: Path, statement: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(f"file:{folder / 'tracker.sqlite'}?mode=ro", uri=True)) as db:
        return db.execute(statement).fetchall()


def assert_published_right(cli: Cli, folder: Path, *filters: str) -> None:
    """The folder validates as a data package; its snapshot's views, Datasette's canned
    query and the page give the CLI's totals (on the same filters)."""
    report = frictionless.validate(str(folder / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
    snapshot = f"sqlite:///{folder / 'tracker.sqlite'}"
    names = [name.removeprefix("--").replace("-", "_") for name in filters[::2]]
    options = dict(zip(names, filters[1::2], strict=True))
    assert_views_give_the_summary(snapshot, cli.url, **options)
    summary = json.loads(cli.ok("summary", "--by", "country", *filters, "--format", "json"))
    canned = _datasette_get(folder, "/tracker/summary.json?_shape=array")
    assert {row["country"]: row["chips"] for row in canned} == {
        row["country"]: row["chips"] for row in summary
    }
    # The page's grand total is the summary table's last line, as the CLI prints it.
    total_line = cli.ok("summary", *filters).splitlines()[-1].split()
    chips = " ".join(total_line[2:4]) if total_line[2] in ("≥", "~", "≤") else total_line[2]
    page = (folder / "index.html").read_text(encoding="utf-8")
    start = page.index('id="grand-total"')
    assert chips in page[start : page.index("</", start)]
    assert "<script src" not in page
    assert "<link" not in page


def test_publishing_the_seeds_gives_the_clis_totals(seeded_tracker: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    assert seeded_tracker.ok("publish", str(folder)).strip() == str(folder)
    assert_published_right(seeded_tracker, folder)
    names = {path.name for path in folder.iterdir()}
    assert {"datapackage.json", "metadata.json", "tracker.sqlite", "index.html", "entry.csv", "chip_lot.csv",
            "counted_lots.csv", "summary_by_country.csv", "summary_by_vendor.csv"} <= names  # fmt: skip
    package = json.loads((folder / "datapackage.json").read_text())
    assert package["licenses"][0]["name"] == "CC-BY-4.0"
    # Every resource's every field is described, as is every table and column for Datasette.
    assert all(
        field["description"] for resource in package["resources"] for field in resource["schema"]["fields"]
    )
    metadata = json.loads((folder / "metadata.json").read_text())
    tables = metadata["databases"]["tracker"]["tables"]
    assert {resource["title"] for resource in package["resources"]} == {
        name for name, table in tables.items() if not table.get("hidden")
    }
    assert not os.access(folder / "tracker.sqlite", os.W_OK) or os.geteuid() == 0
    assert (folder / "tracker.sqlite").stat().st_mode & 0o222 == 0
    # One file, which a reader opens where it cannot write (no -wal or -shm beside it).
    assert _sql(folder, "PRAGMA journal_mode") == [("delete",)]
    assert metadata["description"].startswith("every entry, as of ")
    # The canned total says how exactly it is known, as the summary's total row does.
    canned = _datasette_get(folder, "/tracker/total.json?_shape=array")
    assert seeded_tracker.url is not None
    with tracker.open(seeded_tracker.url) as api:
        cli_total = api.summary().total
    assert cli_total is not None
    assert canned == [{"chips": cli_total["chips"], "qualifier": cli_total["qualifier"]}]
    # No row of Epoch AI's is published: the page does not attribute any to it.
    assert "Epoch AI" not in (folder / "index.html").read_text(encoding="utf-8")


def test_publishing_nested_programmes_and_a_region(seeded_tracker: Cli, tmp_path: Path) -> None:
    build(seeded_tracker)
    # A French programme with a part in Germany: published by country FR, it keeps counting
    # only what its part leaves (10,000 - 4,000 = 6,000), as `tracker summary --country FR` does.
    cli = seeded_tracker
    cli.ok("add", "Franco-German plan", "--kind", "programme", "--country", "FR", "--chips", "10000",
           "--vendor", "NVIDIA", "--source", "https://example.org/fg")  # fmt: skip
    cli.ok("add", "Munich site", "--country", "DE", "--parent", "franco-german-plan", "--chips", "4000",
           "--vendor", "NVIDIA", "--model", "H100", "--source", "https://example.org/m")  # fmt: skip
    france = Path(seeded_tracker.ok("publish", str(tmp_path / "fr"), "--country", "FR").strip())
    assert_published_right(seeded_tracker, france, "--country", "FR")
    assert _sql(france, "SELECT counted_chips FROM counted_lots WHERE entry_id = 'franco-german-plan'") == [
        (6_000,)
    ]
    assert_published_right(seeded_tracker, Path(seeded_tracker.ok("publish", str(tmp_path / "all")).strip()))
    folder = Path(seeded_tracker.ok("publish", str(tmp_path / "eu"), "--region", "eu").strip())
    assert_published_right(seeded_tracker, folder, "--region", "eu")
    # Tokyo and Oslo are outside the EU: not published.
    entries = (folder / "entry.csv").read_text()
    assert "tokyo-campus" not in entries
    assert "oslo-site" not in entries
    assert "paris-site" in entries


def test_full_text_search_finds_entries_by_operator(seeded_tracker: Cli, tmp_path: Path) -> None:
    build(seeded_tracker)
    folder = Path(seeded_tracker.ok("publish", str(tmp_path / "out")).strip())
    found = _datasette_get(folder, "/tracker/entry.json?_search=Sakura&_shape=array")
    assert [row["id"] for row in found] == ["tokyo-campus"]


def test_a_publication_replaces_the_last_one_whole_and_nothing_else(
    seeded_tracker: Cli, tmp_path: Path
) -> None:
    tmp_path = tmp_path / "publications"
    tmp_path.mkdir()
    folder = tmp_path / "out"
    seeded_tracker.ok("publish", str(folder))
    (folder / "summary_by_country.csv").write_text("an older table\n")
    seeded_tracker.ok("publish", str(folder), "--title", "Second")
    assert (folder / "summary_by_country.csv").read_text() != "an older table\n"
    assert json.loads((folder / "datapackage.json").read_text())["title"] == "Second"
    assert [path.name for path in tmp_path.iterdir()] == ["out"]  # no staging folder left
    # A file that no publication writes (a README, a .git) beside an earlier publication: the
    # folder is not replaced, nor is a folder with a datapackage.json of someone else's.
    (folder / "README.txt").write_text("mine")
    other = tmp_path / "mine"
    other.mkdir()
    (other / "datapackage.json").write_text('{"name": "mine"}')
    (other / "thesis.csv").write_text("keep")
    for target, kept in ((folder, "README.txt"), (other, "thesis.csv")):
        result = seeded_tracker("publish", str(target))
        assert result.exit_code != 0
        assert f"holds other files ({kept})" in result.stderr
        assert (target / kept).exists()
    assert json.loads((other / "datapackage.json").read_text()) == {"name": "mine"}
    link = tmp_path / "link"
    link.symlink_to(other)
    result = seeded_tracker("publish", str(link))
    assert result.exit_code != 0
    assert "is a link" in result.stderr


def test_filters_that_choose_lots_are_refused(seeded_tracker: Cli, tmp_path: Path) -> None:
    # The command does not offer them; the library refuses them, naming each.
    for option, value in (("--vendor", "NVIDIA"), ("--model", "B300"), ("--status", "planned")):
        result = seeded_tracker("publish", str(tmp_path / "out"), option, value)
        assert result.exit_code == 2
        assert f"No such option '{option}'" in result.stderr
        assert seeded_tracker.url is not None
        with tracker.open(seeded_tracker.url) as api, pytest.raises(InvalidValue) as refused:
            api.publish(tmp_path / "out", **{option.removeprefix("--"): value})  # type: ignore[arg-type]
        assert str(refused.value).startswith(f"{option.removeprefix('--')}: cannot be published")
        assert not (tmp_path / "out").exists()


def test_dated_publications_and_a_latest_link(seeded_db_url: str, tmp_path: Path) -> None:
    tmp_path = tmp_path / "publications"
    tmp_path.mkdir()
    with tracker.open(seeded_db_url) as api:
        first = api.publish(tmp_path, dated=True)
        second = api.publish(tmp_path, dated=True)
    assert first.folder == second.folder == tmp_path / first.folder.name
    latest = tmp_path / "latest"
    assert latest.is_symlink()
    assert os.readlink(latest) == first.folder.name
    assert (latest / "datapackage.json").exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([first.folder.name, "latest"])
    # A folder where the link goes, or a file in place of the folder, is refused before anything is written.
    (latest).unlink()
    (tmp_path / "latest").mkdir()
    with pytest.raises(InvalidValue, match="latest is not a link"):
        api_publish(seeded_db_url, tmp_path)
    with pytest.raises(InvalidValue, match="is not a folder"):
        api_publish(seeded_db_url, tmp_path / first.folder.name / "index.html")
    # Nor into a publication; a folder to be made for them is made.
    with pytest.raises(InvalidValue, match="is a publication"):
        api_publish(seeded_db_url, tmp_path / first.folder.name)
    api_publish(seeded_db_url, tmp_path / "new")
    assert (tmp_path / "new" / "latest" / "index.html").exists()


def test_a_blank_title_is_refused(seeded_tracker: Cli, tmp_path: Path) -> None:
    for title in ("", "   "):
        result = seeded_tracker("publish", str(tmp_path / "out"), "--title", title)
        assert result.exit_code == 2
        assert result.stderr.startswith("Error: --title: is empty; give some text")
    assert not (tmp_path / "out").exists()


def api_publish(url: str, folder: Path) -> None:
    with tracker.open(url) as api:
        api.publish(folder, dated=True)


def test_the_snapshot_holds_what_the_package_describes(seeded_tracker: Cli, tmp_path: Path) -> None:
    seeded_tracker.ok("add", "Secret", "--country", "JP", "--chips", "10", "--vendor", "NVIDIA",
                      "--source", "https://example.org/s")  # fmt: skip
    seeded_tracker.ok("remove", "secret", "--yes", "--note", "entered by mistake")
    folder = Path(seeded_tracker.ok("publish", str(tmp_path / "out")).strip())
    tables = {name for (name,) in _sql(folder, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    package = {
        resource["title"] for resource in json.loads((folder / "datapackage.json").read_text())["resources"]
    }
    views = {name for (name,) in _sql(folder, "SELECT name FROM sqlite_master WHERE type = 'view'")}
    assert views <= package
    assert tables - package == {"programme_lot_count", "count_state"} | {
        t for t in tables if t.startswith("entry_fts")
    }
    assert _sql(folder, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'") == [(0,)]


@pytest.mark.slow
def test_publishing_the_epoch_import(tracker: Cli, tmp_path: Path) -> None:
    tracker.ok("import", str(EPOCH_FILE), "--from", "epoch", "--skip-invalid")
    folder = Path(tracker.ok("publish", str(tmp_path / "out")).strip())
    assert_published_right(tracker, folder)
    package = json.loads((folder / "datapackage.json").read_text())
    assert any("Epoch AI" in source["title"] for source in package["sources"])
    page = html.unescape((folder / "index.html").read_text(encoding="utf-8"))
    assert "Rows from Epoch AI's GPU Clusters dataset: Epoch AI, CC BY 4.0." in page
