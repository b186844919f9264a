"""Small server-rendered SVG charts for pages a person would rather look at
than read (balances over time, the workload of a queue, payments by status).

The geometry is computed here, in plain Python, and drawn by
`templates/includes/chart_bars.html` and `chart_line.html`: no JavaScript, no
build step, a <title>/<desc> for screen readers and the same figures in a data
table beside every chart.

Each chart is drawn twice: for wide screens, and `narrow` (NARROW_WIDTH units
wide, about a phone's width, so its text stays near its nominal size instead of
shrinking with a 640-unit drawing; a bar's label and value sit on a line of
their own above it). The stylesheet shows one of the two.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date


def _n(value: float) -> str:
    """A coordinate as SVG reads it: a dot for decimals whatever the page's
    language (the template would localise a float to "12,5")."""
    return f"{value:.1f}".removesuffix(".0")


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    tone: str = ""  # "", "ok", "warn", "danger": the bar's colour class
    href: str = ""  # where a click on the row leads (a filtered list), optional


NARROW_WIDTH = 320


@dataclass
class BarChart:
    id: str
    title: str
    summary: str
    money: bool
    width: int
    height: int
    label_width: int
    bar_height: int
    rows: list[dict] = field(default_factory=list)
    narrow: dict = field(default_factory=dict)  # {"width", "height", "bar_height", "rows"}


def _narrow_bars(bars: Sequence[Bar], top: int, *, width: int = NARROW_WIDTH, bar_height: int = 14,
                 text: int = 18, gap: int = 14) -> dict:
    """Label (left) and value (right) on one line, the bar under them across the width."""
    rows = []
    pitch = text + 4 + bar_height + gap
    for i, b in enumerate(bars):
        y = i * pitch
        length = round(width * b.value / top) if top > 0 else 0
        rows.append({
            "label": b.label, "value": b.value, "tone": b.tone,
            "text_y": _n(y + text - 4), "bar_y": _n(y + text + 4), "w": _n(max(length, 2)),
        })
    height = max(len(bars) * pitch - gap, text + 4 + bar_height)
    return {"width": width, "height": height, "bar_height": bar_height, "rows": rows}


def bar_chart(
    chart_id: str, title: str, summary: str, bars: Sequence[Bar], *, money: bool = False,
    width: int = 640, label_width: int = 200, bar_height: int = 26, gap: int = 12, value_room: int = 170,
) -> BarChart:
    """Horizontal bars, one row each, lengths proportional to the largest value
    (a bar of 0 is drawn as a hairline so the row still reads as a bar)."""
    top = max((b.value for b in bars), default=0)
    span = width - label_width - value_room
    rows = []
    for i, b in enumerate(bars):
        y = i * (bar_height + gap)
        length = round(span * b.value / top) if top > 0 else 0
        rows.append({
            "label": b.label, "value": b.value, "tone": b.tone, "href": b.href,
            "y": _n(y), "w": _n(max(length, 2)), "text_y": _n(y + bar_height * 0.68),
            "value_x": _n(label_width + max(length, 2) + 8),
        })
    height = max(len(bars) * (bar_height + gap) - gap, bar_height)
    return BarChart(
        chart_id, title, summary, money, width, height, label_width, bar_height, rows, _narrow_bars(bars, top)
    )


@dataclass
class LineChart:
    id: str
    title: str
    summary: str
    width: int
    height: int
    axis_x: int  # where the value labels end (right-aligned)
    axis_y: int  # the baseline of the day labels
    points: str  # the SVG polyline's "x,y x,y ..."
    area: str  # the same line closed down to the baseline, for the fill
    y_ticks: list[dict]
    x_ticks: list[dict]
    rows: list[dict]
    narrow: "LineChart | None" = None  # the same line NARROW_WIDTH wide, value labels inside the plot


def line_chart(
    chart_id: str, title: str, summary: str, series: Sequence[tuple[date, int]], *,
    width: int = 640, height: int = 220, left: int = 130, right: int = 16, top: int = 12, bottom: int = 28,
    narrow: bool = True,
) -> LineChart:
    """A step line of daily values (e.g. closing balances), zero included on the
    axis so a small change does not look like a collapse."""
    values = [v for _, v in series]
    lo, hi = min([0, *values]), max([0, *values])
    if hi == lo:
        hi = lo + 1
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(series)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: int) -> float:
        return top + plot_h * (hi - v) / (hi - lo)

    coords: list[tuple[float, float]] = []
    for i, (_, v) in enumerate(series):
        if coords:  # a step: hold the previous day's value until this day
            coords.append((x(i), coords[-1][1]))
        coords.append((x(i), y(v)))
    points = " ".join(f"{_n(cx)},{_n(cy)}" for cx, cy in coords)
    base = _n(y(0) if lo < 0 < hi else y(lo))
    area = f"{_n(coords[0][0])},{base} {points} {_n(coords[-1][0])},{base}" if coords else ""
    y_ticks = [{"y": _n(y(v)), "value": v} for v in sorted({lo, hi, *([0] if lo < 0 < hi else [])})]
    picks = sorted({0, n // 2, n - 1}) if n else []
    x_ticks = [{"x": _n(x(i)), "day": series[i][0]} for i in picks]
    rows = [{"day": d, "value": v} for d, v in series]
    small = (
        line_chart(chart_id, title, summary, series, width=NARROW_WIDTH, height=200, left=8, right=8, top=24,
                   bottom=26, narrow=False)
        if narrow else None
    )
    return LineChart(
        chart_id, title, summary, width, height, left - 6, height - 6, points, area, y_ticks, x_ticks, rows, small
    )
