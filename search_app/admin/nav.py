"""Admin navigation: links to the admin pages that this installation has."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_babel import lazy_gettext
from werkzeug.routing import BuildError

# (endpoint, label): pages other parts of the admin area may or may not provide.
PAGES = (
    ("admin.dashboard", lazy_gettext("ダッシュボード")),
    ("admin.campaign_list", lazy_gettext("調査キャンペーン")),
    ("admin.facility_list", lazy_gettext("施設一覧")),
    ("admin.coverage", lazy_gettext("空白地域")),
    ("admin.exports", lazy_gettext("エクスポート")),
    ("admin.user_list", lazy_gettext("ユーザー")),
    ("admin.audit_log", lazy_gettext("監査ログ")),
    ("admin.report_list", lazy_gettext("予約不可の報告")),
    ("admin.pulse_rates", lazy_gettext("新規枠の回答率")),
    ("admin.referral_counts", lazy_gettext("紹介の結果")),
    ("admin.import_facilities", lazy_gettext("施設データ取込")),
    ("admin.correction_queue", lazy_gettext("修正依頼")),
)


@dataclass(frozen=True)
class NavLink:
    """One admin page link; `current` marks the page being shown."""

    url: str
    label: str
    current: bool


def admin_nav_links() -> list[NavLink]:
    """Return links to the admin pages whose views are registered."""
    links = []
    for endpoint, label in PAGES:
        if endpoint not in current_app.view_functions:
            continue
        try:
            url = url_for(endpoint)
        except BuildError:  # a page that needs arguments is not a top-level page
            continue
        links.append(NavLink(url, str(label), request.endpoint == endpoint))
    return links
