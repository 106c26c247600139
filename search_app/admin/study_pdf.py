"""The study group's report as a PDF for the meeting: A4, the Japanese font the letters use,
and the charts drawn as vectors with fpdf2 (the same descriptions as the page's SVG)."""

from __future__ import annotations

from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace

from search_app.admin.study_charts import (
    ANSWERED_FILL,
    MARKS,
    UNANSWERED_FILL,
    BarChart,
    ScatterChart,
    SplitChart,
    shape_points,
)
from search_app.facilities.display import japan_date
from search_app.i18n import format_date
from surveys.study_report import GroupRow, ItemTally, StudyReport

LEFT, TOP, WIDTH = 15.0, 15.0, 180.0  # A4 portrait with 15 mm margins
LINE = 5.0
BAR_ROW = 6.0
MAX_MAP_HEIGHT = 150.0
PAGE_ROOM = 235.0  # height a chart may take on an A4 page under a heading


def _rgb(colour: str) -> tuple[int, int, int]:
    """'#0072B2' -> (0, 114, 178)."""
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


class ReportPDF(FPDF):
    """An A4 document with the Japanese font and a footer naming the audience and page."""

    def __init__(self, font: str, footer_text: str):
        super().__init__(format="A4", unit="mm")
        self.footer_text = footer_text
        self.add_font("jp", fname=font)
        self.set_margins(LEFT, TOP, LEFT)
        self.set_auto_page_break(True, margin=18)

    def footer(self) -> None:
        """The audience and the page number at the foot of every page."""
        self.set_y(-12)
        self.set_font("jp", size=7)
        self.set_text_color(80, 80, 80)
        self.cell(WIDTH, 5, f"{self.footer_text}  {self.page_no()}", align="C")
        self.set_text_color(0, 0, 0)

    def need(self, height: float) -> None:
        """Start a new page unless `height` mm still fit on this one."""
        if self.get_y() + height > self.page_break_trigger:
            self.add_page()

    def heading(self, text: str, size: float = 13) -> None:
        """A heading, kept with at least a few lines after it."""
        self.need(size * 0.5 + 25)
        self.ln(2)
        self.set_font("jp", size=size)
        self.multi_cell(WIDTH, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def para(self, text: str, size: float = 9) -> None:
        """A paragraph."""
        self.set_font("jp", size=size)
        self.multi_cell(WIDTH, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")

    def fit(self, text: str, width: float) -> str:
        """Shorten a text with '…' so it fits in `width` mm at the current font."""
        if self.get_string_width(text) <= width:
            return text
        while text and self.get_string_width(text + "…") > width:
            text = text[:-1]
        return text + "…"


def report_pdf(report: StudyReport, view, font: str) -> bytes:
    """Return the report as PDF bytes."""
    pdf = ReportPDF(font, view.audience)
    pdf.set_title(f"{_('検討会資料')}: {report.title}")
    pdf.add_page()
    _cover(pdf, report, view)
    if report.by_kind:
        pdf.need(split_height(view.kind_chart()) + 20)
    pdf.heading(_("種別ごとの回答状況"))
    if report.by_kind:
        split_chart(pdf, view.kind_chart())
        _group_table(pdf, view, report.by_kind, _("種別"), view.kind_label)
    if report.by_municipality:
        pdf.need(split_height(view.municipality_chart()) + 20)
    pdf.heading(_("区市町村ごとの回答状況"))
    if report.by_municipality:
        split_chart(pdf, view.municipality_chart())
        _group_table(pdf, view, report.by_municipality, _("区市町村"), view.municipality_label)
    for index, acceptance in enumerate(report.maps, start=1):
        chart = view.map_chart(acceptance, index)
        pdf.need(map_height(chart) + 30)  # keep the heading with its map
        pdf.heading(chart.title)
        scatter_chart(pdf, chart)
        notes = [_("施設の位置（緯度・経度）を点で示します。形と色で状況を区別しています。")]
        if chart.outside:
            notes.append(_("地図の範囲外（島しょ部など）: %(count)d件。", count=chart.outside))
        if acceptance.unlocated:
            notes.append(
                _("位置が不明で表示していない施設: %(count)d件。", count=acceptance.unlocated)
            )
        pdf.para(" ".join(notes), size=8)
    pdf.need(60)
    pdf.heading(_("設問ごとの集計"))
    for section in report.sections:
        pdf.need(45)
        pdf.heading(section.title(view.lang), size=11)
        for index, tally in enumerate(section.items):
            _item(pdf, tally, view, index)
    return bytes(pdf.output())


def _cover(pdf: ReportPDF, report: StudyReport, view) -> None:
    """Title, audience, edition, date and the headline figures."""
    pdf.set_font("jp", size=16)
    pdf.multi_cell(WIDTH, 8, f"{_('検討会資料')}: {report.title}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("jp", size=10)
    pdf.multi_cell(WIDTH, LINE, view.audience, new_x="LMARGIN", new_y="NEXT")
    edition = f"{report.questionnaire.title(view.lang)} ({report.questionnaire.version})"
    created = f"{_('作成日')}: {format_date(japan_date(report.generated_at))}"
    pdf.para(f"{edition}\n{created}")
    pdf.ln(2)
    _headline_boxes(pdf, report)
    _cover_notes(pdf, report)


def _headline_boxes(pdf: ReportPDF, report: StudyReport) -> None:
    """In scope, respondents, non-respondents and the rate, in a row of boxes."""
    figures = [
        (_("対象の施設"), str(report.in_scope)),
        (_("回答あり"), str(report.respondents)),
        (_("未回答"), str(report.non_respondents)),
        (_("回答率"), f"{report.rate_percent}%"),
    ]
    width = WIDTH / len(figures)
    top = pdf.get_y()
    for index, (label, value) in enumerate(figures):
        x = LEFT + index * width
        pdf.rect(x + 1, top, width - 2, 16)
        pdf.set_xy(x + 1, top + 1.5)
        pdf.set_font("jp", size=14)
        pdf.cell(width - 2, 7, value, align="C")
        pdf.set_xy(x + 1, top + 9)
        pdf.set_font("jp", size=8)
        pdf.cell(width - 2, 5, label, align="C")
    pdf.set_xy(LEFT, top + 19)


def _cover_notes(pdf: ReportPDF, report: StudyReport) -> None:
    """How the figures are counted, what the public version leaves out, and an empty report."""
    pdf.para(
        _(
            "集計は回答した施設の最新の回答によります。割合は、その設問に回答した施設数に対する"
            "割合です（複数選択の設問は合計が100%を超えることがあります）。"
        ),
        size=8,
    )
    if report.withheld:
        pdf.para(
            _(
                "関係機関のみに掲載している施設（%(count)d件）の回答は、公開用の集計・内訳・地図に"
                "含めていません（回答ありの数には含めています）。",
                count=report.withheld,
            ),
            size=8,
        )
    if not report.respondents:
        pdf.ln(2)
        pdf.set_font("jp", size=12)
        pdf.multi_cell(
            WIDTH,
            6,
            _("まだ回答がありません。")
            + " "
            + _("回答が集まると、ここに設問ごとの集計が表示されます。"),
            border=1,
            new_x="LMARGIN",
            new_y="NEXT",
        )


def _group_table(pdf: ReportPDF, view, rows: tuple[GroupRow, ...], label: str, name) -> None:
    """A table of groups: in scope, respondents, non-respondents, rate, breakdown counts."""
    report: StudyReport = view.report
    header = [label, _("対象"), _("回答"), _("未回答"), _("回答率")]
    for item in report.breakdown_items:
        header += [f"{_short(item.short(view.lang))}\n{c.label(view.lang)}" for c in item.choices]
    body = [
        [name(r), str(r.in_scope), str(r.respondents), str(r.non_respondents), f"{r.rate_percent}%"]
        + [str(n) for item in report.breakdown_items for n in r.counts[item.key]]
        for r in rows
    ]
    _table(pdf, header, body, first_width=30)


def _short(text: str) -> str:
    """Shorten a column group's label."""
    return text if len(text) <= 12 else text[:11] + "…"


def _table(pdf: ReportPDF, header: list[str], body: list[list[str]], first_width: float) -> None:
    """Draw a table in small type, numbers right-aligned, the header repeated on a new page."""
    others = len(header) - 1
    width = (WIDTH - first_width) / max(others, 1)
    pdf.set_font("jp", size=6.5 if others > 8 else 8)
    pdf.set_fill_color(255, 255, 255)
    pdf.set_draw_color(0, 0, 0)
    pdf.ln(1)
    with pdf.table(
        col_widths=(first_width, *([width] * others)),
        width=WIDTH,
        text_align=("LEFT", *(["RIGHT"] * others)),
        headings_style=FontFace(emphasis="", fill_color=(232, 236, 238)),
        line_height=3.6 if others > 8 else 4.5,
        repeat_headings=1,
    ) as table:
        row = table.row()
        for text in header:
            row.cell(text, align="CENTER")
        for values in body:
            row = table.row()
            for text in values:
                row.cell(text)
    pdf.ln(2)


def _item(pdf: ReportPDF, tally: ItemTally, view, index: int) -> None:
    """One question: its label, the counts, and its chart or its text answers."""
    pdf.need(22)
    pdf.set_font("jp", size=10)
    mark = f" [{_('関係機関のみ')}]" if tally.item.professional_only else ""
    pdf.multi_cell(WIDTH, LINE, tally.item.label(view.lang) + mark, new_x="LMARGIN", new_y="NEXT")
    pdf.para(
        _(
            "回答 %(answered)d件、無回答・対象外 %(unanswered)d件",
            answered=tally.answered,
            unanswered=tally.unanswered,
        ),
        size=8,
    )
    if tally.summary is not None:
        s = tally.summary
        pdf.para(
            f"n={s.n}  {_('最小')} {s.minimum}  {_('第1四分位')} {s.q1:g}  "
            f"{_('中央値')} {s.median:g}  {_('第3四分位')} {s.q3:g}  {_('最大')} {s.maximum}",
            size=8,
        )
    chart = view.item_chart(tally, index)
    if chart is not None:
        bar_chart(pdf, chart)
    elif tally.item.type == "text":
        _texts(pdf, tally)
    elif not tally.answered:
        pdf.para(_("回答はありません。"), size=8)
    pdf.ln(2)


def _texts(pdf: ReportPDF, tally: ItemTally) -> None:
    """The free-text answers, one per paragraph, with the facility's name in the staff version."""
    if not tally.texts:
        pdf.para(_("回答はありません。"), size=8)
        return
    for answer in tally.texts:
        who = ""
        if answer.facility_name:
            where = f"（{answer.municipality}）" if answer.municipality else ""
            who = f"{answer.facility_name}{where}: "
        pdf.para(f"・{who}{answer.text}", size=8)


# --- charts ----------------------------------------------------------------------------------


def bar_chart(pdf: ReportPDF, chart: BarChart) -> None:
    """Horizontal bars with their labels and numbers, one Okabe–Ito colour per position."""
    pdf.set_font("jp", size=7.5)
    label_width = min(max(pdf.get_string_width(b.label) for b in chart.bars) + 3, 70)
    value_width = max(pdf.get_string_width(b.text) for b in chart.bars) + 3
    span = WIDTH - label_width - value_width
    largest = max(b.value for b in chart.bars) or 1
    pdf.need(min(BAR_ROW * len(chart.bars), PAGE_ROOM) + 2)
    top = pdf.get_y()
    for index, bar in enumerate(chart.bars):
        y = top + index * BAR_ROW
        if y + BAR_ROW > pdf.page_break_trigger:  # many bars (e.g. partner links): go on over
            pdf.add_page()
            top, y = pdf.get_y() - index * BAR_ROW, pdf.get_y()
        pdf.set_xy(LEFT, y)
        pdf.cell(label_width - 2, BAR_ROW, pdf.fit(bar.label, label_width - 2), align="R")
        length = max(span * bar.value / largest, 0.5)
        pdf.set_fill_color(*_rgb(chart.fill(index)))
        pdf.set_draw_color(0, 0, 0)
        pdf.set_line_width(0.15)
        pdf.rect(LEFT + label_width, y + 1, length, BAR_ROW - 2, style="DF")
        pdf.set_xy(LEFT + label_width + length + 1, y)
        pdf.cell(value_width, BAR_ROW, bar.text)
    pdf.set_xy(LEFT, top + BAR_ROW * len(chart.bars) + 1)


def _hatched_rect(pdf: ReportPDF, x: float, y: float, w: float, h: float) -> None:
    """A rectangle filled with diagonal hatching (non-respondents) and outlined."""
    pdf.set_draw_color(*_rgb(UNANSWERED_FILL))
    pdf.set_line_width(0.35)
    step = 1.2
    with pdf.local_context():
        pdf.set_line_width(0.35)
        offset = 0.0
        while offset < w + h:
            # a line x - y = const, clipped to the rectangle
            x1, y1 = x + max(offset - h, 0), y + min(offset, h)
            x2, y2 = x + min(offset, w), y + max(offset - w, 0)
            if x1 <= x + w and x2 >= x:
                pdf.line(x1, y1, x2, y2)
            offset += step
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.15)
    pdf.rect(x, y, w, h)


def split_row(chart: SplitChart) -> float:
    """Height of one bar in mm: smaller for many groups, so the chart fits one page."""
    return max(min(BAR_ROW, PAGE_ROOM / max(len(chart.rows), 1)), 3.2)


def split_height(chart: SplitChart) -> float:
    """Height of the whole response chart in mm (legend and bars)."""
    return 9 + split_row(chart) * len(chart.rows)


def split_chart(pdf: ReportPDF, chart: SplitChart) -> None:
    """One bar per group: respondents solid, non-respondents hatched, 'answered/total' beside."""
    pdf.set_font("jp", size=7.5)
    label_width = min(max(pdf.get_string_width(r.label) for r in chart.rows) + 3, 50)
    value_width = 18
    span = WIDTH - label_width - value_width
    largest = max(r.answered + r.unanswered for r in chart.rows) or 1
    row = split_row(chart)
    pdf.need(split_height(chart))
    top = pdf.get_y()
    _split_legend(pdf, chart, LEFT + label_width, top)
    top += 7
    for index, item in enumerate(chart.rows):
        y = top + index * row
        if y + row > pdf.page_break_trigger:
            pdf.add_page()
            top, y = pdf.get_y() - index * row, pdf.get_y()
        pdf.set_xy(LEFT, y)
        pdf.cell(label_width - 2, row, pdf.fit(item.label, label_width - 2), align="R")
        x = LEFT + label_width
        answered = span * item.answered / largest
        if item.answered:
            pdf.set_fill_color(*_rgb(ANSWERED_FILL))
            pdf.set_line_width(0.15)
            pdf.rect(x, y + 0.8, answered, row - 1.6, style="DF")
        unanswered = span * item.unanswered / largest
        if item.unanswered:
            _hatched_rect(pdf, x + answered, y + 0.8, unanswered, row - 1.6)
        pdf.set_xy(x + answered + unanswered + 1, y)
        pdf.cell(value_width, row, f"{item.answered}/{item.answered + item.unanswered}")
    pdf.set_xy(LEFT, top + row * len(chart.rows) + 2)


def _split_legend(pdf: ReportPDF, chart: SplitChart, x: float, y: float) -> None:
    """Swatches for respondents (solid) and non-respondents (hatched)."""
    pdf.set_fill_color(*_rgb(ANSWERED_FILL))
    pdf.rect(x, y + 1, 4, 4, style="DF")
    pdf.set_xy(x + 5, y)
    pdf.cell(30, 6, chart.answered_label)
    x += 8 + pdf.get_string_width(chart.answered_label) + 6
    _hatched_rect(pdf, x, y + 1, 4, 4)
    pdf.set_xy(x + 5, y)
    pdf.cell(30, 6, chart.unanswered_label)


def _mark(pdf: ReportPDF, status: str, x: float, y: float, r: float) -> None:
    """One map mark: its status's shape and colour (hollow for no answer)."""
    shape, fill = MARKS[status]
    if status == "none":
        pdf.set_draw_color(*_rgb(fill))
        pdf.set_fill_color(255, 255, 255)
        pdf.set_line_width(0.35)
    else:
        pdf.set_draw_color(0, 0, 0)
        pdf.set_fill_color(*_rgb(fill))
        pdf.set_line_width(0.15)
    if shape == "circle":
        pdf.circle(x, y, r, style="DF")
    elif shape == "square":
        side = r * 1.7
        pdf.rect(x - side / 2, y - side / 2, side, side, style="DF")
    else:
        pdf.polygon(shape_points(shape, x, y, r), style="DF")
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.15)


def map_height(chart: ScatterChart) -> float:
    """Height of a map's frame in mm: the full width, at most MAX_MAP_HEIGHT."""
    return min(WIDTH * chart.aspect, MAX_MAP_HEIGHT)


def scatter_chart(pdf: ReportPDF, chart: ScatterChart) -> None:
    """The map: legend with counts, a frame, and each facility as a mark."""
    height = map_height(chart)
    width = height / chart.aspect
    pdf.need(height + 10)
    top = pdf.get_y()
    pdf.set_font("jp", size=8)
    x = LEFT
    for status, label, count in chart.legend:
        _mark(pdf, status, x + 2, top + 3, 1.5)
        text = f"{label} {count}"
        pdf.set_xy(x + 4.5, top)
        pdf.cell(pdf.get_string_width(text) + 1, 6, text)
        x += 9 + pdf.get_string_width(text)
    top += 8
    pdf.set_draw_color(138, 150, 156)
    pdf.rect(LEFT, top, width, height)
    pdf.set_font("jp", size=6.5)
    pdf.set_text_color(107, 115, 120)
    for x, y, name in chart.places:
        pdf.set_xy(LEFT + x * width - 15, top + y * height - 2.5)
        pdf.cell(30, 3, name, align="C")
    pdf.set_text_color(0, 0, 0)
    order = {status: i for i, (status, _l, _c) in enumerate(chart.legend)}
    for point in sorted(chart.points, key=lambda p: -order.get(p.status, 0)):
        _mark(pdf, point.status, LEFT + point.x * width, top + point.y * height, 1.2)
    pdf.set_xy(LEFT, top + height + 2)
