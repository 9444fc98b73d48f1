"""Drawing a chart with matplotlib (the ``plot`` extra): stacked bars, titled, labelled."""

from __future__ import annotations

import math
from pathlib import Path
from typing import IO, Any

from tracker.errors import TrackerError
from tracker.service.charts import ChartData
from tracker.service.tables import QUALIFIER_MARKS
from tracker.service.timeline import UNDATED

SIZE_INCHES = (12.0, 6.75)
DPI = 100  # a PNG of 1200 x 675 pixels; an SVG of 864 x 486 points
MANY_BARS = 40  # more, and only some periods are labelled: this many at the most
LABELS_AT_MOST = 20
FORMATS = {".png": "png", ".svg": "svg"}
FOOTER = (
    "Sovereign-AI capacity tracker: accelerators (GPUs and other accelerator packages) from announcements, "
    'each with its source; ≥: at least (a plan of "more than"), ~: about, ≤: up to.'
)


COARSE_NOTE = "Hatched: a period coarser than the bars around it (a year among quarters)."
UNDATED_NOTE = "Dashed: the undated chips, added last to the running total."
RUNNING_TOTAL = "running total"
RUNNING_COLOUR = "black"  # none of the stacks' colours


class PlotUnavailable(TrackerError):
    """matplotlib is not installed."""

    def __init__(self) -> None:
        super().__init__(
            "tracker chart needs matplotlib, which is not installed: "
            "pip install 'sovereign-ai-tracker[plot]' (or pip install matplotlib)"
        )


def chart_format(path: Path) -> str:
    """png or svg, from the file's name."""
    return FORMATS.get(path.suffix.lower(), "")


def require_matplotlib() -> None:
    """Fail at once, before any work, when matplotlib is not installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlotUnavailable() from None


def draw(chart: ChartData, stream: IO[bytes], fmt: str) -> None:
    """Draw ``chart`` as stacked bars into ``stream``, as PNG or SVG."""
    require_matplotlib()
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    with matplotlib.rc_context({"svg.hashsalt": "tracker", "svg.fonttype": "none", "font.size": 10}):
        figure = Figure(figsize=SIZE_INCHES, dpi=DPI)
        axes = figure.add_subplot()
        positions = list(range(len(chart.categories)))
        colours = matplotlib.colormaps["tab10"]  # MAX_STACKS colours at most
        bottoms = [0] * len(positions)
        for index, (label, values) in enumerate(chart.series.items()):
            bars = axes.bar(positions, values, bottom=bottoms, label=label, color=colours(index), width=0.7)
            for bar, coarse in zip(bars, chart.coarse, strict=False):
                if coarse:
                    bar.set_hatch("//")
                    bar.set_edgecolor("white")
            bottoms = [bottom + value for bottom, value in zip(bottoms, values, strict=True)]
        crowded = len(positions) > 6
        # So many bars (a timeline of decades by quarter) that only some labels fit: every
        # step-th period's (and the last), and only the counts of the bars that are not empty.
        step = math.ceil(len(positions) / LABELS_AT_MOST) if len(positions) > MANY_BARS else 1
        for position, amount in zip(positions, chart.totals, strict=True):
            if step > 1 and not amount.chips:
                continue
            text = f"{QUALIFIER_MARKS[amount.qualifier.value]}{amount.chips:,}"
            axes.annotate(
                text, (position, amount.chips), ha="center", va="bottom", fontsize=8 if crowded else 9,
                xytext=(0, 2), textcoords="offset points", rotation=90 if len(positions) > 12 else 0,
            )  # fmt: skip
        labels = [
            category if place % step == 0 or place == len(positions) - 1 else ""
            for place, category in enumerate(chart.categories)
        ]
        axes.set_xticks(positions, labels, rotation=30 if crowded else 0, ha="right" if crowded else "center")
        axes.yaxis.set_major_formatter(FuncFormatter(_thousands))
        axes.set_ylabel("accelerators")
        axes.set_ylim(
            0, max(amount.chips for amount in chart.totals) * (1.25 if len(positions) > 12 else 1.12) or 1
        )
        axes.spines[["top", "right"]].set_visible(False)
        legend_at = 1.01
        notes = [COARSE_NOTE] if any(chart.coarse) else []
        if chart.running:
            notes += _draw_running_total(axes, positions, chart)
            legend_at = 1.1  # beyond the running total's scale
        axes.legend(
            title=chart.stack_key,
            fontsize=9,
            title_fontsize=9,
            loc="upper left",
            bbox_to_anchor=(legend_at, 1),
        )
        figure.suptitle(chart.title, fontsize=14, fontweight="bold")
        axes.set_title(chart.subtitle, fontsize=10)
        figure.text(0.01, 0.01, "\n".join([FOOTER, *notes]), fontsize=8, color="dimgray")
        right = 0.8 if chart.running else 0.85
        figure.subplots_adjust(left=0.1, right=right, top=0.88, bottom=0.2 if crowded else 0.12)
        metadata: dict[str, Any] = {"Date": None} if fmt == "svg" else {}
        figure.savefig(stream, format=fmt, metadata=metadata)


def _draw_running_total(axes: Any, positions: list[int], chart: ChartData) -> list[str]:
    """The running total as a line over the bars, on a scale of its own at the right (from
    zero, as the bars' is): it grows to the whole total, which on the bars' scale would
    flatten them. Returns the footer's notes for it."""
    from matplotlib.ticker import FuncFormatter

    scale = axes.twinx()
    dated = len(chart.running) - (chart.categories[-1] == UNDATED)
    style = {"color": RUNNING_COLOUR, "marker": "o", "markersize": 4, "linewidth": 2}
    (line,) = scale.plot(
        positions[:dated], chart.running[:dated], label=RUNNING_TOTAL, gid="running-total", **style
    )
    notes = []
    if dated < len(positions):  # undated chips are not later ones: their step is dashed
        start = max(dated - 1, 0)
        scale.plot(
            positions[start:], chart.running[start:], linestyle="--", gid="running-total-undated", **style
        )
        notes.append(UNDATED_NOTE)
    scale.set_ylim(0, max(chart.running) * 1.12 or 1)
    scale.yaxis.set_major_formatter(FuncFormatter(_thousands))
    scale.set_ylabel(f"{RUNNING_TOTAL} (accelerators)")
    scale.spines["top"].set_visible(False)
    scale.legend(handles=[line], fontsize=9, loc="lower left", bbox_to_anchor=(1.1, 0))
    return notes


def _thousands(value: float, _: object) -> str:
    return f"{value:,.0f}"
