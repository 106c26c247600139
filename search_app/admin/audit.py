"""Admin: the audit log (newest first, filtered, 50 a page) and its CSV export."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from search_app import db
from search_app.admin.audit_text import AuditReader
from search_app.admin.views import attachment, bp
from search_app.auth import current_principal
from search_app.forms import BoundedIntegerField
from search_app.i18n import current_lang
from surveys import audit, audit_query
from surveys.audit_query import AuditFilter
from surveys.operations import today_in_japan

# Readable names of the actions; anything else falls back to its group and code.
ACTION_LABELS = {
    "auth.login": lazy_gettext("ログイン"),
    "auth.login_failed": lazy_gettext("ログイン失敗"),
    "auth.logout": lazy_gettext("ログアウト"),
    "auth.totp_enrolled": lazy_gettext("2段階認証の設定"),
    "auth.totp_failed": lazy_gettext("確認コードの誤り"),
    "auth.rate_limited": lazy_gettext("試行回数の上限"),
    "clinic.signin_link_sent": lazy_gettext("ログイン用リンク送信"),
    "clinic.signin_link_used": lazy_gettext("ログイン用リンク利用"),
    "facility.contact_email": lazy_gettext("調査連絡先メールアドレスの変更"),
    "campaign.close": lazy_gettext("調査の締め切り"),
    "campaign.queue": lazy_gettext("招待メール作成"),
    "campaign.remind": lazy_gettext("督促メール作成"),
    "campaign.send": lazy_gettext("メール送信"),
    "campaign.letters": lazy_gettext("案内状の印刷"),
    "user.create": lazy_gettext("ユーザー作成（コマンド）"),
    "user.invite": lazy_gettext("ユーザー招待"),
    "user.role_change": lazy_gettext("権限変更"),
    "user.organisation_change": lazy_gettext("所属変更"),
    "user.disable": lazy_gettext("アカウント無効化"),
    "user.enable": lazy_gettext("アカウント有効化"),
    "user.two_factor_reset": lazy_gettext("2段階認証の解除"),
    "user.facility_link": lazy_gettext("医療機関の紐づけ"),
    "user.facility_unlink": lazy_gettext("医療機関の紐づけ解除"),
    "user.password_set": lazy_gettext("パスワード設定"),
    "user.setup_link_sent": lazy_gettext("パスワード設定リンク送信"),
    "survey.answer": lazy_gettext("調査回答"),
    "survey.confirm": lazy_gettext("内容に変更なしの確認"),
    "facility.import": lazy_gettext("医療機関データ取り込み"),
    "export.facilities": lazy_gettext("医療機関データ出力"),
    "audit.export": lazy_gettext("操作ログ出力"),
    "campaign.create": lazy_gettext("調査の作成"),
    "invitation.create": lazy_gettext("招待リンク作成"),
    "invitation.redeem": lazy_gettext("招待リンク利用"),
    "access_report.create": lazy_gettext("予約が取れなかった報告"),
    "access_report.resolve": lazy_gettext("報告の対応済み"),
    "api_token.create": lazy_gettext("APIトークン発行"),
    "api_token.revoke": lazy_gettext("APIトークン失効"),
    "demo.seed": lazy_gettext("デモデータ作成"),
    "demo.network": lazy_gettext("デモデータ作成（連携先）"),
    "facility.contact_point.create": lazy_gettext("相談窓口の登録"),
    "facility.contact_point.update": lazy_gettext("相談窓口の変更"),
}
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d"]
GROUP_LABELS = {
    "auth": lazy_gettext("ログイン関連"),
    "user": lazy_gettext("ユーザー管理"),
    "campaign": lazy_gettext("調査・案内メール"),
    "mail": lazy_gettext("メール"),
    "invitation": lazy_gettext("招待リンク"),
    "survey": lazy_gettext("調査回答"),
    "facility": lazy_gettext("医療機関データ"),
    "export": lazy_gettext("データ出力"),
    "audit": lazy_gettext("操作ログ"),
}


def action_label(action: str) -> str:
    """Return the readable name of an action in the current language."""
    if action in ACTION_LABELS:
        return str(ACTION_LABELS[action])
    group = GROUP_LABELS.get(action.partition(".")[0])
    return f"{group} ({action})" if group else action


class AuditFilterForm(FlaskForm):
    """The filters, sent by GET (bookmarkable; no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    action = SelectField(lazy_gettext("操作"), choices=[], validate_choice=False)
    actor = StringField(lazy_gettext("操作者"), validators=[Optional(), Length(max=200)])
    target_type = SelectField(lazy_gettext("対象の種類"), choices=[], validate_choice=False)
    target_id = StringField(lazy_gettext("対象ID"), validators=[Optional(), Length(max=40)])
    date_from = DateField(
        lazy_gettext("期間（開始日）"),
        validators=[Optional()],
        format=DATE_FORMATS,
        render_kw={"placeholder": "2026-04-01"},
    )
    date_to = DateField(
        lazy_gettext("期間（終了日）"),
        validators=[Optional()],
        format=DATE_FORMATS,
        render_kw={"placeholder": "2026-04-30"},
    )
    page = BoundedIntegerField(validators=[Optional()])

    def validate_date_to(self, field) -> None:
        """The end may not come before the start."""
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_("終了日は開始日以降の日付にしてください。"))

    def to_filter(self) -> AuditFilter:
        """Return the filter the (valid) fields describe."""
        return AuditFilter(
            action=self.action.data or "",
            actor=(self.actor.data or "").strip(),
            target_type=self.target_type.data or "",
            target_id=(self.target_id.data or "").strip(),
            date_from=self.date_from.data,
            date_to=self.date_to.data,
        )


def _filter_form() -> tuple[AuditFilterForm, AuditFilter | None]:
    """Build the form from the query string; the filter is None when a field is wrong."""
    session = db.session()
    form = AuditFilterForm(request.args)
    form.action.choices = [SelectChoice("", _("すべて"))] + [
        SelectChoice(a, action_label(a)) for a in audit_query.actions_present(session)
    ]
    form.target_type.choices = [SelectChoice("", _("すべて"))] + [
        SelectChoice(t, t) for t in audit_query.target_types_present(session)
    ]
    if not form.validate():
        return form, None
    return form, form.to_filter()


def _date_message(form: AuditFilterForm) -> str:
    """Say what is wrong with the filters (mainly dates typed in another format)."""
    for field in (form.date_from, form.date_to):
        if field.raw_data and field.raw_data[0] and field.data is None:
            return _("日付は 2026-04-01 の形式で入力してください。")
    if form.date_to.errors:
        return form.date_to.errors[0]
    if form.page.errors:
        return form.page.errors[0]
    return _("絞り込みの条件を確認してください。")


def _refused(form: AuditFilterForm):
    """Show the log page with the message about the wrong filter (400), no rows."""
    page = audit_query.AuditPage([], 1, 1, 0)
    message = _date_message(form)
    return render_template(
        "admin/audit.html", form=form, page=page, message=message, **_helpers()
    ), 400


@bp.route("/audit")
def audit_log():
    """Show the audit log, newest first, with filters and pages."""
    form, wanted = _filter_form()
    if wanted is None:
        return _refused(form)
    page = audit_query.find_events(db.session(), wanted, form.page.data or 1)
    reader = AuditReader(db.session(), page.events, current_lang(), action_label)
    return render_template(
        "admin/audit.html", form=form, page=page, message="", reader=reader, **_helpers()
    )


@bp.route("/audit.csv", methods=["POST"])
def audit_export():
    """Download the filtered events (filters in the query string) as CSV; record the export.

    A POST with a CSRF token, because the export writes an audit row (no GET changes state).
    """
    form, wanted = _filter_form()
    if wanted is None:
        return _refused(form)
    session = db.session()
    events = audit_query.all_events(session, wanted)
    content = audit_query.export_csv(events, _csv_headers(), action_label)
    audit.record(
        session,
        current_principal().actor,
        "audit.export",
        None,
        rows=len(events),
        filters=wanted.as_detail(),
    )
    session.commit()
    name = f"audit-log-{today_in_japan():%Y%m%d}.csv"
    return attachment(content, "text/csv; charset=utf-8", name)


def _csv_headers() -> list[str]:
    """Return the export's column names in the current language."""
    return [
        _("日時（日本時間）"),
        _("操作者"),
        _("操作コード"),
        _("操作"),
        _("対象の種類"),
        _("対象ID"),
        _("詳細"),
    ]


def _helpers() -> dict:
    """Functions the template uses to show a row."""
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return {
        "action_label": action_label,
        "japan_time": audit_query.japan_time,
        "detail_lines": audit_query.detail_lines,
        "page_url": lambda n: url_for("admin.audit_log", page=n, **args),
        "export_url": url_for("admin.audit_export", **args),
    }
