"""Value types of the model layer: periods, countries, vocabularies, names."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.errors import InvalidValue
from tracker.model.countries import parse_country
from tracker.model.names import match_key, slugify
from tracker.model.periods import Period, Precision, parse_day, parse_period
from tracker.model.values import control_character, parse_text, refused_character
from tracker.model.vocabulary import Kind, Status, parse_choice
from tracker.service.reading import read_sources


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-12-15", "2025-12-15"),
        ("2025-12", "2025-12"),
        ("Dec 2025", "2025-12"),
        ("december 2025", "2025-12"),
        ("Q4 2025", "2025-Q4"),
        ("q4 2025", "2025-Q4"),
        ("2025Q4", "2025-Q4"),
        ("2025-Q4", "2025-Q4"),
        ("Q1-2026", "2026-Q1"),
        ("H2 2026", "2026-H2"),
        ("2026-H1", "2026-H1"),
        ("2026", "2026"),
        ("2025年Q4", "2025-Q4"),
        ("2025年5月", "2025-05"),
        ("2025年5月3日", "2025-05-03"),
        ("2025年第四季度", "2025-Q4"),
        ("2025年下半年", "2025-H2"),
        ("11 June 2025", "2025-06-11"),
        ("June 11, 2025", "2025-06-11"),
        ("  Q4   2025 ", "2025-Q4"),
        ("2025/12/15", "2025-12-15"),
        ("15-Dec-2025", "2025-12-15"),
        ("Sept. 2025", "2025-09"),
    ],
)
def test_every_accepted_form_keeps_its_precision(text: str, expected: str) -> None:
    assert str(parse_period(text)) == expected


def test_a_quarter_is_not_its_first_day() -> None:
    quarter = parse_period("Q4 2025")
    assert quarter.precision is Precision.QUARTER
    assert quarter != Period(dt.date(2025, 10, 1), Precision.DAY)
    assert (quarter.start, quarter.end) == (dt.date(2025, 10, 1), dt.date(2025, 12, 31))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("2025-13", "month 13 does not exist"),
        ("2025-02-30", "day is out of range"),
        ("Q5 2025", "quarter 5 does not exist"),
        ("H3 2026", "half 3 does not exist"),
        ("13/13/2025", "there is no such date"),
        ("Q4", "a year is needed"),
        ("03/04/2025", "ambiguous"),
        ("Dec", "cannot read"),
        ("15", "cannot read"),
        ("soon", "cannot read"),
        ("", "cannot read"),
        ("1850", "out of range"),
        ("2025-12-15T10:00", "cannot read"),
        ("03-04-2025", "ambiguous"),
        ("13-04-2025", "ambiguous"),
        ("03 04 2025", "ambiguous"),
        ("Tuesday, 15 Dec 2025", "cannot read"),
        ("2025-12-15 00:00", "cannot read"),
        ("Dec 2025 00:00", "cannot read"),
        ("31 Feb 2025", "day is out of range"),
    ],
)
def test_impossible_or_unreadable_periods_are_rejected(text: str, problem: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        parse_period(text, "online")
    assert raised.value.field == "online"
    assert problem in raised.value.message
    assert repr(text) in raised.value.message


def test_an_announced_date_must_be_a_day() -> None:
    assert parse_day("2025-06-11") == dt.date(2025, 6, 11)
    with pytest.raises(InvalidValue, match="is a quarter; give a day, such as 2025-06-11"):
        parse_day("Q2 2025")


def test_a_period_must_start_where_its_precision_starts() -> None:
    with pytest.raises(ValueError, match="2025-11-01 is not the first day of a quarter"):
        Period(dt.date(2025, 11, 1), Precision.QUARTER)


periods = st.builds(
    lambda day, precision: _aligned(day, precision),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31)),
    st.sampled_from(Precision),
)


def _aligned(day: dt.date, precision: Precision) -> Period:
    months = {Precision.MONTH: 1, Precision.QUARTER: 3, Precision.HALF: 6, Precision.YEAR: 12}
    if precision is Precision.DAY:
        return Period(day, precision)
    month = (day.month - 1) // months[precision] * months[precision] + 1
    return Period(dt.date(day.year, month, 1), precision)


@given(periods)
def test_formatting_then_parsing_gives_the_same_period(period: Period) -> None:
    assert parse_period(str(period)) == period


_MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _other_spellings(period: Period) -> list[str]:
    """Input forms other than the one the tracker writes, as analysts and the source note write them."""
    year, month, day = period.start.year, period.start.month, period.start.day
    name = _MONTH_NAMES[month - 1]
    forms = {
        Precision.DAY: [
            f"{day} {name} {year}",
            f"{name} {day}, {year}",
            f"{year}年{month}月{day}日",
            f"{year}/{month}/{day}",
        ],
        Precision.MONTH: [f"{name} {year}", f"{year}年{month}月", f"{year}/{month:02d}"],
        Precision.QUARTER: [
            f"Q{(month + 2) // 3} {year}",
            f"{year}Q{(month + 2) // 3}",
            f"{year}年Q{(month + 2) // 3}",
        ],
        Precision.HALF: [
            f"H{(month + 5) // 6} {year}",
            f"{year}H{(month + 5) // 6}",
            f"{year}年{'上下'[month // 7]}半年",
        ],
        Precision.YEAR: [f"{year}", f"{year}年"],
    }
    return forms[period.precision]


@given(periods)
def test_every_spelling_of_a_period_reads_as_that_period(period: Period) -> None:
    for spelling in _other_spellings(period):
        assert parse_period(spelling) == period, spelling


@given(periods)
def test_a_period_contains_its_start_and_end_in_order(period: Period) -> None:
    assert period.start <= period.end
    assert parse_period(str(period)).end == period.end


@given(st.text(max_size=30))
def test_any_text_either_parses_or_raises_invalid_value(text: str) -> None:
    try:
        period = parse_period(text)
    except InvalidValue as error:
        problem = error
    else:
        assert parse_period(str(period)) == period
        return
    assert problem.field == "online"
    assert repr(text) in problem.message


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("fr", "FR"),
        ("FRA", "FR"),
        ("France", "FR"),
        ("france", "FR"),
        ("UK", "GB"),
        ("United Kingdom", "GB"),
        ("South Korea", "KR"),
        ("south korea", "KR"),
        ("Türkiye", "TR"),
        ("Turkey", "TR"),
        ("USA", "US"),
        ("deu", "DE"),
        ("The Netherlands", "NL"),
    ],
)
def test_countries_are_read_from_codes_and_names(text: str, code: str) -> None:
    assert parse_country(text) == code


def test_an_unknown_country_names_the_closest_spelling() -> None:
    with pytest.raises(InvalidValue) as raised:
        parse_country("Frnace")
    assert raised.value.field == "country"
    assert "did you mean France (FR)?" in raised.value.message


@pytest.mark.parametrize("text", ["XX", "Atlantis", "", "EU"])
def test_non_countries_are_rejected(text: str) -> None:
    with pytest.raises(InvalidValue, match="unknown country"):
        parse_country(text)


def test_vocabulary_values_ignore_case_and_spacing() -> None:
    assert parse_choice(Status, "Under Construction", "status") is Status.UNDER_CONSTRUCTION
    assert parse_choice(Status, "OPERATIONAL", "status") is Status.OPERATIONAL
    with pytest.raises(InvalidValue, match="did you mean 'cancelled'"):
        parse_choice(Status, "canceled", "status")


def test_match_keys_ignore_case_spaces_and_punctuation() -> None:
    assert match_key("gb 200") == match_key("GB200") == match_key("G.B-200")
    assert match_key("Nvidia") == match_key("NVIDIA")


def test_slugs_are_lower_case_words_joined_by_hyphens() -> None:
    assert slugify("Nebius UK") == "nebius-uk"
    assert slugify("x'); DROP TABLE entry;--") == "x-drop-table-entry"
    assert slugify("Île-de-France AI Factory") == "ile-de-france-ai-factory"


def test_the_same_text_is_read_by_what_is_asked_of_it() -> None:
    # Periods are remembered by their text: a day asked for where a year is given, or a
    # problem, still names what was asked and the field.
    assert parse_period("2026", "online") == Period(dt.date(2026, 1, 1), Precision.YEAR)
    with pytest.raises(InvalidValue, match="'2026' is a year") as day:
        parse_day("2026", "announced")
    assert day.value.field == "announced"
    for field in ("online", "announced"):
        with pytest.raises(InvalidValue, match="quarter 5 does not exist") as problem:
            parse_period("Q5 2026", field)
        assert problem.value.field == field
    assert parse_choice(Kind, "programme", "kind") is Kind.PROGRAMME
    with pytest.raises(InvalidValue, match="unknown status 'programme'"):
        parse_choice(Status, "programme", "status")


@given(st.text(alphabet=st.characters(max_codepoint=0x2FFF)), st.sampled_from(["", "\n\t"]))
def test_control_characters_are_those_of_unicode_category_cc(text: str, allowed: str) -> None:
    expected = next((c for c in text if c not in allowed and unicodedata.category(c) == "Cc"), None)
    assert control_character(text, allowed) == expected


# Characters that make text read otherwise than it is stored, with how a refusal names them.
INVISIBLE = {
    "\u200b": "a zero-width space",
    "\u202a": "a left-to-right embedding",
    "\u202b": "a right-to-left embedding",
    "\u202c": "a pop directional formatting",
    "\u202d": "a left-to-right override",
    "\u202e": "a right-to-left override",
    "\u2066": "a left-to-right isolate",
    "\u2067": "a right-to-left isolate",
    "\u2068": "a first strong isolate",
    "\u2069": "a pop directional isolate",
    "\ufeff": "a byte-order mark",
}


@pytest.mark.parametrize("character", INVISIBLE)
@pytest.mark.parametrize(("field", "one_line"), [("name", True), ("notes", False)])
def test_text_that_reads_otherwise_than_it_is_stored_is_refused_naming_the_character(
    character: str, field: str, one_line: bool
) -> None:
    with pytest.raises(InvalidValue) as refused:
        parse_text(f"Nebius{character} UK", field, 200, one_line=one_line)
    assert refused.value.field == field
    assert refused.value.message == (
        f"holds U+{ord(character):04X}, {INVISIBLE[character]}, which makes text read otherwise "
        "than it is stored; remove it"
    )


@pytest.mark.parametrize("character", INVISIBLE)
def test_a_source_that_reads_otherwise_than_it_is_stored_is_refused_by_the_same_check(character: str) -> None:
    problems: list[InvalidValue] = []
    assert list(read_sources([f"https://example.org/{character}x", "https://example.org/ok"], problems)) == [
        "https://example.org/ok"
    ]
    [problem] = problems
    assert (problem.field, problem.message) == (
        "sources",
        f"holds U+{ord(character):04X}, {INVISIBLE[character]}, which makes text read otherwise than it is "
        "stored; remove it",
    )


@pytest.mark.parametrize(
    "text",
    [
        "مرکز داده\u200cی تهران",  # Persian: the zero-width non-joiner keeps the suffix apart
        "क्\u200dष",  # Devanagari: the zero-width joiner asks for the half form
        "👩\u200d💻 Lab",  # an emoji sequence
        "Zürich\u00a0AI",  # a no-break space, folded like any space
    ],
)
def test_joiners_that_scripts_need_are_kept(text: str) -> None:
    assert parse_text(text, "name", 200) == " ".join(text.split())
    assert parse_text(text, "notes", 200, one_line=False) == text


@given(
    # Any character of the Basic Multilingual Plane, the refused ones and the joiners often.
    st.text(alphabet=st.characters(max_codepoint=0xFFFF) | st.sampled_from([*INVISIBLE, "\u200c", "\u200d"])),
    st.sampled_from(["", "\n\t"]),
)
def test_refused_characters_are_the_controls_and_those_that_read_otherwise(text: str, allowed: str) -> None:
    expected = next(
        (c for c in text if c not in allowed and (unicodedata.category(c) == "Cc" or c in INVISIBLE)), None
    )
    assert refused_character(text, allowed) == expected


printable = st.characters(blacklist_categories=["Cc", "Cs"], blacklist_characters=list(INVISIBLE))


@given(st.text(printable, min_size=1, max_size=20), st.sampled_from(sorted(INVISIBLE)), st.integers(0, 20))
def test_any_text_holding_one_is_refused_wherever_it_stands(text: str, character: str, place: int) -> None:
    cut = min(place, len(text))
    with pytest.raises(InvalidValue, match=f"U\\+{ord(character):04X}"):
        parse_text(text[:cut] + character + text[cut:], "operator", 1_000)
