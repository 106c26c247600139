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
WIDTH = 720
LABEL_WIDTH = 110  # municipality names up to about 7 characters at 13 px
RIGHT_MARGIN = 40  # room for the largest value's number
BAR_HEIGHT = 7
GROUP_GAP = 10
TOP = 64  # legend and the upper tick labels
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


def grouped_bar_chart(
    chart_id: str, title: str, description: str, series: list[Series], groups: list[Group]
) -> Markup:
    """Return a horizontal grouped bar chart as inline SVG markup."""
    group_height = BAR_HEIGHT * len(series) + GROUP_GAP
    height = TOP + group_height * len(groups) + AXIS
    svg = ET.Element("svg", _svg_attributes(chart_id, height))
    ET.SubElement(svg, "title", id=f"{chart_id}-title").text = title
    ET.SubElement(svg, "desc", id=f"{chart_id}-desc").text = description
    _legend(svg, series)
    scale = _Scale(max((max(g.values, default=0) for g in groups), default=0))
    _grid(svg, scale, TOP, height - AXIS)
    for index, group in enumerate(groups):
        _group(svg, group, series, scale, TOP + index * group_height)
    return Markup(ET.tostring(svg, encoding="unicode"))


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

    def __init__(self, largest: int):
        self.step = _tick_step(largest)
        self.top = max(self.step, math.ceil(largest / self.step) * self.step)
        self.span = WIDTH - LABEL_WIDTH - RIGHT_MARGIN

    def x(self, value: float) -> float:
        """Return the x position of a value."""
        return LABEL_WIDTH + self.span * value / self.top

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
        for y in (top - 10, bottom + 16):  # above and below: a long chart needs both
            tick = ET.SubElement(grid, "text", {"x": x, "y": str(y), "text-anchor": "middle"})
            tick.text = str(value)


def _group(svg: ET.Element, group: Group, series: list[Series], scale: _Scale, y: int) -> None:
    """Draw one municipality: its name, then one bar per series with its value."""
    element = ET.SubElement(svg, "g", {"class": "bar-group", "data-key": group.key})
    summary = "、".join(f"{s.label} {v}" for s, v in zip(series, group.values, strict=True))
    ET.SubElement(element, "title").text = f"{group.label}: {summary}"
    middle = y + BAR_HEIGHT * len(series) / 2 + 4
    attributes = {"x": str(LABEL_WIDTH - 6), "y": f"{middle:.1f}", "text-anchor": "end"}
    name = ET.SubElement(element, "text", attributes | ({"lang": group.lang} if group.lang else {}))
    name.text = group.label
    for index, (item, value) in enumerate(zip(series, group.values, strict=True)):
        _bar(element, scale, item, value, y + index * BAR_HEIGHT)


def _bar(parent: ET.Element, scale: _Scale, item: Series, value: int, y: int) -> None:
    """Draw one bar; a zero gets a thin mark so the reader sees it was counted."""
    width = max(scale.x(value) - LABEL_WIDTH, 1.5)
    ET.SubElement(
        parent,
        "rect",
        x=str(LABEL_WIDTH),
        y=str(y),
        width=f"{width:.1f}",
        height=str(BAR_HEIGHT - 1),
        fill=item.fill,
    )
