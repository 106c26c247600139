"""Admin: the facility list by category, and the municipal contact points the office keeps."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from sqlalchemy import func
from sqlmodel import col, select
from wtforms import EmailField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from index.geo.errors import AddressNotUnderstood
from index.geo.gazetteer import municipalities
from index.geo.geocoder import geocode
from search_app import db
from search_app.admin.views import bp, perform
from search_app.forms import email_format, strip
from surveys.contact_points import ContactPointData, save_contact_point
from surveys.models import FACILITY_CATEGORIES, Facility
from surveys.operations import current_responses

CATEGORY_LABELS = {
    "psychiatric": lazy_gettext("精神科医療機関"),
    "obstetric": lazy_gettext("産科医療機関"),
    "municipal": lazy_gettext("市区町村の相談窓口"),
}
CONTACT_KIND_LABELS = {
    "family_center": lazy_gettext("こども家庭センター"),
    "health_center": lazy_gettext("保健センター"),
    "other_contact": lazy_gettext("その他の相談窓口"),
}
PAGE_SIZE = 200


class ContactPointForm(FlaskForm):
    """A municipal contact point: refused without a phone number."""

    name = StringField(
        lazy_gettext("名称"), filters=[strip], validators=[DataRequired(), Length(max=200)]
    )
    kind = RadioField(
        lazy_gettext("種別"),
        choices=[SelectChoice(k, label) for k, label in CONTACT_KIND_LABELS.items()],
        validators=[DataRequired(message=lazy_gettext("種別を選んでください。"))],
    )
    municipality_code = SelectField(
        lazy_gettext("区市町村"),
        choices=[],
        validators=[DataRequired(message=lazy_gettext("区市町村を選んでください。"))],
        render_kw={"lang": "ja"},
    )
    address = StringField(lazy_gettext("所在地"), filters=[strip], validators=[Length(max=300)])
    phone = StringField(
        lazy_gettext("電話番号"),
        filters=[strip],
        validators=[
            DataRequired(
                message=lazy_gettext("相談窓口には電話番号が必要です。電話番号を入力してください。")
            ),
            Length(max=40),
        ],
    )
    hours = TextAreaField(lazy_gettext("受付時間"), filters=[strip], validators=[Length(max=1000)])
    email = EmailField(
        lazy_gettext("メールアドレス（ヒアリングの案内先）"),
        filters=[strip],
        validators=[Optional(), Length(max=254), email_format()],
    )

    def __init__(self, prefecture: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.municipality_code.choices = [SelectChoice("", "—")] + [
            SelectChoice(m.code, m.name) for m in municipalities(prefecture) if m.code
        ]

    def data_for_save(self) -> ContactPointData:
        """Return what to store, located by the offline geocoder when it knows the address."""
        lat = lng = None
        if self.address.data:
            try:
                found = geocode(self.address.data, current_app.config["PREFERRED_PREFECTURE"])
                lat, lng = found.lat, found.lng
            except AddressNotUnderstood:
                pass
        return ContactPointData(
            name=self.name.data,
            kind=self.kind.data,
            municipality_code=self.municipality_code.data,
            address=self.address.data or "",
            phone=self.phone.data or "",
            hours=self.hours.data or "",
            email=self.email.data or "",
            lat=lat,
            lng=lng,
        )


@bp.route("/facilities")
def facility_list():
    """Facilities of one category (psychiatric by default), with their answer dates."""
    category = request.args.get("category", "psychiatric")
    if category not in FACILITY_CATEGORIES:
        abort(404)
    session = db.session()
    query = select(Facility).where(Facility.category == category)
    text = request.args.get("q", "").strip()[:100]
    if text:
        query = query.where(col(Facility.name).contains(text))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(Facility.municipality_code, Facility.id).limit(PAGE_SIZE))
    facilities = list(rows)
    names = {m.code: m.name for m in municipalities(current_app.config["PREFECTURE_CODE"])}
    return render_template(
        "admin/facilities.html",
        facilities=facilities,
        responses=current_responses(session, [f.id for f in facilities]),
        category=category,
        categories=CATEGORY_LABELS,
        kind_labels=CONTACT_KIND_LABELS,
        names=names,
        total=total,
        q=text,
        page_size=PAGE_SIZE,
    )


@bp.route("/contact-points/new", methods=["GET", "POST"])
def contact_point_new():
    """Add a municipal contact point."""
    return _contact_point_form(None)


@bp.route("/contact-points/<int:contact_id>", methods=["GET", "POST"])
def contact_point_edit(contact_id: int):
    """Edit a municipal contact point."""
    facility = db.session().get(Facility, contact_id)
    if facility is None or facility.category != "municipal":
        abort(404)
    return _contact_point_form(facility)


def _contact_point_form(facility: Facility | None):
    """Show the form; a valid POST stores the contact point (nothing when refused)."""
    prefecture = current_app.config["PREFECTURE_CODE"]
    form = ContactPointForm(prefecture, obj=facility)
    if form.validate_on_submit():
        areas = [m for m in municipalities(prefecture) if m.code]
        saved = perform(
            lambda session, actor: save_contact_point(
                session, form.data_for_save(), actor, areas, facility
            ),
            _("相談窓口を保存しました。"),
        )
        if saved is not None:
            return redirect(url_for("admin.facility_list", category="municipal"))
    status = 422 if form.is_submitted() else 200
    return render_template("admin/contact_point.html", form=form, facility=facility), status
