"""Token demand: figures per day or per month, normalised to tokens per day, with growth."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Tracker
from tests.test_cli import database_contents
from tests.test_schema import run_sql
from tracker.errors import InvalidValue
from tracker.model.periods import parse_period
from tracker.model.tokens import (
    count_in_words,
    days_and_months,
    days_per_month,
    growth_pct,
    parse_share,
    parse_token_count,
    tokens_per_day,
)
from tracker.model.vocabulary import TokenRate

SEED_NOTE = (
    "Kaiyuan Securities research institute, note on sovereign AI and token consumption (in Chinese), mid-2025"
)
GOOGLE_MAY_PER_DAY = 15_483_870_967_742  # 480 trillion / 31, rounded half to even

GOOD_COUNTS = [
    ("16.4T", 16_400_000_000_000),
    ("16.4t", 16_400_000_000_000),
    ("16.4 trillion", 16_400_000_000_000),
    ("16.4 Trillion", 16_400_000_000_000),
    ("16.4 tn", 16_400_000_000_000),
    ("16.4TN", 16_400_000_000_000),
    ("480 trillion", 480_000_000_000_000),
    ("480T", 480_000_000_000_000),
    ("1.2e12", 1_200_000_000_000),
    ("1.2E12", 1_200_000_000_000),
    ("1.64e+13", 16_400_000_000_000),
    ("16400000000000", 16_400_000_000_000),
    ("16,400,000,000,000", 16_400_000_000_000),
    ("  16.4   trillion  ", 16_400_000_000_000),
    ("16.4 trillion tokens", 16_400_000_000_000),
    ("5B", 5_000_000_000),
    ("5 billion", 5_000_000_000),
    ("5bn", 5_000_000_000),
    ("5 BN", 5_000_000_000),
    ("3M", 3_000_000),
    ("3 million", 3_000_000),
    ("3mn", 3_000_000),
    ("2.5k", 2_500),
    ("16.4万亿", 16_400_000_000_000),  # as the source note writes it
    ("1.000000000001T", 1_000_000_000_001),  # exact: no float rounding
    ("1", 1),
    ("1e18", 10**18),
]


@pytest.mark.parametrize(("text", "count"), GOOD_COUNTS)
def test_token_counts_are_read_in_every_accepted_form(text: str, count: int) -> None:
    assert parse_token_count(text, "per_day") == count


BAD_COUNTS = [
    ("", "'' is not a token count; give a whole number of tokens above 0, such as 16400000000000, "),
    ("ten", "'ten' is not a token count; "),
    ("-5T", "'-5T' is not a token count; "),
    ("16.4X", "'16.4X' is not a token count; "),
    ("16.4 trillions", "'16.4 trillions' is not a token count; "),
    ("1,5T", "'1,5T' is not a token count; "),
    ("16.4.1T", "'16.4.1T' is not a token count; "),
    ("1.2e3T", "'1.2e3T' is not a token count; "),
    ("1.2e-3", "'1.2e-3' is not a token count; "),
    ("T", "'T' is not a token count; "),
    ("0", "'0' is 0 tokens; "),
    ("0T", "'0T' is 0 tokens; "),
    ("1.5", "'1.5' is 1.5 tokens, not a whole number; "),
    ("1.2345678901234T", "'1.2345678901234T' is 1,234,567,890,123.4 tokens, not a whole number; "),
    ("1e19", "'1e19' is more than 1,000,000,000,000,000,000 tokens; "),
    ("1" * 81, " is more than 1,000,000,000,000,000,000 tokens; "),
    ("0." + "0" * 80 + "1", " tokens, not a whole number; "),
    ("1" * 101, " is not a token count; "),  # too long to read
]


@pytest.mark.parametrize(("text", "message"), BAD_COUNTS)
def test_bad_token_counts_name_the_field_the_value_and_what_is_accepted(text: str, message: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        parse_token_count(text, "per_month")
    assert raised.value.field == "per_month"
    assert message in raised.value.message
    assert raised.value.message.endswith("(also tn; B, bn, billion; M, mn, million; K, thousand)")


@pytest.mark.parametrize(
    ("text", "share"),
    [("46.4", Decimal("46.4")), ("46.4%", Decimal("46.4")), (" 46.4 % ", Decimal("46.4")), ("100", 100),
     ("0.001", Decimal("0.001"))],
)  # fmt: skip
def test_shares_are_percentages(text: str, share: Decimal) -> None:
    assert parse_share(text) == share


@pytest.mark.parametrize("text", ["0", "0%", "100.1", "-3", "46,4", "1.2345", "half", "", "%"])
def test_bad_shares_are_refused(text: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        parse_share(text)
    assert raised.value.field == "share"
    assert raised.value.message == (
        f"{text!r} is not a share; give a percentage above 0 and up to 100, with at most 3 decimals, "
        "such as 46.4 or 46.4%"
    )


def test_a_monthly_figure_is_divided_by_the_days_of_its_calendar_month() -> None:
    may = parse_period("2025-05")
    assert days_per_month(may) == 31
    assert tokens_per_day(480 * 10**12, TokenRate.MONTH, may) == GOOGLE_MAY_PER_DAY
    assert tokens_per_day(480 * 10**12, TokenRate.MONTH, parse_period("2025-05-20")) == GOOGLE_MAY_PER_DAY
    assert tokens_per_day(480 * 10**12, TokenRate.MONTH, parse_period("2025-06")) == 16 * 10**12
    assert tokens_per_day(280 * 10**12, TokenRate.MONTH, parse_period("2024-02")) == 280 * 10**12 // 29
    assert tokens_per_day(16_400_000_000_000, TokenRate.DAY, may) == 16_400_000_000_000


def test_a_monthly_figure_over_a_longer_period_is_divided_by_its_average_month() -> None:
    assert days_and_months(parse_period("Q2 2025")) == (91, 3)
    assert days_and_months(parse_period("2025-05-20")) == (31, 1)
    assert tokens_per_day(91 * 10**12, TokenRate.MONTH, parse_period("Q2 2025")) == 3 * 10**12
    assert tokens_per_day(181 * 10**9, TokenRate.MONTH, parse_period("H1 2025")) == 6 * 10**9
    assert days_per_month(parse_period("2024")) == Decimal("30.5")  # a leap year
    assert tokens_per_day(61, TokenRate.MONTH, parse_period("2024")) == 2


def test_a_tokens_per_day_half_way_between_two_whole_tokens_goes_to_the_even_one() -> None:
    june = parse_period("2025-06")  # 30 days
    assert [tokens_per_day(n, TokenRate.MONTH, june) for n in (45, 75, 44, 46)] == [2, 2, 1, 2]


def test_growth_and_counts_in_words() -> None:
    assert growth_pct(16_400_000_000_000, 12_700_000_000_000) == Decimal("29.1")
    assert growth_pct(95, 100) == Decimal("-5.0")
    assert count_in_words(480 * 10**12) == "480 trillion"
    assert count_in_words(16_400_000_000_000) == "16.4 trillion"
    assert count_in_words(5_000_000_000) == "5 billion"
    assert count_in_words(2_500) == "2,500"


# The command line, on SQLite and PostgreSQL.


def listed(tracker: Tracker, *args: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(tracker.ok("tokens", "list", "--format", "json", *args))
    return rows


def test_the_seed_figures_come_back_per_day(seeded_tracker: Tracker) -> None:
    rows = listed(seeded_tracker)
    figures = [
        (
            r["provider"],
            r["as_of"],
            r["tokens_per_day"],
            r["reported_tokens"],
            r["reported_per"],
            r["share_pct"],
        )
        for r in rows
    ]
    assert figures == [
        ("ByteDance Doubao", "2025-05", 16_400_000_000_000, 16_400_000_000_000, "day", 46.4),
        ("Google", "2025-05", GOOGLE_MAY_PER_DAY, 480_000_000_000_000, "month", None),
    ]
    assert [r["source"] for r in rows] == [SEED_NOTE, SEED_NOTE]
    assert [(r["growth_pct"], r["since"]) for r in rows] == [(None, None), (None, None)]  # one figure each
    assert "137x year on year; +29% vs 2025-03" in rows[0]["note"]
    assert "China's public-cloud LLM calls" in rows[0]["note"]
    assert "Google I/O" in rows[1]["note"]
    assert "about 16 trillion per day, its own rounding" in rows[1]["note"]
    assert "50x within one year" in rows[1]["note"]


def test_doubaos_growth_since_march_2025(seeded_tracker: Tracker) -> None:
    result = seeded_tracker(
        "tokens", "add", "ByteDance Doubao", "--as-of", "2025-03", "--per-day", "12.7T",
        "--source", "https://example.org/doubao-march",
    )  # fmt: skip
    assert (result.exit_code, result.stdout, result.stderr) == (0, "12700000000000\n", "")
    doubao = listed(seeded_tracker, "--provider", "bytedance doubao")
    assert [(r["as_of"], r["tokens_per_day"], r["growth_pct"], r["since"]) for r in doubao] == [
        ("2025-03", 12_700_000_000_000, None, None),
        ("2025-05", 16_400_000_000_000, 29.1, "2025-03"),
    ]
    table = seeded_tracker.ok("tokens", "list", "--provider", "ByteDance Doubao").splitlines()
    assert table[0].split() == [
        "provider", "as_of", "tokens_per_day", "reported", "share_pct", "growth_pct", "since", "source",
        "note",
    ]  # fmt: skip
    may = next(line for line in table if "2025-05" in line)
    assert may.split()[:12] == [
        "ByteDance", "Doubao", "2025-05", "16,400,000,000,000", "16.4", "trillion", "per", "day", "46.4%",
        "+29.1%", "2025-03", "Kaiyuan",
    ]  # fmt: skip
    csv_rows = list(csv.DictReader(io.StringIO(seeded_tracker.ok("tokens", "list", "--format", "csv"))))
    assert [(r["provider"], r["as_of"], r["growth_pct"], r["since"]) for r in csv_rows] == [
        ("ByteDance Doubao", "2025-03", "", ""),
        ("ByteDance Doubao", "2025-05", "29.1", "2025-03"),
        ("Google", "2025-05", "", ""),
    ]


def test_googles_monthly_figure_is_stored_per_day_beside_the_figure_as_reported(tracker: Tracker) -> None:
    result = tracker(
        "tokens", "add", "Google", "--as-of", "May 2025", "--per-month", "480 trillion",
        "--source", "https://example.org/io", "--note", "Google I/O",
    )  # fmt: skip
    assert result.exit_code == 0
    assert result.stdout == f"{GOOGLE_MAY_PER_DAY}\n"
    assert result.stderr == (
        "480 trillion per month in 2025-05, a month of 31 days: 15,483,870,967,742 per day.\n"
    )
    [row] = csv.DictReader(io.StringIO(tracker.ok("tokens", "list", "--format", "csv")))
    assert row == {
        "provider": "Google",
        "as_of": "2025-05",
        "tokens_per_day": "15483870967742",
        "reported_tokens": "480000000000000",
        "reported_per": "month",
        "share_pct": "",
        "growth_pct": "",
        "since": "",
        "source": "https://example.org/io",
        "note": "Google I/O",
    }
    table = tracker.ok("tokens", "list", "--format", "markdown")
    assert "| 15,483,870,967,742 | 480 trillion per month |" in table


def test_a_figure_of_a_quarter_keeps_its_precision(tracker: Tracker) -> None:
    out = tracker.ok(
        "tokens", "add", "Example AI", "--as-of", "2025年Q2", "--per-month", "91B", "--share", "12.5%",
        "--source", "https://example.org/q2",
    )  # fmt: skip
    assert out == "3000000000\n"
    [row] = listed(tracker)
    assert (row["as_of"], row["tokens_per_day"], row["share_pct"]) == ("2025-Q2", 3_000_000_000, 12.5)


def test_figures_are_listed_by_provider_then_period(tracker: Tracker) -> None:
    for provider, period in (
        ("Zeta", "2025-05"),
        ("Alpha", "2025-06"),
        ("Alpha", "2024"),
        ("Alpha", "2025-01"),
    ):
        tracker.ok("tokens", "add", provider, "--as-of", period, "--per-day", "1T", "--source", "s")
    rows = listed(tracker)
    assert [(r["provider"], r["as_of"], r["since"]) for r in rows] == [
        ("Alpha", "2024", None),
        ("Alpha", "2025-01", "2024"),
        ("Alpha", "2025-06", "2025-01"),
        ("Zeta", "2025-05", None),
    ]
    assert [r["growth_pct"] for r in rows] == [None, 0, 0, None]
    assert [r["provider"] for r in listed(tracker, "--provider", "zeta")] == ["Zeta"]


def test_a_provider_is_matched_whatever_its_case_and_punctuation(tracker: Tracker) -> None:
    tracker.ok("tokens", "add", "Google", "--as-of", "2025-05", "--per-month", "480T", "--source", "s")
    result = tracker("tokens", "add", "google", "--as-of", "2025-06", "--per-day", "20T", "--source", "s")
    assert (result.exit_code, result.stdout) == (0, "20000000000000\n")
    assert result.stderr == "Recorded under 'Google', the provider's name as stored.\n"
    tracker.ok("tokens", "add", " G.O.O.G.L.E ", "--as-of", "2025-07", "--per-day", "22T", "--source", "s")
    rows = listed(tracker, "--provider", "GOOGLE")
    assert [(r["provider"], r["as_of"]) for r in rows] == [
        ("Google", "2025-05"),
        ("Google", "2025-06"),
        ("Google", "2025-07"),
    ]
    assert [r["growth_pct"] for r in rows] == [None, 29.2, 10.0]  # 20T over 15.48T, 22T over 20T


def test_a_new_provider_close_to_a_stored_one_is_refused_as_a_typo(seeded_tracker: Tracker) -> None:
    before = seeded_tracker.ok("tokens", "list", "--format", "csv")
    result = seeded_tracker(
        "tokens", "add", "Gogle", "--as-of", "2025-06", "--per-day", "1T", "--source", "s"
    )
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "Error: PROVIDER: 'Gogle' is not stored, and close to 'Google'; give that name, or --new-provider "
        "if 'Gogle' is another provider\n"
    )
    assert seeded_tracker.ok("tokens", "list", "--format", "csv") == before
    result = seeded_tracker(
        "tokens", "add", "Doubao", "--as-of", "2025-06", "--per-day", "1T", "--source", "s"
    )
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith(
        "Error: PROVIDER: 'Doubao' is not stored, and close to 'ByteDance Doubao'; "
    )
    assert seeded_tracker.ok("tokens", "list", "--format", "csv") == before
    seeded_tracker.ok(
        "tokens", "add", "Gogle", "--as-of", "2025-06", "--per-day", "1T", "--source", "s", "--new-provider"
    )
    assert [r["provider"] for r in listed(seeded_tracker)] == ["ByteDance Doubao", "Gogle", "Google"]


def test_a_second_figure_for_a_provider_and_period_is_refused(seeded_tracker: Tracker) -> None:
    before = (seeded_tracker.ok("tokens", "list", "--format", "csv"), *database_contents(seeded_tracker))
    result = seeded_tracker(
        "tokens",
        "add",
        "google",
        "--as-of",
        "May 2025",
        "--per-day",
        "16T",
        "--source",
        "https://example.org/x",
    )
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: Google has a token figure for 2025-05 already (15,483,870,967,742 per day); "
        "a provider has one figure per period\n"
    )
    assert (
        seeded_tracker.ok("tokens", "list", "--format", "csv"),
        *database_contents(seeded_tracker),
    ) == before
    # Another precision is another period: a quarter's figure beside May's, by their first day.
    seeded_tracker.ok("tokens", "add", "Google", "--as-of", "Q2 2025", "--per-day", "15T", "--source", "s")
    assert [r["as_of"] for r in listed(seeded_tracker, "--provider", "Google")] == ["2025-Q2", "2025-05"]


ADD = ["tokens", "add", "Example AI", "--source", "https://example.org/x"]
# Refused commands: arguments, exit code, the whole of standard error (or its start, ending with a space).
REFUSED = [
    ([*ADD, "--as-of", "2025-05", "--per-day", "lots"], 2,
     "Error: --per-day: 'lots' is not a token count; give a whole number of tokens above 0, such as "
     "16400000000000, 16,400,000,000,000, 1.64e13, 16.4T or 16.4 trillion (also tn; B, bn, billion; M, mn, "
     "million; K, thousand)"),
    ([*ADD, "--as-of", "2025-05", "--per-month", "-480T"], 2,
     "Error: --per-month: '-480T' is not a token count; "),
    ([*ADD, "--as-of", "2025-05", "--per-day", "0"], 2, "Error: --per-day: '0' is 0 tokens; "),
    ([*ADD, "--as-of", "2025-05", "--per-day", "1.5"], 2,
     "Error: --per-day: '1.5' is 1.5 tokens, not a whole number; "),
    ([*ADD, "--as-of", "2025-05", "--per-day", ""], 2, "Error: --per-day: '' is not a token count; "),
    ([*ADD, "--as-of", "2025-05"], 2,
     "Error: --per-day: is missing; give the tokens per day, or --per-month for a monthly figure"),
    ([*ADD, "--as-of", "2025-05", "--per-day", "1T", "--per-month", "30T"], 2,
     "Error: --per-month: goes without --per-day; give the figure as the source does"),
    ([*ADD, "--as-of", "2025-13", "--per-day", "1T"], 2,
     "Error: --as-of: month 13 does not exist in '2025-13'; use a month (2025-05, May 2025, 2025年5月), "
     "day (2025-05-20), quarter (Q2 2025, 2025-Q2), half (H1 2025) or year (2025)"),
    ([*ADD, "--as-of", "soon", "--per-day", "1T"], 2, "Error: --as-of: cannot read 'soon'; use a month "),
    ([*ADD, "--as-of", "2099-05", "--per-day", "1T"], 2,
     "Error: --as-of: 2099-05 has not begun; a token figure is of a period that has"),
    ([*ADD, "--as-of", "2025-05", "--per-day", "1T", "--share", "146"], 2,
     "Error: --share: '146' is not a share; give a percentage above 0 and up to 100, with at most 3 "
     "decimals, such as 46.4 or 46.4%"),
    ([*ADD, "--as-of", "2025-05", "--per-day", "1T", "--share", "0%"], 2,
     "Error: --share: '0%' is not a share; "),
    (["tokens", "add", "X", "--as-of", "2025-05", "--per-day", "1T", "--source", " "], 2,
     "Error: --source: is empty; give a URL or a citation"),
    (["tokens", "add", "X", "--as-of", "2025-05", "--per-day", "1T"], 2,
     "Error: Missing option '--source'. See 'tracker tokens add --help'."),
    (["tokens", "add", "X", "--per-day", "1T", "--source", "s"], 2,
     "Error: Missing option '--as-of'. See 'tracker tokens add --help'."),
    (["tokens", "add", "...", "--as-of", "2025-05", "--per-day", "1T", "--source", "s"], 2,
     "Error: PROVIDER: '...' has no letters or digits; give a name, such as Google"),
    (["tokens", "add", "X" * 201, "--as-of", "2025-05", "--per-day", "1T", "--source", "s"], 2,
     "Error: PROVIDER: is 201 characters long; at most 200 are allowed"),
    (["tokens", "add", "X", "--as-of", "2025-05", "--per-day", "1T", "--source", "a | b"], 2,
     "Error: --source: 'a | b' holds ' | ', which separates sources"),
    ([*ADD, "--as-of", "2025-05", "--per-day", "1T", "--note", "bell\x07"], 2,
     "Error: --note: holds the control character U+0007; remove it"),
    ([*ADD, "--as-of", "Q5 2025", "--per-day", "ten", "--share", "x"], 2,
     "Error: --as-of: quarter 5 does not exist in 'Q5 2025'; use a month (2025-05, May 2025, 2025年5月), "
     "day (2025-05-20), quarter (Q2 2025, 2025-Q2), half (H1 2025) or year (2025); --per-day: 'ten' is not "
     "a token count; "),
    (["tokens", "list", "--provider", "Gooogle"], 2,
     "Error: --provider: no token figures for 'Gooogle'; did you mean 'Google'? providers: ByteDance Doubao, "
     "Google"),
    (["tokens", "list", "--provider", "Google", "--provider", "OpenAI", "--format", "csv"], 2,
     "Error: --provider: no token figures for 'OpenAI'; providers: ByteDance Doubao, Google"),
    (["tokens", "list", "--format", "xml"], 2, "Error: Invalid value for '--format': 'xml' is not one of "),
]  # fmt: skip


@pytest.mark.parametrize(("args", "code", "message"), REFUSED, ids=[" ".join(a)[:60] for a, _, _ in REFUSED])
def test_bad_token_input_is_one_line_and_changes_nothing(
    seeded_tracker: Tracker, args: list[str], code: int, message: str
) -> None:
    before = (seeded_tracker.ok("tokens", "list", "--format", "csv"), *database_contents(seeded_tracker))
    result = seeded_tracker(*args)
    assert result.exit_code == code
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(message)
    assert message.endswith(" ") or lines[0] == message
    assert "Traceback" not in result.stderr
    assert (
        seeded_tracker.ok("tokens", "list", "--format", "csv"),
        *database_contents(seeded_tracker),
    ) == before


def test_init_loads_the_token_figures_once_into_a_database_seeded_before_them(seeded_db_url: str) -> None:
    # The seeds as an earlier release loaded them: no token figures, their loading unrecorded;
    # meanwhile the user recorded Google's May figure their own way.
    run_sql(seeded_db_url, "DELETE FROM token_metric")
    run_sql(seeded_db_url, "DELETE FROM seed_load WHERE name = 'tokens'")
    tracker = Tracker(seeded_db_url)
    tracker.ok("tokens", "add", "google", "--as-of", "2025-05", "--per-day", "16T", "--source", "own")
    result = tracker("init")
    assert result.exit_code == 0
    assert result.stderr.endswith("0 reference rows and 0 seed entries added\n")
    rows = listed(tracker)
    assert [(r["provider"], r["as_of"], r["tokens_per_day"], r["source"]) for r in rows] == [
        ("ByteDance Doubao", "2025-05", 16_400_000_000_000, SEED_NOTE),
        ("google", "2025-05", 16_000_000_000_000, "own"),  # the user's figure stands
    ]
    # Loaded once: a figure taken away (there is no command for it yet) does not come back.
    run_sql(seeded_db_url, "DELETE FROM token_metric WHERE provider = 'ByteDance Doubao'")
    tracker.ok("init")
    assert [r["provider"] for r in listed(tracker)] == ["google"]


def test_the_token_figures_come_with_the_seed_entries_not_with_no_seed(empty_db_url: str) -> None:
    tracker = Tracker(empty_db_url)
    tracker.ok("init", "--no-seed")
    assert tracker("tokens", "list").stderr == "(no matching rows)\n"
    tracker.ok("init")
    assert [r["provider"] for r in listed(tracker)] == ["ByteDance Doubao", "Google"]
    tracker.ok("init")
    assert len(listed(tracker)) == 2


def test_a_new_users_default_database_has_the_token_figures(isolated_user_files: Path) -> None:
    tracker = Tracker(None)
    assert [r["tokens_per_day"] for r in listed(tracker)] == [16_400_000_000_000, GOOGLE_MAY_PER_DAY]


def test_the_token_commands_have_help_that_gives_the_rule_for_monthly_figures(tracker: Tracker) -> None:
    group = tracker.ok("tokens", "--help")
    assert "add " in group
    assert "list " in group
    add_help = " ".join(tracker.ok("tokens", "add", "--help").split())
    assert "480 trillion / 31 = 15,483,870,967,742 a day" in add_help
    assert "(Q2 2025: 91 / 3)" in add_help
    assert "growth_pct" in tracker.ok("tokens", "list", "--help")


def test_the_token_commands_are_in_the_readme() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for command in ("tracker tokens add", "tracker tokens list"):
        assert command in readme
    assert "15,483,870,967,742" in readme


def test_the_token_commands_load_no_database_code_for_help() -> None:
    code = (
        "import sys; from tracker.cli import cli; print(sorted(m for m in sys.modules if 'sqlalchemy' in m))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "[]\n"


def test_growth_is_since_a_period_that_ended_before_and_a_fall_stays_a_number(tracker: Tracker) -> None:
    source = ("--source", "https://example.org/t")
    tracker.ok("tokens", "add", "Google", "--as-of", "2025", "--per-day", "1T", *source)
    tracker.ok("tokens", "add", "Google", "--as-of", "2024-12", "--per-day", "2T", *source)
    tracker.ok("tokens", "add", "Google", "--as-of", "2025-06", "--per-day", "1.5T", *source)
    rows = [(r["as_of"], r["growth_pct"], r["since"]) for r in listed(tracker, "--provider", "Google")]
    # 2025-06 lies within 2025: its growth is since 2024-12, the last period that ended before it began
    assert rows == [("2024-12", None, None), ("2025", -50.0, "2024-12"), ("2025-06", -25.0, "2024-12")]
    csv_text = tracker.ok("tokens", "list", "--format", "csv")
    assert ",-50,2024-12," in csv_text  # a number, not made inert like a formula


def test_a_monthly_figure_under_one_token_a_day_is_refused(tracker: Tracker) -> None:
    before = tracker.ok("tokens", "list", "--format", "csv")
    result = tracker("tokens", "add", "Google", "--as-of", "2025-10", "--per-month", "1", "--source", "s")
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: --per-month: 1 a month is less than one token a day; give the figure in tokens\n",
    )
    assert tracker.ok("tokens", "list", "--format", "csv") == before
