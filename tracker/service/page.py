"""The published report as one web page (``index.html`` of ``tracker publish``): self-contained,
with no network access (CSS inline, the chart as inline SVG), readable on a phone and printable,
its numbers formatted as the CLI's tables format them (:func:`tracker.service.tables.display`).

Everything taken from the data is HTML-escaped here, and only a source's http(s) address
becomes a link: the page may be served from anywhere and must never run what an entry holds.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from tracker.service.charts import OTHER, ChartData
from tracker.service.tables import QUALIFIER_MARKS, Count, PeopleView, Table, display


@dataclass(frozen=True)
class PageSource:
    url: str
    title: str | None = None
    grade: str | None = None


@dataclass(frozen=True)
class PageEntry:
    """One entry as the page lists it; the texts are as tables show them."""

    id: str
    name: str
    place: str  # its country (alpha-2) or, for a programme, its region scope
    operator: str | None
    status: str
    chips: str  # its lots, as people read them: "≥ 4,000 NVIDIA B300; 1,000 AMD MI300X"
    announced: str | None  # a day, ISO
    online: str | None  # a period, as the CLI writes it: 2026-Q3
    parent: str | None  # the id of the programme it is part of
    sources: tuple[PageSource, ...] = ()


@dataclass(frozen=True)
class Page:
    """What the page shows, already worked out by the tracker (nothing is computed here)."""

    title: str
    generated: str  # the day it was published, ISO
    filters: str  # the filters, as words ("every entry" when none)
    summary: Table  # the summary by country and vendor: its total row is the grand total
    by_country: Table
    by_vendor: Table
    timeline: Table
    chart: ChartData | None  # the timeline as bars (None: no dated chips)
    sovereignty: Table | None  # None where no entry has an operator with a known nationality
    entries: tuple[PageEntry, ...]
    licence: str  # the data's licence and attribution, as a sentence
    notes: tuple[str, ...] = ()  # what the figures are (the tables' notes)


MAX_PERIOD_LABELS = 20  # a chart of more bars than MANY_BARS names every few periods only
MANY_BARS = 40

_CSS = """
html{font-size:16px}
body{margin:0;color:#1b1b1b;background:#fff;font:1rem/1.45 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif}
main,footer{max-width:75rem;margin:0 auto;padding:0 1rem}
h1{font-size:1.7rem;line-height:1.2;margin:1.5rem 0 .3rem}
h2{font-size:1.25rem;margin:2.2rem 0 .6rem;padding-bottom:.2rem;border-bottom:1px solid #ddd}
.meta,figcaption,.empty,footer{color:#555}
#grand-total{margin:1rem 0;padding:.8rem 1rem;border-left:4px solid #0072b2;background:#f3f7fa}
#grand-total p{margin:0}
#grand-total .chips{font-size:2.4rem;font-weight:700;line-height:1.15}
table,svg{font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto;margin:0 0 1rem}
table{border-collapse:collapse;font-size:.9rem}
th,td{padding:.3rem .5rem;text-align:left;vertical-align:top;white-space:nowrap}
td{border-bottom:1px solid #e4e4e4}
thead th{background:#f4f4f4;border-bottom:1px solid #bbb;white-space:normal}
tfoot td{font-weight:700;border-top:2px solid #888;border-bottom:0}
.num{text-align:right}
.whole{white-space:nowrap}
#entries{width:100%}
#entries td{white-space:normal}
#entries .name{min-width:8rem}
#entries .announced,#entries .online{white-space:nowrap}
tr:target{background:#fff5cc}
.source-list{margin:0;padding-left:1rem;min-width:16rem}
.source-list a{overflow-wrap:anywhere}
figure{margin:0}
figcaption strong{color:#1b1b1b}
svg{display:block;width:100%;min-width:42rem;max-width:56rem;height:auto}
svg text{fill:#333}
svg .grid{stroke:#e4e4e4}
svg .axis{stroke:#888}
svg .coarse rect{fill-opacity:.45}
.legend{list-style:none;margin:.4rem 0;padding:0}
.legend li{display:inline-block;margin:0 1rem .2rem 0}
.swatch{font-size:1.2em;line-height:1}
footer{margin-top:2.5rem;padding-bottom:2rem;font-size:.9rem}
@media screen and (max-width:40rem){
th,td{padding:.25rem .4rem}
#entries thead{display:none}
#entries tr{display:block;padding:.4rem 0;border-bottom:1px solid #ccc}
#entries td{display:grid;grid-template-columns:6rem 1fr;gap:.5rem;border:0;padding:.1rem 0}
#entries td::before{content:attr(data-label);color:#555;font-weight:400}
#entries .id{font-weight:600}
#entries td:empty{display:none}
#entries .source-list{min-width:0}
}
@media print{
html{font-size:9pt}
main,footer{max-width:none;padding:0}
.scroll{overflow:visible}
th,td{white-space:normal;padding:.15rem .3rem}
svg,.source-list,#entries .name{min-width:0}
tr,figure,#grand-total{break-inside:avoid}
h2{break-after:avoid}
a{color:inherit}
}
"""

# Okabe and Ito's colours, told apart by people who do not see every colour; "other" in grey.
_COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#6b6b6b")
_OTHER_COLOUR = "#b4b4b4"
_MARKS = tuple(mark for mark in QUALIFIER_MARKS.values() if mark)
_COARSE_NOTE = "Paler bars: a period coarser than the bars around it (a year among quarters)."
_FIGURE_WORDS = {"entries": "entries", "h100e": "H100-equivalents", "power_mw": "MW of power"}


def render_page(page: Page) -> str:
    """The whole page, as HTML text: one file that needs nothing else, for screens of any width
    and for print. The figures are the tables' (``for_people``), shown as the CLI shows them."""
    sections = [
        _header(page),
        _section("By country", _table(page.by_country, "by-country")),
        _section("By vendor", _table(page.by_vendor, "by-vendor")),
        _section("Coming online", _timeline(page.chart, page.timeline)),
    ]
    if page.sovereignty is not None:
        sections.append(_section("Whose chips", _table(page.sovereignty, "sovereignty")))
    sections.append(_section("Entries", _entries(page.entries)))
    body = "\n".join(sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_text(page.title)}</title>
<style>{_CSS}</style>
</head>
<body>
<main>
{body}
</main>
{_footer(page)}
</body>
</html>
"""


def _text(value: object) -> str:
    """Text from the data, as HTML shows it literally."""
    return html.escape(str(value))


def _section(heading: str, content: str) -> str:
    return f"<section>\n<h2>{_text(heading)}</h2>\n{content}\n</section>"


def _header(page: Page) -> str:
    return (
        f"<header>\n<h1>{_text(page.title)}</h1>\n"
        f'<p class="meta">Published {_text(page.generated)} · {_text(page.filters)}</p>\n'
        f"{_grand_total(page.summary)}\n</header>"
    )


def _grand_total(summary: Table) -> str:
    """The summary's total row: its chips large, its other figures after them."""
    people = summary.for_people()
    total = {} if people.total is None else dict(zip(people.columns, people.total, strict=True))
    figures = [
        f"{_text(display(value))} {_text(_FIGURE_WORDS.get(column, column))}"
        for column, value in total.items()
        if column != "chips" and isinstance(value, (int, Decimal))
    ]
    return (
        f'<div id="grand-total">\n<p class="chips">{_text(display(total.get("chips"), "0"))}</p>\n'
        "<p>AI accelerators, every chip counted once</p>\n"
        f'<p class="figures">{" · ".join(figures)}</p>\n</div>'
    )


def _footer(page: Page) -> str:
    notes = "".join(f"<li>{_text(note)}</li>\n" for note in page.notes)
    listed = f"<ul>\n{notes}</ul>\n" if notes else ""
    return f'<footer>\n<h2>Notes</h2>\n{listed}<p class="licence">{_text(page.licence)}</p>\n</footer>'


def _numeric_columns(people: PeopleView) -> list[bool]:
    """Which columns hold numbers (right-aligned), as the CLI's tables decide: every value a
    number or missing, and one at least given."""
    return [
        all(isinstance(row[i], (int, Decimal)) or row[i] is None for row in people.rows)
        and any(row[i] is not None for row in people.rows)
        for i in range(len(people.columns))
    ]


def _table(table: Table, table_id: str) -> str:
    """A table as the CLI's ``--format table`` shows it: its rows, then its total row."""
    people = table.for_people()
    numeric = _numeric_columns(people)
    blank = people.blank
    blanks = [blank if isinstance(blank, str) else blank.get(column, "") for column in people.columns]
    head = "".join(
        f'<th scope="col"{_aligned(right)}>{_breakable(column)}</th>'
        for column, right in zip(people.columns, numeric, strict=True)
    )
    rows = [_row(row, numeric, blanks) for row in people.rows] or [
        f'<tr><td colspan="{len(people.columns)}" class="empty">No matching rows</td></tr>'
    ]
    body = "\n".join(rows)
    foot = "" if people.total is None else f"<tfoot>\n{_row(people.total, numeric)}\n</tfoot>\n"
    return (
        f'<div class="scroll">\n<table id="{table_id}">\n<thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{body}\n</tbody>\n{foot}</table>\n</div>"
    )


def _row(values: Sequence[object], numeric: Sequence[bool], blanks: Sequence[str] | None = None) -> str:
    """One row of cells; a missing value shows as its column's blank (a total row's as nothing,
    as the CLI shows it)."""
    shown = blanks or [""] * len(values)
    cells = "".join(
        f"<td{_aligned(right)}>{_number(display(value, empty))}</td>"
        for value, right, empty in zip(values, numeric, shown, strict=True)
    )
    return f"<tr>{cells}</tr>"


def _breakable(column: str) -> str:
    """A column's name, which may break after an underscore: ``operator_<wbr>foreign``."""
    return _text(column).replace("_", "_<wbr>")


def _number(text: str) -> str:
    """A count or figure as text, its qualifier mark kept on the line of its digits: ``≥ 500,000``."""
    mark = next((mark for mark in _MARKS if text.startswith(mark)), None)
    if mark is None:
        return _text(text)
    digits, space, rest = text[len(mark) :].partition(" ")
    return f'<span class="whole">{_text(mark + digits)}</span>{_text(space + rest)}'


def _aligned(right: bool) -> str:
    return ' class="num"' if right else ""


def _timeline(chart: ChartData | None, timeline: Table) -> str:
    drawn = (
        _chart(chart)
        if chart is not None and not chart.empty
        else '<p class="empty">No chips have a date to come online by: there is no timeline to draw.</p>'
    )
    return f"{drawn}\n{_table(timeline, 'timeline')}"


def _chart(chart: ChartData) -> str:
    """The chart as a figure: its title and subtitle, the bars, and a legend of their colours."""
    colours = {
        stack: _OTHER_COLOUR if stack == OTHER else _COLOURS[i % len(_COLOURS)]
        for i, stack in enumerate(chart.series)
    }
    legend = "".join(
        f'<li><span class="swatch" style="color:{colour}" aria-hidden="true">■</span> {_text(stack)}</li>'
        for stack, colour in colours.items()
    )
    coarse = f'<p class="empty">{_COARSE_NOTE}</p>\n' if any(chart.coarse) else ""
    return (
        f"<figure>\n<figcaption><strong>{_text(chart.title)}</strong><br>{_text(chart.subtitle)}</figcaption>\n"
        f'<div class="scroll">\n{_svg(chart, colours)}\n</div>\n'
        f'<ul class="legend" aria-label="{_text(chart.stack_key)}">{legend}</ul>\n{coarse}</figure>'
    )


_FONT = 13  # the chart's text size, in its own units (it scales with the page's width)
_CHAR = 0.62  # a character's width, in font sizes: about a digit's in the system fonts


@dataclass(frozen=True)
class _Frame:
    """Where the bars are drawn, in the SVG's own units, and how their labels lie: flat where
    they fit under (or over) their bar, else turned to read upwards."""

    bars: int
    highest: int  # the axis's top value
    top: float  # room above the plot, for the tallest bar's total
    below: float  # room under the axis, for the periods
    flat_totals: bool
    flat_periods: bool
    total_size: float  # the totals' text size: smaller where bars are too narrow for it
    width: int = 800
    plot_height: int = 240
    left: int = 72  # room for the axis's values
    right: int = 8

    @property
    def height(self) -> float:
        return self.top + self.plot_height + self.below

    @property
    def axis(self) -> float:
        return self.top + self.plot_height

    @property
    def band(self) -> float:
        return (self.width - self.left - self.right) / self.bars

    def x(self, bar: int) -> float:
        """The middle of a bar."""
        return self.left + self.band * (bar + 0.5)

    def y(self, chips: int) -> float:
        return self.axis - self.plot_height * chips / self.highest


def _frame(highest: int, totals: Sequence[str], periods: Sequence[str], every: int) -> _Frame:
    """The frame of bars with these totals and period labels (one in ``every`` shown)."""
    band = (_Frame.width - _Frame.left - _Frame.right) / len(totals)
    longest_total = max(map(len, totals)) * _CHAR
    longest_period = max(map(len, periods)) * _CHAR * _FONT
    flat_totals = longest_total * _FONT + 4 <= band
    flat_periods = longest_period + 6 <= band * every
    total_size = _FONT if flat_totals else min(_FONT, band - 2)
    return _Frame(
        bars=len(totals),
        highest=highest,
        top=10 + (total_size if flat_totals else longest_total * total_size),
        below=(_FONT + 14) if flat_periods else longest_period + 16,
        flat_totals=flat_totals,
        flat_periods=flat_periods,
        total_size=total_size,
    )


def _svg(chart: ChartData, colours: dict[str, str]) -> str:
    """Stacked bars with a value axis, each bar's total above it and a tooltip of its parts."""
    count = len(chart.categories)
    stacked = [sum(chips[bar] for chips in chart.series.values()) for bar in range(count)]
    highest = max([*stacked, *(amount.chips for amount in chart.totals)])
    step = _tick_step(highest)
    totals = [display(Count(amount.chips, amount.qualifier.value)) for amount in chart.totals]
    every = math.ceil(count / MAX_PERIOD_LABELS) if count > MANY_BARS else 1
    frame = _frame(max(step, math.ceil(highest / step) * step), totals, chart.categories, every)
    parts = [
        f'<svg viewBox="0 0 {frame.width} {frame.height:.0f}" font-size="{_FONT}" role="img" '
        f'aria-label="{_text(chart.title)}">',
        *_axis(frame, step),
    ]
    for bar, (category, amount, total) in enumerate(zip(chart.categories, chart.totals, totals, strict=True)):
        coarse = bar < len(chart.coarse) and chart.coarse[bar]
        parts.append(_bar(frame, bar, category, amount.chips, total, chart.series, colours, coarse))
        if bar % every == 0:
            parts.append(_period_label(frame, bar, category))
    parts.append("</svg>")
    return "\n".join(parts)


def _tick_step(highest: int) -> int:
    """A round step (1, 2 or 5 times a power of ten) giving the axis three to five values."""
    rough = max(highest / 4, 1)
    power = 10 ** math.floor(math.log10(rough))
    return next(power * factor for factor in (1, 2, 5, 10) if power * factor >= rough)


def _axis(frame: _Frame, step: int) -> list[str]:
    lines = []
    end = frame.width - frame.right
    for value in range(0, frame.highest + 1, step):
        y = frame.y(value)
        lines.append(
            f'<line class="grid" x1="{frame.left}" x2="{end}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{frame.left - 6}" y="{y:.1f}" dy="0.32em" text-anchor="end">'
            f"{value:,}</text>"
        )
    lines.append(f'<line class="axis" x1="{frame.left}" x2="{end}" y1="{frame.axis}" y2="{frame.axis}"/>')
    return lines


def _bar(
    frame: _Frame,
    bar: int,
    category: str,
    chips: int,
    total: str,
    series: dict[str, list[int]],
    colours: dict[str, str],
    coarse: bool,
) -> str:
    """One bar: a rectangle for each stacked value it has, its total above it (none for an
    empty period), and its parts named in a tooltip."""
    width = min(frame.band * 0.7, 56)  # a few bars stay bars, not blocks
    left = frame.x(bar) - width / 2
    rects, named, base = [], [], 0
    for stack, values in series.items():
        if values[bar] <= 0:
            continue
        top, bottom = frame.y(base + values[bar]), frame.y(base)
        rects.append(
            f'<rect x="{left:.1f}" y="{top:.1f}" width="{width:.1f}" height="{bottom - top:.1f}" '
            f'fill="{colours[stack]}"/>'
        )
        named.append(f"{stack} {values[bar]:,}")
        base += values[bar]
    tooltip = f"{category}: {total}" + (f" ({'; '.join(named)})" if named else "")
    label = _total_label(frame, bar, frame.y(max(base, chips)), total) if chips else ""
    kind = "bar coarse" if coarse else "bar"
    return f'<g class="{kind}"><title>{_text(tooltip)}</title>{"".join(rects)}{label}</g>'


def _total_label(frame: _Frame, bar: int, top: float, total: str) -> str:
    x, y = frame.x(bar), top - 5
    if frame.flat_totals:
        return f'<text class="total" x="{x:.1f}" y="{y:.1f}" text-anchor="middle">{_text(total)}</text>'
    return (
        f'<text class="total" x="{x:.1f}" y="{y:.1f}" dy="0.32em" font-size="{frame.total_size:.1f}" '
        f'transform="rotate(-90 {x:.1f} {y:.1f})">{_text(total)}</text>'
    )


def _period_label(frame: _Frame, bar: int, category: str) -> str:
    x, y = frame.x(bar), frame.axis + 8
    if frame.flat_periods:
        return (
            f'<text class="period" x="{x:.1f}" y="{y + 10:.1f}" text-anchor="middle">{_text(category)}</text>'
        )
    return (
        f'<text class="period" x="{x:.1f}" y="{y:.1f}" dy="0.32em" text-anchor="end" '
        f'transform="rotate(-90 {x:.1f} {y:.1f})">{_text(category)}</text>'
    )


_ENTRY_COLUMNS = ("id", "name", "place", "operator", "status", "chips", "announced", "online", "parent",
                  "sources")  # fmt: skip


def _entries(entries: Sequence[PageEntry]) -> str:
    """Every entry, each row named ``entry-<id>`` so that its parts can link to it."""
    head = "".join(f'<th scope="col">{column}</th>' for column in _ENTRY_COLUMNS)
    rows = "\n".join(_entry_row(entry) for entry in entries) or (
        f'<tr><td colspan="{len(_ENTRY_COLUMNS)}" class="empty">No matching entries</td></tr>'
    )
    return (
        f'<div class="scroll">\n<table id="entries">\n<thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{rows}\n</tbody>\n</table>\n</div>"
    )


def _entry_row(entry: PageEntry) -> str:
    """An entry's cells, each named by its column (a phone shows them as a card, labelled)."""
    parent = f'<a href="#entry-{_text(entry.parent)}">{_text(entry.parent)}</a>' if entry.parent else ""
    sources = "".join(_source(source) for source in entry.sources)
    cells = [
        *(_text(text or "") for text in (entry.id, entry.name, entry.place, entry.operator, entry.status)),
        "; ".join(_number(lot) for lot in entry.chips.split("; ")),
        _text(entry.announced or ""),
        _text(entry.online or ""),
        parent,
        f'<ul class="source-list">{sources}</ul>' if sources else "",
    ]
    shown = "".join(
        f'<td class="{column}" data-label="{column}">{cell}</td>'
        for column, cell in zip(_ENTRY_COLUMNS, cells, strict=True)
    )
    return f'<tr id="entry-{_text(entry.id)}">{shown}</tr>'


def _source(source: PageSource) -> str:
    """A source: a link when it is a web address, else its text; its grade after it."""
    if _is_web_address(source.url):
        shown = f'<a href="{_text(source.url)}">{_text(source.title or source.url)}</a>'
    elif source.title and source.title != source.url:
        shown = f"{_text(source.title)}: {_text(source.url)}"
    else:
        shown = _text(source.url)
    grade = f" <small>{_text(source.grade)}</small>" if source.grade else ""
    return f"<li>{shown}{grade}</li>"


def _is_web_address(url: str) -> bool:
    """Only http and https: a ``javascript:`` or ``data:`` address would run in the reader's
    browser. The text itself must begin so: not even a space before it, which browsers drop."""
    return url[:8].lower().startswith(("http://", "https://"))
