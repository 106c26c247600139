"""Server-side SVG charts: no JavaScript, no CDN, no inline styles (the CSP forbids them).

Built with ElementTree so the output is always well-formed XML, with every text escaped.
Colours are presentation attributes (allowed under `style-src 'self'`).
"""

from __future__ import annotations

import itertools
import math
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from markupsafe import Markup

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH = 960
PANEL_GAP = 24  # between the side-by-side panels (23 wards, Tama, islands)
LABEL_WIDTH = 100  # municipality names up to about 7 characters at 13 px
RIGHT_MARGIN = 34  # room for the largest value's number
ROW = 14  # one row per municipality: the series drawn inside each other
TOP = 64  # legend and the upper tick labels
PANEL_TITLE = 20
AXIS = 22  # tick labels under the bars


@dataclass(frozen=True)
class Series:
    """One kind of bar: its label, fill colour and a class for print styles."""

    label: str
    fill: str


@dataclass(frozen=True)
class Group:
    """One group of bars (a municipality): its label and one value per series."""

    label: str
    values: tuple[int, ...]
    key: str = ""
    lang: str = ""  # the label's language when it differs from the page's (place names: ja)


@dataclass(frozen=True)
class Panel:
    """Groups shown side by side with others (e.g. the 23 wards, Tama, the islands)."""

    title: str
    groups: list[Group]


def grouped_bar_chart(
    chart_id: str, title: str, description: str, series: list[Series], panels: list[Panel]
) -> Markup:
    """Return horizontal bars as inline SVG: one row per group, each series drawn inside the
    previous one (they are nested counts), panels side by side so the chart fits one screen."""
    rows = max((len(p.groups) for p in panels), default=0)
    height = TOP + PANEL_TITLE + ROW * rows + AXIS
    svg = ET.Element("svg", _svg_attributes(chart_id, height))
    ET.SubElement(svg, "title", id=f"{chart_id}-title").text = title
    ET.SubElement(svg, "desc", id=f"{chart_id}-desc").text = description
    _legend(svg, series)
    width = (WIDTH - PANEL_GAP * (len(panels) - 1)) / max(len(panels), 1)
    largest = max((max(g.values, default=0) for p in panels for g in p.groups), default=0)
    for index, panel in enumerate(panels):
        left = index * (width + PANEL_GAP)
        scale = _Scale(largest, left + LABEL_WIDTH, width - LABEL_WIDTH - RIGHT_MARGIN)
        _panel(svg, panel, series, scale, height)
    return Markup(ET.tostring(svg, encoding="unicode"))


def _panel(svg: ET.Element, panel: Panel, series: list[Series], scale, height: int) -> None:
    """Draw one panel: its title, grid and one row per group."""
    heading = ET.SubElement(svg, "text", {"x": f"{scale.left:.1f}", "y": str(TOP + 2)})
    heading.text = panel.title
    heading.set("font-weight", "bold")
    top = TOP + PANEL_TITLE
    _grid(svg, scale, top, height - AXIS)
    for index, group in enumerate(panel.groups):
        _group(svg, group, series, scale, top + index * ROW)


def _svg_attributes(chart_id: str, height: int) -> dict[str, str]:
    """Return the root element's attributes: an image labelled by its title and description."""
    return {
        "xmlns": SVG_NS,
        "id": chart_id,
        "class": "chart",
        "viewBox": f"0 0 {WIDTH} {height}",
        "width": "100%",
        "role": "img",
        "aria-labelledby": f"{chart_id}-title {chart_id}-desc",
        "font-size": "13",
        "font-family": "system-ui, sans-serif",
    }


class _Scale:
    """Map counts to x positions, with round tick values."""

    def __init__(self, largest: int, left: float, span: float):
        self.step = _tick_step(largest)
        self.top = max(self.step, math.ceil(largest / self.step) * self.step)
        self.left, self.span = left, span

    def x(self, value: float) -> float:
        """Return the x position of a value."""
        return self.left + self.span * value / self.top

    def ticks(self) -> range:
        """Return the tick values from 0 to the top of the scale."""
        return range(0, self.top + 1, self.step)


def _tick_step(largest: int) -> int:
    """Return a round step giving at most about five ticks."""
    step, factors = 1, itertools.cycle((2, 2.5, 2))  # 1, 2, 5, 10, 20, 50 ...
    while largest / step > 5:
        step = int(step * next(factors))
    return step


def _legend(svg: ET.Element, series: list[Series]) -> None:
    """Draw one swatch and label per series above the bars."""
    x = LABEL_WIDTH
    for item in series:
        ET.SubElement(svg, "rect", x=str(x), y="14", width="14", height="14", fill=item.fill)
        label = ET.SubElement(svg, "text", x=str(x + 20), y="26")
        label.text = item.label
        x += 30 + _text_width(item.label)


def _text_width(text: str) -> int:
    """Estimate a label's width at 13 px: full-width characters about twice the others."""
    return sum(13 if unicodedata.east_asian_width(c) in "WF" else 7 for c in text)


def _grid(svg: ET.Element, scale: _Scale, top: int, bottom: int) -> None:
    """Draw vertical grid lines with their values underneath."""
    grid = ET.SubElement(svg, "g", {"class": "chart-grid", "aria-hidden": "true"})
    for value in scale.ticks():
        x = f"{scale.x(value):.1f}"
        ET.SubElement(grid, "line", x1=x, x2=x, y1=str(top - 4), y2=str(bottom), stroke="#c9cfd2")
        for y in (bottom + 16,):
            tick = ET.SubElement(grid, "text", {"x": x, "y": str(y), "text-anchor": "middle"})
            tick.text = str(value)


def _group(svg: ET.Element, group: Group, series: list[Series], scale: _Scale, y: int) -> None:
    """Draw one municipality: its name, then its series as nested bars and the first value."""
    element = ET.SubElement(svg, "g", {"class": "bar-group", "data-key": group.key})
    summary = "、".join(f"{s.label} {v}" for s, v in zip(series, group.values, strict=True))
    ET.SubElement(element, "title").text = f"{group.label}: {summary}"
    attributes = {"x": f"{scale.left - 6:.1f}", "y": str(y + ROW - 3), "text-anchor": "end"}
    name = ET.SubElement(element, "text", attributes | ({"lang": group.lang} if group.lang else {}))
    name.text = group.label
    for index, (item, value) in enumerate(zip(series, group.values, strict=True)):
        _bar(element, scale, item, value, y, index)
    total = ET.SubElement(
        element, "text", x=f"{scale.x(group.values[0]) + 4:.1f}", y=str(y + ROW - 3)
    )
    total.text = str(group.values[0])


# Bar thickness and offset inside a row for the 1st, 2nd, 3rd and 4th series: the whole
# (facilities), its part (answered) the same size over it, then two thin ones in its halves.
_BAR_BANDS = ((1, ROW - 2), (1, ROW - 2), (2, 4), (ROW - 6, 4))


def _bar(parent: ET.Element, scale: _Scale, item: Series, value: int, y: int, index: int) -> None:
    """Draw one bar; a zero gets a thin mark so the reader sees it was counted."""
    offset, thickness = _BAR_BANDS[min(index, len(_BAR_BANDS) - 1)]
    width = max(scale.x(value) - scale.left, 1.5)
    ET.SubElement(
        parent,
        "rect",
        x=f"{scale.left:.1f}",
        y=str(y + offset),
        width=f"{width:.1f}",
        height=str(thickness),
        fill=item.fill,
    )
