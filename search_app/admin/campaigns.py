"""Admin: survey campaigns (list with response rates, new, detail) and their mail actions."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from sqlmodel import Session, select
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from index.geo.gazetteer import municipalities
from search_app import db
from search_app.admin.views import attachment, bp, perform
from search_app.auth import current_principal
from search_app.forms import BoundedIntegerField, CheckboxesField, language_choices, strip
from search_app.i18n import current_lang
from search_app.mailing import base_url, mail_settings, office_contact
from search_app.questionnaire import EDITION_LABELS, current_questionnaire
from surveys import audit, campaign_mail, campaigns, letters
from surveys.errors import UserFacingError
from surveys.models import Campaign, Facility, MailMessage
from surveys.operations import today_in_japan
from surveys.study_report import PUBLIC_RESPONDENT

KIND_LABELS = {
    "hospital": lazy_gettext("病院"),
    "clinic": lazy_gettext("診療所"),
    "family_center": lazy_gettext("こども家庭センター"),
    "health_center": lazy_gettext("保健センター"),
    "other_contact": lazy_gettext("その他の相談窓口"),
}

REGION_LABELS = {
    "wards": lazy_gettext("23区"),
    "tama": lazy_gettext("多摩"),
    "islands": lazy_gettext("島しょ"),
}


def _not_past(_form, field) -> None:
    """Refuse a closing date before today (Japan time)."""
    if field.data and field.data < today_in_japan():
        raise ValidationError(_("締切日は今日以降にしてください。"))


class CampaignForm(FlaskForm):
    """A new campaign: name, closing date and which facilities it covers."""

    name = StringField(
        lazy_gettext("名称"), filters=[strip], validators=[DataRequired(), Length(max=200)]
    )
    category = RadioField(
        lazy_gettext("質問票（回答する施設）"),
        choices=[SelectChoice(k, label) for k, label in EDITION_LABELS.items()],
        default="psychiatric",
    )
    closes_on = DateField(lazy_gettext("締切日"), validators=[DataRequired(), _not_past])
    municipalities = CheckboxesField(
        lazy_gettext("区市町村（選ばなければ全域）"),
        choices=[],
        validate_choice=True,
        render_kw={"lang": "ja"},  # place names stay Japanese on the English page
    )
    regions = CheckboxesField(
        lazy_gettext("地域ごとにすべて選ぶ"),
        choices=[SelectChoice(key, label) for key, label in REGION_LABELS.items()],
    )
    kinds = CheckboxesField(
        lazy_gettext("種別（選ばなければすべて）"),
        choices=[SelectChoice(k, label) for k, label in KIND_LABELS.items()],
    )

    def __init__(self, prefecture: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.municipalities.choices = [
            SelectChoice(m.code, m.name) for m in municipalities(prefecture) if m.code
        ]


class SendForm(FlaskForm):
    """Queue and send the invitations (confirmed by a check box)."""

    language = RadioField(lazy_gettext("メールの言語"), choices=language_choices(), default="ja")
    retry_failed = BooleanField(lazy_gettext("送信できなかったメールも再送する"))
    confirm = BooleanField(
        lazy_gettext("対象の医療機関に招待メールを送信します"), validators=[DataRequired()]
    )


class RemindForm(FlaskForm):
    """Queue and send a reminder round; the round number makes a double post harmless."""

    round = BoundedIntegerField(validators=[InputRequired()])
    language = RadioField(lazy_gettext("メールの言語"), choices=language_choices(), default="ja")
    confirm = BooleanField(
        lazy_gettext("未回答の医療機関に督促メールを送信します"), validators=[DataRequired()]
    )


class LettersForm(FlaskForm):
    """Print invitation letters: to whom, and whether as a reminder."""

    audience = RadioField(
        lazy_gettext("対象"),
        choices=[
            SelectChoice("without_email", lazy_gettext("メールアドレスがない医療機関")),
            SelectChoice("all", lazy_gettext("対象のすべての医療機関")),
        ],
        default="without_email",
    )
    reminder = BooleanField(lazy_gettext("督促として、まだ回答していない医療機関にだけ作成する"))


class CloseForm(FlaskForm):
    """Close the campaign (confirmed by a check box)."""

    confirm = BooleanField(
        lazy_gettext("締め切ると招待リンクは使えなくなり、取り消せません"),
        validators=[DataRequired()],
    )


@bp.route("/campaigns")
def campaign_list():
    """Every campaign with its invited, sent and answered figures."""
    session = db.session()
    rows = [
        (c, campaigns.progress(session, c))
        for c in session.exec(select(Campaign).order_by(Campaign.id.desc()))
    ]
    return render_template(
        "admin/campaigns/list.html",
        rows=rows,
        is_open=campaigns.is_open,
        edition=lambda c: EDITION_LABELS[campaigns.campaign_category(c)],
    )


@bp.route("/campaigns/new", methods=["GET", "POST"])
def campaign_new():
    """Open a new campaign for the current questionnaire edition."""
    prefecture = current_app.config["PREFECTURE_CODE"]
    form = CampaignForm(prefecture)
    if form.validate_on_submit():
        campaign = perform(
            lambda session, actor: _create(session, actor, form, prefecture),
            _("調査を作成しました。"),
        )
        if campaign is not None:
            return redirect(url_for("admin.campaign_detail", campaign_id=campaign.id))
    return render_template(
        "admin/campaigns/new.html", form=form, groups=_municipality_groups(form, prefecture)
    )


def _municipality_groups(form: CampaignForm, prefecture: str) -> list[tuple]:
    """Return (region key, label, region check box, [municipality check boxes]) per region."""
    if prefecture != "13":
        return [("all", form.municipalities.label.text, None, list(form.municipalities))]
    boxes = {box.data: box for box in form.regions}
    return [
        (
            key,
            label,
            boxes[key],
            [b for b in form.municipalities if campaigns.region_of(b.data) == key],
        )
        for key, label in REGION_LABELS.items()
    ]


def _create(session: Session, actor: audit.Actor, form: CampaignForm, prefecture: str) -> Campaign:
    """Create the campaign the form describes."""
    areas = municipalities(prefecture)
    regions = campaigns.region_codes(prefecture, form.regions.data, areas)
    scope = campaigns.make_scope(
        prefecture, [*form.municipalities.data, *regions], form.kinds.data, areas
    )
    questionnaire = current_questionnaire(form.category.data)
    closes_on: date = form.closes_on.data
    return campaigns.create_campaign(
        session, questionnaire, form.name.data, closes_on, actor, scope
    )


@bp.route("/campaigns/<int:campaign_id>")
def campaign_detail(campaign_id: int):
    """One campaign: progress, refused messages, facilities without an address, actions."""
    session = db.session()
    campaign = campaigns.get_campaign(session, campaign_id)
    return render_template(
        "admin/campaigns/detail.html",
        campaign=campaign,
        progress=campaigns.progress(session, campaign),
        is_open=campaigns.is_open(campaign),
        scope_names=_scope_names(campaign),
        public_report=campaigns.campaign_category(campaign) == PUBLIC_RESPONDENT,
        failed=_failed(session, campaign),
        without_email=campaigns.without_email(session, campaign),
        send_form=SendForm(),
        remind_form=RemindForm(round=campaign_mail.next_reminder_round(session, campaign)),
        close_form=CloseForm(),
        letters_form=LettersForm(),
    )


@bp.route("/campaigns/<int:campaign_id>/letters", methods=["POST"])
def campaign_letters(campaign_id: int):
    """Create letter invitations and download them as one PDF to print."""
    campaign, form = campaigns.get_campaign(db.session(), campaign_id), LettersForm()
    if not form.validate_on_submit():
        abort(400)
    run = letters.LetterRun(form.audience.data == "all", bool(form.reminder.data))
    pdf = perform(lambda session, actor: _letters(session, actor, campaign, run), None)
    if pdf is None:
        return redirect(url_for("admin.campaign_detail", campaign_id=campaign_id))
    name = f"letters-campaign{campaign.id}-{today_in_japan():%Y%m%d}.pdf"
    return attachment(pdf, "application/pdf", name)


def _letters(session: Session, actor: audit.Actor, campaign: Campaign, run) -> bytes:
    """Make the letters with the app's font, public address and office contact."""
    font = letters.find_font(current_app.config["LETTER_FONT"])
    return letters.make_letters(session, campaign, actor, base_url(), office_contact(), run, font)


@bp.route("/campaigns/<int:campaign_id>/send", methods=["POST"])
def campaign_send(campaign_id: int):
    """Queue invitations for the facilities not yet invited and send what is queued."""
    campaign, form = campaigns.get_campaign(db.session(), campaign_id), SendForm()
    if _confirmed(form):
        _mail_action(
            campaign,
            lambda s, actor: campaign_mail.queue_invitations(
                s, campaign, actor, base_url(), form.language.data, office=office_contact()
            ),
            form.retry_failed.data,
        )
    return redirect(url_for("admin.campaign_detail", campaign_id=campaign_id))


@bp.route("/campaigns/<int:campaign_id>/remind", methods=["POST"])
def campaign_remind(campaign_id: int):
    """Queue a reminder round for facilities yet to answer and send it."""
    campaign, form = campaigns.get_campaign(db.session(), campaign_id), RemindForm()
    if _confirmed(form):
        _mail_action(
            campaign,
            lambda s, actor: campaign_mail.queue_reminders(
                s,
                campaign,
                actor,
                base_url(),
                form.language.data,
                expected_round=form.round.data,
                office=office_contact(),
            ),
            False,
        )
    return redirect(url_for("admin.campaign_detail", campaign_id=campaign_id))


@bp.route("/campaigns/<int:campaign_id>/close", methods=["POST"])
def campaign_close(campaign_id: int):
    """Close the campaign."""
    campaign, form = campaigns.get_campaign(db.session(), campaign_id), CloseForm()
    if _confirmed(form):
        perform(
            lambda session, actor: campaigns.close_campaign(session, campaign, actor),
            _("調査を締め切りました。招待リンクは使えなくなりました。"),
        )
    return redirect(url_for("admin.campaign_detail", campaign_id=campaign_id))


def _confirmed(form: FlaskForm) -> bool:
    """Validate an action form; without the confirmation box, say so."""
    if form.validate_on_submit():
        return True
    if form.errors.keys() - {"confirm"}:
        abort(400)
    flash(_("確認欄にチェックを入れてから実行してください。"), "error")
    return False


def _mail_action(campaign: Campaign, queue, retry_failed: bool) -> None:
    """Queue messages, send everything pending, and flash what happened."""
    session, actor = db.session(), current_principal().actor
    budget = current_app.config["MAIL_SEND_REQUEST_SECONDS"]
    settings = mail_settings()
    # A server that does not answer must not hold the request past the worker's timeout.
    settings = replace(settings, timeout=min(settings.timeout, max(budget, 5)))
    try:
        report = queue(session, actor)
        sent = campaign_mail.send_pending(
            session, campaign, settings, actor, retry_failed, time_budget=budget
        )
    except UserFacingError as exc:
        session.rollback()
        flash(exc.message(current_lang()), "error")
        return
    flash(_("%(sent)d通送信しました。", sent=sent.sent), "success")
    if sent.remaining:
        flash(
            _(
                "残り%(count)d通は送信待ちです。もう一度「招待メールを送信する」を押すと続きを送ります。",
                count=sent.remaining,
            ),
            "error",
        )
    if sent.failed:
        flash(_("%(failed)d通は宛先に拒否されました（下の一覧）。", failed=sent.failed), "error")
    if report.without_email:
        count = len(report.without_email)
        flash(_("%(count)d件の医療機関はメールアドレスがありません。", count=count), "error")


def _scope_names(campaign: Campaign) -> dict:
    """Return the scope's municipality names and kind labels for display."""
    scope = campaign.scope or {}
    names = {m.code: m.name for m in municipalities(scope.get("prefecture") or None)}
    return {
        "municipalities": [names.get(c, c) for c in scope.get("municipalities", [])],
        "kinds": [str(KIND_LABELS.get(k, k)) for k in scope.get("kinds", [])],
        "edition": str(EDITION_LABELS[campaigns.campaign_category(campaign)]),
    }


def _failed(session: Session, campaign: Campaign):
    """Return (message, facility) of the messages the server refused."""
    return session.exec(
        select(MailMessage, Facility)
        .join(Facility, Facility.id == MailMessage.facility_id)
        .where(MailMessage.campaign_id == campaign.id, MailMessage.status == "failed")
        .order_by(MailMessage.id)
    ).all()
