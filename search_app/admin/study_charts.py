"""Charts of the study group's report: one description, drawn as SVG (screen) and in the PDF.

Colour-blind safe: the Okabe–Ito palette; nothing is told by colour alone. Every bar carries
its number, the response bars use a hatch for the non-respondents, and the map's statuses have
distinct shapes as well as colours (print in grey still tells them apart). No inline styles
(the CSP forbids them): colours are presentation attributes.
"""

from __future__ import annotations

import math
import statistics
import unicodedata
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass

from markupsafe import Markup

SVG_NS = "http://www.w3.org/2000/svg"
# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour
# vision deficiency.
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)
ANSWERED_FILL = "#0072B2"
UNANSWERED_FILL = "#E69F00"
# The map's marks: status -> (shape, fill). "none" is drawn hollow.
MARKS = {
    "accepting": ("circle", "#0072B2"),
    "conditional": ("triangle", "#E69F00"),
    "declining": ("square", "#D55E00"),
    "answered": ("circle", "#0072B2"),
    "none": ("diamond", "#7F7F7F"),
}
# The map frames the facilities near the middle of the scope: this many degrees either side
# of the median point; the others (e.g. far islands) are counted under the map.
FRAME_LAT, FRAME_LNG = 0.6, 0.9
SPREAD = 0.012  # facilities at one spot are drawn on a ring this wide (share of the frame)


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value, and the text printed beside it."""

    label: str
    value: int
    text: str


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars, one colour per bar position (a choice keeps its colour)."""

    chart_id: str
    title: str
    bars: tuple[Bar, ...]
    one_colour: bool = False  # a histogram: every bar the same colour

    def fill(self, index: int) -> str:
        """The colour of the bar at a position."""
        return OKABE_ITO[0] if self.one_colour else OKABE_ITO[index % len(OKABE_ITO)]


@dataclass(frozen=True)
class SplitRow:
    """One group: respondents and non-respondents of the facilities in scope."""

    label: str
    answered: int
    unanswered: int


@dataclass(frozen=True)
class SplitChart:
    """One bar per group, split into respondents (solid) and non-respondents (hatched)."""

    chart_id: str
    title: str
    answered_label: str
    unanswered_label: str
    rows: tuple[SplitRow, ...]


@dataclass(frozen=True)
class Point:
    """A facility on the map, projected to 0..1 (x to the east, y to the south)."""

    x: float
    y: float
    status: str
    title: str


@dataclass(frozen=True)
class ScatterChart:
    """The acceptance map: located facilities by status."""

    chart_id: str
    title: str
    legend: tuple[tuple[str, str, int], ...]  # (status, label, facilities)
    points: tuple[Point, ...]
    aspect: float  # height / width of the frame
    outside: int  # located facilities beyond the frame
    places: tuple[tuple[float, float, str], ...] = ()  # municipality names, in the frame


def project(
    points: list[tuple[float, float, str, str]],
    places: list[tuple[float, float, str]] = (),
) -> tuple[list[Point], list[tuple[float, float, str]], float, int]:
    """Project (lat, lng, status, title) to the unit frame around the median point.

    Return the points inside (those at one spot spread on a small ring so each is seen), the
    place labels (lat, lng, name) that fall inside, the frame's aspect ratio and how many points
    lie outside it."""
    if not points:
        return [], [], 0.75, 0
    mid_lat, mid_lng = _centre(points)
    inside = _within(points, mid_lat, mid_lng)
    frame = Frame.around([p[0] for p in inside], [p[1] for p in inside], mid_lat)
    labels = [(*frame.place(lat, lng), name) for lat, lng, name in places]
    labels = [(x, y, name) for x, y, name in labels if 0.02 <= x <= 0.98 and 0.03 <= y <= 0.98]
    return _spread(inside, frame), labels, frame.aspect, len(points) - len(inside)


def _centre(points: list[tuple[float, float, str, str]]) -> tuple[float, float]:
    """Return the median point, or the point nearest it when none lies in a frame around it
    (a few facilities far apart: Tokyo and 八丈島 have their midpoint at sea)."""
    mid_lat = statistics.median(p[0] for p in points)
    mid_lng = statistics.median(p[1] for p in points)
    if _within(points, mid_lat, mid_lng):
        return mid_lat, mid_lng
    nearest = min(points, key=lambda p: (p[0] - mid_lat) ** 2 + (p[1] - mid_lng) ** 2)
    return nearest[0], nearest[1]


def _within(points: list[tuple[float, float, str, str]], lat: float, lng: float) -> list:
    """Return the points inside the frame centred on (lat, lng)."""
    return [p for p in points if abs(p[0] - lat) <= FRAME_LAT and abs(p[1] - lng) <= FRAME_LNG]


@dataclass(frozen=True)
class Frame:
    """A unit square over a map area (x eastwards, y southwards) and its aspect ratio."""

    shrink: float  # a degree of longitude is shorter than one of latitude
    x0: float
    y0: float
    span: float
    aspect: float

    @classmethod
    def around(cls, lats: list[float], lngs: list[float], mid_lat: float) -> Frame:
        """Fit a padded frame around these coordinates, its aspect ratio within bounds."""
        shrink = math.cos(math.radians(mid_lat))
        south, north = min(lats), max(lats)
        west, east = min(lngs), max(lngs)
        pad_lat = max((north - south) * 0.06, 0.01)
        pad_lng = max((east - west) * 0.06, 0.01)
        south, north, west, east = south - pad_lat, north + pad_lat, west - pad_lng, east + pad_lng
        width, height = (east - west) * shrink, north - south
        aspect = min(max(height / width, 0.45), 1.2)
        span = max(width, height / aspect)  # fit the larger side; centre the other
        x0 = (west + east) / 2 * shrink - span / 2
        y0 = (south + north) / 2 + span * aspect / 2
        return cls(shrink, x0, y0, span, aspect)

    def place(self, lat: float, lng: float) -> tuple[float, float]:
        """Return a coordinate's position in the frame."""
        return (lng * self.shrink - self.x0) / self.span, (self.y0 - lat) / (
            self.span * self.aspect
        )


def _spread(inside: list[tuple[float, float, str, str]], frame: Frame) -> list[Point]:
    """Place the points; those at one spot go on a small ring so that each is seen."""
    spots = Counter((round(lat, 4), round(lng, 4)) for lat, lng, _s, _t in inside)
    seen: dict[tuple[float, float], int] = {}
    projected = []
    for lat, lng, status, title in inside:
        x, y = frame.place(lat, lng)
        spot = (round(lat, 4), round(lng, 4))
        if spots[spot] > 1:
            k = seen[spot] = seen.get(spot, -1) + 1
            angle = 2 * math.pi * k / spots[spot]
            x, y = x + SPREAD * math.cos(angle), y + SPREAD * math.sin(angle) / frame.aspect
        projected.append(Point(x, y, status, title))
    return projected


# --- SVG -------------------------------------------------------------------------------------


def text_width(text: str, size: float) -> float:
    """Estimate a text's width: full-width characters about one em, others about half."""
    return sum(size if unicodedata.east_asian_width(c) in "WF" else size * 0.55 for c in text)


def _svg(chart_id: str, title: str, width: int, height: int) -> ET.Element:
    """Start an SVG image labelled by its title."""
    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "id": chart_id,
            "class": "chart study-chart",
            "viewBox": f"0 0 {width} {height}",
            "width": "100%",
            "role": "img",
            "aria-labelledby": f"{chart_id}-title",
            "font-size": "13",
            "font-family": "system-ui, sans-serif",
        },
    )
    ET.SubElement(svg, "title", id=f"{chart_id}-title").text = title
    return svg


def _text(parent: ET.Element, x: float, y: float, text: str, **attributes: str) -> None:
    """Add a text element."""
    element = ET.SubElement(parent, "text", {"x": f"{x:.1f}", "y": f"{y:.1f}", **attributes})
    element.text = text


def bar_svg(chart: BarChart) -> Markup:
    """Draw horizontal bars with their label at the left and their number at the right."""
    row, top = 24, 8
    label_width = min(max((text_width(b.label, 13) for b in chart.bars), default=0) + 12, 300)
    value_width = max((text_width(b.text, 13) for b in chart.bars), default=0) + 12
    width = 720
    span = width - label_width - value_width
    height = top + row * len(chart.bars) + 8
    svg = _svg(chart.chart_id, chart.title, width, height)
    largest = max((b.value for b in chart.bars), default=0) or 1
    for index, bar in enumerate(chart.bars):
        y = top + index * row
        group = ET.SubElement(svg, "g", {"class": "bar"})
        ET.SubElement(group, "title").text = f"{bar.label}: {bar.text}"
        _text(group, label_width - 8, y + 16, bar.label, **{"text-anchor": "end"})
        length = max(span * bar.value / largest, 1.5)
        ET.SubElement(
            group,
            "rect",
            x=f"{label_width:.1f}",
            y=str(y + 4),
            width=f"{length:.1f}",
            height=str(row - 8),
            fill=chart.fill(index),
            stroke="#000000",
            **{"stroke-width": "0.5"},
        )
        _text(group, label_width + length + 6, y + 16, bar.text)
    return Markup(ET.tostring(svg, encoding="unicode"))


def _hatch(svg: ET.Element, pattern_id: str) -> None:
    """Define the diagonal hatch that marks non-respondents."""
    defs = ET.SubElement(svg, "defs")
    pattern = ET.SubElement(
        defs,
        "pattern",
        id=pattern_id,
        width="6",
        height="6",
        patternUnits="userSpaceOnUse",
        patternTransform="rotate(45)",
    )
    ET.SubElement(pattern, "rect", width="6", height="6", fill="#FFFFFF")
    ET.SubElement(pattern, "rect", width="2.5", height="6", fill=UNANSWERED_FILL)


def split_svg(chart: SplitChart) -> Markup:
    """Draw one bar per group: respondents solid, non-respondents hatched, numbers beside."""
    row, top = 22, 34
    label_width = min(max((text_width(r.label, 13) for r in chart.rows), default=0) + 12, 220)
    width, value_width = 720, 120
    span = width - label_width - value_width
    height = top + row * len(chart.rows) + 8
    svg = _svg(chart.chart_id, chart.title, width, height)
    pattern_id = f"{chart.chart_id}-hatch"
    _hatch(svg, pattern_id)
    _split_legend(svg, chart, label_width, pattern_id)
    largest = max((r.answered + r.unanswered for r in chart.rows), default=0) or 1
    for index, item in enumerate(chart.rows):
        y = top + index * row
        group = ET.SubElement(svg, "g", {"class": "bar"})
        summary = (
            f"{chart.answered_label} {item.answered} / {chart.unanswered_label} {item.unanswered}"
        )
        ET.SubElement(group, "title").text = f"{item.label}: {summary}"
        _text(group, label_width - 8, y + 15, item.label, **{"text-anchor": "end"})
        left = label_width
        for value, fill in (
            (item.answered, ANSWERED_FILL),
            (item.unanswered, f"url(#{pattern_id})"),
        ):
            length = span * value / largest
            if value:
                ET.SubElement(
                    group,
                    "rect",
                    x=f"{left:.1f}",
                    y=str(y + 4),
                    width=f"{length:.1f}",
                    height=str(row - 8),
                    fill=fill,
                    stroke="#000000",
                    **{"stroke-width": "0.5"},
                )
            left += length
        total = item.answered + item.unanswered
        _text(group, left + 6, y + 15, f"{item.answered}/{total}")
    return Markup(ET.tostring(svg, encoding="unicode"))


def _split_legend(svg: ET.Element, chart: SplitChart, left: float, pattern_id: str) -> None:
    """Swatches for respondents and non-respondents above the bars."""
    x = left
    for label, fill in (
        (chart.answered_label, ANSWERED_FILL),
        (chart.unanswered_label, f"url(#{pattern_id})"),
    ):
        ET.SubElement(
            svg, "rect", x=f"{x:.1f}", y="8", width="14", height="14", fill=fill, stroke="#000000"
        )
        _text(svg, x + 20, 20, label)
        x += 40 + text_width(label, 13)


def _mark(parent: ET.Element, status: str, x: float, y: float, r: float) -> ET.Element:
    """Draw one map mark of a status: its shape and colour (hollow for no answer)."""
    shape, fill = MARKS[status]
    common = {"stroke": "#000000", "stroke-width": "0.8"}
    if status == "none":
        common = {"stroke": fill, "stroke-width": "1.6", "fill": "#FFFFFF"}
    else:
        common["fill"] = fill
    if shape == "circle":
        return ET.SubElement(parent, "circle", cx=f"{x:.1f}", cy=f"{y:.1f}", r=f"{r:.1f}", **common)
    if shape == "square":
        side = r * 1.7
        return ET.SubElement(
            parent,
            "rect",
            x=f"{x - side / 2:.1f}",
            y=f"{y - side / 2:.1f}",
            width=f"{side:.1f}",
            height=f"{side:.1f}",
            **common,
        )
    points = shape_points(shape, x, y, r)
    return ET.SubElement(
        parent, "polygon", points=" ".join(f"{px:.1f},{py:.1f}" for px, py in points), **common
    )


def shape_points(shape: str, x: float, y: float, r: float) -> list[tuple[float, float]]:
    """Corners of a triangle (point up) or a diamond around (x, y), y growing downwards."""
    if shape == "triangle":
        return [(x, y - r * 1.2), (x + r * 1.1, y + r * 0.8), (x - r * 1.1, y + r * 0.8)]
    return [(x, y - r * 1.3), (x + r * 1.1, y), (x, y + r * 1.3), (x - r * 1.1, y)]


def scatter_svg(chart: ScatterChart) -> Markup:
    """Draw the map: a framed plot of the facilities, and a legend with counts."""
    width, legend_height, pad = 720, 30, 10
    plot = width - 2 * pad
    height = int(legend_height + plot * chart.aspect + 2 * pad)
    svg = _svg(chart.chart_id, chart.title, width, height)
    x = pad
    for status, label, count in chart.legend:
        _mark(svg, status, x + 7, 16, 6)
        text = f"{label} {count}"
        _text(svg, x + 18, 21, text)
        x += 36 + text_width(text, 13)
    top = legend_height + pad
    ET.SubElement(
        svg,
        "rect",
        x=str(pad),
        y=str(top),
        width=str(plot),
        height=f"{plot * chart.aspect:.1f}",
        fill="#FFFFFF",
        stroke="#8A969C",
    )
    for x, y, name in chart.places:
        _text(
            svg,
            pad + x * plot,
            top + y * plot * chart.aspect,
            name,
            fill="#6B7378",
            lang="ja",
            **{"font-size": "11", "text-anchor": "middle"},
        )
    order = {status: i for i, (status, _l, _c) in enumerate(chart.legend)}
    # "no answer" first, so answers are drawn over it
    for point in sorted(chart.points, key=lambda p: -order.get(p.status, 0)):
        mark = _mark(
            svg, point.status, pad + point.x * plot, top + point.y * plot * chart.aspect, 5
        )
        ET.SubElement(mark, "title").text = point.title
    return Markup(ET.tostring(svg, encoding="unicode"))
