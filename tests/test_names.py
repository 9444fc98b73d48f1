"""Ids made from names, in every script."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import Tracker
from tracker.model.names import ID_PATTERN, MAX_ID_LENGTH, slugify


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Nebius UK", "nebius-uk"),
        ("Île-de-France AI Factory", "ile-de-france-ai-factory"),
        ("München Ærø", "munchen-aero"),  # accents dropped, æ and ø written out
        ("Straße", "strasse"),
        ("字节跳动 乌兰察布", "zijietiaodong-wulanchabu"),  # pinyin, words as the name spaces them
        ("Яндекс ЦОД", "yandeks-tsod"),
        ("서울 데이터센터", "seoul-deiteosenteo"),
        ("東京", "dongjing"),  # anyascii reads a kanji as Mandarin: readable, if not Japanese
        ("مركز البيانات", "mrkz-lbynt"),
        ("AI Factory © 2025", "ai-factory-2025"),  # symbols separate words, as punctuation does
        ("x'); DROP TABLE entry;--", "x-drop-table-entry"),
        ("★ ☆", ""),  # nothing to read: the user gives an id
    ],
)
def test_a_name_in_any_script_gives_a_readable_id(name: str, expected: str) -> None:
    assert slugify(name) == expected


@given(st.text(max_size=300))
def test_an_id_made_from_any_name_is_a_valid_id_or_empty(name: str) -> None:
    made = slugify(name)
    assert made == "" or (ID_PATTERN.match(made) and len(made) <= MAX_ID_LENGTH)


def test_non_latin_names_are_added_with_ids_of_their_own(tracker: Tracker) -> None:
    # Before, both were refused: "cannot make an id from the name".
    assert tracker.ok("add", "字节跳动 乌兰察布", "--country", "CN") == "zijietiaodong-wulanchabu\n"
    assert tracker.ok("add", "Яндекс ЦОД", "--country", "RU") == "yandeks-tsod\n"
    shown = tracker.ok("show", "yandeks-tsod")
    assert shown.splitlines()[0] == "Яндекс ЦОД"
