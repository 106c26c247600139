"""Admin: the study group's report (関係機関合同の検討会) of a campaign or a hearing, as a page
and as a PDF for the meeting; the tallies come from `surveys.study_report`."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlmodel import select

from index.geo.gazetteer import municipalities
from search_app import db
from search_app.admin.campaigns import KIND_LABELS
from search_app.admin.facilities import CATEGORY_LABELS
from search_app.admin.study_charts import (
    Bar,
    BarChart,
    ScatterChart,
    SplitChart,
    SplitRow,
    bar_svg,
    project,
    scatter_svg,
    split_svg,
)
from search_app.admin.study_pdf import report_pdf
from search_app.admin.views import attachment, bp
from search_app.i18n import current_lang
from surveys import campaigns, letters, study_report
from surveys.models import Campaign, Facility, QuestionnaireVersion
from surveys.operations import today_in_japan
from surveys.questionnaire import Questionnaire, available_versions, load_version
from surveys.study_report import AcceptanceMap, GroupRow, ItemTally, StudyReport

AUDIENCES = ("staff", "public")
STATUS_LABELS = {
    "accepting": lazy_gettext("受け入れている"),
    "conditional": lazy_gettext("条件付き"),
    "declining": lazy_gettext("受け入れていない"),
    "answered": lazy_gettext("回答あり"),
    "none": lazy_gettext("回答なし・未定"),
}


@dataclass(frozen=True)
class Subject:
    """What a report is about: a campaign or a hearing (a questionnaire edition)."""

    title: str
    questionnaire: Questionnaire
    html_url: str
    pdf_url: str
    campaign: Campaign | None = None

    @property
    def public(self) -> bool:
        """Tell whether the report has a public version (a hearing's has none)."""
        return study_report.has_public_version(self.questionnaire)


@bp.route("/study-reports")
def study_reports():
    """Choose a campaign or a hearing to report on."""
    session = db.session()
    rows = session.exec(select(Campaign).order_by(Campaign.id.desc())).all()
    hearings = [load_version(v) for v in available_versions()]
    public = {c.id for c in rows if has_public_report(c)}
    return render_template(
        "admin/study/index.html", campaigns=rows, hearings=hearings, public=public
    )


def has_public_report(campaign: Campaign) -> bool:
    """Tell whether a campaign's report has a public version (not a hearing campaign)."""
    return campaigns.campaign_category(campaign) == study_report.PUBLIC_RESPONDENT


@bp.route("/campaigns/<int:campaign_id>/study-report")
def campaign_study_report(campaign_id: int):
    """The report of a campaign, as a page."""
    return _page(_campaign_subject(campaign_id))


@bp.route("/campaigns/<int:campaign_id>/study-report.pdf")
def campaign_study_report_pdf(campaign_id: int):
    """The report of a campaign, as a PDF for the meeting."""
    return _pdf(_campaign_subject(campaign_id), f"campaign{campaign_id}")


@bp.route("/hearings/<version>/study-report")
def hearing_study_report(version: str):
    """The report of a hearing (every facility of its respondent category), as a page."""
    return _page(_hearing_subject(version))


@bp.route("/hearings/<version>/study-report.pdf")
def hearing_study_report_pdf(version: str):
    """The report of a hearing, as a PDF for the meeting."""
    return _pdf(_hearing_subject(version), version)


def _audience(subject: Subject) -> str:
    """Return the audience asked (staff unless ?audience=public); other or a hearing's: 400."""
    audience = request.args.get("audience", "staff")
    if audience not in AUDIENCES:
        abort(400)
    if audience == "public" and not subject.public:
        raise study_report.HearingNotPublic()
    return audience


def _campaign_subject(campaign_id: int) -> Subject:
    """Describe a campaign's report (unknown campaign: 404)."""
    campaign = campaigns.get_campaign(db.session(), campaign_id)
    questionnaire = study_report.campaign_questionnaire(db.session(), campaign)
    return Subject(
        campaign.name,
        questionnaire,
        url_for("admin.campaign_study_report", campaign_id=campaign_id),
        url_for("admin.campaign_study_report_pdf", campaign_id=campaign_id),
        campaign,
    )


def _hearing_subject(version: str) -> Subject:
    """Describe a hearing's report (an edition not bundled: 404)."""
    if version not in available_versions():
        abort(404)
    questionnaire = load_version(version)
    return Subject(
        questionnaire.title(current_lang()),
        questionnaire,
        url_for("admin.hearing_study_report", version=version),
        url_for("admin.hearing_study_report_pdf", version=version),
    )


def _areas():
    """The configured prefecture's municipalities from the gazetteer."""
    return municipalities(current_app.config["PREFECTURE_CODE"].zfill(2))


def build(subject: Subject, staff: bool) -> StudyReport:
    """Tally the subject's answers for the audience, with the prefecture's municipalities."""
    session = db.session()
    if subject.campaign is not None:
        subjects = study_report.campaign_subjects(session, subject.campaign)
    else:
        version = subject.questionnaire.version
        row = session.exec(
            select(QuestionnaireVersion).where(QuestionnaireVersion.version == version)
        ).first()
        conditions = [
            Facility.category == subject.questionnaire.respondent,
            Facility.prefecture_code == current_app.config["PREFECTURE_CODE"].zfill(2),
        ]
        subjects = study_report.hearing_subjects(session, row.id if row else None, conditions)
    return study_report.build_report(
        subject.title, subject.questionnaire, subjects, _areas(), staff
    )


def _page(subject: Subject):
    """Render the report page."""
    audience = _audience(subject)
    report = build(subject, audience == "staff")
    return render_template(
        "admin/study/report.html",
        subject=subject,
        report=report,
        audience=audience,
        view=ReportView(report, _areas()),
    )


def _pdf(subject: Subject, name: str):
    """Build the PDF with the letters' Japanese font and send it as a download."""
    audience = _audience(subject)
    report = build(subject, audience == "staff")
    font = letters.find_font(current_app.config["LETTER_FONT"])
    pdf = report_pdf(report, ReportView(report, _areas()), font)
    filename = f"study-report-{name}-{audience}-{today_in_japan():%Y%m%d}.pdf"
    return attachment(pdf, "application/pdf", filename)


# --- what the page and the PDF show ----------------------------------------------------------


def kind_label(key: str) -> str:
    """Label of a kind, or of 'category:kind' when the scope mixes categories."""
    category, _sep, kind = key.rpartition(":")
    label = str(KIND_LABELS.get(kind) or kind or _("不明"))
    if category:
        return f"{CATEGORY_LABELS.get(category, category)}・{label}"
    return label


def municipality_label(row: GroupRow) -> str:
    """Name of a municipality row ('unknown' for facilities of no known municipality)."""
    return row.name or _("区市町村が不明")


def audience_text(staff: bool) -> str:
    """Say which audience a version is for."""
    if staff:
        return _(
            "関係機関・事務局用（専門職限定の項目と施設名を含みます。取扱いに注意してください）"
        )
    return _("公開用（専門職限定の項目と施設名を除いています）")


class ReportView:
    """Labels and charts of one report in the request's language (for the page and the PDF)."""

    def __init__(self, report: StudyReport, areas=()):
        self.report = report
        self.areas = areas  # the municipalities (with their centre points), to label the map
        self.lang = current_lang()

    @property
    def audience(self) -> str:
        """Which audience this version is for."""
        return audience_text(self.report.staff)

    def kind_label(self, row: GroupRow) -> str:
        """Label of a kind row."""
        return kind_label(row.key)

    def municipality_label(self, row: GroupRow) -> str:
        """Label of a municipality row."""
        return municipality_label(row)

    def count_text(self, count: int, share_percent: str) -> str:
        """'12 (40.0%)'."""
        return _("%(count)d件（%(percent)s%%）", count=count, percent=share_percent)

    def item_chart(self, tally: ItemTally, index: int) -> BarChart | None:
        """The bars of a choice, multi or integer item (None for text or without answers)."""
        chart_id = f"chart-{tally.item.key}"
        title = tally.item.label(self.lang)
        if tally.counts and tally.answered:
            bars = tuple(
                Bar(c.label(self.lang), c.count, self.count_text(c.count, c.percent))
                for c in tally.counts
            )
            return BarChart(chart_id, title, bars)
        if tally.summary is not None:
            bars = tuple(
                Bar(b.label, b.count, _("%(count)d件", count=b.count)) for b in tally.summary.bins
            )
            return BarChart(chart_id, title, bars, one_colour=True)
        return None

    def response_chart(self, rows: tuple[GroupRow, ...], chart_id: str, title: str, label):
        """Respondents and non-respondents of each group."""
        return SplitChart(
            chart_id,
            title,
            _("回答あり"),
            _("未回答"),
            tuple(SplitRow(label(r), r.respondents, r.non_respondents) for r in rows),
        )

    def kind_chart(self) -> SplitChart:
        """Respondents by kind of institution."""
        return self.response_chart(
            self.report.by_kind, "by-kind", _("種別ごとの回答状況"), self.kind_label
        )

    def municipality_chart(self) -> SplitChart:
        """Respondents by municipality."""
        return self.response_chart(
            self.report.by_municipality,
            "by-municipality",
            _("区市町村ごとの回答状況"),
            self.municipality_label,
        )

    def map_title(self, acceptance: AcceptanceMap) -> str:
        """Title of a map: its item, or the respondents."""
        if acceptance.item is None:
            return _("回答状況の地図")
        return _("受入れ状況の地図: %(item)s", item=acceptance.item.short(self.lang))

    def map_chart(self, acceptance: AcceptanceMap, index: int) -> ScatterChart:
        """The projected map of one map item."""
        raw = [
            (p.lat, p.lng, p.status, self._point_title(p.name, p.status)) for p in acceptance.points
        ]
        names = {r.key for r in self.report.by_municipality}
        places = [(m.lat, m.lng, m.name) for m in self.areas if m.code in names and m.lat]
        points, labels, aspect, outside = project(raw, places)
        legend = tuple(
            (status, str(STATUS_LABELS[status]), acceptance.counts[status])
            for status in acceptance.statuses
        )
        return ScatterChart(
            f"map-{index}",
            self.map_title(acceptance),
            legend,
            tuple(points),
            aspect,
            outside,
            tuple(labels),
        )

    def _point_title(self, name: str, status: str) -> str:
        """A point's tooltip: the facility's name (staff) and its status."""
        label = str(STATUS_LABELS[status])
        return f"{name}: {label}" if name else label

    def breakdown_header(self, item) -> list[str]:
        """Column labels of a breakdown item."""
        return [c.label(self.lang) for c in item.choices]

    # SVG for the page
    def svg_item(self, tally: ItemTally, index: int):
        """The item's chart as SVG ('' when it has none)."""
        chart = self.item_chart(tally, index)
        return bar_svg(chart) if chart else ""

    def svg_split(self, chart: SplitChart):
        """A response chart as SVG."""
        return split_svg(chart)

    def svg_map(self, acceptance: AcceptanceMap, index: int):
        """A map as SVG."""
        return scatter_svg(self.map_chart(acceptance, index))
