"""The published page in a real browser: headless Chromium shows it without an error or a
request to the network, at a desktop's width and a phone's, and its totals are the CLI's.

Chromium and its driver are Debian's (``chromium``, ``chromium-driver``; ``.ci/run`` installs
them): without them this test fails, as a test must when what it checks cannot be checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from tests.conftest import Tracker

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WIDTHS = (1280, 390)  # a desktop's window, a phone's


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    """Headless Chromium, driven by Debian's chromedriver: Selenium Manager, which would
    download a browser or a driver, is never asked for one."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found: install Debian's chromium and chromium-driver "
            "(apt-get install chromium chromium-driver, as .ci/run does)",
            pytrace=False,
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def seeded_database(tmp_path: Path) -> Tracker:
    """The seed entries (on SQLite only: the page is the same whatever the database), and
    entries that a page must show with care: a name that is markup, a source that is script,
    periods of a quarter and of a year."""
    cli = Tracker(f"sqlite:///{tmp_path / 'published.db'}")
    cli.ok("init")
    cli.ok("add", "<script>alert(1)</script>", "--country", "NL", "--chips", "2000", "--vendor", "AMD",
           "--online", "2027-Q1", "--source", "javascript:alert(1)")  # fmt: skip
    cli.ok("add", "Year site", "--country", "DE", "--chips", "6000", "--vendor", "AMD", "--online", "2027",
           "--source", "https://example.org/year-site")  # fmt: skip
    return cli


def published_page(cli: Tracker, folder: Path) -> Path:
    """The page ``tracker publish`` writes, of every entry."""
    assert Path(cli.ok("publish", str(folder)).strip()) == folder
    return folder / "index.html"


def page_requests(browser: webdriver.Chrome, page_url: str) -> list[str]:
    """The URLs the page asked for (itself first), from Chromium's log of the network."""
    events = [json.loads(entry["message"])["message"] for entry in browser.get_log("performance")]
    return [
        event["params"]["request"]["url"]
        for event in events
        if event["method"] == "Network.requestWillBeSent" and event["params"].get("documentURL") == page_url
    ]


def cli_table(text: str) -> tuple[list[str], list[dict[str, str]], dict[str, str]]:
    """A table as the CLI prints it: its columns, its rows and its total row, each cell read
    within the dashes under its column (a blank cell is empty text)."""
    lines = text.splitlines()
    rules = [i for i, line in enumerate(lines) if line.startswith("-")]
    spans, start = [], 0
    for run in lines[rules[0]].split("  "):
        if run:
            spans.append((start, start + len(run)))
        start += len(run) + 2
    cells = [[line[begin:end].strip() for begin, end in spans] for line in lines]
    columns = cells[0]
    rows = [dict(zip(columns, row, strict=True)) for row in cells[rules[0] + 1 : rules[1]]]
    return columns, rows, dict(zip(columns, cells[rules[1] + 1], strict=True))


@pytest.mark.slow
def test_the_page_shows_in_chromium_at_desktop_and_phone_widths_with_the_clis_totals(
    browser: webdriver.Chrome, tmp_path: Path
) -> None:
    cli = seeded_database(tmp_path)
    assert cli.url is not None
    index = published_page(cli, tmp_path / "site")
    browser.set_window_size(WIDTHS[0], 900)
    browser.get(index.as_uri())

    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []
    requested = page_requests(browser, index.as_uri())
    assert index.as_uri() in requested  # the page itself: the log does show its requests
    assert [url for url in requested if not url.startswith("file://")] == []

    _, _, grand_total = cli_table(cli.ok("summary"))
    shown = browser.find_element(By.ID, "grand-total").text
    for column in ("chips", "h100e", "power_mw"):
        assert grand_total[column] in shown, (column, grand_total[column], shown)

    columns, rows, total = cli_table(cli.ok("summary", "--by", "country"))
    assert [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "#by-country thead th")] == columns
    shown_rows = [
        [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        for row in browser.find_elements(By.CSS_SELECTOR, "#by-country tbody tr")
    ]
    assert shown_rows == [list(row.values()) for row in rows]
    footer = browser.find_elements(By.CSS_SELECTOR, "#by-country tfoot td")
    assert [cell.text for cell in footer] == list(total.values())

    hostile = browser.find_element(By.ID, "entry-script-alert-1-script")
    assert "<script>alert(1)</script>" in hostile.text
    assert hostile.find_elements(By.TAG_NAME, "a") == []  # its javascript: source is text

    for width in WIDTHS:
        browser.set_window_size(width, 900)
        inner = browser.execute_script("return window.innerWidth")
        assert inner == width  # the window is as narrow as a phone's, or this checks nothing
        scrolled = browser.execute_script("return document.documentElement.scrollWidth")
        assert scrolled <= inner, f"at {width} px the page scrolls sideways ({scrolled} px wide)"
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(width, height)  # the whole page in one screenshot
        assert browser.save_screenshot(str(tmp_path / f"page-{width}.png"))
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []
