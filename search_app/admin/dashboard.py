"""Admin dashboard (figures per municipality, with an SVG chart) and the coverage-gap page."""

from __future__ import annotations

import math
import unicodedata

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Optional, ValidationError

from index.coverage import (
    DEFAULT_THRESHOLD_KM,
    CoverageReport,
    all_listings,
    prefecture_coverage,
    report_csv,
)
from index.geo.gazetteer import municipalities, prefectures
from search_app import db
from search_app.admin.campaigns import REGION_LABELS
from search_app.admin.charts import Group, Panel, Series, grouped_bar_chart
from search_app.admin.views import attachment, bp
from search_app.i18n import current_lang
from surveys.campaigns import region_of
from surveys.dashboard import Dashboard, accepting_sites
from surveys.dashboard import dashboard as dashboard_figures
from surveys.operations import today_in_japan

MAX_THRESHOLD_KM = 200.0
GAP_ROWS_SHOWN = 500  # the page lists this many towns; the CSV has them all
# (figure, legend label, fill): colours from the site palette, told apart also by order.
CHART_SERIES = (
    ("facilities", lazy_gettext("医療機関"), "#8a969c"),
    ("answered", lazy_gettext("回答あり"), "#1f5f7a"),
    ("accepting_pregnant", lazy_gettext("妊娠中の方を受入れ"), "#b35300"),
    ("accepting_postpartum", lazy_gettext("産後の方を受入れ"), "#6a3d9a"),
)


@bp.route("/")
def dashboard():
    """Figures for the whole prefecture and per municipality, as a table and a chart."""
    code = current_app.config["PREFECTURE_CODE"].zfill(2)
    areas = municipalities(code)
    data = dashboard_figures(db.session(), code, prefectures().get(code, ""), areas)
    return render_template("admin/dashboard.html", data=data, chart=municipality_chart(data))


def municipality_chart(data: Dashboard):
    """Return the per-municipality chart: one group of bars per municipality."""
    series = [Series(str(label), fill) for _key, label, fill in CHART_SERIES]
    panels: dict[str, Panel] = {}
    for row in data.municipalities:
        values = tuple(getattr(row.figures, key) for key, _l, _f in CHART_SERIES)
        group = Group(_short_name(row.name), values, row.code, lang="ja")
        region = region_of(row.code) if row.code.startswith("13") else "all"
        title = str(REGION_LABELS.get(region, _("区市町村")))
        panels.setdefault(region, Panel(title, [])).groups.append(group)
    return grouped_bar_chart(
        "municipality-chart",
        _("区市町村別の医療機関数・回答数・受入れ数"),
        _("医療機関数の灰色の棒の中に、回答ありと受入れの数を重ねています。下の表と同じ数字です。"),
        series,
        list(panels.values()),
    )


def _short_name(name: str) -> str:
    """Drop a district (郡) prefix so town names fit beside their bars: 西多摩郡瑞穂町 → 瑞穂町."""
    return name.split("郡", 1)[1] if "郡" in name[:-1] else name


def _threshold_km(_form, field) -> None:
    """Accept a number of kilometres greater than 0 and at most MAX_THRESHOLD_KM."""
    try:
        value = float(unicodedata.normalize("NFKC", field.data).strip())
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_THRESHOLD_KM:  # NaN fails every comparison
        raise ValidationError(
            _(
                "しきい値は0より大きく%(max)d以下の数（km）で入力してください。",
                max=int(MAX_THRESHOLD_KM),
            )
        )
    field.km = value


class ThresholdForm(FlaskForm):
    """The distance beyond which a town counts as a gap (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    threshold_km = StringField(
        lazy_gettext("しきい値（km）"),
        default=f"{DEFAULT_THRESHOLD_KM:g}",
        validators=[Optional(), _threshold_km],
    )

    def km(self) -> float:
        """Return the validated threshold, or the default."""
        return getattr(self.threshold_km, "km", DEFAULT_THRESHOLD_KM)


@bp.route("/coverage")
def coverage():
    """Coverage per municipality and towns beyond the threshold; a map when tiles are set."""
    form = ThresholdForm(formdata=request.args)
    valid = form.validate()
    report = _report(form.km() if valid else DEFAULT_THRESHOLD_KM)
    tiles = current_app.config["MAP_TILE_URL"]
    page = render_template(
        "admin/coverage.html",
        form=form,
        report=report,
        gaps=report.gaps[:GAP_ROWS_SHOWN],
        map_data=_map_data(report, tiles) if tiles else None,
        csv_args={"threshold_km": f"{report.threshold_km:g}"},
    )
    return page, 200 if valid else 400


@bp.route("/coverage.csv")
def coverage_csv():
    """Download the municipality rows (or, with towns=1, the towns beyond the threshold)."""
    form = ThresholdForm(formdata=request.args)
    if not form.validate():
        abort(400)
    report = _report(form.km())
    towns = request.args.get("towns") == "1"
    kind = "towns" if towns else "municipalities"
    name = f"coverage-{kind}-{today_in_japan(report.generated_at):%Y%m%d}.csv"
    return attachment(
        report_csv(report, towns=towns, lang=current_lang()), "text/csv; charset=utf-8", name
    )


def _report(threshold_km: float) -> CoverageReport:
    """Compute the coverage report of the configured prefecture."""
    return prefecture_coverage(db.session(), current_app.config["PREFECTURE_CODE"], threshold_km)


def _map_data(report: CoverageReport, tiles: str) -> dict:
    """Return what the map script draws: gap towns, accepting facilities, labels."""
    sites = accepting_sites(all_listings(db.session()))
    return {
        "tiles": tiles,
        "attribution": current_app.config["MAP_ATTRIBUTION"],
        "gaps": [
            {
                "name": f"{g.municipality}{g.town}",
                "lat": g.lat,
                "lng": g.lng,
                "pregnant_km": _round(g.pregnant_km),
                "postpartum_km": _round(g.postpartum_km),
            }
            for g in report.gaps[:GAP_ROWS_SHOWN]
        ],
        "sites": [vars(site) for site in sites],
        "labels": {
            "pregnant": _("妊娠中"),
            "postpartum": _("産後"),
            "none": _("受入れ医療機関なし"),
            "accepting": _("受入れ"),
        },
    }


def _round(value: float | None) -> float | None:
    """Round a distance to 0.1 km for display."""
    return None if value is None else round(value, 1)
