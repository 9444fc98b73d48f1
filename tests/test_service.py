"""The service layer used as a library: plain functions on a session."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from tracker.errors import Conflict, InvalidInput, InvalidValue
from tracker.model.cells import neutralise, restore
from tracker.model.tables import Entry
from tracker.service.catalogue import load_catalogue
from tracker.service.database import create_engine, session_scope
from tracker.service.details import entry_detail, list_entries
from tracker.service.entries import add_entry, add_entry_from_text, remove_entry
from tracker.service.export import export_rows
from tracker.service.filters import resolve_filters
from tracker.service.reading import read_entry
from tracker.service.summary import planned_total, planned_totals


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    engine = create_engine(db_url)
    with session_scope(engine) as session:
        yield session
    engine.dispose()


def add(session: Session, name: str, country: str, **fields: str) -> str:
    return add_entry_from_text(session, {"name": name, "country": country, **fields})[0]


def test_vendor_and_model_spellings_match_the_catalogue(session: Session) -> None:
    catalogue = load_catalogue(session)
    assert catalogue.vendor("nvidia") == catalogue.vendor("NVIDIA Corporation") == "NVIDIA"
    assert catalogue.vendor("Habana Labs") == "Intel"
    assert catalogue.model("NVIDIA", "gb 200") == "GB200"
    assert catalogue.model("NVIDIA", "NVIDIA H100 SXM5 80GB") == "H100"
    assert catalogue.model("AMD", "AMD Instinct MI300X") == "MI300X"
    assert catalogue.model("Google", "Ironwood") == "TPU v7"
    assert catalogue.models_named("h100") == [("NVIDIA", "H100")]


def test_a_pcie_card_is_not_taken_for_the_sxm_module(session: Session) -> None:
    with pytest.raises(InvalidValue, match="unknown model 'H100 PCIe'"):
        load_catalogue(session).model("NVIDIA", "H100 PCIe")


def test_reading_an_entry_reports_every_bad_field(session: Session) -> None:
    raw = {"name": "", "country": "Atlantis", "chips": "-1", "vendor": "Nvidia", "online": "Q9 2025"}
    with pytest.raises(InvalidInput) as raised:
        read_entry(raw, load_catalogue(session))
    assert [problem.field for problem in raised.value.problems] == ["name", "country", "chips", "online"]


def test_planned_totals_leave_out_inactive_lots(session: Session) -> None:
    add(session, "A", "FR", chips="100", vendor="AMD", status="operational")
    add(session, "B", "FR", chips="50", vendor="AMD", status="cancelled")
    add(session, "C", "DE", chips="30", vendor="NVIDIA", model="H100", status="decommissioned")
    add(session, "D", "DE", chips="20", vendor="unknown", status="paused")
    filters = resolve_filters(session, regions=["eu"])
    rows = [(row.keys, row.entries, row.chips) for row in planned_totals(session, filters, ["country"])]
    assert rows == [(("FR",), 1, 100), (("DE",), 1, 20)]
    total = planned_total(session, filters)
    assert (total.entries, total.chips) == (2, 120)


def test_list_filters_by_the_vendor_of_any_lot(session: Session) -> None:
    add(session, "A", "FR", chips="100", vendor="AMD")
    add(session, "B", "FR", chips="100", vendor="NVIDIA")
    add(session, "C", "FR")
    ids = [row.id for row in list_entries(session, resolve_filters(session, vendors=["amd"]))]
    assert ids == ["a"]
    everything = {row.id: row.chips for row in list_entries(session, resolve_filters(session))}
    assert everything == {"a": 100, "b": 100, "c": None}


def test_generated_ids_never_overwrite_an_entry(session: Session) -> None:
    add(session, "Nebius UK", "GB")
    with pytest.raises(Conflict, match="already taken by 'Nebius UK'"):
        add(session, "Nebius  UK!", "GB")


def test_export_rows_are_in_byte_order_on_every_database(session: Session) -> None:
    for entry_id in ("ab", "a-b", "a1", "b", "a-a"):
        add(session, entry_id.upper(), "FR", id=entry_id, sources=f"https://example.org/{entry_id}")
    rows = list(export_rows(session, resolve_filters(session)))
    assert [row[0] for row in rows] == ["a-a", "a-b", "a1", "ab", "b"]
    assert [row[17] for row in rows] == [f"https://example.org/{row[0]}" for row in rows]


def test_summary_keys_sort_in_byte_order_on_every_database(session: Session) -> None:
    # PostgreSQL's English collation would give ab, a-c, B; SQLite and Python sort by bytes.
    # (Operators' names match whatever their punctuation: a-b would be ab.)
    for number, operator in enumerate(("ab", "a-c", "B")):
        add(session, f"Site {number}", "FR", operator=operator, chips="5", vendor="AMD")
    rows = planned_totals(session, resolve_filters(session), ["operator"])
    assert [row.keys for row in rows] == [("B",), ("a-c",), ("ab",)]


def test_removing_a_programme_with_children_is_refused(session: Session) -> None:
    add(session, "Programme", "FR", kind="programme")
    add(session, "Child", "FR")
    session.get_one(Entry, "child").parent_id = "programme"
    session.flush()
    with pytest.raises(Conflict, match="is the programme of child"):
        remove_entry(session, "programme")


@given(st.text())
def test_neutralising_a_cell_is_undone_exactly(cell: str) -> None:
    safe = neutralise(cell)
    assert not safe.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert restore(safe) == cell


def test_an_entry_may_be_read_with_several_lots(session: Session) -> None:
    lots = [{"chips": "10", "vendor": "AMD", "model": "MI300X"}, {"chips": "5", "vendor": "nvidia"}]
    entry = read_entry({"name": "Two lots", "country": "FR"}, load_catalogue(session), lots=lots)
    assert [(lot.vendor, lot.model, lot.quantity) for lot in entry.lots] == [
        ("AMD", "MI300X", 10),
        ("NVIDIA", None, 5),
    ]


def test_model_filters_read_like_add_does(session: Session) -> None:
    assert resolve_filters(session, models=["NVIDIA B300"]).models == (("NVIDIA", "B300"),)
    assert resolve_filters(session, vendors=["nvidia"], models=["gb 200"]).models == (("NVIDIA", "GB200"),)
    with pytest.raises(InvalidValue, match="'Grace Blackwell' is a model of NVIDIA, not AMD"):
        resolve_filters(session, vendors=["AMD"], models=["Grace Blackwell"])
    with pytest.raises(InvalidValue, match=r"unknown model 'B3000'; did you mean 'B300'\?"):
        resolve_filters(session, models=["B3000"])


def add_two_lot_entry(session: Session) -> str:
    catalogue = load_catalogue(session)
    lots = [{"chips": "10", "vendor": "AMD"}, {"chips": "5", "vendor": "NVIDIA", "model": "H100"}]
    raw = {"name": "Two lots", "country": "FR", "sources": "https://a.example | https://b.example"}
    return add_entry(session, read_entry(raw, catalogue, lots=lots))


def test_every_lot_of_an_entry_carries_its_sources_in_the_export(session: Session) -> None:
    add_two_lot_entry(session)
    add(session, "Zeta", "DE", sources="https://z.example")
    rows = [(row[0], row[12], row[17]) for row in export_rows(session, resolve_filters(session))]
    assert rows == [
        ("two-lots", "1", "https://a.example | https://b.example"),
        ("two-lots", "2", "https://a.example | https://b.example"),
        ("zeta", "", "https://z.example"),
    ]


def test_a_lots_own_status_and_period_override_its_entrys(session: Session) -> None:
    entry_id = add_two_lot_entry(session)
    lot = session.get_one(Entry, entry_id).lots[0]
    lot.status = "cancelled"
    lot.online_start, lot.online_precision = dt.date(2026, 7, 1), "half"
    session.flush()
    planned = planned_total(session, resolve_filters(session))
    assert (planned.entries, planned.chips) == (1, 5)
    cancelled = planned_total(session, resolve_filters(session, statuses=["cancelled"]))
    assert (cancelled.entries, cancelled.chips) == (1, 10)
    detail = entry_detail(session, entry_id)
    assert [(lot.status, str(lot.online)) for lot in detail.lots] == [
        ("cancelled", "2026-H2"),
        ("announced", "None"),
    ]
    listed = [row.id for row in list_entries(session, resolve_filters(session, statuses=["cancelled"]))]
    assert listed == [entry_id]


def test_entries_are_listed_in_byte_order_on_every_database(session: Session) -> None:
    for entry_id in ("ab", "a-b", "a1", "b", "a-a"):
        add(session, entry_id.upper(), "FR", id=entry_id)
    assert [row.id for row in list_entries(session, resolve_filters(session))] == [
        "a-a",
        "a-b",
        "a1",
        "ab",
        "b",
    ]
