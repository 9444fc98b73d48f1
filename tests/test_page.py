"""The published page (``index.html``): what it shows of a Page put together by hand, and that it
shows it safely, alone (nothing fetched from anywhere) and in order."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser

from tracker.model.vocabulary import Qualifier
from tracker.service.charts import ChartData
from tracker.service.page import Page, PageEntry, PageSource, render_page
from tracker.service.programmes import Amount
from tracker.service.tables import Count, Figure, PeopleView, Table

VOID = {"meta", "br", "wbr", "hr", "img", "input", "link", "source"}


@dataclass
class Node:
    """An element of the page, with its attributes and its children (elements and text)."""

    tag: str
    attrs: dict[str, str | None]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(child if isinstance(child, str) else child.text() for child in self.children)

    def iter(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def all(self, tag: str) -> list[Node]:
        return [node for node in self.iter() if node.tag == tag]

    def by_id(self, name: str) -> Node:
        (found,) = [node for node in self.iter() if node.attrs.get("id") == name]
        return found

    def cells(self, section: str) -> list[list[str]]:
        """A table's rows in ``thead``, ``tbody`` or ``tfoot``, as the texts of their cells."""
        (part,) = self.all(section)
        return [[cell.text() for cell in row.children if isinstance(cell, Node)] for row in part.all("tr")]


class Tree(HTMLParser):
    """The page as a tree of :class:`Node`; an end tag that does not close the element last
    opened fails, so that the page is known to be well nested."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("document", {})
        self.open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs))
        self.open[-1].children.append(node)
        if tag not in VOID:
            self.open.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        assert self.open[-1].tag == tag, f"</{tag}> closes <{self.open[-1].tag}>"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.open[-1].children.append(data)


def parsed(text: str) -> Node:
    tree = Tree()
    tree.feed(text)
    tree.close()
    assert tree.open == [tree.root], "elements left open"
    return tree.root


def table(
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    total: Sequence[object] | None,
    blank: str | Mapping[str, str] = "",
) -> Table:
    return Table(tuple(columns), rows, total, people=PeopleView(tuple(columns), rows, total, blank))


def at_least(value: int) -> Count:
    return Count(value, "at-least")


SUMMARY = table(
    ("country", "vendor", "entries", "chips", "h100e", "power_mw"),
    [
        (None, "NVIDIA", 1, at_least(300_000), None, None),
        ("FR", "NVIDIA", 2, Count(31_820, "exact"), Figure(Decimal(80_344), "exact"),
         Figure(Decimal(84), "exact", 1)),
        ("DE", None, 1, Count(20_000, "approx"), None, Figure(Decimal("12.04"), "exact", 1, estimated=True)),
    ],
    ("Total", None, 4, at_least(351_820), Figure(Decimal(80_344), "at-least"),
     Figure(Decimal("96.04"), "at-least", 1, estimated=True)),
    blank={"country": "(multi-country)", "vendor": "(not given)"},
)  # fmt: skip
BY_COUNTRY = table(
    ("country", "entries", "chips", "h100e"),
    [(None, 1, at_least(300_000), None), ("FR", 2, Count(31_820, "exact"), Figure(Decimal(80_344), "exact"))],
    ("Total", 3, at_least(331_820), Figure(Decimal(80_344), "at-least")),
    blank={"country": "(multi-country)"},
)
BY_VENDOR = table(
    ("vendor", "entries", "chips"),
    [("NVIDIA", 3, at_least(331_820)), (None, 1, Count(20_000, "approx"))],
    ("Total", 4, at_least(351_820)),
    blank="(not given)",
)
TIMELINE = table(
    ("period", "entries", "chips"),
    [("2025-Q4", 1, Count(4_000, "exact")), ("undated", 3, at_least(347_820))],
    ("Total", 4, at_least(351_820)),
)
SOVEREIGNTY = table(
    ("country", "chips", "operator_home"),
    [("FR", Count(31_820, "exact"), 31_820)],
    ("Total", Count(31_820, "exact"), 31_820),
)
CHART = ChartData(
    title="AI accelerators coming online by quarter, stacked by vendor",
    subtitle="planned; as of 2026-05-01",
    stack_key="vendor",
    categories=["2025-Q4", "2026-Q1", "2026-Q2", "undated"],
    totals=[Amount(4_000), Amount(0), Amount(1_500, Qualifier.AT_LEAST), Amount(347_820, Qualifier.AT_LEAST)],
    series={"NVIDIA": [4_000, 0, 1_000, 347_820], "AMD": [0, 0, 500, 0]},
    coarse=[False, False, False, False],
)
HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_LINK = 'https://example.org/?q="><b>bold</b>'
ENTRIES = (
    PageEntry("eu-plan", "EU plan", "eu", None, "announced", "≥ 300,000 NVIDIA", "2025-06-11", None, None,
              (PageSource("https://example.org/eu", "The EU's plan", "primary"),
               PageSource("NVIDIA keynote, 2025-06-11", grade="press"))),
    PageEntry("paris", "Paris & Co site", "FR", "Mistral AI", "planned", "31,820 NVIDIA B300", None,
              "2026-Q2", "eu-plan", (PageSource("http://example.org/paris"),)),
    PageEntry("hostile", HOSTILE_NAME, "DE", "O'Brien <b>", "planned", "~ 20,000", None, None, None,
              (PageSource("javascript:alert(1)", "Click me"), PageSource(" https://example.org/spaced"),
               PageSource(HOSTILE_LINK, grade="press"))),
)  # fmt: skip
PAGE = Page(
    title="Sovereign AI <accelerators>",
    generated="2026-05-01",
    filters="region europe",
    summary=SUMMARY,
    by_country=BY_COUNTRY,
    by_vendor=BY_VENDOR,
    timeline=TIMELINE,
    chart=CHART,
    sovereignty=SOVEREIGNTY,
    entries=ENTRIES,
    licence="Data: CC BY 4.0, the tracker's contributors.",
    notes=("h100e: H100-equivalents.", "power_mw: megawatts."),
)


def test_the_page_is_one_document_for_phones_and_print() -> None:
    text = render_page(PAGE)
    assert text.startswith("<!DOCTYPE html>\n")
    page = parsed(text)
    (viewport,) = [meta for meta in page.all("meta") if meta.attrs.get("name") == "viewport"]
    assert viewport.attrs["content"] == "width=device-width, initial-scale=1"
    assert page.all("title")[0].text() == "Sovereign AI <accelerators>"
    assert page.all("h1")[0].text() == "Sovereign AI <accelerators>"
    (style,) = page.all("style")
    css = style.text()
    assert "@media print" in css
    assert ".scroll{overflow-x:auto" in css
    assert "tabular-nums" in css
    assert {"by-country", "by-vendor", "timeline", "sovereignty", "entries"} <= {
        node.attrs["id"] for node in page.all("table") if node.attrs.get("id")
    }
    for node in page.all("table"):  # every table scrolls inside its own wrapper, not the page
        assert any(
            wrapper.attrs.get("class") == "scroll" and node in wrapper.children for wrapper in page.all("div")
        )


def test_the_sections_come_in_order_with_the_notes_and_licence_in_the_footer() -> None:
    page = parsed(render_page(PAGE))
    headings = [heading.text() for heading in page.all("h2")]
    assert headings == ["By country", "By vendor", "Coming online", "Whose chips", "Entries", "Notes"]
    (footer,) = page.all("footer")
    assert [item.text() for item in footer.all("li")] == ["h100e: H100-equivalents.", "power_mw: megawatts."]
    assert "Data: CC BY 4.0, the tracker's contributors." in footer.text()
    assert "Published 2026-05-01 · region europe" in page.all("header")[0].text()


def test_the_grand_total_is_the_summarys_total_row_as_tables_show_it() -> None:
    shown = " ".join(parsed(render_page(PAGE)).by_id("grand-total").text().split())
    assert shown == (
        "≥ 351,820 AI accelerators, every chip counted once "
        "4 entries · ≥ 80,344 H100-equivalents · ≥ 96.0 est. MW of power"
    )


def test_each_table_shows_its_rows_with_their_blanks_then_its_total_row() -> None:
    page = parsed(render_page(PAGE))
    by_country = page.by_id("by-country")
    assert by_country.cells("thead") == [["country", "entries", "chips", "h100e"]]
    assert by_country.cells("tbody") == [
        ["(multi-country)", "1", "≥ 300,000", ""],
        ["FR", "2", "31,820", "80,344"],
    ]
    assert by_country.cells("tfoot") == [["Total", "3", "≥ 331,820", "≥ 80,344"]]
    by_vendor = page.by_id("by-vendor")
    assert by_vendor.cells("tbody") == [["NVIDIA", "3", "≥ 331,820"], ["(not given)", "1", "~ 20,000"]]
    assert by_vendor.cells("tfoot") == [["Total", "4", "≥ 351,820"]]
    assert page.by_id("timeline").cells("tbody") == [["2025-Q4", "1", "4,000"], ["undated", "3", "≥ 347,820"]]
    sovereignty = page.by_id("sovereignty")
    assert sovereignty.cells("thead") == [["country", "chips", "operator_home"]]  # breakable at "_" only
    assert sovereignty.cells("tfoot") == [["Total", "31,820", "31,820"]]


def test_numbers_are_right_aligned_and_text_is_not() -> None:
    text = render_page(PAGE)
    assert '<td class="num"><span class="whole">≥ 331,820</span></td>' in text  # never "≥" alone on a line
    assert '<td class="chips" data-label="chips"><span class="whole">≥ 300,000</span> NVIDIA</td>' in text
    page = parsed(text)
    heads = page.by_id("by-country").all("th")
    assert [head.attrs.get("class") for head in heads] == [None, "num", "num", "num"]
    rows = page.by_id("by-country").all("tr")
    assert [cell.attrs.get("class") for cell in rows[-1].all("td")] == [None, "num", "num", "num"]


def test_a_table_without_rows_says_so() -> None:
    empty = table(("vendor", "chips"), [], None)
    page = parsed(render_page(dataclasses.replace(PAGE, by_vendor=empty)))
    assert page.by_id("by-vendor").cells("tbody") == [["No matching rows"]]
    assert page.by_id("by-vendor").all("tfoot") == []


def test_every_entry_is_a_row_of_its_own_linked_to_its_programme() -> None:
    page = parsed(render_page(PAGE))
    rows = page.by_id("entries").all("tbody")[0].all("tr")
    assert [row.attrs["id"] for row in rows] == ["entry-eu-plan", "entry-paris", "entry-hostile"]
    assert page.by_id("entries").cells("thead") == [
        ["id", "name", "place", "operator", "status", "chips", "announced", "online", "parent", "sources"]
    ]
    paris = page.by_id("entry-paris")
    assert [cell.text() for cell in paris.all("td")][:9] == [
        "paris", "Paris & Co site", "FR", "Mistral AI", "planned", "31,820 NVIDIA B300", "", "2026-Q2",
        "eu-plan",
    ]  # fmt: skip
    assert [link.attrs["href"] for link in paris.all("a")] == ["#entry-eu-plan", "http://example.org/paris"]
    plan = page.by_id("entry-eu-plan")
    assert [item.text() for item in plan.all("li")] == [
        "The EU's plan primary",
        "NVIDIA keynote, 2025-06-11 press",
    ]
    assert [(link.attrs["href"], link.text()) for link in plan.all("a")] == [
        ("https://example.org/eu", "The EU's plan")
    ]
    assert [small.text() for small in plan.all("small")] == ["primary", "press"]


def test_a_hostile_name_and_addresses_are_shown_as_text_and_never_run() -> None:
    text = render_page(PAGE)
    assert "<script" not in text.lower()
    assert "<b>" not in text
    page = parsed(text)
    hostile = page.by_id("entry-hostile")
    cells = [cell.text() for cell in hostile.all("td")]
    assert cells[1:4] == [HOSTILE_NAME, "DE", "O'Brien <b>"]
    assert [link.attrs["href"] for link in hostile.all("a")] == [HOSTILE_LINK]  # whole, in its attribute
    items = [item.text() for item in hostile.all("li")]
    assert items == ["Click me: javascript:alert(1)", " https://example.org/spaced", f"{HOSTILE_LINK} press"]
    assert not any("javascript" in str(node.attrs.get("href")) for node in page.all("a"))


def test_the_page_refers_to_nothing_but_its_entries_sources() -> None:
    text = render_page(PAGE)
    for needle in ("<link", "<script", "@import", "url(", "<img", "<iframe", "src="):
        assert needle not in text.lower(), needle
    sources = {source.url for entry in ENTRIES for source in entry.sources}
    page = parsed(text)
    for link in page.all("a"):
        href = str(link.attrs["href"])
        assert href in sources or href.startswith("#entry-"), href
    rest = text
    for url in sources:
        rest = rest.replace(html.escape(url), "")
    assert "http" not in rest.lower()  # no address but the sources', linked or not


def test_the_chart_draws_a_rect_for_each_chip_count_of_each_bar() -> None:
    page = parsed(render_page(PAGE))
    (svg,) = page.all("svg")
    assert str(svg.attrs["viewbox"]).startswith("0 0 800 ")  # it scales to the page's width
    bars = [group for group in svg.all("g") if "bar" in str(group.attrs.get("class"))]
    assert [len(bar.all("rect")) for bar in bars] == [1, 0, 2, 1]  # the non-zero cells of each bar
    assert len(svg.all("rect")) == 4
    assert [bar.all("title")[0].text() for bar in bars] == [
        "2025-Q4: 4,000 (NVIDIA 4,000)",
        "2026-Q1: 0",
        "2026-Q2: ≥ 1,500 (NVIDIA 1,000; AMD 500)",
        "undated: ≥ 347,820 (NVIDIA 347,820)",
    ]
    totals = [[text.text() for text in bar.all("text")] for bar in bars]
    assert totals == [["4,000"], [], ["≥ 1,500"], ["≥ 347,820"]]  # an empty period has no label
    periods = [text.text() for text in svg.all("text") if text.attrs.get("class") == "period"]
    assert periods == ["2025-Q4", "2026-Q1", "2026-Q2", "undated"]
    ticks = [text.text() for text in svg.all("text") if text.attrs.get("class") == "tick"]
    assert ticks == ["0", "100,000", "200,000", "300,000", "400,000"]
    (legend,) = [node for node in page.all("ul") if node.attrs.get("class") == "legend"]
    assert [item.text().strip() for item in legend.all("li")] == ["■ NVIDIA", "■ AMD"]


def test_a_coarse_period_is_drawn_paler_and_said_so() -> None:
    coarse = dataclasses.replace(CHART, coarse=[False, False, True, False])
    page = parsed(render_page(dataclasses.replace(PAGE, chart=coarse)))
    classes = [group.attrs.get("class") for group in page.all("g")]
    assert classes == ["bar", "bar", "bar coarse", "bar"]
    assert "Paler bars: a period coarser than the bars around it" in page.all("figure")[0].text()
    assert "Paler bars" not in render_page(PAGE)


def test_a_chart_of_sixty_bars_names_at_most_twenty_periods() -> None:
    periods = [f"{2010 + bar // 4}-Q{bar % 4 + 1}" for bar in range(60)]
    chips = [1_000 * (bar + 1) for bar in range(60)]
    long = ChartData(
        title="sixty quarters",
        subtitle="",
        stack_key="vendor",
        categories=periods,
        totals=[Amount(count) for count in chips],
        series={"NVIDIA": chips},
        coarse=[False] * 60,
    )
    svg = parsed(render_page(dataclasses.replace(PAGE, chart=long))).all("svg")[0]
    named = [text.text() for text in svg.all("text") if text.attrs.get("class") == "period"]
    assert 10 <= len(named) <= 20
    assert named[0] == "2010-Q1"
    assert set(named) < set(periods)
    assert len(svg.all("rect")) == 60
    assert len(svg.all("title")) == 60  # every bar can still be read, by its tooltip


def test_without_a_chart_or_sovereignty_the_page_says_so() -> None:
    text = render_page(dataclasses.replace(PAGE, chart=None, sovereignty=None))
    page = parsed(text)
    assert page.all("svg") == []
    assert "No chips have a date to come online by" in page.text()
    assert [node for node in page.iter() if node.attrs.get("id") == "sovereignty"] == []
    assert "Whose chips" not in [heading.text() for heading in page.all("h2")]
    assert page.by_id("timeline").cells("tfoot") == [["Total", "4", "≥ 351,820"]]  # the table stays


def test_an_empty_chart_is_no_chart() -> None:
    empty = ChartData(title="nothing", subtitle="", stack_key="vendor")
    page = parsed(render_page(dataclasses.replace(PAGE, chart=empty)))
    assert page.all("svg") == []
    assert "No chips have a date to come online by" in page.text()
