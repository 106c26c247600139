"""The audit log in plain language: who did what to which, with the questionnaire's labels."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlmodel import Session, col, select

from search_app.questionnaire import current_questionnaires
from surveys.bilingual import bilingual
from surveys.errors import QuestionnaireError
from surveys.exports.table import render as render_answer
from surveys.models import AuditEvent, Campaign, Facility, Invitation, User
from surveys.questionnaire import Questionnaire

# One sentence per action; %(actor)s and %(target)s are filled in. Others get a generic one.
SENTENCES = {
    "survey.answer": lazy_gettext("%(actor)sが%(target)sの調査回答を保存しました。"),
    "survey.confirm": lazy_gettext(
        "%(actor)sが%(target)sの回答を「内容に変更なし」として確認しました。"
    ),
    "auth.login": lazy_gettext("%(actor)sがログインしました。"),
    "auth.login_failed": lazy_gettext(
        "%(actor)sでログインしようとしましたが、パスワードが違うか未登録でした。"
    ),
    "auth.logout": lazy_gettext("%(actor)sがログアウトしました。"),
    "auth.totp_enrolled": lazy_gettext("%(actor)sが2段階認証（確認コード）を設定しました。"),
    "auth.totp_failed": lazy_gettext("%(actor)sの確認コードが正しくありませんでした。"),
    "auth.rate_limited": lazy_gettext(
        "%(actor)sの試行が上限を超えたため、しばらく受け付けを止めました。"
    ),
    "invitation.create": lazy_gettext("%(actor)sが%(target)sの招待リンクを作成しました。"),
    "invitation.redeem": lazy_gettext("%(target)sが招待リンクから回答ページに入りました。"),
    "clinic.signin_link_sent": lazy_gettext(
        "%(target)sの登録アドレスにログイン用リンクを送りました。"
    ),
    "clinic.signin_link_used": lazy_gettext(
        "%(target)sがログイン用リンクから回答ページに入りました。"
    ),
    "facility.contact_email": lazy_gettext(
        "%(actor)sが%(target)sの調査連絡先メールアドレスを変更しました。"
    ),
    "facility.contact_point.create": lazy_gettext(
        "%(actor)sが相談窓口「%(target)s」を登録しました。"
    ),
    "facility.contact_point.update": lazy_gettext(
        "%(actor)sが相談窓口「%(target)s」を変更しました。"
    ),
    "campaign.create": lazy_gettext("%(actor)sが調査「%(target)s」を作成しました。"),
    "campaign.close": lazy_gettext("%(actor)sが調査「%(target)s」を締め切りました。"),
    "campaign.queue": lazy_gettext("%(actor)sが調査「%(target)s」の招待メールを作成しました。"),
    "campaign.remind": lazy_gettext("%(actor)sが調査「%(target)s」の督促メールを作成しました。"),
    "campaign.send": lazy_gettext("%(actor)sが調査「%(target)s」のメールを送信しました。"),
    "campaign.letters": lazy_gettext("%(actor)sが調査「%(target)s」の案内状を印刷しました。"),
    "user.password_set": lazy_gettext("%(actor)sがパスワードを設定しました。"),
}
GENERIC = lazy_gettext("%(actor)sが「%(action)s」を行いました。")
GENERIC_TARGET = lazy_gettext("%(actor)sが%(target)sに対して「%(action)s」を行いました。")


def actor_name(label: str) -> str:
    """Say who acted: an address, a clinic by link, the command line, an unknown address."""
    kind, _sep, rest = (label or "").partition(":")
    if kind == "user":
        return rest
    if kind == "invitation":
        return _("招待リンクで入った医療機関")
    if kind == "signin":
        return _("ログイン用リンクで入った医療機関")
    if kind == "unknown":
        return _("未登録のアドレス %(address)s", address=rest)
    if kind == "ip":
        return _("接続元 %(ip)s", ip=rest)
    if label == "cli":
        return _("コマンド操作（事務局）")
    return _("一般の利用者") if label == "public" else label


class AuditReader:
    """Turns the events of one page into sentences (names looked up once per page)."""

    def __init__(self, session: Session, events: list[AuditEvent], lang: str, action_label):
        self.lang, self.action_label = lang, action_label
        self.names, self.categories = _targets(session, events)
        self.questionnaires = _questionnaires()

    def sentence(self, event: AuditEvent) -> str:
        """Return what happened as one sentence in the page's language."""
        target = self._target(event)
        values = {"actor": actor_name(event.actor_label), "target": target}
        template = SENTENCES.get(event.action)
        if template is None:
            template = GENERIC_TARGET if target else GENERIC
            values["action"] = self.action_label(event.action)
        return str(template) % values

    def _target(self, event: AuditEvent) -> str:
        """Name the event's object: a facility's or campaign's name, a user's address."""
        key = (event.target_type, event.target_id)
        return self.names.get(key) or (f"{event.target_type} {event.target_id}".strip())

    def changes(self, event: AuditEvent) -> list[str]:
        """Return 'question: before → after' lines with the labels of the facility's survey."""
        changes = (event.detail or {}).get("changes")
        if not isinstance(changes, dict):
            return []
        category = self.categories.get((event.target_type, event.target_id), "psychiatric")
        questionnaire = self.questionnaires.get(category)
        return [self._change(questionnaire, key, pair) for key, pair in sorted(changes.items())]

    def _change(self, questionnaire: Questionnaire | None, key: str, pair: Any) -> str:
        """Render one changed answer."""
        before, after = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
        item = _item(questionnaire, key)
        if item is None:
            return f"{key}: {self._value(before)} → {self._value(after)}"
        shown = [self._value(render_answer(item, value, self.lang)) for value in (before, after)]
        return f"{item.label(self.lang)}: {shown[0]} → {shown[1]}"

    def _value(self, value: Any) -> str:
        """Show a value; nothing is 'unanswered'."""
        if value is None or value == "" or value == []:
            return _("（未回答）")
        if isinstance(value, list):
            return bilingual(self.lang, "、", ", ").join(str(v) for v in value)
        return str(value)


def _item(questionnaire: Questionnaire | None, key: str):
    """Return the questionnaire item of a key, or None (e.g. verified_on)."""
    try:
        return questionnaire.item(key) if questionnaire else None
    except StopIteration:
        return None


def _questionnaires() -> dict[str, Questionnaire]:
    """Return the edition currently asked of each kind of facility (labels for answer keys)."""
    try:
        return current_questionnaires()
    except (QuestionnaireError, OSError, KeyError):  # a broken file must not hide the log
        return {}


def _targets(session: Session, events: list[AuditEvent]) -> tuple[dict, dict]:
    """Look up the names of the facilities, campaigns and users the events point at, and the
    facilities' categories, both keyed by (target type, target id)."""
    wanted: dict[str, set[int]] = {}
    for event in events:
        if event.target_id.isdigit():
            wanted.setdefault(event.target_type, set()).add(int(event.target_id))
    names: dict[tuple[str, str], str] = {}
    categories: dict[tuple[str, str], str] = {}
    for kind, model, attr in (
        ("facility", Facility, "name"),
        ("campaign", Campaign, "name"),
        ("user", User, "email"),
    ):
        for row in session.exec(select(model).where(col(model.id).in_(wanted.get(kind, ())))):
            names[(kind, str(row.id))] = getattr(row, attr)
            if kind == "facility":
                categories[(kind, str(row.id))] = row.category
    invitations = wanted.get("invitation", set())
    if invitations:
        query = select(Invitation.id, Facility.name).join(
            Facility, Facility.id == Invitation.facility_id
        )
        for invitation_id, name in session.exec(query.where(col(Invitation.id).in_(invitations))):
            names[("invitation", str(invitation_id))] = name
    return names, categories
